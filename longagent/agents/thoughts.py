"""The `ThoughtStore` seam: what members grounded, kept so later questions over the same
document read the chunks that answered before first.

`InMemoryThoughts` lives as long as the `LongAgent`; `LanceThoughts` keeps findings in
a LanceDB thoughts tier (`longagent.memory.thoughts.ThoughtMemory`): the chat agent's
store, or a library's own table (`longagent.memory.library_thoughts`), where each thought
also keeps its citation's document and span. There the findings of one question are its
subject: asked again, a near-duplicate answer merges into them and a different one
replaces them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from longagent import text as text_tools
from longagent.agents.types import Answer, MemberReport
from longagent.memory.filters import quote
from longagent.memory.records import Thought as StoredThought
from longagent.memory.thoughts import ThoughtMemory

if TYPE_CHECKING:
    from longagent.memory.library import Library

# A long session must not grow a document's memory without end; each thought costs one
# embedding and one comparison per question, and the newest reflect what is being asked.
MAX_THOUGHTS = 256
RECALL_LIMIT = 32  # thoughts a persistent store hands back per question


@dataclass
class Thought:
    """A member's grounded answer to an earlier question, and the chunk it came from."""

    chunk_id: str
    question: str
    text: str  # the finding as a statement: question, answer and verified quote
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # on first need
    # The citation: the document the chunk belongs to (set for a library's chunks) and the
    # span of the quote in it.
    document_id: str = field(default="", compare=False)
    start: int | None = field(default=None, compare=False)
    end: int | None = field(default=None, compare=False)
    model: str = field(default="", compare=False)  # the model whose member grounded it


@runtime_checkable
class ThoughtStore(Protocol):
    def remember(self, document_id: str, thoughts: Sequence[Thought]) -> None: ...

    def recall(self, document_id: str, question: str) -> list[Thought]: ...

    def asked(self, document_id: str, question: str) -> list[Thought]:
        """The thoughts that answered this very question (its normalised text), found
        without embedding it: a repeat is recognised before any model is loaded."""
        ...


def thoughts_of(answer: Answer) -> list[Thought]:
    """The grounded reports of an answered question, each once; when the answer cites,
    only the reports it cites (a grounded report that lost a conflict is no finding). Only
    reports with evidence count: a resolve round's report was judged against two chunks,
    so its member's index does not say which chunk holds the quote (and both were
    reported in the ask round). An extracted sentence (`agents/extraction.py`) is no
    reader's finding: kept, it would answer the question again without `extract`, and a
    wrong one would outlive the process that claimed it."""
    cited = {(c.chunk_id, c.start, c.end) for c in answer.citations}
    thoughts: list[Thought] = []
    for round_ in answer.trace:
        for report in round_.reports:
            evidence = report.evidence
            if report.verdict != "grounded" or evidence is None or report.extracted:
                continue
            if cited and (evidence.chunk_id, evidence.start, evidence.end) not in cited:
                continue
            thought = _thought(answer.question, report)
            if thought not in thoughts:
                thoughts.append(thought)
    return thoughts


def _thought(question: str, report: MemberReport) -> Thought:
    evidence = report.evidence
    assert evidence is not None
    # The evidence is the verified span of the chunk, not the member's loose quote.
    text = f"{question} {report.answer}. {evidence.quote}"  # read back by `answer_in`
    return Thought(
        evidence.chunk_id,
        question,
        text,
        document_id=evidence.document_id,
        start=evidence.start,
        end=evidence.end,
    )


def answer_in(thought: Thought, quote: str) -> str:
    """The answer a thought states, when it states it as `_thought` writes one ("question
    answer. quote") with this quote; "" otherwise."""
    head, tail = f"{thought.question} ", f". {quote}"
    if not (thought.text.startswith(head) and thought.text.endswith(tail)):
        return ""
    return thought.text[len(head) : len(thought.text) - len(tail)].strip()


def _subject(question: str) -> str:
    """The key the thoughts of one question are kept under: its normalised text."""
    return text_tools.normalize(question) or question


class InMemoryThoughts:
    """Per document, the newest MAX_THOUGHTS thoughts; one recalled again moves to the end
    and keeps its vector."""

    def __init__(self) -> None:
        self._by_document: dict[str, list[Thought]] = {}

    def remember(self, document_id: str, thoughts: Sequence[Thought]) -> None:
        old = self._by_document.get(document_id, [])
        fresh = [next((t for t in old if t == new), new) for new in thoughts]
        kept = [t for t in old if t not in fresh]
        self._by_document[document_id] = (kept + fresh)[-MAX_THOUGHTS:]

    def recall(self, document_id: str, question: str) -> list[Thought]:
        return list(self._by_document.get(document_id, []))

    def asked(self, document_id: str, question: str) -> list[Thought]:
        asked = text_tools.normalize(question)
        return [
            t
            for t in self.recall(document_id, question)
            if text_tools.normalize(t.question) == asked
        ]


class LanceThoughts:
    """Thoughts in LanceDB: `LanceThoughts(ThoughtMemory(MemoryStore(home).thoughts))`, or
    a library's (`library_thoughts(library, embedder)`), which keep each citation's span.
    The thoughts of one question are restated together (its normalised text is their
    subject). Recall is the tier's hybrid search within the document.

    Given the `library` the thoughts live in, it also keeps the questions that ended in
    "not found" (`refusal`, `keep_refusal`: `agents/refusals.py`)."""

    def __init__(self, memory: ThoughtMemory, library: Library | None = None) -> None:
        self.memory = memory
        self.library = library
        fields = memory.tier.spec.record.model_fields
        self._spans = all(name in fields for name in ("document_id", "start", "end"))
        self._models = "model" in fields

    def remember(self, document_id: str, thoughts: Sequence[Thought]) -> None:
        by_question: dict[str, list[Thought]] = {}
        for thought in thoughts:
            by_question.setdefault(thought.question, []).append(thought)
        for question, group in by_question.items():
            findings = []
            for thought in group:
                finding: dict[str, object] = {
                    "text": thought.text,
                    "chunk_id": thought.chunk_id,
                    "question": question,
                }
                if self._spans:
                    finding |= {
                        "document_id": thought.document_id or document_id,
                        "start": thought.start,
                        "end": thought.end,
                    }
                if self._models:
                    finding["model"] = thought.model or None
                findings.append(finding)
            self.memory.restate(_subject(question), document_id, findings)

    def recall(self, document_id: str, question: str) -> list[Thought]:
        if not self.memory.tier.count(document=document_id):
            return []  # nothing to recall: no need to embed the question
        hits = self.memory.search(question, limit=RECALL_LIMIT, document=document_id)
        return [_from_record(h.record) for h in hits if h.record.chunk_id is not None]

    def asked(self, document_id: str, question: str) -> list[Thought]:
        where = f"subject = {quote(_subject(question))}"
        records = self.memory.tier.scan(limit=RECALL_LIMIT, document=document_id, where=where)
        return [_from_record(r) for r in records if r.chunk_id is not None]

    def digest(self, document_id: str) -> str:
        """Names what is remembered about a document now: changes when a thought is
        added, merged or replaced (a refusal is kept only for the thoughts it was read
        with, since they decide what is read first)."""
        records = self.memory.tier.scan(limit=10 * MAX_THOUGHTS, document=document_id)
        digest = hashlib.sha256()
        for said in sorted(f"{r.chunk_id}\0{r.text}" for r in records):
            digest.update(said.encode() + b"\1")
        return digest.hexdigest()

    def refusal(self, key: str) -> tuple[str, float] | None:
        """The refusal kept under `key` (its answer as JSON, and when), or None."""
        from longagent.memory import library_refusals

        return None if self.library is None else library_refusals.stored(self.library, key)

    def keep_refusal(self, key: str, document_id: str, question: str, answer: str) -> None:
        from longagent.memory import library_refusals

        if self.library is not None:
            library_refusals.store(self.library, key, document_id, question, answer)


def _from_record(record: StoredThought) -> Thought:
    return Thought(
        record.chunk_id or "",
        record.question or "",
        record.text,
        document_id=getattr(record, "document_id", None) or "",
        start=getattr(record, "start", None),
        end=getattr(record, "end", None),
        model=getattr(record, "model", None) or "",
    )
