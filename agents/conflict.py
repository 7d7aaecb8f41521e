"""Conflicts between members: answer clusters, the communication graph, and resolution.

Grounded answers are clustered (equal after normalisation, or one containing the other's
words). Members in different clusters are joined by a conflict edge. A conflict between
two clusters is settled as in the LongAgent paper (Eq. 4): a representative of each
re-reads both chunks together and answers again; the cluster whose answer that joint
reading confirms stays, the other is removed. Pairs are settled in one batched call per
round until one cluster stands or a pair cannot be settled (the evidence is split).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from longagent.agents.evidence import STOPWORDS, words
from longagent.agents.types import ConflictGraph, MemberReport


def _key(answer: str) -> frozenset[str]:
    return frozenset(w for w in words(answer) if w not in STOPWORDS)


def same_answer(a: str, b: str) -> bool:
    """Equal after normalisation, or one answer's words all inside the other's."""
    ka, kb = _key(a), _key(b)
    return bool(ka and kb) and (ka <= kb or kb <= ka)


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


def cluster(reports: list[MemberReport]) -> list[Cluster]:
    """Connected components of the 'same answer' graph, largest first."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(reports)))
    for i in range(len(reports)):
        for j in range(i + 1, len(reports)):
            if same_answer(reports[i].answer, reports[j].answer):
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


def agreed_reading(readings: list[MemberReport]) -> MemberReport:
    """One member's report from its readings: among the grounded ones, the shortest wording
    of the answer most of them agree on (ties: the earlier reading); with none grounded, the
    first reading."""
    grounded = [r for r in readings if r.verdict == "grounded"]
    if not grounded:
        return readings[0]
    agreed = cluster(grounded)[0]
    chosen = min(agreed.reports, key=lambda r: len(r.answer))
    chosen.reason = f"{len(agreed.reports)} of {len(readings)} readings gave this answer"
    return chosen
