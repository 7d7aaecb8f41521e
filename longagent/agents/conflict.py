"""Conflicts between members: answer clusters and the communication graph.

Grounded answers are clustered by the verifier's `same_answer` (for the lexical verifier:
equal after normalisation, or one holding the other's words). Members in different
clusters are joined by a conflict edge. The runner settles a conflict as in the LongAgent
paper (Eq. 4): a representative of each cluster re-reads both chunks together and answers
again; the cluster whose answer that joint reading confirms stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx

from longagent.agents.types import ConflictGraph, MemberReport

SameAnswer = Callable[[str, str], bool]


@dataclass
class Cluster:
    reports: list[MemberReport] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The shortest wording: the most specific common answer."""
        return min((r.answer for r in self.reports), key=len)

    @property
    def representative(self) -> MemberReport:
        return self.reports[0]


def cluster(reports: list[MemberReport], same: SameAnswer) -> list[Cluster]:
    """Connected components of the 'same answer' graph, largest first."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(reports)))
    for i in range(len(reports)):
        for j in range(i + 1, len(reports)):
            if same(reports[i].answer, reports[j].answer):
                graph.add_edge(i, j)
    components = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
    return [Cluster([reports[i] for i in sorted(c)]) for c in components]


def conflict_graph(clusters: list[Cluster]) -> ConflictGraph:
    """Members as nodes, an edge between every two members whose answers conflict."""
    graph = nx.Graph()
    for index, group in enumerate(clusters):
        for report in group.reports:
            graph.add_node(report.member, cluster=index, answer=report.answer)
    for a in range(len(clusters)):
        for b in range(a + 1, len(clusters)):
            graph.add_edges_from(
                (x.member, y.member) for x in clusters[a].reports for y in clusters[b].reports
            )
    return ConflictGraph(
        nodes=[{"member": n, **graph.nodes[n]} for n in graph.nodes],
        edges=[(int(a), int(b)) for a, b in graph.edges],
    )


def agreed_reading(readings: list[MemberReport], same: SameAnswer) -> MemberReport:
    """One member's report from its readings: among the grounded ones, the shortest wording
    of the answer most of them agree on (ties: the earlier reading); with none grounded, the
    first reading."""
    grounded = [r for r in readings if r.verdict == "grounded"]
    if not grounded:
        return readings[0]
    agreed = cluster(grounded, same)[0]
    chosen = min(agreed.reports, key=lambda r: len(r.answer))
    chosen.reason = f"{len(agreed.reports)} of {len(readings)} readings gave this answer"
    return chosen
