"""graph.Digraph keeps each node's neighbours in lists: adding an edge twice adds it once, and
neighbours come in the order their edges were first added, as networkx's DiGraph gives them."""

from __future__ import annotations

import random

import networkx as nx

from planrun.graph import Digraph


def test_neighbours_match_networkx_with_repeated_edges() -> None:
    rng = random.Random(7)  # noqa: S311 - a seeded graph, not a secret
    nodes = 60
    ours, theirs = Digraph(nodes), nx.DiGraph()
    theirs.add_nodes_from(range(nodes))
    hub = 0  # a node with many neighbours on both sides, as a plan-level node has
    for _ in range(8):
        batch = [(rng.randrange(nodes), rng.randrange(nodes)) for _ in range(120)]
        batch += [(hub, v) for v in range(1, nodes, 3)] + [(u, hub) for u in range(2, nodes, 5)]
        ours.add_edges_from(batch)
        theirs.add_edges_from(batch)
    for node in range(nodes):
        assert ours.succ[node] == list(theirs.succ[node])
        assert ours.pred[node] == list(theirs.pred[node])
        assert ours.in_degree(node) == theirs.in_degree(node)
    assert ours.to_networkx().edges == theirs.edges
