"""Which chunks likely answer a question: lexical and embedding ranks, fused.

Relevance-first reading asks the likeliest members first and stops once grounded evidence
stands. Two rankings are fused by reciprocal rank (as in hybrid search), because each
fails differently: rare question words (names, numbers) pin the chunk that holds a fact,
while embeddings find chunks that paraphrase the question.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from longagent.agents import evidence
from longagent.chunking import Chunk
from longagent.memory.embedder import Embedder

RRF_K = 60  # the usual reciprocal-rank-fusion constant
WINDOW_WORDS = 150  # MiniLM reads 256 word pieces; longer chunks are embedded in windows


def lexical_scores(question: str, chunks: Sequence[Chunk]) -> list[float]:
    """IDF-weighted count of the question's content words that each chunk contains."""
    asked = evidence.content_words(question)
    held = [set(evidence.words(c.text)) & asked for c in chunks]
    frequency = Counter(word for words in held for word in words)
    idf = {w: math.log((1 + len(chunks)) / (1 + frequency[w])) + 1 for w in asked}
    return [sum(idf[w] for w in words) for words in held]


def windows(text: str) -> list[str]:
    tokens = text.split()
    step = WINDOW_WORDS // 2  # overlapping, so no sentence is only ever cut in half
    return [" ".join(tokens[i : i + WINDOW_WORDS]) for i in range(0, max(1, len(tokens)), step)]


def chunk_vectors(chunks: Sequence[Chunk], embedder: Embedder) -> list[np.ndarray]:
    """Per chunk, the vectors of its windows (embedded in one call)."""
    spans = [windows(c.text) for c in chunks]
    vectors = embedder.embed([w for s in spans for w in s])
    out, start = [], 0
    for s in spans:
        out.append(vectors[start : start + len(s)])
        start += len(s)
    return out


def embedding_scores(
    question: str, vectors: Sequence[np.ndarray], embedder: Embedder
) -> list[float]:
    """Each chunk's best window's cosine similarity to the question."""
    query = embedder.embed([question])[0]
    return [float((v @ query).max()) if len(v) else 0.0 for v in vectors]


def rank(*scores: Sequence[float]) -> list[int]:
    """Chunk indices, best first, by reciprocal-rank fusion of the score lists."""
    fused = [0.0] * len(scores[0])
    for score in scores:
        order = sorted(range(len(score)), key=lambda i: -score[i])
        for position, index in enumerate(order):
            fused[index] += 1.0 / (RRF_K + position + 1)
    return sorted(range(len(fused)), key=lambda i: (-fused[i], i))
