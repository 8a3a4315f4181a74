"""JUnit XML: a testsuite per plan, a testcase per task, the output tail as failure text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.results import BLOCKED, ERROR, FAILED, MANUAL, NOT_RUN, STALE, TIMEOUT, UNVERIFIED

if TYPE_CHECKING:
    from planrun.runner import RunReport


def write_junit(report: RunReport, path: Path) -> None:
    root = ET.Element("testsuites", name="planrun", time=f"{report.duration:.3f}")
    suites: dict[str, ET.Element] = {}
    for result in report.results:
        plan = result.unit.plan
        suite = suites.get(plan.id)
        if suite is None:
            suite = ET.SubElement(root, "testsuite", name=plan.id, file=plan.source)
            suites[plan.id] = suite
        case = ET.SubElement(
            suite,
            "testcase",
            classname=plan.id,
            name=result.unit.bare_id,
            time=f"{result.duration or 0:.3f}",
            file=plan.source,
            line=str(result.unit.line or 0),
        )
        if result.status in (FAILED, TIMEOUT):
            failure = ET.SubElement(
                case, "failure", message=result.reason or result.status, type=result.status
            )
            failure.text = result.tail
        elif result.status in (BLOCKED, UNVERIFIED, ERROR, STALE):
            ET.SubElement(case, "error", message=result.reason or result.status, type=result.status)
        elif result.status in (MANUAL, NOT_RUN):
            ET.SubElement(case, "skipped", message=result.reason or result.status)
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
