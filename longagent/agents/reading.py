"""`Reading` policies: which members read first, and how many at a time.

- `Sweep` (default): at once, every member whose chunk could ground an answer. The
  verifier says which chunks can never pass its check, so skipping them changes no
  answer, only the cost.
- `Relevance`: those members ranked by the question (rare words, embedding similarity,
  and the thoughts grounded in earlier questions over the same document), `wave` at a
  time, stopping after the first wave with grounded evidence.
- `All`: every member, as in the paper.

Policies register by name (`READINGS`), so the CLI and settings pick one as a string.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from longagent import text
from longagent.agents import relevance
from longagent.agents.prepared import PreparedDocument
from longagent.agents.question import Question
from longagent.agents.ranking import PassageIndex
from longagent.agents.thoughts import ThoughtStore
from longagent.agents.verifier import Verifier
from longagent.errors import ConfigError
from longagent.memory.embedder import Embedder, MiniLMEmbedder


@dataclass(frozen=True)
class ReadPlan:
    """The members to ask, in order, and how many at a time (0: all at once); `index`, when
    set, holds the document's ranked passages for a search when the readers ground nothing."""

    readers: list[int]
    wave: int = 0
    index: PassageIndex | None = None
    search_waves: tuple[int, ...] = ()  # passages per search wave; () never searches
    # Whether a search that grounds nothing may answer with its best sentence (the
    # profile's bar, `agents/extraction.py`); not for passages read only because a thought
    # recalled them: the planned reading follows those.
    extract: bool = True
    collect_waves: tuple[int, ...] = ()  # passages per wave of a collection (needs `index`)
    overview_members: int = 8  # chunks an overview summarises
    # Whether the question's words chose the readers; not when every chunk is read (`All`).
    by_words: bool = True


@runtime_checkable
class Reading(Protocol):
    def plan(
        self,
        prepared: PreparedDocument,
        question: Question,
        verifier: Verifier,
        thoughts: ThoughtStore,
    ) -> ReadPlan: ...


class All:
    def plan(
        self,
        prepared: PreparedDocument,
        question: Question,
        verifier: Verifier,
        thoughts: ThoughtStore,
    ) -> ReadPlan:
        return ReadPlan(list(range(len(prepared.chunks))), by_words=False)


class Sweep:
    def plan(
        self,
        prepared: PreparedDocument,
        question: Question,
        verifier: Verifier,
        thoughts: ThoughtStore,
    ) -> ReadPlan:
        return ReadPlan(_candidates(prepared, question, verifier))


class Relevance:
    """`wave` members at a time, likeliest first; `embedder` defaults to MiniLM."""

    def __init__(self, wave: int = 8, embedder: Embedder | None = None) -> None:
        if wave < 1:
            raise ConfigError("wave must be at least 1 member.")
        self.wave = wave
        self.embedder = embedder

    def plan(
        self,
        prepared: PreparedDocument,
        question: Question,
        verifier: Verifier,
        thoughts: ThoughtStore,
    ) -> ReadPlan:
        readers = _candidates(prepared, question, verifier)
        if len(readers) <= self.wave:
            return ReadPlan(readers)
        candidates = set(readers)
        order = self.order(prepared, question, thoughts)
        return ReadPlan([i for i in order if i in candidates], self.wave)

    def order(
        self, prepared: PreparedDocument, question: Question, thoughts: ThoughtStore
    ) -> list[int]:
        """Chunk indices, likeliest to answer `question` first."""
        if self.embedder is None:
            self.embedder = MiniLMEmbedder()
        if prepared.vectors is None:
            prepared.vectors = relevance.chunk_vectors(prepared.chunks, self.embedder)
        recalled = thoughts.recall(prepared.document.id, question.text)
        return text.rrf(
            relevance.lexical_scores(question, prepared.chunks),
            relevance.embedding_scores(question, prepared.vectors, self.embedder),
            relevance.thought_scores(question, recalled, prepared.chunks, self.embedder),
        )


def _candidates(prepared: PreparedDocument, question: Question, verifier: Verifier) -> list[int]:
    """The members whose chunk could ground an answer; none when the question's names are
    the document's subject (`Question.document_subject`): they pin no chunk, so the leader
    reads the likeliest passages instead."""
    if question.document_subject:
        return []
    return [c.index for c in prepared.chunks if verifier.could_ground(c.text, question)]


READINGS: dict[str, Callable[[], Reading]] = {"sweep": Sweep, "relevance": Relevance, "all": All}


def get_reading(reading: str | Reading) -> Reading:
    if not isinstance(reading, str):
        return reading
    if reading not in READINGS:
        raise ConfigError(f"Unknown reading {reading!r}; choose from {sorted(READINGS)}.")
    return READINGS[reading]()
