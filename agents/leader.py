"""LongAgent: a leader splits a document among members, checks their evidence, resolves
conflicts through a communication graph, and follows findings hop by hop.

This module decides who reads (`reading`) and prepares documents; `rounds` runs one
question's rounds (ask, focus, resolve, follow up, answer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from longagent.agents import evidence, member, relevance
from longagent.agents.rounds import EventHandler, QuestionRun
from longagent.agents.types import Answer
from longagent.chunking import Chunk, Document, chunk_budget, load, split
from longagent.errors import LongAgentError
from longagent.llm import ChatModel
from longagent.llm.usage import MeteredModel
from longagent.memory.embedder import Embedder, MiniLMEmbedder

DEFAULT_CHUNK_TOKENS = 512  # measured: the 135M model finds facts better in small chunks
Reading = Literal["sweep", "relevance", "all"]


@dataclass
class PreparedDocument:
    """A document split once for the members; reused by `ask_many`. It remembers what
    members grounded in each question asked over it (`thoughts`, newest last), which
    relevance-first reading recalls to rank chunks for later questions."""

    document: Document
    chunks: list[Chunk]
    vectors: list[np.ndarray] | None = None  # chunk window embeddings, on first need
    thoughts: list[relevance.Thought] = field(default_factory=list)


class LongAgent:
    """`LongAgent(model).ask(doc, question)`. `doc` is a string of text, a path, or a
    `Document`. `chunk_tokens` overrides the member chunk size (it may exceed the native
    window when the model was extended); `max_rounds` bounds the rounds of one question.

    Which members read (`reading`):
    - "sweep" (default): at once, every member whose chunk could ground an answer. A chunk
      that lacks the question's names and numbers can never pass the evidence check, so
      skipping it changes no answer, only the cost.
    - "relevance": those members ranked by the question (rare words, `embedder` similarity,
      and the thoughts members grounded in earlier questions over the same
      `PreparedDocument`), `wave` at a time, stopping after the first wave with grounded
      evidence.
    - "all": every member, as in the paper."""

    def __init__(
        self,
        model: ChatModel,
        *,
        chunk_tokens: int | None = None,
        max_rounds: int = 4,
        reading: Reading = "sweep",
        wave: int = 8,
        embedder: Embedder | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        if reading not in ("sweep", "relevance", "all"):
            raise LongAgentError(f"Unknown reading {reading!r}; use 'sweep', 'relevance' or 'all'.")
        if wave < 1:
            raise LongAgentError("wave must be at least 1 member.")
        self.reading: Reading = reading
        self.wave = wave
        self.embedder = embedder
        self.model = model
        room = member.REPLY_TOKENS + 200  # instructions and question around the chunk
        self.chunk_tokens = chunk_tokens or min(
            DEFAULT_CHUNK_TOKENS, chunk_budget(model, answer_tokens=room)
        )
        self.max_rounds = max_rounds
        self.on_event = on_event

    def prepare(self, doc: str | Path | Document) -> PreparedDocument:
        document = doc if isinstance(doc, Document) else load(doc)
        return PreparedDocument(
            document, split(document, self.model.count_tokens, self.chunk_tokens)
        )

    def ask(
        self,
        doc: str | Path | Document | PreparedDocument,
        question: str,
        on_event: EventHandler | None = None,
    ) -> Answer:
        if not question.strip():
            raise LongAgentError("The question is empty.")
        prepared = doc if isinstance(doc, PreparedDocument) else self.prepare(doc)
        run = QuestionRun(
            MeteredModel(self.model),
            prepared,
            question.strip(),
            on_event or self.on_event,
            self.max_rounds,
        )
        answer = run.execute(*self.readers(prepared, question))
        prepared.thoughts = relevance.add_thoughts(prepared.thoughts, answer)
        return answer

    def readers(self, prepared: PreparedDocument, question: str) -> tuple[list[int], int]:
        """The members to ask, in order, and how many at a time (0: all at once)."""
        everyone = range(len(prepared.chunks))
        if self.reading == "all":
            return list(everyone), 0
        readers = [i for i in everyone if evidence.could_ground(prepared.chunks[i].text, question)]
        if self.reading == "sweep" or len(readers) <= self.wave:
            return readers, 0
        candidates = set(readers)
        return [i for i in self.reading_order(prepared, question) if i in candidates], self.wave

    def reading_order(self, prepared: PreparedDocument, question: str) -> list[int]:
        """Chunk indices, likeliest to answer `question` first."""
        if self.embedder is None:
            self.embedder = MiniLMEmbedder()
        if prepared.vectors is None:
            prepared.vectors = relevance.chunk_vectors(prepared.chunks, self.embedder)
        return relevance.rank(
            relevance.lexical_scores(question, prepared.chunks),
            relevance.embedding_scores(question, prepared.vectors, self.embedder),
            relevance.thought_scores(
                question, prepared.thoughts, len(prepared.chunks), self.embedder
            ),
        )

    def ask_many(self, doc: str | Path | Document, questions: Iterable[str]) -> list[Answer]:
        """Several questions over one document, split and prepared once."""
        prepared = self.prepare(doc)
        return [self.ask(prepared, q) for q in questions]
