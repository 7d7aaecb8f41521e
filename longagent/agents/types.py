"""What `LongAgent.ask` returns and reports: the answer, its citations and its full trace."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, Field

from longagent.llm.usage import Usage

if TYPE_CHECKING:
    from longagent.chunking import Chunk

Verdict = Literal["grounded", "refused", "hallucinated", "unsupported", "invalid"]


class Citation(BaseModel):
    """A verbatim span of the document that supports the answer. An answer over a library
    also names the document (`document_id`, `path`, `title`; `chunk_index` is then the
    chunk's index in that document) and, for a PDF, the `page` the span starts on."""

    chunk_id: str
    chunk_index: int
    start: int = Field(description="Character offset into the document text.")
    end: int
    quote: str
    document_id: str = ""
    path: str = ""
    title: str = ""
    page: int | None = None

    @classmethod
    def of(cls, chunk: Chunk, index: int, start: int, end: int) -> Citation:
        """The span `start:end` of `chunk` (offsets into the chunk), read by member `index`."""
        return cls(
            chunk_id=chunk.id,
            chunk_index=index,
            start=chunk.start + start,
            end=chunk.start + end,
            quote=chunk.text[start:end],
        )


def distinct(citations: Iterable[Citation]) -> list[Citation]:
    """Each cited span once, in order: two readers quoting one sentence (one passage read in
    two prompt styles, or two overlapping passages) cite it once."""
    seen: dict[tuple[str, str, int, int], Citation] = {}
    for c in citations:
        seen.setdefault((c.document_id, c.chunk_id, c.start, c.end), c)
    return list(seen.values())


class MemberReport(BaseModel):
    """One member's reply in one round, and the leader's verdict on it."""

    member: int = Field(description="Index of the member's chunk.")
    chunk_id: str
    answer: str
    quote: str
    verdict: Verdict
    reason: str = ""
    evidence: Citation | None = None
    # No reader phrased it: the search's read sentence closest in meaning to the question
    # (`agents/extraction.py`).
    extracted: bool = False


class ConflictGraph(BaseModel):
    """Members as nodes (with their answer cluster), conflicts as edges."""

    nodes: list[dict[str, Any]] = Field(default_factory=list)
    edges: list[tuple[int, int]] = Field(default_factory=list)


RoundKind = Literal[
    "ask", "focus", "search", "collect", "overview", "count", "resolve", "follow_up", "recall"
]
EventKind = Literal["round_started", "member_reports", "conflict_resolved", "answered"]


class Round(BaseModel):
    index: int
    kind: RoundKind
    instruction: str
    members: list[int]
    skipped: list[int] = Field(
        default_factory=list,
        description="Chunks not read: they could not ground an answer, or reading stopped early.",
    )
    passages: list[tuple[int, int]] = Field(
        default_factory=list,
        description="A search round's passages, read in this order: document character spans.",
    )
    passage_chunks: list[int] = Field(
        default_factory=list,
        description="The chunk each of `passages` was read in (over a library, which document).",
    )
    reports: list[MemberReport] = Field(default_factory=list)
    conflict_graph: ConflictGraph | None = None
    seconds: float = Field(
        default=0.0, description="Wall-clock seconds the round took: its reading and judging."
    )
    recalled: list[str] = Field(
        default_factory=list,
        description="Questions answered before whose thoughts chose what this round read first.",
    )
    decision: str = ""


class PassageRead(NamedTuple):
    """A passage the search read: the chunk it was read in (a member index) and its
    character span in that chunk's document."""

    chunk: int
    start: int
    end: int


class Answer(BaseModel):
    question: str
    text: str
    found: bool = Field(description="False when the document does not support an answer.")
    citations: list[Citation] = Field(default_factory=list)
    trace: list[Round] = Field(default_factory=list)
    shape: str = Field(default="lookup", description="The question's shape (agents/shapes.py).")
    shape_reason: str = ""
    usage: Usage = Field(default_factory=Usage)
    document_id: str = ""
    chunks: int = 0
    remembered: bool = Field(
        default=False,
        description="Given again from an earlier ask of the same question: nothing was read.",
    )

    def passages_read(self, limit: int | None = 4) -> list[PassageRead]:
        """The first `limit` passages the search read (None: all), likeliest first, each
        once (4: the small profile's first wave). For a "not found" they show where the answer was
        looked for: the first wave holds the answer's passage for 19 of 30 natural dev
        lookups, though the 135M reader could not answer from it."""
        read = [
            PassageRead(chunk, start, end)
            for r in self.trace
            if r.kind == "search"
            # Answers saved before `passage_chunks` existed have none: they list nothing.
            for chunk, (start, end) in zip(r.passage_chunks, r.passages, strict=False)
        ]
        return list(dict.fromkeys(read))[:limit]


class Event(BaseModel):
    """Progress while a question runs: `round_started`, `member_reports`, `conflict_resolved`,
    `answered`."""

    kind: EventKind
    round: int
    message: str
    data: dict[str, Any] = Field(default_factory=dict)
