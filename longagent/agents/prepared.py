"""A document split once for the members, reused by every question asked over it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from longagent.agents.ranking import PassageIndex
from longagent.agents.thoughts import ThoughtStore
from longagent.chunking import Chunk, Document
from longagent.memory.embedder import Embedder


@dataclass
class PreparedDocument:
    document: Document
    chunks: list[Chunk]
    vectors: list[np.ndarray] | None = None  # chunk window embeddings, on first need
    passages: PassageIndex | None = None  # ranked passages, embedded on first search
    # Where this document's thoughts are kept, when not the agent's own store (a library's
    # table: a library question's, or a file asked through the implicit library).
    thoughts: ThoughtStore | None = None

    def passage_index(self, embedder: Embedder | None = None) -> PassageIndex:
        if self.passages is None:
            self.passages = PassageIndex(self.chunks, embedder)
        return self.passages
