"""The dependency graph of a run: units of work, waves, critical path, edges, readiness.

A *unit* is a task, or a plan's own checks (``PLAN/@checks``: plan ``verify`` and ``must_haves``,
run after the plan's tasks). Plan-level ``depends_on`` goes through one virtual node per
depended-on plan, so "every task of B depends on every task of A" costs |A| + |B| edges, not
|A| x |B|. Everything here is O(units + edges). ``dependencies`` builds the graph from plans
(resolving depends_on, reporting cycles); the cross-plan lints on it are in ``lint``.
"""

from __future__ import annotations

import heapq
import posixpath
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planrun.model import CHECKS_ID, Plan, Task
from planrun.modelchecks import MustHaves, VerifyCommand

if TYPE_CHECKING:
    import networkx as nx


@dataclass(eq=False, slots=True)
class Unit:
    id: str
    plan: Plan
    task: Task | None
    index: int
    wave: int = 0
    deps: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.task.name if self.task else f"checks of plan {self.plan.id}"

    @property
    def bare_id(self) -> str:
        return self.task.id if self.task else CHECKS_ID

    @property
    def line(self) -> int | None:
        return self.task.line if self.task else self.plan.line

    def name_in(self, plan: Plan) -> str:
        """How to name this unit in a message about ``plan``: bare id there, else full id."""
        return f'task "{self.bare_id}"' if self.plan is plan else f'task "{self.id}"'

    @property
    def files(self) -> list[str]:
        return self.task.files if self.task else []

    @property
    def manual(self) -> bool:
        """A human checkpoint: never run, reported as manual."""
        return self.task is not None and self.task.kind == "manual"

    @property
    def verify(self) -> list[VerifyCommand]:
        """The task's verify commands; for a plan's checks, the plan's."""
        return self.task.verify if self.task else self.plan.verify

    @property
    def must_haves(self) -> MustHaves:
        return self.task.must_haves if self.task else self.plan.must_haves

    @property
    def checked_files(self) -> list[str]:
        """The files planrun's own must_haves checks of this unit read, as written: each
        artifact, both ends of each key_link, and the files searched for a key_link whose
        ``from`` names code."""
        must = self.must_haves
        out = [a.path for a in must.artifacts]
        for link in must.key_links:
            out += [link.from_, link.to]
        if any(link.from_code for link in must.key_links):
            out += self.searched_files
        return out

    @property
    def searched_files(self) -> list[str]:
        """Where a key_link whose ``from`` names code, not a file, is looked for: the files
        the unit's plan declares (``files_modified``, its tasks' files, its artifacts)."""
        plan = self.plan
        out = list(plan.declared_files)
        out += [f for t in plan.tasks for f in t.files]
        out += [a.path for a in plan.must_haves.artifacts]
        out += [a.path for t in plan.tasks for a in t.must_haves.artifacts]
        return out

    @property
    def claimed_done(self) -> bool:
        """Its task claims done (a plan's checks: every task of the plan does)."""
        tasks = [self.task] if self.task else self.plan.tasks
        return bool(tasks) and all(t.claimed == "done" for t in tasks)


class Digraph:
    """Nodes 0..n-1 with successors and predecessors in insertion order: the part of a
    ``networkx.DiGraph`` planrun walks on every command. networkx itself (slow to import) is
    loaded only for what it does best: cycle paths (``to_networkx``)."""

    __slots__ = ("pred", "succ")

    def __init__(self, nodes: int) -> None:
        # Lists, not dicts: a node's two or three neighbours take 72 bytes in a list and 224
        # in a dict (tens of MiB on a 100,000-task plan, at the peak of validate's memory).
        self.succ: list[list[int]] = [[] for _ in range(nodes)]
        self.pred: list[list[int]] = [[] for _ in range(nodes)]

    def number_of_nodes(self) -> int:
        return len(self.succ)

    def in_degree(self, node: int) -> int:
        return len(self.pred[node])

    def add_edges_from(self, edges: Iterable[tuple[int, int]]) -> None:
        """Add each edge not there yet (looked for on the shorter of its two ends' lists: a
        plan-level node may have thousands of neighbours, a task a few)."""
        succ, pred = self.succ, self.pred
        for u, v in edges:
            out, into = succ[u], pred[v]
            if v in out if len(out) <= len(into) else u in into:
                continue
            out.append(v)
            into.append(u)

    def topological_order(self) -> list[int] | None:
        """Kahn's algorithm generation by generation, the order ``networkx.topological_sort``
        gives (callers list results in it); None when there is a cycle."""
        indegree = [len(p) for p in self.pred]
        generation = [n for n, d in enumerate(indegree) if d == 0]
        order: list[int] = []
        while generation:
            order.extend(generation)
            following: list[int] = []
            for node in generation:
                for child in self.succ[node]:
                    indegree[child] -= 1
                    if indegree[child] == 0:
                        following.append(child)
            generation = following
        return order if len(order) == len(indegree) else None

    def to_networkx(self) -> nx.DiGraph:
        import networkx as nx  # noqa: PLC0415 -- slow to import, needed for cycles only

        graph = nx.DiGraph()
        graph.add_nodes_from(range(len(self.succ)))
        graph.add_edges_from((u, v) for u, out in enumerate(self.succ) for v in out)
        return graph


class PlanGraph:
    """Units in plan order plus the graph over them (virtual plan nodes after them)."""

    def __init__(self, plans: Sequence[Plan], units: list[Unit], dag: Digraph) -> None:
        self.plans = list(plans)
        self.units = units
        self.by_id = {u.id: u.index for u in units}
        self._dag = dag
        self.order: list[int] | None = None  # topological order; None when there is a cycle

    def node_count(self) -> int:
        """Units and virtual plan nodes: node ids are 0..node_count() - 1."""
        return self._dag.number_of_nodes()

    def preds(self, node: int) -> Collection[int]:
        """The nodes ``node`` depends on, in the order the dependencies were added."""
        return self._dag.pred[node]

    def succs(self, node: int) -> Collection[int]:
        """The nodes that depend on ``node``, in the order the dependencies were added."""
        return self._dag.succ[node]

    def is_virtual(self, node: int) -> bool:
        return node >= len(self.units)

    def node_name(self, node: int) -> str:
        """A unit's full id, or "plan ID" for the virtual node of a plan dependency."""
        if self.is_virtual(node):
            return f"plan {self.plans[node - len(self.units)].id}"
        return self.units[node].id

    def waves(self) -> list[list[Unit]]:
        out: list[list[Unit]] = []
        for unit in self.units:
            while len(out) < unit.wave:
                out.append([])
            out[unit.wave - 1].append(unit)
        return out

    def _weight(self, node: int) -> int:
        """A unit's contribution to wave depth: a task 1; plan checks 0 (they share the wave of
        the plan's last task) unless the plan has no tasks; a virtual node 0."""
        if self.is_virtual(node):
            return 0
        unit = self.units[node]
        if unit.task is None and unit.plan.tasks:
            return 0
        return 1

    def assign_waves(self, *, avoid_conflicts: bool = False) -> None:
        """Waves = topological generations; optionally move later same-file tasks later."""
        if self.order is None:
            raise ValueError("waves of a graph with a cycle")
        if avoid_conflicts:
            self._assign_avoiding_conflicts()
            return
        pred = self._dag.pred
        depth = [0] * self._dag.number_of_nodes()
        for node in self.order:
            depth[node] = max((depth[p] for p in pred[node]), default=0) + self._weight(node)
        for unit in self.units:
            unit.wave = depth[unit.index]

    def _assign_avoiding_conflicts(self) -> None:
        # Kahn's algorithm, lowest possible wave first and plan order within it, so of two tasks
        # that want one file in one wave the later one (by plan order) is the one that moves.
        graph = self._dag
        indegree = {n: len(p) for n, p in enumerate(graph.pred)}
        bound = dict.fromkeys(indegree, 0)
        heap = [(self._weight(n), n) for n, d in indegree.items() if d == 0]
        heapq.heapify(heap)
        taken: dict[tuple[str, int], int] = {}  # (file, wave) -> next wave to try (union-find)

        def free(file: str, wave: int) -> int:
            path = []
            while (file, wave) in taken:
                path.append(wave)
                wave = taken[file, wave]
            for w in path:  # path compression keeps this near-linear
                taken[file, w] = wave
            return wave

        while heap:
            wave, node = heapq.heappop(heap)
            files = [] if self.is_virtual(node) else norm_files(self.units[node].files)
            moved = True
            while moved:
                moved = False
                for file in files:
                    w = free(file, wave)
                    if w != wave:
                        wave, moved = w, True
            for file in files:
                taken[file, wave] = wave + 1
            if not self.is_virtual(node):
                self.units[node].wave = wave
            for succ in graph.succ[node]:
                bound[succ] = max(bound[succ], wave)
                indegree[succ] -= 1
                if indegree[succ] == 0:
                    heapq.heappush(heap, (bound[succ] + self._weight(succ), succ))

    def critical_path(self, cost: Callable[[Unit], float] | None = None) -> list[Unit]:
        """The longest chain of units, by ``cost`` (default: one per task)."""
        if self.order is None or not self.units:
            return []
        pred = self._dag.pred
        dist: dict[int, float] = {}
        best: dict[int, int | None] = {}
        for node in self.order:
            prev = max(pred[node], key=dist.__getitem__, default=None)
            if self.is_virtual(node):
                own = 0.0
            else:
                own = cost(self.units[node]) if cost else float(self._weight(node))
            dist[node] = own + (dist[prev] if prev is not None else 0.0)
            best[node] = prev
        end: int | None = max(range(len(self.units)), key=dist.__getitem__)
        path: list[Unit] = []
        while end is not None:
            if not self.is_virtual(end):
                path.append(self.units[end])
            end = best[end]
        path.reverse()
        return path

    def edges(self) -> list[tuple[Unit, Unit]]:
        """Dependencies between units. A plan-level dependency is drawn from the depended-on
        plan's last units to the dependent plan's first ones, which keeps reachability."""
        units = self.units
        n = len(units)
        succ, pred = self._dag.succ, self._dag.pred

        def same_plan(a: int, b: int) -> bool:
            return b < n and units[a].plan is units[b].plan

        out = [(units[p], unit) for unit in units for p in pred[unit.index] if p < n]
        for virtual in range(n, self._dag.number_of_nodes()):
            lasts = [p for p in pred[virtual] if not any(same_plan(p, s) for s in succ[p])]
            firsts = [s for s in succ[virtual] if not any(same_plan(s, q) for q in pred[s])]
            out.extend((units[a], units[b]) for a in lasts for b in firsts)
        out.sort(key=lambda e: (e[1].index, e[0].index))
        return out

    def remaining_path(self, cost: Callable[[Unit], float]) -> list[float]:
        """For each node, the cost of the longest path from it to the end (its own included):
        the scheduler's priority, the critical path read backwards."""
        succ = self._dag.succ
        rem = [0.0] * self._dag.number_of_nodes()
        for node in reversed(self.order or []):
            own = 0.0 if self.is_virtual(node) else cost(self.units[node])
            rem[node] = own + max((rem[s] for s in succ[node]), default=0.0)
        return rem


class Readiness:
    """Whether each node of a graph lets its dependents go ahead (``ok``), and if not why
    (``cause``, the root cause named in a blocked dependent's reason): the one propagation of
    "is this dependency satisfied / why blocked" over the DAG, shared by the scheduler, ``summary
    --merge`` and ``next``. Callers set ``ok``/``cause`` of units as results come in, and
    ``settle`` each node once all its dependencies are set (in topological order)."""

    __slots__ = ("cause", "graph", "ok")

    def __init__(self, graph: PlanGraph) -> None:
        self.graph = graph
        self.ok = [False] * graph.node_count()
        self.cause = [""] * graph.node_count()  # "" = none known (not run)

    def settle(self, node: int) -> int | None:
        """The first dependency of ``node`` that does not let it go ahead (None: all do).
        A virtual plan node needs no result: it is settled here, ok when all its plan's units
        are, else carrying why its first one is not."""
        bad = next((p for p in self.graph.preds(node) if not self.ok[p]), None)
        if self.graph.is_virtual(node):
            self.ok[node] = bad is None
            self.cause[node] = "" if bad is None else self.why(bad)
        return bad

    def why(self, node: int) -> str:
        """Why ``node`` does not let its dependents go ahead."""
        return self.cause[node] or f"{self.graph.node_name(node)} did not pass"

    def block(self, node: int, bad: int) -> str:
        """Mark ``node`` as blocked behind its dependency ``bad``; the root cause it carries."""
        self.ok[node] = False
        self.cause[node] = self.why(bad)
        return self.cause[node]


def norm_files(files: list[str]) -> list[str]:
    """Declared files, stripped and normalized, once each, sorted (a file already normal is
    kept as the same string, not a copy: the file-conflict check holds every one at once)."""
    out = set()
    for file in files:
        if name := file.strip():
            normal = posixpath.normpath(name)
            out.add(name if normal == name else normal)
    return sorted(out)


def touched_files(unit: Unit) -> frozenset[str]:
    """The files a unit declares, normalized as the file-conflict check compares them."""
    return frozenset(norm_files(unit.files))
