"""The `ThoughtStore` seam: what members grounded, kept so later questions over the same
document read the chunks that answered before first.

`InMemoryThoughts` lives as long as the `LongAgent`; `LanceThoughts` keeps findings in
the LanceDB thoughts tier (`longagent.memory.thoughts.ThoughtMemory`, merged when
near-duplicate), so they outlive the process and are shared with the chat agent's store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from longagent.agents.types import Answer
from longagent.memory.thoughts import ThoughtMemory

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


@runtime_checkable
class ThoughtStore(Protocol):
    def remember(self, document_id: str, thoughts: Sequence[Thought]) -> None: ...

    def recall(self, document_id: str, question: str) -> list[Thought]: ...


def thoughts_of(answer: Answer) -> list[Thought]:
    """The grounded reports of an answered question, each once. Only reports with evidence
    count: a resolve round's report was judged against two chunks, so its member's index
    does not say which chunk holds the quote (and both were reported in the ask round)."""
    thoughts: list[Thought] = []
    for round_ in answer.trace:
        for report in round_.reports:
            if report.verdict != "grounded" or report.evidence is None:
                continue
            # The evidence is the verified span of the chunk, not the member's loose quote.
            text = f"{answer.question} {report.answer}. {report.evidence.quote}"
            thought = Thought(report.evidence.chunk_id, answer.question, text)
            if thought not in thoughts:
                thoughts.append(thought)
    return thoughts


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


class LanceThoughts:
    """Thoughts in LanceDB: `LanceThoughts(ThoughtMemory(MemoryStore(home).thoughts))`.
    Recall is the tier's hybrid search within the document."""

    def __init__(self, memory: ThoughtMemory) -> None:
        self.memory = memory

    def remember(self, document_id: str, thoughts: Sequence[Thought]) -> None:
        for thought in thoughts:
            self.memory.insert(
                thought.text,
                doc_id=document_id,
                chunk_id=thought.chunk_id,
                question=thought.question,
                vector=thought.vector,
            )

    def recall(self, document_id: str, question: str) -> list[Thought]:
        hits = self.memory.search(question, limit=RECALL_LIMIT, document=document_id)
        return [
            Thought(h.record.chunk_id, h.record.question or "", h.record.text)
            for h in hits
            if h.record.chunk_id is not None
        ]
