"""Ranking latency of a document library at 1K to 1M chunks, for `longagent bench library`.

Embedding a million chunks on a laptop's CPU takes days, and the latency of a search
(BM25 over the full-text index, a vector search, the fusion) does not depend on where the
vectors came from. So these libraries are filled with SYNTHETIC rows: generated text
(sentences of words drawn from a Zipf-distributed vocabulary, so posting lists are as
skewed as in prose) and random unit vectors, `passages` per chunk, written through the
library's own write path (`library_writes.store`: chunk batches, then each document's
ready row) and folded into the full-text index by `Library.optimize`. The queries are
real: embedded by MiniLM, searched by `Library.search`. One library grows through the
sizes asked for; at each, searches are timed flat and, from `index_min` chunks on, again
after building the IVF_PQ vector index.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from longagent.chunking import Chunk, Document
from longagent.memory import library_writes
from longagent.memory.library import Library

CHUNKS_PER_DOCUMENT = 500
_SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "in", "qua", "bre", "zo", "nim"]


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    """`size` distinct made-up words of two to four syllables."""
    words: dict[str, None] = {}
    while len(words) < size:
        count = int(rng.integers(2, 5))
        words["".join(_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), count))] = None
    return list(words)


class SyntheticText:
    """Chunks of about `chars` characters: sentences drawn from a pool of sentences whose
    words follow a Zipf law (rank r drawn with probability ~ 1/r)."""

    def __init__(self, seed: int = 0, words: int = 30_000, pool: int = 20_000) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = vocabulary(words, self.rng)
        weights = 1.0 / np.arange(1, words + 1)
        self.p = weights / weights.sum()
        lengths = self.rng.integers(8, 25, pool)
        picks = self.rng.choice(words, size=int(lengths.sum()), p=self.p)
        self.sentences, at = [], 0
        for n in lengths:
            self.sentences.append(" ".join(self.words[i] for i in picks[at : at + n]).capitalize())
            at += n
        self.sentences = [s + "." for s in self.sentences]

    def chunks(self, count: int, chars: int) -> list[str]:
        """`count` chunks of about `chars` characters each (drawn in one go: a million
        chunks one sentence at a time take too long)."""
        mean = sum(map(len, self.sentences)) / len(self.sentences) + 1
        per = max(1, round(chars / mean))
        picks = self.rng.integers(0, len(self.sentences), (count, per))
        return [" ".join(self.sentences[i] for i in row) for row in picks]

    def query(self) -> str:
        """Three words of middling frequency (ranks 50 to 5,000), as a user might type."""
        return " ".join(self.words[int(i)] for i in self.rng.integers(50, 5_000, 3))


def _unit(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((rows, dim), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def fill(
    library: Library, text: SyntheticText, start: int, stop: int, passages: int, chars: int
) -> None:
    """Write synthetic chunks start..stop (document by document, CHUNKS_PER_DOCUMENT each)
    through the library's write path, with `passages` random unit vectors per chunk."""
    for first in range(start, stop, CHUNKS_PER_DOCUMENT):
        count = min(CHUNKS_PER_DOCUMENT, stop - first)
        pieces = text.chunks(count, chars)
        body = "\n\n".join(pieces)
        document = Document.create(body, source=f"synthetic {first}")
        chunks, at = [], 0
        for i, piece in enumerate(pieces):
            chunks.append(
                Chunk(
                    id=Chunk.make_id(document.id, at, at + len(piece)),
                    document_id=document.id,
                    index=i,
                    start=at,
                    end=at + len(piece),
                    text=piece,
                    token_count=len(piece) // 4,
                )
            )
            at += len(piece) + 2
        vectors = None
        if library.dim:
            flat = _unit(text.rng, count * passages, library.dim)
            vectors = list(flat.reshape(count, passages, library.dim))
        path = Path(f"/synthetic/doc{first:08d}.txt")
        library_writes.store(library, document, path, len(body.encode()), chunks, vectors=vectors)


def _time_searches(library: Library, queries: Sequence[str], vectors: bool) -> list[float]:
    library.search(queries[0], k=10, vectors=vectors)  # warm the caches once
    out = []
    for query in queries:
        started = time.perf_counter()
        library.search(query, k=10, vectors=vectors)
        out.append((time.perf_counter() - started) * 1000)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ranking_rows(
    root: Path,
    sizes: Sequence[int],
    *,
    embedder: Any,
    queries: int,
    passages: int,
    chars: int,
    index_min: int,
    status: Callable[[str], Any],
    on_row: Callable[[dict[str, Any]], None] = lambda row: None,
) -> list[dict[str, Any]]:
    """Grow one synthetic library through `sizes` (chunks) and time searches at each."""
    library = Library(root, "synthetic", embedder=embedder, write_batch=10_000)
    text = SyntheticText()
    asked = [text.query() for _ in range(queries)]
    rows: list[dict[str, Any]] = []
    have = 0
    for size in sorted(sizes):
        with status(f"writing synthetic chunks {have:,} to {size:,}"):
            started = time.perf_counter()
            fill(library, text, have, size, passages, chars)
            write_s = time.perf_counter() - started
            started = time.perf_counter()
            library.optimize()
            optimize_s = time.perf_counter() - started
        have = size
        modes = [("BM25 only", False, False), ("hybrid, flat vectors", True, False)]
        if size >= index_min:
            modes.append(("hybrid, IVF_PQ index", True, True))
        for label, vectors, indexed in modes:
            index_s = None
            if indexed:
                with status(f"building the vector index over {size:,} chunks"):
                    started = time.perf_counter()
                    library.create_vector_index()
                    index_s = time.perf_counter() - started
            with status(f"searching {size:,} chunks ({label})"):
                latencies = _time_searches(library, asked, vectors)
            rows.append(
                {
                    "chunks": size,
                    "vectors_per_chunk": passages,
                    "search": label,
                    "p50_ms": statistics.median(latencies),
                    "p95_ms": percentile(latencies, 0.95),
                    "write_s": write_s,
                    "optimize_s": optimize_s,
                    "index_s": index_s,
                    "synthetic": True,
                }
            )
            on_row(rows[-1])  # a long run's rows show as they come
        if size >= index_min:
            library.drop_vector_index()  # the next size is timed flat first
    return rows
