"""Building the graph from plans: resolving depends_on (did-you-mean, plan id spellings and
aliases, plans outside the run), duplicate ids, self-dependencies and cycle reporting."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from planrun.diagnostics import Diagnostics
from planrun.graph import Digraph, PlanGraph, Unit
from planrun.model import CHECKS_ID, Plan, Task
from planrun.suggest import Suggester


class Resolver:
    """Turns depends_on entries into units or plans, with did-you-mean on failure."""

    @classmethod
    def of(cls, graph: PlanGraph) -> Resolver:
        """The resolver ``build_graph`` used, for a lint that names tasks (milestones)."""
        aliases: dict[str, int] = {}
        for pos, plan in enumerate(graph.plans):
            for alias in plan.aliases:
                aliases.setdefault(alias, pos)
        plans = {plan.id: pos for pos, plan in enumerate(graph.plans)}
        return cls(plans, {u.id: u.index for u in graph.units if u.task is not None}, aliases)

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
                hint=plan.id_hint,
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
    resolver = Resolver(plan_pos, by_id, aliases)
    # Edges added after the plan dependencies' (their order is the graph's), flat (u, v, u, v,
    # ...) in an int array: a tuple per edge held 72 bytes each at the graph's peak.
    edges = array("q")
    for unit in units:
        plan = unit.plan
        own = unit.task
        if own is None:
            for p in plan_units[plan_pos[plan.id]]:
                if p != unit.index:
                    edges.extend((p, unit.index))
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
                edges.extend((target, unit.index))
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
            for u in plan_units[pos]:
                edges.extend((virtual, u))
    graph.add_edges_from(zip(edges[::2], edges[1::2], strict=True))
    del edges  # the order and waves below are computed with every model alive: the peak

    result = PlanGraph(kept, units, graph)
    result.order = graph.topological_order()
    if result.order is None:
        _report_cycles(result, graph, diags)
        return result
    result.assign_waves()
    return result


def _unknown_task(dep: str, task: Task, plan: Plan, resolver: Resolver, diags: Diagnostics) -> None:
    message = f'task "{task.id}" depends on "{dep}", which does not exist'
    guess = resolver.suggest_task(dep, plan, asking=task.id)
    hint = None
    if guess:
        message += f' (did you mean "{guess}"?)'
    elif dep in resolver.plans:
        hint = f'"{dep}" is a plan: put it in the plan\'s depends_on to wait for all its tasks'
    diags.add("unknown-dependency", plan.source_of(task), task.line, message, hint=hint)


def _report_cycles(result: PlanGraph, dag: Digraph, diags: Diagnostics) -> None:
    import networkx as nx  # noqa: PLC0415 -- slow to import, needed for cycles only

    graph = dag.to_networkx()
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
