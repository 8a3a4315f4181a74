"""planrun benchmarks: prints the targets of issue 14 and the figures behind them, and writes
benchmarks/RESULTS.md.

    python benchmarks/run.py           # the full run (the issue's sizes)
    python benchmarks/run.py --quick   # every target, smaller workloads: about 25 s of CPU

Each ratio is taken pair by pair (planrun and its baseline back to back, so a busy machine
slows both), then the median of those; the min-max follows it. Everything runs as a separate
process, as a user would run it; peak RSS and CPU time come from wait4(). planrun's bytecode is
cached (in a temporary PYTHONPYCACHEPREFIX) as it is for an installed user, whatever
PYTHONDONTWRITEBYTECODE says, and each command runs once untimed before it is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402 - the generator lives beside this script

PY = sys.executable
PLANRUN = [PY, "-m", "planrun"]
FLOOR = [PY, str(HERE / "floor.py")]  # a minimal runner: what planrun must do per task, no more
SHELL = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # as planrun runs a check
RECIPE = "test -e plan.md"  # trivial, and a check that can fail (`true` is judged unverified)
PARSE = (
    "import sys, yaml{gc}; "
    "yaml.load(open(sys.argv[1]).read().split('---\\n', 2)[1], Loader=yaml.CSafeLoader)"
)
ENV: dict[str, str] = {}
GIT = shutil.which("git") or "git"


@dataclass
class Sample:
    wall: float
    cpu: float  # user + system seconds of the process and its children
    rss: float  # peak RSS of the process, MiB
    out: str


@dataclass
class Row:
    """A figure behind the targets (seconds, MiB or a ratio; median and min-max)."""

    workload: str
    measure: str
    values: list[float] = field(default_factory=list)
    unit: str = "s"

    def cell(self) -> str:
        if not self.values:
            return "-"
        med, low, high = statistics.median(self.values), min(self.values), max(self.values)
        if self.unit == "MiB":
            return f"{med:.0f} MiB"
        if self.unit == "x":
            return f"{med:.2f}x" + (f" ({low:.2f}-{high:.2f})" if len(self.values) > 1 else "")
        return f"{med:.3f} s" + (f" ({low:.3f}-{high:.3f})" if len(self.values) > 1 else "")


@dataclass
class Target:
    """One row of the issue's Targets table: a ratio that must stay at or under ``limit``."""

    figure: str
    today: str  # the figure the issue measured before the work
    limit: float
    ratios: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def met(self) -> bool:
        return self.median <= self.limit

    def cell(self) -> str:
        low, high = min(self.ratios), max(self.ratios)
        spread = f" ({low:.2f}-{high:.2f})" if len(self.ratios) > 1 else ""
        return f"{self.median:.2f}x{spread}"


def timed(cmd: list[str], cwd: Path | None = None) -> Sample:
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if code != 0:
        raise SystemExit(f"benchmark step failed (exit {code}): {' '.join(cmd)}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def git_commit(folder: Path) -> None:
    """Make ``folder`` a git repository with everything in it committed."""
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for args in (["init", "-q"], ["add", "-A"], [*ident, "commit", "-q", "-m", "plan"]):
        subprocess.run([GIT, *args], cwd=folder, env=ENV, check=True, capture_output=True)


def run_json(cmd: list[str], cwd: Path | None = None) -> dict[str, object]:
    doc: dict[str, object] = json.loads(timed(cmd, cwd).out)
    return doc


def task_durations(doc: dict[str, object]) -> list[float]:
    tasks = doc["tasks"]
    if not isinstance(tasks, list):
        raise SystemExit("benchmark step failed: no tasks in the JSON document")
    return [float(t["duration_s"]) for t in tasks]


class Bench:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.targets: list[Target] = []
        self.rows: list[Row] = []

    def fresh(self, name: str) -> Path:
        """A new empty folder (each run gets its own: no state is shared between runs)."""
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.tmp))

    # -- the targets
    def next_json(self, reps: int) -> None:
        folder = self.fresh("next")
        plan = workloads.scale_plan(folder / "plan.md", 10)
        (folder / ".planrun").mkdir()  # as after a first execute: the plan cache is kept
        target = Target("`next --json`, 10-task plan, warm cache / `python -c pass`", "26x", 8)
        ours, bare = Row("next", "planrun next --json"), Row("next", "python -c pass")
        cpu = Row("next", "CPU: next --json / python -c pass", unit="x")
        floor = Row("next", "a bare typer program with next's options / python -c pass", unit="x")
        cmd = [*PLANRUN, "next", "--json", str(plan)]
        typer_cmd = [PY, str(workloads.typer_floor(folder / "floor.py")), "next", "--json"]
        timed(cmd, folder)
        timed(typer_cmd, folder)
        for _ in range(reps):
            a, b = timed(cmd, folder), timed([PY, "-c", "pass"])
            c = timed(typer_cmd, folder)
            ours.values.append(a.wall)
            bare.values.append(b.wall)
            target.ratios.append(a.wall / b.wall)
            cpu.values.append(a.cpu / b.cpu)
            floor.values.append(c.wall / b.wall)
        self.targets.append(target)
        self.rows += [ours, bare, cpu, floor]

    def startup(self, reps: int) -> None:
        version = Row("startup", "planrun --version")
        for _ in range(reps):
            version.values.append(timed([*PLANRUN, "--version"]).wall)
        self.rows.append(version)

    def overhead(self, tasks: int, reps: int, *, chain: bool) -> None:
        shape = "chain" if chain else "independent"
        name = f"{tasks:,} tasks, {shape}, -j2"
        if chain:
            target = Target(f"{tasks:,}-task chain / `make -j2`", "1.9x", 1.3)
        else:
            target = Target(f"{tasks:,} trivial tasks `--jobs 2` / `make -j2`", "2.12x", 1.3)
        ours, make = Row(name, "planrun execute -j2"), Row(name, "make -j2")
        cpu = Row(name, "CPU: planrun / make", unit="x")
        floor = Row(name, "a minimal runner (benchmarks/floor.py) / make -j2", unit="x")
        write = workloads.chain_checks if chain else workloads.independent_checks
        for rep in range(-1, reps):  # rep -1 warms up
            folder = self.fresh(f"{shape}{tasks}")
            plan = write(folder / "plan.md", tasks, RECIPE)
            makefile = workloads.makefile_for(folder / "Makefile", tasks, RECIPE, chain=chain)
            a = timed([*PLANRUN, "execute", str(plan), "-j", "2", "-q", "--no-summary"], folder)
            b = timed(["make", "-s", "-j2", "-f", str(makefile)], cwd=folder)
            c = timed([*FLOOR, shape, str(tasks), RECIPE], folder)
            if rep < 0:
                continue
            ours.values.append(a.wall)
            make.values.append(b.wall)
            target.ratios.append(a.wall / b.wall)
            cpu.values.append(a.cpu / b.cpu)
            floor.values.append(c.wall / b.wall)
        self.targets.append(target)
        self.rows += [ours, make, cpu, floor]

    def overhead_git(self, tasks: int, reps: int) -> None:
        """The same independent tasks in a git work tree, where planrun also snapshots the tree
        (``git status``) around the checks to catch those that change it; paired with the same
        run outside git."""
        name = f"{tasks:,} tasks, independent, -j2"
        inside = Row(name, "planrun execute -j2, in a git work tree")
        ratio = Row(name, "in a git work tree / outside git", unit="x")
        for rep in range(-1, reps):  # rep -1 warms up
            runs = []
            for repo in (True, False):
                folder = self.fresh(f"git{tasks}" if repo else f"nogit{tasks}")
                plan = workloads.independent_checks(folder / "plan.md", tasks, RECIPE)
                if repo:
                    git_commit(folder)
                cmd = [*PLANRUN, "execute", str(plan), "-j", "2", "-q", "--no-summary"]
                runs.append(timed(cmd, folder))
            if rep < 0:
                continue
            inside.values.append(runs[0].wall)
            ratio.values.append(runs[0].wall / runs[1].wall)
        self.rows += [inside, ratio]

    def validate(self, tasks: int, reps: int, rss_tasks: int) -> None:
        name = f"scale {tasks:,} tasks"
        target = Target(
            f"validate {tasks:,} tasks / bare CSafeLoader parse with GC paused", "2.54x", 1.5
        )
        ours, paused, bare = (
            Row(name, "planrun validate"),
            Row(name, "bare yaml.load, GC paused"),
            Row(name, "bare yaml.load"),
        )
        plan = workloads.scale_plan(self.fresh("scale") / "plan.md", tasks)
        here = plan.parent  # no .planrun/ there: no plan cache (a first run)
        timed([*PLANRUN, "validate", str(plan)], here)
        samples: list[tuple[Sample, Sample]] = []
        for _ in range(reps):
            a = timed([*PLANRUN, "validate", str(plan)], here)
            b = timed([PY, "-c", PARSE.format(gc=", gc; gc.disable()"), str(plan)])
            c = timed([PY, "-c", PARSE.format(gc=""), str(plan)])
            ours.values.append(a.wall)
            paused.values.append(b.wall)
            bare.values.append(c.wall)
            target.ratios.append(a.wall / b.wall)
            samples.append((a, c))
        self.targets.append(target)
        self.rows += [ours, paused, bare]
        self.warm_validate(plan, reps, name)
        if rss_tasks != tasks:  # measured at its own size, once (peak RSS hardly varies)
            plan = workloads.scale_plan(self.fresh("scale") / "plan.md", rss_tasks)
            samples = [
                (
                    timed([*PLANRUN, "validate", str(plan)], plan.parent),
                    timed([PY, "-c", PARSE.format(gc=""), str(plan)]),
                )
            ]
        name = f"scale {rss_tasks:,} tasks"
        memory = Target(
            f"validate {rss_tasks:,} tasks peak RSS / bare `yaml.load` peak RSS",
            "1.31x (841 MiB at 100k)",
            0.7,
            [a.rss / c.rss for a, c in samples],
        )
        self.targets.append(memory)
        self.rows += [
            Row(name, "planrun validate peak RSS", [a.rss for a, _ in samples], "MiB"),
            Row(name, "bare yaml.load peak RSS", [c.rss for _, c in samples], "MiB"),
        ]

    def warm_validate(self, plan: Path, reps: int, name: str) -> None:
        """validate again with the plan cache (``.planrun/`` made by a first execute), paired
        with the same validate without it."""
        cold_dir, warm_dir = self.fresh("cold"), self.fresh("warm")
        (warm_dir / ".planrun").mkdir()
        cold, warm = Row(name, "planrun validate, no plan cache"), Row(name, "... warm plan cache")
        ratio = Row(name, "warm plan cache / no plan cache", unit="x")
        cmd = [*PLANRUN, "validate", str(plan)]
        timed(cmd, warm_dir)  # writes the cache (the current folder's .planrun/)
        for _ in range(reps):
            a, b = timed(cmd, cold_dir), timed(cmd, warm_dir)
            cold.values.append(a.wall)
            warm.values.append(b.wall)
            ratio.values.append(b.wall / a.wall)
        self.rows += [cold, warm, ratio]

    def output(self, megabytes: int, reps: int) -> None:
        name = f"a task printing {megabytes} MB"
        script = f"head -c {megabytes * 1_000_000} /dev/zero | tr '\\0' 'x' | fold -w 99"
        target = Target(f"task printing {megabytes} MB / same command `> file`", "1.72x", 1.4)
        ours, bare = Row(name, "the task in planrun (its own duration)"), Row(name, "> file")
        rss = Row(name, "planrun peak RSS", unit="MiB")
        for rep in range(-1, reps):
            folder = self.fresh("loud")
            plan = folder / "plan.md"
            plan.write_text(
                f"---\nplanrun: 1\nid: loud\ntasks:\n  - id: loud\n    verify: >-\n"
                f"      {script}\n---\n"
            )
            sample = timed([*PLANRUN, "execute", str(plan), "--no-summary", "--json"], folder)
            (a,) = task_durations(json.loads(sample.out))
            b = timed([*SHELL, f"{script} > out.txt"], folder).wall
            (folder / "out.txt").unlink()
            if rep < 0:
                continue
            ours.values.append(a)
            bare.values.append(b)
            rss.values.append(sample.rss)
            target.ratios.append(a / b)
        self.targets.append(target)
        self.rows += [ours, bare, rss]

    def makespan(self, tasks: int, seconds: float, reps: int) -> None:
        durations, deps = workloads.deep_sleep_dag(tasks, target=seconds)
        bound = workloads.lower_bound(durations, deps, jobs=2)
        name = f"makespan, deep random {tasks}-task DAG"
        target = Target(
            f"makespan, deep random {tasks}-task DAG / critical-path bound", "1.03x", 1.03
        )
        cold = Row(name, "first run (no durations recorded yet) / bound", unit="x")
        low = Row(name, "bound: max(critical path, work / 2 jobs)", [bound])
        # The bound counts no process's start: make running the same recipes shows what the
        # commands themselves (bash, sleep) add on the critical path, which no runner avoids.
        make = Row(name, "make -j2 of the same DAG / bound", unit="x")
        floor = Row(
            name,
            "a minimal runner (benchmarks/floor.py, remaining path first) / bound",
            unit="x",
        )
        for _ in range(reps):
            folder = self.fresh("span")
            plan = workloads.sleep_dag(folder / "plan.md", durations, deps)
            cmd = [*PLANRUN, "execute", str(plan), "-j", "2", "--no-summary", "--json"]
            first = float(str(run_json(cmd, folder)["duration_s"]))
            again = float(str(run_json(cmd, folder)["duration_s"]))  # durations recorded
            makefile = workloads.sleep_makefile(folder / "Makefile", durations, deps)
            made = timed(["make", "-s", "-j2", "-f", str(makefile)], cwd=folder).wall
            least = timed([*FLOOR, "dag", str(tasks), str(seconds)], folder).out.split()[-1]
            cold.values.append(first / bound)
            make.values.append(made / bound)
            floor.values.append(float(least) / bound)
            target.ratios.append(again / bound)
        self.targets.append(target)
        self.rows += [low, cold, make, floor]

    # -- further figures (full run only)
    def reuse(self, tasks: int, seconds: float, reps: int) -> None:
        name = f"reuse {tasks} tasks x sleep {seconds}, -j2"
        ratio = Row(name, "first run / rerun with nothing changed (target >= 20x)", unit="x")
        for _ in range(reps):
            root = self.fresh("reuse")
            plan = workloads.reuse_plan(root, tasks, seconds)
            cmd = [*PLANRUN, "execute", str(plan), "-j", "2", "--no-summary"]
            first = timed(cmd, root).wall
            again = timed(cmd, root)
            if f"({tasks} cached)" not in again.out:
                raise SystemExit("benchmark step failed: the rerun did not reuse every pass")
            ratio.values.append(first / again.wall)
        self.rows.append(ratio)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}"
    )


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (5 min: {five:.1f})"


def render(bench: Bench, quick: bool, elapsed: float, load_before: str) -> str:
    lines = [
        f"Machine: {machine()}",
        (
            f"Date: {time.strftime('%Y-%m-%d %H:%M')}; mode: {'--quick' if quick else 'full'}; "
            f"took {elapsed:.0f} s; load average {load_before} before, {load()} after"
        ),
        "",
        "| figure (issue 14) | the issue measured | now | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in bench.targets:
        met = "yes" if t.met else "**no**"
        lines.append(f"| {t.figure} | {t.today} | {t.cell()} | <= {t.limit}x | {met} |")
    lines += ["", "| workload | measure | result |", "| --- | --- | --- |"]
    lines += [f"| {r.workload} | {r.measure} | {r.cell()} |" for r in bench.rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0].replace("\n", " "))
    parser.add_argument("--quick", action="store_true", help="smaller workloads, fewer runs")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    quick: bool = args.quick
    load_before = load()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="planrun-bench-") as name:
        tmp = Path(name)
        ENV.update(os.environ)
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        bench = Bench(tmp)
        steps: list[Callable[[], None]] = [
            lambda: bench.overhead(200 if quick else 1_000, 2 if quick else 5, chain=False),
            lambda: bench.overhead(200 if quick else 1_000, 2 if quick else 5, chain=True),
            lambda: bench.overhead_git(200 if quick else 1_000, 2 if quick else 3),
            lambda: bench.validate(
                4_000 if quick else 20_000, 2 if quick else 3, 4_000 if quick else 100_000
            ),
            lambda: bench.next_json(8 if quick else 20),
            lambda: bench.output(30 if quick else 200, 2 if quick else 3),
            lambda: bench.makespan(200, 3.0 if quick else 10.0, 1 if quick else 3),
            lambda: bench.startup(3 if quick else 10),
        ]
        if not quick:
            steps.append(lambda: bench.reuse(300, 0.1, 3))
        for step in steps:
            step()
    text = render(bench, quick, time.perf_counter() - start, load_before)
    print(text, end="")
    header = (
        "# planrun benchmark results\n\nWritten by `python benchmarks/run.py`"
        f"{' --quick' if quick else ''}. The first table is issue 14's Targets table.\n\n"
    )
    args.output.write_text(header + text)


if __name__ == "__main__":
    main()
