"""What a leader sees (`State`) and what it may decide (`Action`).

The runner keeps the state: one `Hop` per question the members are asked (the question
itself, then each follow-up along a finding's new names), with the reports that stand for
it and their answer clusters. A leader reads the state and returns the next action; the
runner executes it as one batched round and writes the trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from longagent.agents.conflict import Cluster
from longagent.agents.question import Question
from longagent.agents.reading import ReadPlan
from longagent.agents.types import Citation, MemberReport, Round, distinct
from longagent.chunking import Chunk


@dataclass(frozen=True)
class Read:
    """The members read their chunks, `wave` at a time (0: all at once) until a wave
    grounds an answer; this opens the first hop."""

    members: list[int]
    wave: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Focus:
    """The hop's members re-read only the passages of their chunk about its subject."""

    members: list[int]
    reason: str = ""


@dataclass(frozen=True)
class Search:
    """Readers read the document's passages ranked for the hop's question (BM25 fused with
    MiniLM), `waves[0]` passages first, then `waves[1]` more, ..., until a wave grounds an
    answer: the question's words alone found nothing."""

    waves: tuple[int, ...]
    reason: str = ""


@dataclass(frozen=True)
class Collect:
    """Every value, not one: readers read the passages ranked for `question` (default: the
    question asked), `waves[0]` first, then `waves[1]` more, ..., until a wave adds no value
    not already grounded; every grounded value is kept, each with its citation. A chain
    collects again with each new value in place of the one it followed."""

    waves: tuple[int, ...]
    question: Question | None = None
    reason: str = ""


@dataclass(frozen=True)
class Overview:
    """Map: each of `members` summarises its chunk in one batch; reduce: the summaries in
    document order, each cited."""

    members: list[int]
    reason: str = ""


@dataclass(frozen=True)
class Count:
    """The `count` words that occur most in the chunks, counted (not read), each cited at
    its first occurrence."""

    count: int
    reason: str = ""


@dataclass(frozen=True)
class Resolve:
    """Each pair of conflicting answer clusters (indices into the hop's clusters) re-reads
    both chunks together."""

    pairs: list[tuple[int, int]]
    reason: str = ""


@dataclass(frozen=True)
class FollowUp:
    """A new hop: `members` are asked again along `bridge` (the finding's new names), with
    `known` (its evidence) fed forward; `instruction`, when set, replaces the question."""

    members: list[int]
    bridge: str
    known: str
    instruction: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Conclude:
    """Stop and answer with the finding that stands (None: not found)."""

    reason: str = ""
    answer: str = ""  # a leader's pick among the standing answers; "" keeps the standing one


Action = Read | Focus | Search | Collect | Overview | Count | Resolve | FollowUp | Conclude


@dataclass
class Finding:
    """An answer that stood, with the evidence behind it (a hop's and those before it)."""

    answer: str
    citations: list[Citation]
    split: bool = False  # the members' evidence disagreed and could not be settled
    items: list[str] = field(default_factory=list)  # a collection's values, in order


@dataclass
class Hop:
    question: Question
    kind: Literal["ask", "follow_up", "collect", "overview", "count"]
    members: list[int] = field(default_factory=list)
    reports: list[MemberReport] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    focused: bool = False
    searched: bool = False  # ranked passages were read
    split: bool = False  # a conflict pair could not be settled

    @property
    def grounded(self) -> bool:
        return bool(self.clusters)

    @property
    def extracted(self) -> bool:
        """Whether the search's best sentence answers (`agents/extraction.py`)."""
        return any(r.extracted for c in self.clusters for r in c.reports)

    def finding(self, previous: Finding | None) -> Finding | None:
        """What this hop established: one answer, a split, or nothing."""
        before = previous.citations if previous else []
        if self.kind in ("collect", "overview", "count"):
            return self._collection(previous)
        if not self.clusters:
            return None
        if len(self.clusters) > 1:
            answers = "; ".join(f"{c.answer!r}" for c in self.clusters)
            cited = [r.evidence for c in self.clusters for r in c.reports[:1] if r.evidence]
            return Finding(
                f"The document gives conflicting answers: {answers}.",
                distinct([*before, *cited]),
                True,
            )
        winner = self.clusters[0]
        own = distinct(r.evidence for r in winner.reports if r.evidence)[:3]
        # A re-reading that grounds the earlier hop's sentence again cites it once.
        return Finding(winner.answer, distinct([*before, *own]))

    def _collection(self, previous: Finding | None) -> Finding | None:
        """Every value grounded so far (an earlier collection's, then this hop's new ones),
        each with its first citation: a collection has no conflicts, only more values."""
        items = list(previous.items) if previous else []
        citations = list(previous.citations) if previous else []
        for group in self.clusters:
            evidence = next((r.evidence for r in group.reports if r.evidence), None)
            if group.answer not in items and evidence is not None:
                items.append(group.answer)
                citations.append(evidence)
        if not items:
            return None
        if self.kind == "overview":
            return Finding("\n".join(f"- {item}" for item in items), citations, items=items)
        # Items with a comma or semicolon of their own ("-f FILE, --file=FILE", find's
        # "-exec command ;") are set apart by semicolons.
        joiner = "; " if any("," in item or ";" in item for item in items) else ", "
        return Finding(joiner.join(items), citations, items=items)


@dataclass
class State:
    """Everything a leader may read. `rounds_left` is how many more rounds the runner will
    run; a leader need not check it (the runner answers when none is left)."""

    question: Question
    chunks: list[Chunk]
    plan: ReadPlan
    rounds: list[Round] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    rounds_left: int = 0

    @property
    def hop(self) -> Hop | None:
        return self.hops[-1] if self.hops else None

    @property
    def may_search(self) -> bool:
        """Whether the search may still read ranked passages for this hop: only the first
        hop searches, once, and only with a passage index and search waves."""
        hop = self.hop
        searchable = self.plan.index is not None and bool(self.plan.search_waves)
        return searchable and len(self.hops) == 1 and hop is not None and not hop.searched

    def findings(self) -> list[Finding]:
        """Each hop's finding that stood, in order; a later one carries the earlier's
        citations."""
        found: list[Finding] = []
        for hop in self.hops:
            finding = hop.finding(found[-1] if found else None)
            if finding is not None:
                found.append(finding)
        return found

    @property
    def finding(self) -> Finding | None:
        """The finding that stands now: the last hop's, or an earlier one."""
        found = self.findings()
        return found[-1] if found else None
