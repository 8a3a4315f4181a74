"""``execute --shard K/N``: a deterministic split of the selected tasks across N machines.

Every machine must compute the same split from the same inputs, so the split depends only on
the plan and the expected durations (recorded ones, else one second each), never on a clock or
on randomness. A shard runs without waiting for the others, so a unit and what it depends on
inside the selection always share a shard: the split is over the connected groups of the
selection, balanced longest-processing-time first (the longest group goes to the least loaded
shard; ties to the lower shard number, then the earlier group). A selection that is one long
chain therefore lands on one machine. The intended use is one wave at a time (``--wave W --shard
K/N``), where tasks are independent except for a plan's own checks, which stay with the plan's
last task.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from planrun import lazyre
from planrun.errors import UsageError
from planrun.graph import PlanGraph, Unit

_SHARD = lazyre.compile(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as written on the command line
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``K/N`` with 1 <= K <= N."""
    match = _SHARD.fullmatch(text)
    if not match:
        raise UsageError(f'--shard takes K/N (for example 1/4), not "{text}"')
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise UsageError(f"--shard {text}: K must be between 1 and N, and N at least 1")
    return Shard(index, count)


def groups(graph: PlanGraph, selected: set[int]) -> list[list[Unit]]:
    """The selected units, grouped so that no dependency inside the selection crosses groups
    (the connected components of the selection), each in plan order, groups by first unit."""
    parent = {i: i for i in selected}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for index in selected:
        for dep in _real_preds(graph, index):
            if dep in parent:
                a, b = find(index), find(dep)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    out: dict[int, list[Unit]] = {}
    for index in sorted(selected):
        out.setdefault(find(index), []).append(graph.units[index])
    return list(out.values())


def split(parts_of: list[list[Unit]], count: int, cost: Callable[[Unit], float]) -> list[set[int]]:
    """``count`` disjoint shards of whole groups, balanced by expected duration: longest group
    first onto the least loaded shard (ties: lower shard, then earlier group)."""
    weight = [sum(cost(u) for u in group) for group in parts_of]
    order = sorted(range(len(parts_of)), key=lambda g: (-weight[g], parts_of[g][0].index))
    loads = [(0.0, shard) for shard in range(count)]
    shards: list[set[int]] = [set() for _ in range(count)]
    for g in order:
        load, shard = heapq.heappop(loads)
        shards[shard].update(u.index for u in parts_of[g])
        heapq.heappush(loads, (load + weight[g], shard))
    return shards


def _real_preds(graph: PlanGraph, index: int) -> set[int]:
    """The units ``index`` waits for, through virtual plan nodes."""
    out: set[int] = set()
    stack = list(graph.preds(index))
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if graph.is_virtual(node):
            stack.extend(graph.preds(node))
        else:
            out.add(node)
    return out


def select_shard(
    graph: PlanGraph, selected: set[int], shard: Shard, cost: Callable[[Unit], float]
) -> set[int]:
    """The part of ``selected`` that shard K runs. A unit and what it depends on inside the
    selection always share a shard, so no shard waits for another."""
    return split(groups(graph, selected), shard.count, cost)[shard.index - 1]
