"""A document split once for the members, reused by every question asked over it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from longagent.chunking import Chunk, Document


@dataclass
class PreparedDocument:
    document: Document
    chunks: list[Chunk]
    vectors: list[np.ndarray] | None = None  # chunk window embeddings, on first need
