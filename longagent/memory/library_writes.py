"""The writes of a `Library`: adding files, removing documents, and cleaning up the chunks
an interrupted add left behind. See `library.py` for the order that keeps them safe."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
from filelock import Timeout

from longagent.chunking import Chunk, Document, load, split
from longagent.errors import ConfigError, DocumentError
from longagent.memory.errors import StoreError
from longagent.memory.filters import in_list, quote
from longagent.memory.library_types import (
    READY,
    AddProgress,
    AddReport,
    FileResult,
    LibraryDocument,
    Outcome,
    chunks_schema,
    collect,
    documents_schema,
    passages,
    read_file,
    vectors_type,
)
from longagent.memory.records import utcnow

if TYPE_CHECKING:
    from longagent.memory.library import Library

log = logging.getLogger(__name__)

COMPACT_DOCUMENTS_EVERY = 100  # files added between compactions of the documents table
DOCUMENTS, CHUNKS = "documents", "chunks"
ProgressCallback = Callable[[AddProgress], None]


@contextlib.contextmanager
def _try_lock(library: Library, key: str) -> Iterator[bool]:
    """Hold lock `key` if it is free now; yields whether it is held."""
    lock = library._lock_for(key)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


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
            _compact_documents(library)
        report.files.append(result)
        progress.files_done += 1
        progress.bytes_done += _size(path)
        progress.emit(path, "file")
    if report.count("added", "replaced") or report.cleaned_chunks:
        optimize(library)
    report.seconds = time.perf_counter() - started
    return report


def _compact_documents(library: Library) -> None:
    """Each added document's row is one small file; every add reads the documents table,
    so it is compacted as it grows (the chunks wait for `optimize`, after the add)."""
    try:
        with library._lock(DOCUMENTS):
            library.documents_table.optimize()
    except Exception as exc:  # upkeep: nothing is lost, reads are only slower
        log.warning("%s: compacting documents failed: %s", library.location, exc)


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
            _delete_chunks(library, [doc_id])

        def on_batch(done: int) -> None:
            progress.chunks_done += done
            progress.emit(path, "chunks")

        store(library, document, path, len(data), chunks, old_ids=old_ids, on_batch=on_batch)
        counted.wrote(len(chunks))
    for old in old_ids:  # now invisible; what a kill leaves here, clean_stray removes
        with _try_lock(library, f"doc-{old}") as held:
            if held:
                _delete_chunks(library, [old])
                _forget_thoughts(library, [old])
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


def _delete_chunks(library: Library, doc_ids: Sequence[str]) -> int:
    where = in_list("document_id", doc_ids)
    with library._lock(CHUNKS):
        found = int(
            library._guarded("counting chunks", lambda: library.chunks_table.count_rows(where))
        )
        if found:
            library._guarded("deleting chunks", lambda: library.chunks_table.delete(where))
    return found


def clean_stray(library: Library) -> int:
    """Delete chunks of documents without a ready row whose add is not running (a killed
    add, an interrupted replace); returns how many. Skipped when the counts add up."""
    ready = library._document_rows()
    if not library._stray_chunks(ready):
        return 0
    ready_ids = {r["id"] for r in ready}
    scan = library.chunks_table.search().select(["document_id"]).limit(None)
    column = library._guarded("reading chunks", scan.to_arrow).column("document_id")
    stray = sorted(set(column.unique().to_pylist()) - ready_ids)
    cleaned = 0
    for doc_id in stray:
        with _try_lock(library, f"doc-{doc_id}") as held:
            # Held elsewhere: an add in progress. Ready meanwhile: it just finished.
            if held and not library._document_rows(f"id = {quote(doc_id)}"):
                cleaned += _delete_chunks(library, [doc_id])
    if cleaned:
        log.info("%s: removed %d chunks left by an interrupted add", library.location, cleaned)
    return cleaned


def remove(library: Library, doc: str) -> LibraryDocument:
    """Remove a document (by id, id prefix or path): its row first, so it disappears in
    one commit, then its chunks."""
    found = library.find(doc)
    with library._lock(f"doc-{found.id}"):
        where = f"id = {quote(found.id)}"
        with library._lock(DOCUMENTS):
            library._guarded("removing a document", lambda: library.documents_table.delete(where))
        _delete_chunks(library, [found.id])
        _forget_thoughts(library, [found.id])
    return found


def _forget_thoughts(library: Library, doc_ids: Sequence[str]) -> None:
    """Thoughts about these documents, or citing them, go with them: a later question
    about a re-added file must not be steered by an answer read from its old text."""
    from longagent.memory.library_thoughts import THOUGHTS_TABLE

    if THOUGHTS_TABLE not in set(library.db.list_tables().tables):
        return  # no question was ever answered here
    where = f"{in_list('doc_id', doc_ids)} OR {in_list('document_id', doc_ids)}"
    with library._lock(THOUGHTS_TABLE):
        table = library.db.open_table(THOUGHTS_TABLE)
        library._guarded("forgetting thoughts", lambda: table.delete(where))


def optimize(library: Library) -> None:
    """Fold new chunks into the full-text index and compact both tables' files. Upkeep
    after committed writes: a failure (a full disk) is logged, not raised."""
    for name, table in ((CHUNKS, library.chunks_table), (DOCUMENTS, library.documents_table)):
        try:
            with library._lock(name):
                table.optimize()
        except Exception as exc:
            log.warning("%s: optimizing %s failed: %s", library.location, name, exc)
    # Measured (`longagent bench library`): exact vector search takes 0.6 s at 100K chunks
    # and 5.5 s at 1M, the IVF_PQ index 0.1 s at 100K. Built once the library is that
    # large; table.optimize above folds later rows into it.
    if library.dim and not _has_vector_index(library):
        rows = int(library._guarded("counting chunks", library.chunks_table.count_rows))
        if rows >= library.vector_index_rows:
            try:
                create_vector_index(library)
            except Exception as exc:  # searches stay exact (slower), nothing is lost
                log.warning("%s: indexing vectors failed: %s", library.location, exc)


def _has_vector_index(library: Library) -> bool:
    return any(i.columns == ["vector"] for i in library.chunks_table.list_indices())


def create_vector_index(library: Library) -> None:
    """An IVF_PQ index over the chunks' passage vectors (cosine), replacing any earlier
    one. Rows added later are searched exactly beside it until the next build."""
    from lancedb.index import IvfPq

    rows = int(library._guarded("counting chunks", library.chunks_table.count_rows))
    # ~4,000 chunks (some 16,000 passage vectors) per partition: a search probes
    # VECTOR_PROBES of them, and k-means over few partitions trains in minutes on 2 cores.
    config = IvfPq(
        distance_type="cosine",
        num_partitions=max(1, min(4096, rows // 4000)),
        num_sub_vectors=max(1, library.dim // 8),
    )
    with library._lock(CHUNKS):
        library._guarded(
            "indexing vectors",
            lambda: library.chunks_table.create_index("vector", config=config, replace=True),
        )


def drop_vector_index(library: Library) -> None:
    """Remove the vector index (searches are then exact, a scan of every vector)."""
    with library._lock(CHUNKS):
        for index in library.chunks_table.list_indices():
            if index.columns == ["vector"]:  # as _has_vector_index
                library.chunks_table.drop_index(index.name)
