"""Seeded generators of benchmark workloads (plans written as canonical planrun files)."""

from __future__ import annotations

import random
from pathlib import Path


def scale_plan(path: Path, tasks: int, seed: int = 1) -> Path:
    """A random DAG: each task depends on two earlier ones, touches a file, has a verify."""
    rng = random.Random(seed)
    lines = ["---", "planrun: 1", f"id: scale{tasks}", "tasks:"]
    for i in range(tasks):
        lines.append(f"  - id: t{i}")
        if i >= 2:
            a, b = rng.sample(range(i), 2)
            lines.append(f"    depends_on: [t{a}, t{b}]")
        elif i == 1:
            lines.append("    depends_on: [t0]")
        lines.append(f"    files: [src/pkg{i % 97}/mod{i}.py]")
        lines.append(f'    verify: "python -m pytest tests/test_{i}.py -q"')
    lines.append("---")
    path.write_text("\n".join(lines) + "\n")
    return path


def typer_floor(path: Path) -> Path:
    """A typer program with ``planrun next``'s arguments and options that prints ``{}``: what
    the CLI framework alone costs, the floor under any typer command."""
    path.write_text(
        """\
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer()


@app.callback()
def root() -> None:
    pass


@app.command(name="next")
def next_(
    paths: Annotated[list[Path] | None, typer.Argument()] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
    root: Annotated[Path | None, typer.Option("--root")] = None,
    fmt: Annotated[str | None, typer.Option("--format")] = None,
    no_derive: Annotated[bool, typer.Option("--no-derive")] = False,
) -> None:
    print("{}")


app()
"""
    )
    return path


def independent_true(path: Path, tasks: int) -> Path:
    lines = ["---", "planrun: 1", "id: overhead", "tasks:"]
    lines += [f'  - {{id: t{i}, verify: "true"}}' for i in range(tasks)]
    lines.append("---")
    path.write_text("\n".join(lines) + "\n")
    return path


def reuse_plan(root: Path, tasks: int, seconds: float) -> Path:
    """Independent tasks, each reading one small input file and sleeping ``seconds`` (a stand-in
    for a real check), in ROOT/plan.md."""
    (root / "inputs").mkdir(parents=True)
    lines = ["---", "planrun: 1", "id: reuse", "tasks:"]
    for i in range(tasks):
        (root / "inputs" / f"{i}.txt").write_text(f"input {i}\n")
        # `sleep` alone can never fail (judged unverified, never reused): end with a check.
        check = f"sleep {seconds} && test -n $PLANRUN_WAVE"
        lines.append(f'  - {{id: t{i}, inputs: [inputs/{i}.txt], verify: "{check}"}}')
    lines.append("---")
    path = root / "plan.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def makefile_true(path: Path, tasks: int) -> Path:
    names = " ".join(f"t{i}" for i in range(tasks))
    rules = "".join(f"t{i}:\n\t@bash -c true\n" for i in range(tasks))
    path.write_text(f".PHONY: all {names}\nall: {names}\n{rules}")
    return path


def sleep_dag(path: Path, durations: dict[str, float], deps: dict[str, list[str]]) -> Path:
    lines = ["---", "planrun: 1", f"id: {path.stem}", "tasks:"]
    for task, seconds in durations.items():
        lines.append(f"  - id: {task}")
        if deps.get(task):
            lines.append(f"    depends_on: [{', '.join(deps[task])}]")
        lines.append(f'    verify: "sleep {seconds:.3f} && test -n $PLANRUN_WAVE"')
    lines.append("---")
    path.write_text("\n".join(lines) + "\n")
    return path


def sleep_makefile(path: Path, durations: dict[str, float], deps: dict[str, list[str]]) -> Path:
    """The DAG of ``sleep_dag`` as a Makefile, each recipe run through planrun's bash."""
    shell = "bash --noprofile --norc -eo pipefail -c"
    rules = "".join(
        f"{task}: {' '.join(deps.get(task, []))}\n\t@{shell} 'sleep {seconds:.3f} && test -n x'\n"
        for task, seconds in durations.items()
    )
    names = " ".join(durations)
    path.write_text(f".PHONY: all {names}\nall: {names}\n{rules}")
    return path


def skewed_pair() -> tuple[dict[str, float], dict[str, list[str]]]:
    """A(1s)->C(3s), B(3s)->D(1s): a wave-barrier runner needs 6 s, the bound is 4 s."""
    return {"A": 1.0, "B": 3.0, "C": 3.0, "D": 1.0}, {"C": ["A"], "D": ["B"]}


def random_sleep_dag(
    tasks: int = 40, target: float = 10.0, jobs: int = 2, seed: int = 7
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """A seeded DAG of skewed sleeps, scaled so its lower bound is about ``target`` seconds."""
    rng = random.Random(seed)
    raw = {f"s{i}": rng.choice([0.1, 0.2, 0.3, 1.0, 1.5]) for i in range(tasks)}
    deps: dict[str, list[str]] = {}
    for i in range(1, tasks):
        count = rng.choice([0, 1, 1, 2])
        deps[f"s{i}"] = [f"s{j}" for j in sorted(rng.sample(range(i), min(count, i)))]
    bound = lower_bound(raw, deps, jobs)
    return {k: round(v * target / bound, 3) for k, v in raw.items()}, deps


def critical_path(durations: dict[str, float], deps: dict[str, list[str]]) -> float:
    finish: dict[str, float] = {}
    for task, seconds in durations.items():  # tasks are listed after their dependencies
        finish[task] = seconds + max((finish[d] for d in deps.get(task, [])), default=0)
    return max(finish.values())


def remaining_paths(durations: dict[str, float], deps: dict[str, list[str]]) -> dict[str, float]:
    """Each task's longest path to the end, itself included (a runner's priority)."""
    after: dict[str, list[str]] = {task: [] for task in durations}
    for task, before in deps.items():
        for dep in before:
            after[dep].append(task)
    left: dict[str, float] = {}
    for task in reversed(list(durations)):  # tasks are listed after their dependencies
        left[task] = durations[task] + max((left[s] for s in after[task]), default=0)
    return left


def lower_bound(durations: dict[str, float], deps: dict[str, list[str]], jobs: int) -> float:
    return max(critical_path(durations, deps), sum(durations.values()) / jobs)


def waves(durations: dict[str, float], deps: dict[str, list[str]]) -> int:
    level: dict[str, int] = {}
    for task in durations:
        level[task] = 1 + max((level[d] for d in deps.get(task, [])), default=0)
    return max(level.values())


def independent_checks(path: Path, tasks: int, recipe: str) -> Path:
    """``tasks`` independent tasks, each running ``recipe`` (a trivial check that can fail)."""
    lines = ["---", "planrun: 1", f"id: {path.stem}", "tasks:"]
    lines += [f"  - {{id: t{i}, verify: {recipe!r}}}" for i in range(tasks)]
    lines.append("---")
    path.write_text("\n".join(lines) + "\n")
    return path


def chain_checks(path: Path, tasks: int, recipe: str) -> Path:
    """A chain: task i depends on task i-1, each running ``recipe``."""
    lines = [
        "---",
        "planrun: 1",
        f"id: {path.stem}",
        "tasks:",
        f"  - {{id: t0, verify: {recipe!r}}}",
    ]
    lines += [
        f"  - {{id: t{i}, depends_on: [t{i - 1}], verify: {recipe!r}}}" for i in range(1, tasks)
    ]
    lines.append("---")
    path.write_text("\n".join(lines) + "\n")
    return path


def makefile_for(path: Path, tasks: int, recipe: str, *, chain: bool = False) -> Path:
    """The same recipes as a Makefile (run through the same bash invocation planrun uses)."""
    names = " ".join(f"t{i}" for i in range(tasks))
    shell = "bash --noprofile --norc -eo pipefail -c"
    rules = "".join(
        f"t{i}:{f' t{i - 1}' if chain and i else ''}\n\t@{shell} '{recipe}'\n" for i in range(tasks)
    )
    path.write_text(f".PHONY: all {names}\nall: {names}\n{rules}")
    return path


def deep_sleep_dag(
    tasks: int = 200, target: float = 10.0, jobs: int = 2, window: int = 3, seed: int = 11
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """A deep seeded DAG: each task depends on one or two of the ``window`` tasks before it, so
    the critical path, not the work, bounds the makespan; scaled so the bound is ``target``."""
    rng = random.Random(seed)
    raw = {f"d{i}": rng.choice([0.5, 1.0, 1.0, 2.0]) for i in range(tasks)}
    deps: dict[str, list[str]] = {}
    for i in range(1, tasks):
        near = range(max(0, i - window), i)
        count = min(len(near), rng.choice([1, 1, 2]))
        deps[f"d{i}"] = [f"d{j}" for j in sorted(rng.sample(near, count))]
    bound = lower_bound(raw, deps, jobs)
    return {k: round(v * target / bound, 4) for k, v in raw.items()}, deps
