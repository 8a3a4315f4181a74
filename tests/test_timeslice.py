"""planrun's short time slice (timeslice.py): asked for its own thread only, the nice value
and policy it runs under kept, and every command it starts given the normal slice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/sched").is_file(), reason="no /proc/<pid>/sched to read a slice from"
)

# A child Python: asks for the slice at nice 5, then prints its own slice, its nice value and
# the slice of a command it starts (which reads its own /proc entry).
PROBE = """
import os, subprocess
from planrun import timeslice
os.nice(5)
accepted = timeslice.shorten()
def slice_of(text):
    for line in text.splitlines():
        if line.startswith("se.slice"):
            return int(line.split(":")[1])
    return -1
own = slice_of(open("/proc/thread-self/sched").read())
child = subprocess.run(["cat", "/proc/self/sched"], capture_output=True, text=True).stdout
print(accepted, own, os.getpriority(os.PRIO_PROCESS, 0), slice_of(child))
"""


def test_the_slice_is_planruns_own_and_the_nice_value_stays() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    accepted, own, nice, child = out[0] == "True", int(out[1]), int(out[2]), int(out[3])
    assert nice == 5  # the request carries the nice value planrun runs under
    if not accepted or own != 100_000:
        pytest.skip("this kernel has no custom slices (Linux 6.12 and later)")
    assert child not in (100_000, -1)  # reset on fork: the command runs with the normal slice


def test_nothing_is_asked_under_another_policy() -> None:
    probe = (
        "import os; from planrun import timeslice\n"
        "os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))\n"
        "print(timeslice.shorten(), os.sched_getscheduler(0) == os.SCHED_BATCH)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]
