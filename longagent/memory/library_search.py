"""`Library.search`: BM25 over LanceDB's native full-text index and a vector search over
the chunks' passage vectors (a chunk scores its best passage), fused by reciprocal rank."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from lancedb.query import LanceVectorQueryBuilder

from longagent.memory.filters import quote
from longagent.memory.library_types import CHUNK_COLUMNS, ChunkHit
from longagent.text import rrf, rrf_scores

if TYPE_CHECKING:
    from longagent.memory.library import Library

# With an IVF_PQ index (`Library.create_vector_index`): probe this many partitions and
# re-rank REFINE * depth rows by their exact distance (PQ distances alone misorder close
# passages). Without an index both are ignored and the search is exact.
VECTOR_PROBES, VECTOR_REFINE = 20, 5


def search(library: Library, query: str, k: int, *, vectors: bool) -> list[ChunkHit]:
    """The `k` best chunks of ready documents for `query`: BM25 over LanceDB's native
    full-text index and cosine similarity of each chunk's best passage, fused by rank
    (BM25 alone in a library without vectors, or with `vectors` False)."""
    if not query.strip():
        raise ValueError("search needs a non-empty query")
    if k < 1:
        return []
    documents = {r["id"]: r for r in library._document_rows()}
    # Each ranking looks deep enough to fill k after dropping chunks of documents that
    # are not ready (rare: only while an add runs or after one was killed).
    depth = max(k, 30) + library._stray_chunks(list(documents.values()))
    legs = [("bm25", _ranking_fts(library, query, depth))]
    if vectors and library.embedder is not None and library.dim:
        legs.append(("similarity", _ranking_vector(library, query, depth)))
    rows: dict[str, dict[str, Any]] = {}
    ranked: dict[str, dict[str, float]] = {}  # leg -> chunk id -> score, best first
    for leg, found in legs:
        ranked[leg] = {}
        for row, score in found:
            if row["document_id"] in documents:
                rows.setdefault(row["id"], row)
                ranked[leg][row["id"]] = score
    ids = list(rows)
    # Each leg's places (best highest) are fused, not its scores: cosine similarity may
    # be negative, and rrf ignores scores <= 0.
    places = [{cid: len(leg) - n for n, cid in enumerate(leg)} for leg in ranked.values()]
    fused = rrf_scores(*([float(p.get(cid, 0)) for cid in ids] for p in places))
    hits = []
    for index in rrf(fused)[:k]:
        cid = ids[index]
        row, doc = rows[cid], documents[rows[cid]["document_id"]]
        hits.append(
            ChunkHit(
                **{c: row[c] for c in CHUNK_COLUMNS if c != "id"},
                path=doc["path"],
                title=doc["title"],
                score=fused[index],
                bm25=ranked["bm25"].get(cid),
                similarity=ranked.get("similarity", {}).get(cid),
            )
        )
    return hits


def _ranking_fts(library: Library, query: str, depth: int) -> list[tuple[dict[str, Any], float]]:
    builder = library.chunks_table.search(query, query_type="fts", fts_columns="text")
    arrow = library._guarded(
        "searching", builder.select([*CHUNK_COLUMNS, "_score"]).limit(depth).to_arrow
    )
    return [(row, float(row["_score"])) for row in arrow.to_pylist()]


def _ranking_vector(library: Library, query: str, depth: int) -> list[tuple[dict[str, Any], float]]:
    assert library.embedder is not None
    vector = np.asarray(library.embedder.embed([query])[0], dtype=np.float32)
    search = library.chunks_table.search(vector, query_type="vector")
    builder = cast(LanceVectorQueryBuilder, search).distance_type("cosine")
    builder = builder.nprobes(VECTOR_PROBES).refine_factor(VECTOR_REFINE)
    arrow = library._guarded(
        "searching", builder.select([*CHUNK_COLUMNS, "_distance"]).limit(depth).to_arrow
    )
    return [(row, 1.0 - float(row["_distance"])) for row in arrow.to_pylist()]


def document_chunks(library: Library, document_id: str) -> list[dict[str, Any]]:
    """Every stored chunk row of one document (its `CHUNK_COLUMNS`), in document order:
    what a question kept to that document reads, and what a stored split is rebuilt from."""
    query = (
        library.chunks_table.search()
        .where(f"document_id = {quote(document_id)}")
        .select(CHUNK_COLUMNS)
        .limit(None)
    )
    rows = library._guarded("reading chunks", query.to_arrow).to_pylist()
    return sorted(rows, key=lambda r: r["index"])
