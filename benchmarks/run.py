"""planrun benchmarks: prints a table and writes benchmarks/RESULTS.md.

    python benchmarks/run.py           # the full run
    python benchmarks/run.py --quick   # every figure, smaller, in under two minutes

Each figure is the median of several runs with min-max; ratios are taken pair by pair within
the same repetition (planrun and its baseline back to back), then the median of those.
Everything runs as a separate process, as a user would run it. Peak RSS comes from wait4().
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
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402 - the generator lives beside this script

PY = sys.executable
PLANRUN = [PY, "-m", "planrun"]
BARE_PARSE = (
    "import sys, yaml{gc}; "
    "yaml.load(open(sys.argv[1]).read().split('---\\n', 2)[1], Loader=yaml.CSafeLoader)"
)


@dataclass
class Row:
    workload: str
    measure: str
    times: list[float] = field(default_factory=list)
    unit: str = "s"
    target: str = ""
    ok: bool | None = None

    def cell(self) -> str:
        if not self.times:
            return "-"
        med = statistics.median(self.times)
        if self.unit == "x":
            spread = (
                f" ({min(self.times):.2f}-{max(self.times):.2f})" if len(self.times) > 1 else ""
            )
            return f"{med:.2f}x{spread}"
        if self.unit == "MiB":
            return f"{med:.0f} MiB"
        spread = f" ({min(self.times):.3f}-{max(self.times):.3f})" if len(self.times) > 1 else ""
        return f"{med:.3f} s{spread}"


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MiB, exit code and stdout of one process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, text


def check(code: int, allowed: tuple[int, ...], what: str) -> None:
    if code not in allowed:
        raise SystemExit(f"benchmark step failed (exit {code}): {what}")


def bench_scale(rows: list[Row], sizes: list[int], reps: int, tmp: Path) -> None:
    for size in sizes:
        plan = workloads.scale_plan(tmp / f"scale{size}.md", size)
        name = f"scale {size:,} tasks"
        bare, bare_nogc, val, wav = (
            Row(name, m)
            for m in (
                "bare yaml.load (CSafeLoader)",
                "bare yaml.load, GC paused",
                "planrun validate",
                "planrun waves --json",
            )
        )
        target = "<= 1.6x" if size == 20_000 else ""  # the target is set at 20k tasks
        r_val = Row(name, "validate / bare parse", unit="x", target=target)
        r_wav = Row(name, "waves / bare parse", unit="x", target=target)
        r_own = Row(name, "validate / bare parse with GC paused", unit="x")
        rss = Row(name, "validate peak RSS", unit="MiB")
        for _ in range(reps):
            t_bare, _, code, _ = timed([PY, "-c", BARE_PARSE.format(gc=""), str(plan)])
            check(code, (0,), "bare parse")
            t_nogc, _, code, _ = timed(
                [PY, "-c", BARE_PARSE.format(gc=", gc; gc.disable()"), str(plan)]
            )
            t_val, mem, code, _ = timed([*PLANRUN, "validate", str(plan)])
            check(code, (0,), "validate")
            t_wav, _, code, _ = timed([*PLANRUN, "waves", "--json", str(plan)])
            check(code, (0,), "waves")
            bare.times.append(t_bare)
            bare_nogc.times.append(t_nogc)
            val.times.append(t_val)
            wav.times.append(t_wav)
            r_val.times.append(t_val / t_bare)
            r_wav.times.append(t_wav / t_bare)
            r_own.times.append(t_val / t_nogc)
            rss.times.append(mem)
        if target:
            r_val.ok = statistics.median(r_val.times) <= 1.6
            r_wav.ok = statistics.median(r_wav.times) <= 1.6
        rows += [bare, bare_nogc, val, wav, r_val, r_wav, r_own, rss]


def bench_overhead(rows: list[Row], tasks: int, reps: int, tmp: Path) -> None:
    name = f"overhead {tasks:,} x true, 2 jobs"
    plan = workloads.independent_true(tmp / "overhead.md", tasks)
    makefile = workloads.makefile_true(tmp / "Makefile", tasks)
    run, make, xargs = (
        Row(name, "planrun execute -j2"),
        Row(name, "make -j2"),
        Row(name, "xargs -P2"),
    )
    ratio = Row(name, "planrun / make -j2", unit="x", target="<= 1.5x")
    args = "\n".join("true" for _ in range(tasks)) + "\n"
    (tmp / "args").write_text(args)
    for rep in range(reps):
        root = tmp / f"overhead-root-{rep}"
        root.mkdir()
        t_run, _, code, _ = timed(
            [*PLANRUN, "execute", str(plan), "--root", str(root), "-j", "2", "--no-summary"]
        )
        check(code, (0,), "execute overhead")
        t_make, _, code, _ = timed(["make", "-s", "-j2", "-f", str(makefile)], cwd=tmp)
        check(code, (0,), "make")
        t_xargs, _, code, _ = timed(
            ["sh", "-c", f"xargs -P2 -n1 bash -c < {tmp / 'args'}"], cwd=tmp
        )
        check(code, (0,), "xargs")
        run.times.append(t_run)
        make.times.append(t_make)
        xargs.times.append(t_xargs)
        ratio.times.append(t_run / t_make)
    ratio.ok = statistics.median(ratio.times) <= 1.5
    rows += [run, make, xargs, ratio]


def bench_reuse(rows: list[Row], tasks: int, seconds: float, reps: int, tmp: Path) -> None:
    """A first run against a rerun with nothing changed (every pass reused), whole processes."""
    name = f"reuse {tasks} tasks x sleep {seconds}, 2 jobs"
    first, again = Row(name, "first run"), Row(name, "rerun, nothing changed")
    ratio = Row(name, "first run / rerun", unit="x", target=">= 20x")
    for rep in range(reps):
        root = tmp / f"reuse-{rep}"
        plan = workloads.reuse_plan(root, tasks, seconds)
        cmd = [*PLANRUN, "execute", str(plan), "--root", str(root), "-j", "2", "--no-summary"]
        t_first, _, code, _ = timed(cmd)
        check(code, (0,), "reuse: first run")
        t_again, _, code, out = timed(cmd)
        check(code, (0,), "reuse: rerun")
        if f"({tasks} cached)" not in out:
            raise SystemExit("benchmark step failed: the rerun did not reuse every pass")
        first.times.append(t_first)
        again.times.append(t_again)
        ratio.times.append(t_first / t_again)
    ratio.ok = statistics.median(ratio.times) >= 20
    rows += [first, again, ratio]


def _makespan(plan: Path, root: Path, *extra: str) -> float:
    """The run's own duration (from its JSON document: start-up excluded), with 2 jobs."""
    _, _, code, out = timed(
        [
            *PLANRUN,
            "execute",
            str(plan),
            "--root",
            str(root),
            "-j",
            "2",
            "--no-summary",
            "--json",
            *extra,
        ]
    )
    check(code, (0,), f"execute {plan.name} {' '.join(extra)}")
    duration: float = json.loads(out)["duration_s"]
    return duration


def bench_makespan(rows: list[Row], scale: float, target: float, reps: int, tmp: Path) -> None:
    cases = {
        "A(1s)->C(3s), B(3s)->D(1s)": workloads.skewed_pair(),
        f"seeded 40-task DAG (~{target:.0f}s)": workloads.random_sleep_dag(target=target),
    }
    for label, (given, deps) in cases.items():
        durations = given
        if scale != 1 and label.startswith("A("):
            durations = {k: v * scale for k, v in given.items()}
        name = f"makespan {label}"
        plan = workloads.sleep_dag(tmp / f"sleep{len(durations)}.md", durations, deps)
        bound = workloads.lower_bound(durations, deps, jobs=2)
        cold = Row(name, "planrun makespan (-j2), first run")
        span = Row(name, "planrun makespan (-j2), durations recorded")
        barrier = Row(name, "wave-barrier makespan (--wave 1, 2, ...)")
        low = Row(name, "lower bound max(critical path, work/jobs)", times=[bound])
        r_cold = Row(name, "first run / lower bound", unit="x")
        r_bound = Row(name, "planrun / lower bound", unit="x", target="<= 1.05x")
        r_barrier = Row(name, "wave-barrier / planrun", unit="x")
        for rep in range(reps):
            root = tmp / f"span-{len(durations)}-{rep}"
            root.mkdir()
            # The first run has no recorded durations: priorities count tasks. Later runs
            # know how long each task takes (the case of re-running a wave).
            first = _makespan(plan, root)
            duration = _makespan(plan, root)
            total = 0.0
            for wave in range(1, workloads.waves(durations, deps) + 1):
                total += _makespan(plan, root, "--wave", str(wave))
            cold.times.append(first)
            span.times.append(duration)
            barrier.times.append(total)
            r_cold.times.append(first / bound)
            r_bound.times.append(duration / bound)
            r_barrier.times.append(total / duration)
        r_bound.ok = statistics.median(r_bound.times) <= 1.05
        rows += [low, cold, span, barrier, r_cold, r_bound, r_barrier]


def bench_startup(rows: list[Row], reps: int, tmp: Path) -> None:
    version = Row("startup", "planrun --version", target="< 0.25 s")
    small = Row("startup", "planrun validate (10 tasks)", target="< 0.5 s")
    plan = workloads.scale_plan(tmp / "small.md", 10)
    for _ in range(reps):
        t, _, code, _ = timed([*PLANRUN, "--version"])
        check(code, (0,), "--version")
        version.times.append(t)
        t, _, code, _ = timed([*PLANRUN, "validate", str(plan)])
        check(code, (0,), "validate small")
        small.times.append(t)
    version.ok = statistics.median(version.times) < 0.25
    small.ok = statistics.median(small.times) < 0.5
    rows += [version, small]


def bench_memory(rows: list[Row], megabytes: int, tmp: Path) -> None:
    row = Row("memory", f"peak RSS, a task printing {megabytes} MB", unit="MiB", target="< 100 MiB")
    plan = tmp / "loud.md"
    plan.write_text(
        "---\nplanrun: 1\ntasks:\n  - id: loud\n    verify: >-\n"
        f"      head -c {megabytes * 1_000_000} /dev/zero | tr '\\0' 'x' | fold -w 99\n---\n"
    )
    root = tmp / "loud-root"
    root.mkdir()
    _, mem, code, _ = timed([*PLANRUN, "execute", str(plan), "--root", str(root), "--no-summary"])
    check(code, (0,), "loud task")
    row.times.append(mem)
    row.ok = mem < 100
    rows.append(row)
    shutil.rmtree(root / ".planrun" / "logs", ignore_errors=True)


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


def render(rows: list[Row], quick: bool, elapsed: float) -> str:
    lines = [
        f"Machine: {machine()}",
        (
            f"Date: {time.strftime('%Y-%m-%d')}; mode: {'--quick' if quick else 'full'}; "
            f"took {elapsed:.0f} s"
        ),
        "",
        "| workload | measure | result | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        met = "" if row.ok is None else ("yes" if row.ok else "**no**")
        lines.append(f"| {row.workload} | {row.measure} | {row.cell()} | {row.target} | {met} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads, fewer runs")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    quick = args.quick
    rows: list[Row] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="planrun-bench-") as name:
        tmp = Path(name)
        bench_startup(rows, 5 if quick else 10, tmp)
        bench_scale(
            rows, [2_000, 20_000] if quick else [2_000, 20_000, 100_000], 2 if quick else 3, tmp
        )
        bench_overhead(rows, 300 if quick else 1_000, 2 if quick else 3, tmp)
        bench_makespan(rows, 0.5 if quick else 1.0, 3.0 if quick else 10.0, 1 if quick else 3, tmp)
        bench_memory(rows, 50 if quick else 200, tmp)
        bench_reuse(rows, 100 if quick else 300, 0.1, 1 if quick else 3, tmp)
    text = render(rows, quick, time.perf_counter() - start)
    print(text, end="")
    header = "# planrun benchmark results\n\nWritten by `python benchmarks/run.py`.\n\n"
    args.output.write_text(header + text)


if __name__ == "__main__":
    main()
