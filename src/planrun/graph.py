"""The dependency graph of a run: units of work, waves, cycles, critical path, file conflicts.

A *unit* is a task, or a plan's own checks (``PLAN/@checks``: plan ``verify`` and ``must_haves``,
run after the plan's tasks). Plan-level ``depends_on`` goes through one virtual node per
depended-on plan, so "every task of B depends on every task of A" costs |A| + |B| edges, not
|A| x |B|. Everything here is O(units + edges).
"""

from __future__ import annotations

import heapq
import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planrun.diagnostics import Diagnostics
from planrun.model import CHECKS_ID, MustHaves, Plan, Task, VerifyCommand
from planrun.suggest import Suggester

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


class Digraph:
    """Nodes 0..n-1 with successors and predecessors in insertion order: the part of a
    ``networkx.DiGraph`` planrun walks on every command. networkx itself (slow to import) is
    loaded only for what it does best: cycle paths (``to_networkx``)."""

    __slots__ = ("pred", "succ")

    def __init__(self, nodes: int) -> None:
        self.succ: list[dict[int, None]] = [{} for _ in range(nodes)]
        self.pred: list[dict[int, None]] = [{} for _ in range(nodes)]

    def number_of_nodes(self) -> int:
        return len(self.succ)

    def in_degree(self, node: int) -> int:
        return len(self.pred[node])

    def add_edges_from(self, edges: Iterable[tuple[int, int]]) -> None:
        succ, pred = self.succ, self.pred
        for u, v in edges:
            succ[u][v] = None
            pred[v][u] = None

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

    def __init__(self, plans: Sequence[Plan], units: list[Unit], graph: Digraph) -> None:
        self.plans = list(plans)
        self.units = units
        self.by_id = {u.id: u.index for u in units}
        self.graph = graph
        self.order: list[int] | None = None  # topological order; None when there is a cycle

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
        pred = self.graph.pred
        depth = [0] * self.graph.number_of_nodes()
        for node in self.order:
            depth[node] = max((depth[p] for p in pred[node]), default=0) + self._weight(node)
        for unit in self.units:
            unit.wave = depth[unit.index]

    def _assign_avoiding_conflicts(self) -> None:
        # Kahn's algorithm, lowest possible wave first and plan order within it, so of two tasks
        # that want one file in one wave the later one (by plan order) is the one that moves.
        graph = self.graph
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
            files = [] if self.is_virtual(node) else _norm_files(self.units[node].files)
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
        pred = self.graph.pred
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
        succ, pred = self.graph.succ, self.graph.pred

        def same_plan(a: int, b: int) -> bool:
            return b < n and units[a].plan is units[b].plan

        out = [(units[p], unit) for unit in units for p in pred[unit.index] if p < n]
        for virtual in range(n, self.graph.number_of_nodes()):
            lasts = [p for p in pred[virtual] if not any(same_plan(p, s) for s in succ[p])]
            firsts = [s for s in succ[virtual] if not any(same_plan(s, q) for q in pred[s])]
            out.extend((units[a], units[b]) for a in lasts for b in firsts)
        out.sort(key=lambda e: (e[1].index, e[0].index))
        return out


def _norm_files(files: list[str]) -> list[str]:
    return sorted({posixpath.normpath(f.strip()) for f in files if f.strip()})


def touched_files(unit: Unit) -> frozenset[str]:
    """The files a unit declares, normalized as the file-conflict check compares them."""
    return frozenset(_norm_files(unit.files))


class _Resolver:
    """Turns depends_on entries into units or plans, with did-you-mean on failure."""

    def __init__(
        self, plans: dict[str, int], units: dict[str, int], aliases: dict[str, int]
    ) -> None:
        self.plans = plans
        self.aliases = aliases
        self.units = units
        self._full = Suggester(units)
        self._plan_ids = Suggester(plans)
        self._bare: dict[str, Suggester] = {}

    def task(self, dep: str, plan: Plan) -> int | None:
        if "/" in dep:
            return self.units.get(dep)
        return self.units.get(f"{plan.id}/{dep}")

    def suggest_task(self, dep: str, plan: Plan, asking: str | None = None) -> str | None:
        if "/" in dep:
            return self._full.suggest(dep, exclude=f"{plan.id}/{asking}")
        if plan.id not in self._bare:
            self._bare[plan.id] = Suggester(t.id for t in plan.tasks)
        return self._bare[plan.id].suggest(dep, exclude=asking)

    def plan(self, dep: str, plan: Plan) -> int | None:
        for candidate in plan_id_spellings(dep, plan):
            if candidate in self.plans:
                return self.plans[candidate]
        for candidate in plan_id_spellings(dep, plan):
            if candidate in self.aliases:
                return self.aliases[candidate]
        return None

    def suggest_plan(self, dep: str) -> str | None:
        return self._plan_ids.suggest(dep)


def plan_id_spellings(dep: str, plan: Plan) -> list[str]:
    """Ways a plan dependency may be written: the id, or ``ID.md``. Format-specific names
    (GSD's ``26-01-PLAN``) are aliases the reader declares on the plan it reads."""
    dep = dep.strip()
    out = [dep]
    if dep.endswith(".md"):
        out.append(dep.removesuffix(".md"))
    return out


def build_graph(plans: Sequence[Plan], diags: Diagnostics) -> PlanGraph:
    """Build the graph, reporting duplicate ids, unknown and self dependencies, and cycles."""
    quiet = Diagnostics()  # problems of plans loaded only as context are not reported

    def sink(plan: Plan) -> Diagnostics:
        return quiet if plan.context else diags

    units: list[Unit] = []
    by_id: dict[str, int] = {}
    plan_pos: dict[str, int] = {}
    plan_units: list[list[int]] = []
    kept: list[Plan] = []
    for plan in plans:
        if plan.id in plan_pos:
            first = kept[plan_pos[plan.id]]
            sink(plan).add(
                "duplicate-id",
                plan.source,
                plan.line,
                f'plan id "{plan.id}" is also the id of {first.source}; this plan is ignored',
                hint=(
                    f"give {plan.source} other phase: and plan: numbers"
                    if plan.format == "gsd"
                    else f'write a different "id:" in the frontmatter of {plan.source}'
                ),
            )
            continue
        plan_pos[plan.id] = len(kept)
        kept.append(plan)
        mine: list[int] = []
        for task in plan.tasks:
            full = f"{plan.id}/{task.id}"
            if full in by_id:
                earlier = units[by_id[full]]
                where = f"line {earlier.line}"
                if plan.source_of(earlier.task) != plan.source_of(task):
                    where = f"{plan.source_of(earlier.task)}:{earlier.line}"
                sink(plan).add(
                    "duplicate-id",
                    plan.source_of(task),
                    task.line,
                    f'task id "{task.id}" is used twice in this plan (first on {where})',
                    hint="task ids must be unique within a plan",
                )
                continue
            by_id[full] = len(units)
            mine.append(len(units))
            units.append(Unit(full, plan, task, len(units)))
        if plan.has_checks:
            mine.append(len(units))
            units.append(Unit(f"{plan.id}/{CHECKS_ID}", plan, None, len(units)))
        plan_units.append(mine)

    graph = Digraph(len(units) + len(kept))
    aliases: dict[str, int] = {}
    for pos, plan in enumerate(kept):
        for alias in plan.aliases:
            aliases.setdefault(alias, pos)
    resolver = _Resolver(plan_pos, by_id, aliases)
    edges: list[tuple[int, int]] = []
    for unit in units:
        plan = unit.plan
        own = unit.task
        if own is None:
            for p in plan_units[plan_pos[plan.id]]:
                if p != unit.index:
                    edges.append((p, unit.index))
                    unit.deps.append(p)
            continue
        for dep in own.depends_on:
            target = resolver.task(dep, plan)
            if target is None:
                _unknown_task(dep, own, plan, resolver, sink(plan))
            elif target == unit.index:
                sink(plan).add(
                    "self-dependency",
                    plan.source,
                    own.line,
                    f'task "{own.id}" depends on itself',
                    hint=f'remove "{dep}" from its depends_on',
                )
            elif target not in unit.deps:
                edges.append((target, unit.index))
                unit.deps.append(target)
    for pos, plan in enumerate(kept):
        for dep in plan.depends_on:
            target = resolver.plan(dep, plan)
            if target is None and plan.may_be_outside(dep):
                sink(plan).add(
                    "external-dependency",
                    plan.source,
                    plan.line,
                    f'plan "{plan.id}" depends on plan "{dep}", which is not among the plans '
                    "loaded; it is treated as outside this run",
                    hint="load the folder holding both plans to check the dependency too",
                )
                continue
            if target is None:
                guess = resolver.suggest_plan(dep)
                message = f'plan "{plan.id}" depends on plan "{dep}", which does not exist'
                if guess:
                    message += f' (did you mean "{guess}"?)'
                sink(plan).add("unknown-dependency", plan.source, plan.line, message)
                continue
            if target == pos:
                sink(plan).add(
                    "self-dependency",
                    plan.source,
                    plan.line,
                    f'plan "{plan.id}" depends on itself',
                    hint=f'remove "{dep}" from the plan\'s depends_on',
                )
                continue
            virtual = len(units) + target
            if graph.in_degree(virtual) == 0:
                graph.add_edges_from((u, virtual) for u in plan_units[target])
            edges.extend((virtual, u) for u in plan_units[pos])
    graph.add_edges_from(edges)

    result = PlanGraph(kept, units, graph)
    result.order = graph.topological_order()
    if result.order is None:
        _report_cycles(result, diags)
        return result
    result.assign_waves()
    _check_milestones(kept, resolver, diags)
    return result


def _unknown_task(
    dep: str, task: Task, plan: Plan, resolver: _Resolver, diags: Diagnostics
) -> None:
    message = f'task "{task.id}" depends on "{dep}", which does not exist'
    guess = resolver.suggest_task(dep, plan, asking=task.id)
    hint = None
    if guess:
        message += f' (did you mean "{guess}"?)'
    elif dep in resolver.plans:
        hint = f'"{dep}" is a plan: put it in the plan\'s depends_on to wait for all its tasks'
    diags.add("unknown-dependency", plan.source_of(task), task.line, message, hint=hint)


def _report_cycles(result: PlanGraph, diags: Diagnostics) -> None:
    import networkx as nx  # noqa: PLC0415 -- slow to import, needed for cycles only

    graph = result.graph.to_networkx()
    n = len(result.units)
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        start = min(component)
        cycle = nx.find_cycle(graph.subgraph(component), source=start)
        nodes = [u for u, _ in cycle]
        real = [result.units[x] for x in nodes if x < n]
        first = min(real, key=lambda u: u.index) if real else result.units[0]
        one_plan = all(x < n and result.units[x].plan is first.plan for x in nodes)
        names = []
        for node in [*nodes, nodes[0]]:
            if node >= n:
                names.append(f"plan {result.plans[node - n].id}")
            else:
                unit = result.units[node]
                names.append(unit.bare_id if one_plan else unit.id)
        diags.add(
            "cycle",
            first.plan.source_of(first.task),
            first.line,
            "dependency cycle: " + " -> ".join(names),
            hint="remove one depends_on entry on this path",
        )


def _check_milestones(plans: list[Plan], resolver: _Resolver, diags: Diagnostics) -> None:
    for plan in plans:
        for milestone in plan.milestones:
            for ref in milestone.tasks:
                if resolver.task(ref, plan) is not None:
                    continue
                guess = resolver.suggest_task(ref, plan)
                message = f'milestone "{milestone.id}" names task "{ref}", which does not exist'
                if guess:
                    message += f' (did you mean "{guess}"?)'
                diags.add("unknown-milestone-task", plan.source, milestone.line, message)


def file_conflicts(graph: PlanGraph, diags: Diagnostics) -> None:
    """Warn about tasks of one wave that touch the same file."""
    first: dict[tuple[int, str], Unit] = {}
    for unit in graph.units:
        if unit.plan.context:
            continue  # a plan loaded only as context is not being checked
        for file in _norm_files(unit.files):
            other = first.setdefault((unit.wave, file), unit)
            if other is unit or (other.plan is unit.plan and unit.plan.one_agent):
                continue
            diags.add(
                "file-conflict",
                unit.plan.source_of(unit.task),
                unit.line,
                f'task "{unit.bare_id}" and {other.name_in(unit.plan)} both touch "{file}" '
                f"in wave {unit.wave}",
                hint="add a depends_on between them, or use: planrun waves --avoid-conflicts",
            )


def wave_mismatches(graph: PlanGraph, diags: Diagnostics) -> None:
    starts: dict[str, int] = {}
    for unit in graph.units:
        if unit.plan.id not in starts or unit.wave < starts[unit.plan.id]:
            starts[unit.plan.id] = unit.wave
    for plan in graph.plans:
        computed = starts.get(plan.id)
        if plan.context:
            continue
        if plan.wave is not None and computed is not None and plan.wave != computed:
            diags.add(
                "wave-mismatch",
                plan.source,
                plan.line,
                f'plan "{plan.id}" declares wave {plan.wave}, but its dependencies put it in '
                f"wave {computed}",
                hint=f"set wave: {computed}, or fix depends_on",
            )
