"""The canonical reader turns each valid task into its model before the plan is validated
(freeing the raw mapping): the plan, its lines and every diagnostic are what validating the
whole plan at once gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from planrun.diagnostics import Diagnostics
from planrun.document import Document
from planrun.model import Plan
from planrun.readers.canonical import CanonicalReader, validate_plan

PLANS = [
    """planrun: 1
id: ok
tasks:
  - id: a
    verify: "pytest -q"
    files: [src/a.py]
  - id: b
    depends_on: a
    verify: ["make", {run: "test -f x", expect_exit: 1}]
    must_haves:
      artifacts: [{path: out.txt}]
      truths: [{truth: it works, verify: "true"}]
""",
    """planrun: 1
id: broken
wave: 0
tasks:
  - id: a
    verfy: "pytest"
  - id: b
    timeout: -1
    verify: "pytest"
  - id: "bad id"
  - name: no id
  - 5
  - id: c
    verify: [{run: "x", expect_exit: 300}]
    must_haves:
      key_links: [{from: a.py, to: b, pattern: "grep x"}]
  - id: d
    depends_on: [c]
    verify: "pytest -q"
milestones:
  - id: m1
    tasks: [a, nope]
""",
    "planrun: 1\ntasks: 7\n",
    "planrun: 1\ntasks:\n  - just a string\n  - id: ok\n    verify: make\n",
    "planrun: 2\ntasks:\n  - id: a\n",
]


def shape(plan: Plan | None) -> Any:
    if plan is None:
        return None
    lines = [(t.line, [v.line for v in t.verify], t.must_haves.line) for t in plan.tasks]
    return plan.model_dump(), plan.line, lines, plan.skipped


@pytest.mark.parametrize("text", PLANS)
def test_tasks_validated_one_at_a_time_give_the_whole_plan(text: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text(f"---\n{text}---\n")
    fast, fast_diags = Diagnostics(), Diagnostics()
    plan = CanonicalReader().read(Document.read(path), fast_diags)
    doc = Document.read(path)
    whole = validate_plan(doc, doc.frontmatter.data, "planrun", fast)
    assert shape(plan) == shape(whole)
    # the reader also notes string depends_on; validate_plan alone does not
    assert [d for d in fast_diags.items if d.code != "depends-on-string"] == fast.items
