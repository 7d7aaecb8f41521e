"""A document split once for the members, reused by every question asked over it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from longagent.agents.ranking import PassageIndex
from longagent.chunking import Chunk, Document
from longagent.memory.embedder import Embedder


@dataclass
class PreparedDocument:
    document: Document
    chunks: list[Chunk]
    vectors: list[np.ndarray] | None = None  # chunk window embeddings, on first need
    passages: PassageIndex | None = None  # ranked passages, embedded on first search

    def passage_index(self, embedder: Embedder | None = None) -> PassageIndex:
        if self.passages is None:
            self.passages = PassageIndex(self.chunks, embedder)
        return self.passages
