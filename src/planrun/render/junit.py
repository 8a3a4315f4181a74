"""JUnit XML: a testsuite per plan, a testcase per task, the output tail as failure text.

Whatever a task prints, the file stays well-formed: characters XML 1.0 forbids (control
bytes, invalid UTF-8 decoded as U+FFFD stays) are dropped or replaced before ElementTree
escapes the rest. A comment marks the file as planrun's, so a later run may replace it and
nothing else.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.escape import xml
from planrun.statuses import BLOCKED, ERROR, FAILED, MANUAL, NOT_RUN, STALE, TIMEOUT, UNVERIFIED
from planrun.writer import XML_MARKER, check_output, write_output

if TYPE_CHECKING:
    from planrun.results import Report

HINT = "choose another --junit FILE (planrun replaces only a JUnit file it wrote)"


def render(report: Report) -> str:
    root = ET.Element("testsuites", name="planrun", time=f"{report.duration:.3f}")
    suites: dict[str, ET.Element] = {}
    for result in report.results:
        plan = result.unit.plan
        suite = suites.get(plan.id)
        if suite is None:
            suite = ET.SubElement(root, "testsuite", name=xml(plan.id), file=xml(plan.source))
            suites[plan.id] = suite
        case = ET.SubElement(
            suite,
            "testcase",
            classname=xml(plan.id),
            name=xml(result.unit.bare_id),
            time=f"{result.duration or 0:.3f}",
            file=xml(plan.source),
            line=str(result.unit.line or 0),
        )
        message = xml(result.reason or result.status)
        if result.status in (FAILED, TIMEOUT):
            failure = ET.SubElement(case, "failure", message=message, type=result.status)
            failure.text = xml(result.tail)
        elif result.status in (BLOCKED, UNVERIFIED, ERROR, STALE):
            ET.SubElement(case, "error", message=message, type=result.status)
        elif result.status in (MANUAL, NOT_RUN):
            ET.SubElement(case, "skipped", message=message)
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f"<?xml version='1.0' encoding='utf-8'?>\n{XML_MARKER}\n{body}\n"


def check(path: Path, root: Path | None = None) -> None:
    check_output(path, overwrite="planrun", root=root, hint=HINT)


def write_junit(report: Report, path: Path, root: Path | None = None) -> None:
    write_output(path, render(report), overwrite="planrun", root=root, hint=HINT)
