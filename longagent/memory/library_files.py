"""What `longagent ask FILE` keeps between processes, in an implicit library: a file's split
exactly as the single-document pipeline made it (no vectors are computed for it), and the
passage vectors its search computed, when one ran.

The implicit library of a tokenizer and chunk size is `$LONGAGENT_HOME/libraries/files-KEY`
(KEY: a hash of both, since both decide the split). Its documents are keyed by the
document's own id (a hash of its text), so the stored chunks, their ids and every
citation are the ones a fresh split gives. The chunks are written the way `Library.add`
writes them (chunks first, the ready row last, under the document's lock), so a kill
leaves nothing half-visible; passage vectors are one row per document, written in one
commit.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from longagent.chunking import Chunk, Document
from longagent.config import Settings
from longagent.memory import library_refusals, library_upkeep, library_writes
from longagent.memory.filters import in_list, quote
from longagent.memory.library import Library
from longagent.memory.library_search import document_chunks

log = logging.getLogger(__name__)
PASSAGES_TABLE = "passage_vectors"
_PASSAGES_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),  # document, embedder and passages
        pa.field("document_id", pa.string(), nullable=False),
        pa.field("embedder", pa.string(), nullable=False),
        pa.field("fingerprint", pa.string(), nullable=False),  # of the passages' spans
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("dim", pa.int32(), nullable=False),
        pa.field("vectors", pa.large_binary(), nullable=False),  # float32, row-major
    ]
)


def implicit_library(
    home: Path, tokenizer: str, chunk_tokens: int, settings: Settings | None = None
) -> Library:
    """The implicit library for files split by `tokenizer` (a model's name) into chunks of
    `chunk_tokens`; made on first use, without vectors."""
    key = hashlib.sha256(f"{tokenizer}\0{chunk_tokens}".encode()).hexdigest()[:12]
    return Library(home, f"files-{key}", chunk_tokens=chunk_tokens, settings=settings)


def stored_split(library: Library, document_id: str) -> list[Chunk] | None:
    """The chunks stored for a ready document, in order, or None when it is not stored."""
    ready = library._document_rows(f"id = {quote(document_id)}")
    if not ready:
        return None
    rows = document_chunks(library, document_id)
    if len(rows) != ready[0]["chunk_count"]:
        return None  # cannot happen after a ready row; never answer from a partial split
    return [
        Chunk(**{**r, "heading_path": tuple(r["heading_path"]), "pages": tuple(r["pages"])})
        for r in rows
    ]


def store_split(library: Library, document: Document, path: str, chunks: list[Chunk]) -> None:
    """Keep `document`'s chunks; an earlier version of the same file (same path, other
    text) is replaced, with its chunks, passage vectors, thoughts and refusals."""
    resolved = str(Path(path).resolve())
    with library._lock(f"doc-{document.id}"):
        if library._document_rows(f"id = {quote(document.id)}"):
            return  # another process stored it meanwhile
        old = [r["id"] for r in library._document_rows(f"path = {quote(resolved)}")]
        library_upkeep.delete_chunks(library, [document.id])  # left by a killed write
        size = len(document.text.encode())
        library_writes.store(library, document, Path(path), size, chunks, old_ids=old)
    if old:
        library_upkeep.delete_chunks(library, old)
        library_upkeep.forget_thoughts(library, old)
        where = in_list("document_id", old)
        library_upkeep.delete_rows(library, PASSAGES_TABLE, where, "deleting passage vectors")
        library_refusals.forget(library, old)


def fingerprint(spans: list[tuple[str, int, int]]) -> str:
    """Names a list of passages (chunk id, start, end): stored vectors are used only for
    the very passages they were computed for."""
    digest = hashlib.sha256()
    for chunk_id, start, end in spans:
        digest.update(f"{chunk_id}:{start}:{end};".encode())
    return digest.hexdigest()


def _key(document_id: str, embedder: str, print_: str) -> str:
    return hashlib.sha256(f"{document_id}\0{embedder}\0{print_}".encode()).hexdigest()


def stored_vectors(
    library: Library, document_id: str, embedder: str, print_: str
) -> np.ndarray | None:
    """The passage vectors stored for these passages and this embedder, or None."""
    key = _key(document_id, embedder, print_)
    row = library_upkeep.keyed_row(library, PASSAGES_TABLE, key, "reading passage vectors")
    if row is None:
        return None
    vectors = np.frombuffer(row["vectors"], dtype=np.float32)
    if vectors.size != row["rows"] * row["dim"]:
        return None
    return vectors.reshape(row["rows"], row["dim"])


def store_vectors(
    library: Library, document_id: str, embedder: str, print_: str, vectors: np.ndarray
) -> None:
    """Keep a document's passage vectors (one row, one commit; written again, it
    replaces itself)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    row: dict[str, Any] = {
        "key": _key(document_id, embedder, print_),
        "document_id": document_id,
        "embedder": embedder,
        "fingerprint": print_,
        "rows": int(vectors.shape[0]),
        "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        "vectors": vectors.tobytes(),
    }
    data = pa.Table.from_pylist([row], schema=_PASSAGES_SCHEMA)
    library_upkeep.upsert(
        library, PASSAGES_TABLE, _PASSAGES_SCHEMA, data, "writing passage vectors"
    )
