"""Adding files to a `Library`: reading, splitting and embedding them, then writing each
document's chunks before its ready row (the order that keeps an add safe, see
`library.py`). Deleting and tidying are in `library_upkeep.py`."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from longagent.chunking import Chunk, Document, load, split
from longagent.errors import ConfigError, DocumentError
from longagent.memory.errors import StoreError
from longagent.memory.filters import in_list, quote
from longagent.memory.library_types import (
    READY,
    AddProgress,
    AddReport,
    FileResult,
    Outcome,
    chunks_schema,
    collect,
    documents_schema,
    passages,
    read_file,
    vectors_type,
)
from longagent.memory.library_upkeep import (
    CHUNKS,
    DOCUMENTS,
    clean_stray,
    compact_documents,
    delete_chunks,
    forget_thoughts,
    optimize,
    try_lock,
)
from longagent.memory.records import utcnow

if TYPE_CHECKING:
    from longagent.memory.library import Library

log = logging.getLogger(__name__)

COMPACT_DOCUMENTS_EVERY = 100  # files added between compactions of the documents table
ProgressCallback = Callable[[AddProgress], None]


def _title(document: Document, path: Path) -> str:
    title = document.metadata.get("title") or next(
        (h.title for h in document.headings if h.level == 1), None
    )
    return " ".join(str(title or path.stem).split())[:300]


class _Progress:
    def __init__(self, files: Sequence[Path], callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.files_total = len(files)
        self.bytes_total = sum(_size(p) for p in files)
        self.files_done = self.bytes_done = self.chunks_done = 0

    def emit(self, path: Path, stage: Literal["chunks", "file"]) -> None:
        if self.callback is not None:
            self.callback(
                AddProgress(
                    files_done=self.files_done,
                    files_total=self.files_total,
                    bytes_done=self.bytes_done,
                    bytes_total=self.bytes_total,
                    chunks_done=self.chunks_done,
                    path=str(path),
                    stage=stage,
                )
            )


class _ChunkCount:
    """The chunks table's row count when every chunk belongs to a ready document. While the
    table holds exactly that many rows, no add was killed halfway, so a document cannot
    have stray chunks and the delete that removes them (a scan of the whole table, which
    made adds slower as a library grew) is skipped. Any other writer makes the counts
    differ, and the delete runs as before."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.rows: int | None = None

    def strays_possible(self) -> bool:
        total = int(self.library._guarded("counting chunks", self.library.chunks_table.count_rows))
        if self.rows is None:
            self.rows = sum(r["chunk_count"] for r in self.library._document_rows())
        if total == self.rows:
            return False
        self.rows = None  # someone else writes, or an add was killed: count afresh next time
        return True

    def wrote(self, chunks: int) -> None:
        if self.rows is not None:
            self.rows += chunks


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def add(
    library: Library, inputs: Sequence[str | os.PathLike[str]], on_progress: ProgressCallback | None
) -> AddReport:
    started = time.perf_counter()
    if library.count_tokens is None:
        raise ConfigError("Library.add needs count_tokens (the model's token counter)")
    if library.dim and library.embedder is None:
        raise StoreError(
            f"the library {library.name!r} stores vectors from {library.meta.get('embedder')}: "
            "pass that embedder to add documents to it"
        )
    files, skipped = collect(inputs)
    report = AddReport(files=list(skipped))
    report.cleaned_chunks = clean_stray(library)
    progress = _Progress(files, on_progress)
    counted = _ChunkCount(library)
    for done, path in enumerate(files, 1):
        result = _add_file(library, path, progress, counted)
        if done % COMPACT_DOCUMENTS_EVERY == 0:
            compact_documents(library)
        report.files.append(result)
        progress.files_done += 1
        progress.bytes_done += _size(path)
        progress.emit(path, "file")
    if report.count("added", "replaced") or report.cleaned_chunks:
        optimize(library)
    report.seconds = time.perf_counter() - started
    return report


def _add_file(
    library: Library, path: Path, progress: _Progress, counted: _ChunkCount
) -> FileResult:
    name = str(path)
    try:
        data = read_file(path, library.settings.max_document_bytes)
    except DocumentError as exc:
        return FileResult(path=name, outcome="failed", reason=str(exc))
    doc_id = hashlib.sha256(data).hexdigest()
    resolved = str(path.resolve())
    with library._lock(f"doc-{doc_id}"):
        known = library._document_rows(f"id = {quote(doc_id)} OR path = {quote(resolved)}")
        same = [r for r in known if r["id"] == doc_id]
        if same:
            if same[0]["path"] == resolved:
                return FileResult(path=name, outcome="unchanged", document_id=doc_id)
            reason = f"same content as {same[0]['path']}"
            return FileResult(path=name, outcome="duplicate", document_id=doc_id, reason=reason)
        old_ids = [r["id"] for r in known if r["path"] == resolved]
        try:
            document = load(data, filename=name, settings=library.settings)
            document = document.model_copy(update={"id": doc_id})
            assert library.count_tokens is not None
            chunks = split(document, library.count_tokens, library.chunk_tokens)
        except Exception as exc:  # a bad file never ends the batch: report it, go on
            reason = str(exc) if isinstance(exc, DocumentError) else f"{name}: {exc!r}"[:300]
            return FileResult(path=name, outcome="failed", document_id=doc_id, reason=reason)
        if not chunks:
            reason = f"{name}: no text to index"
            return FileResult(path=name, outcome="failed", document_id=doc_id, reason=reason)
        # Chunks of this document left by an add that was killed: we hold its lock, so
        # no other process is writing them.
        if counted.strays_possible():
            delete_chunks(library, [doc_id])

        def on_batch(done: int) -> None:
            progress.chunks_done += done
            progress.emit(path, "chunks")

        store(library, document, path, len(data), chunks, old_ids=old_ids, on_batch=on_batch)
        counted.wrote(len(chunks))
    for old in old_ids:  # now invisible; what a kill leaves here, clean_stray removes
        with try_lock(library, f"doc-{old}") as held:
            if held:
                delete_chunks(library, [old])
                forget_thoughts(library, [old])
    if old_ids:
        counted.rows = None  # the old versions' rows and chunks are gone: count afresh
    outcome: Outcome = "replaced" if old_ids else "added"
    return FileResult(
        path=name, outcome=outcome, document_id=doc_id, chunks=len(chunks), bytes=len(data)
    )


def store(
    library: Library,
    document: Document,
    path: Path,
    size: int,
    chunks: Sequence[Chunk],
    *,
    vectors: Sequence[np.ndarray] | None = None,
    old_ids: Sequence[str] = (),
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Write a document's chunks in batches of `library.write_batch`, then its ready row:
    the commit order that keeps an add safe. The caller holds the document's lock.
    `vectors[i]`: chunk i's passage vectors, already made (the bench's synthetic ones);
    None: the library's embedder makes them."""
    for first in range(0, len(chunks), library.write_batch):
        batch = slice(first, first + library.write_batch)
        _write_chunks(library, chunks[batch], None if vectors is None else vectors[batch])
        if on_batch is not None:
            on_batch(len(chunks[batch]))
    resolved = str(path.resolve())
    _write_document(library, document, path, resolved, size, len(chunks), old_ids)


def passage_vectors(library: Library, chunks: Sequence[Chunk]) -> list[np.ndarray]:
    """Each chunk's passages embedded, one (passages, dim) array per chunk, in one call."""
    assert library.embedder is not None
    spans = [passages(c.text) for c in chunks]
    texts = [
        " ".join(c.text[a:b].split()) for c, own in zip(chunks, spans, strict=True) for a, b in own
    ]
    flat = np.ascontiguousarray(library.embedder.embed(texts), dtype=np.float32)
    if flat.shape != (len(texts), library.dim):
        raise StoreError(f"the embedder returned shape {flat.shape} for {len(texts)} texts")
    bounds = np.cumsum([len(own) for own in spans])[:-1]
    return np.split(flat, bounds)


def _write_chunks(
    library: Library, chunks: Sequence[Chunk], vectors: Sequence[np.ndarray] | None
) -> None:
    columns: dict[str, Any] = {
        "id": [c.id for c in chunks],
        "document_id": [c.document_id for c in chunks],
        "index": [c.index for c in chunks],
        "start": [c.start for c in chunks],
        "end": [c.end for c in chunks],
        "text": [c.text for c in chunks],
        "token_count": [c.token_count for c in chunks],
        "heading_path": [list(c.heading_path) for c in chunks],
        "pages": [list(c.pages) for c in chunks],
    }
    if library.dim:
        # Embed outside the lock: it is the slow part.
        own = passage_vectors(library, chunks) if vectors is None else vectors
        sizes = np.array([0] + [len(v) for v in own], dtype=np.int32)
        flat = np.ascontiguousarray(np.concatenate(own), dtype=np.float32)
        inner = pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel()), library.dim)
        columns["vector"] = pa.ListArray.from_arrays(
            pa.array(np.cumsum(sizes), pa.int32()), inner, type=vectors_type(library.dim)
        )
    data = pa.table(columns, schema=chunks_schema(library.dim))
    with library._lock(CHUNKS):
        library._guarded("writing chunks", lambda: library.chunks_table.add(data))


def _write_document(
    library: Library,
    document: Document,
    path: Path,
    resolved: str,
    size: int,
    chunk_count: int,
    old_ids: Sequence[str],
) -> None:
    """The ready row, replacing the rows of an earlier version of the file in one commit."""
    row = {
        "id": document.id,
        "path": resolved,
        "title": _title(document, path),
        "format": document.format,
        "size": size,
        "chars": len(document.text),
        "added_at": utcnow(),
        "chunk_count": chunk_count,
        "status": READY,
    }
    data = pa.Table.from_pylist([row], schema=documents_schema())
    with library._lock(DOCUMENTS):
        if not old_ids:  # a new id (checked under its lock): an append, not a merge's scan
            library._guarded("writing a document", lambda: library.documents_table.add(data))
            return
        builder = (
            library.documents_table.merge_insert("id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(in_list("id", old_ids))
        )
        library._guarded("writing a document", lambda: builder.execute(data))
