"""A document library: documents added once (loaded, split, embedded, full-text indexed)
and kept in an embedded LanceDB under `$LONGAGENT_HOME/libraries/NAME`.

    library = Library(settings.home, "papers", embedder=MiniLMEmbedder(), count_tokens=tok)
    report = library.add(["~/papers", "notes/*.md"])
    library.search("who founded the company", k=5)     # BM25 + vectors, fused by RRF

Two tables: `documents` (one row per document; id = sha256 of its bytes) and `chunks`
(text with exact character offsets into the document's text, tokens, pages, and one MiniLM
vector per passage of a few sentences: a chunk ranks by its best passage).

Safety. A document becomes visible only once all its chunks are written: its chunks are
appended first and its `documents` row (status "ready") last, and every reader keeps to
chunks of ready documents. An add killed at any moment leaves chunks without a ready row;
the next add deletes them (or, for the same file, writes it again). Each document is added
under its own lock (so the cleanup never deletes the chunks of an add in progress in
another process), and each table is written under a table lock, so two processes adding
at once serialise their commits and lose nothing: file locks in a local library's folder,
leases taken by conditional writes on an object store (library_location.py, locks.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
from filelock import Timeout

from longagent.config import Settings, get_settings
from longagent.errors import DocumentError, LongAgentError
from longagent.memory import library_open, library_search, library_upkeep, library_writes
from longagent.memory.embedder import Embedder
from longagent.memory.errors import StoreError
from longagent.memory.filters import quote
from longagent.memory.library_location import STORAGE_DEFAULTS, locate
from longagent.memory.library_location import (
    library_dir as library_dir,  # re-exported: callers import it from here
)
from longagent.memory.library_open import (
    CHUNKS,
    DEFAULT_CHUNK_TOKENS,  # re-exported: callers import it from here
    DOCUMENTS,
    TABLES,
)
from longagent.memory.library_types import (
    DOCUMENT_COLUMNS,
    READY,
    AddProgress,
    AddReport,
    ChunkHit,
    LibraryDocument,
)
from longagent.memory.locks import DEFAULT_LEASE, Lock, make_lock
from longagent.memory.repair import META_TABLE, short_error

VECTOR_INDEX_ROWS = 100_000
TokenCounter = Callable[[str], int]


def _total_bytes(stats: Any) -> int:
    # Typed as a dataclass, returned as a dict (lancedb 0.40): either way.
    return int(stats["total_bytes"] if isinstance(stats, dict) else stats.total_bytes)


class Library:
    """Documents, their chunks and a full-text index in one LanceDB database.

    `embedder` None makes (or opens) a library without vectors: search is then BM25 only.
    `count_tokens` is needed by `add` only (the model's tokenizer sizes the chunks).
    `chunk_tokens` applies when the library is created and is kept in its metadata.
    `create` False: a library that does not exist yet is a StoreError (for readers).
    `name` may be an object store URI (`s3://bucket/libraries/NAME`; see
    library_location.py); `storage_options` go to LanceDB for it (endpoint, credentials,
    timeouts) and to its locks. `lock_lease`: seconds after which a lock on an object store
    whose holder stopped renewing it (a killed process) is taken over.
    """

    # Read from its metadata when it is opened (library_open.py).
    meta: dict[str, str]
    dim: int  # of its passage vectors; 0: none
    chunk_tokens: int

    def __init__(
        self,
        home: Path,
        name: str = "default",
        *,
        embedder: Embedder | None = None,
        count_tokens: TokenCounter | None = None,
        chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
        settings: Settings | None = None,
        lock_timeout: float = 120.0,
        lock_lease: float = DEFAULT_LEASE,
        write_batch: int = 128,
        create: bool = True,
        storage_options: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.location, self.folder = locate(home, name)
        self.storage_options = (
            None if self.folder is not None else STORAGE_DEFAULTS | (storage_options or {})
        )
        self.embedder = embedder
        self.count_tokens = count_tokens
        self.settings = settings or get_settings()
        self.lock_timeout = lock_timeout
        self.lock_lease = lock_lease
        self.write_batch = max(1, write_batch)
        # From this many chunks an add's upkeep builds the vector index (see optimize).
        self.vector_index_rows = VECTOR_INDEX_ROWS
        self._locks: dict[str, Lock] = {}
        folder = self.folder
        is_file = folder is not None and folder.exists() and not folder.is_dir()
        if not create and not is_file and not self.exists(home, name, storage_options):
            where = f"under {folder.parent}" if folder is not None else f"at {self.location}"
            raise StoreError(
                f"there is no library {name!r} {where}; add documents with "
                f"`longagent add PATH --library {name}`"
            )
        if folder is not None:
            library_open.prepare_folder(self.name, folder)
        try:
            self.db = lancedb.connect(
                self.location,
                read_consistency_interval=timedelta(0),
                storage_options=self.storage_options,
            )
            if folder is None:  # an unreachable store fails here, not as "damaged" later
                self.db.list_tables()
        except Exception as exc:
            raise StoreError(
                f"cannot open the library at {self.location}: {short_error(exc)}"
            ) from exc
        with self._lock(META_TABLE):
            try:
                library_open.open_or_create(self, chunk_tokens)
            except LongAgentError:
                raise
            except Exception as exc:  # LanceDB's own errors: damage, or something else
                self.check()
                raise StoreError(
                    f"cannot open the library at {self.location}: {short_error(exc)}"
                ) from exc
        self.check()
        self.documents_table = self.db.open_table(DOCUMENTS)
        self.chunks_table = self.db.open_table(CHUNKS)

    @staticmethod
    def exists(home: Path, name: str, storage_options: dict[str, str] | None = None) -> bool:
        """Whether library `name` has been created under `home` or at its URI (its metadata
        is written last, so a creation that was interrupted does not count)."""
        location, folder = locate(home, name)
        if folder is not None:
            return (folder / f"{META_TABLE}.lance").exists()
        options = STORAGE_DEFAULTS | (storage_options or {})
        try:
            tables = lancedb.connect(location, storage_options=options).list_tables().tables
        except Exception as exc:
            raise StoreError(f"cannot open the library at {location}: {short_error(exc)}") from exc
        return META_TABLE in tables

    @property
    def root(self) -> Path:
        """The folder of a local library (an object store library has none)."""
        if self.folder is None:
            raise StoreError(f"the library at {self.location} is not a local folder")
        return self.folder

    # -- locks ---------------------------------------------------------------------------

    def _lock_for(self, key: str) -> Lock:
        # One lock object per key: filelock counts re-entry per object.
        return self._locks.get(key) or self._locks.setdefault(
            key,
            make_lock(
                self.location,
                self.folder,
                key,
                self.lock_timeout,
                storage_options=self.storage_options,
                lease=self.lock_lease,
            ),
        )

    @contextlib.contextmanager
    def _lock(self, key: str, timeout: float | None = None) -> Iterator[None]:
        lock = self._lock_for(key)
        try:
            lock.acquire(timeout=self.lock_timeout if timeout is None else timeout)
        except Timeout as exc:
            raise StoreError(
                f"timed out waiting for the lock {key!r} of the library at {self.location}; "
                "another process holds it"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def check(self) -> None:
        """Raise StoreDamagedError when a table cannot be opened or has data files that
        cannot be read (a scan of the id column opens each of them)."""
        library_open.check(self)

    def has_table(self, name: str) -> bool:
        """Whether a table (a side table is made on first use) exists yet."""
        return name in set(self.db.list_tables().tables)

    def _guarded(self, what: str, action: Callable[[], Any]) -> Any:
        """Run a LanceDB read or write; a failure from damaged files becomes StoreDamagedError."""
        try:
            return action()
        except LongAgentError:
            raise
        except (RuntimeError, OSError, ValueError) as exc:
            self.check()
            raise StoreError(f"{what} failed in {self.location}: {short_error(exc)}") from exc

    # -- writes (library_writes.py, library_upkeep.py) --------------------------------------

    def add(
        self,
        paths: Sequence[str | os.PathLike[str]],
        on_progress: Callable[[AddProgress], None] | None = None,
    ) -> AddReport:
        """Add files, folders (recursively) and globs. A file that cannot be read or is
        not a supported document is reported in the result and skipped; an unchanged file
        is a no-op; a changed file at a known path is re-indexed and its old rows removed."""
        return library_writes.add(self, paths, on_progress)

    def remove(self, doc: str) -> LibraryDocument:
        """Remove a document by id, unique id prefix or path; returns what was removed."""
        return library_upkeep.remove(self, doc)

    def optimize(self) -> None:
        """Fold new chunks into the full-text index and compact files (adds do it too)."""
        library_upkeep.optimize(self)

    def create_vector_index(self) -> None:
        """Index the passage vectors (IVF_PQ): searches probe part of them and re-rank the
        best exactly, instead of scanning all. Worth it for large libraries (see `longagent
        bench library`); rows added after are searched exactly until it is built again."""
        library_upkeep.create_vector_index(self)

    def drop_vector_index(self) -> None:
        library_upkeep.drop_vector_index(self)

    def close(self) -> None:
        """Nothing to flush: every write is committed when its call returns."""

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Library({self.location!r}, embedder={self.meta.get('embedder')!r})"

    # -- reads ---------------------------------------------------------------------------

    def _document_rows(self, where: str | None = None) -> list[dict[str, Any]]:
        condition = f"status = {quote(READY)}" + (f" AND ({where})" if where else "")
        query = self.documents_table.search().where(condition).select(DOCUMENT_COLUMNS)
        rows = self._guarded("reading documents", lambda: query.limit(None).to_arrow())
        return rows.to_pylist()  # type: ignore[no-any-return]

    def documents(self) -> list[LibraryDocument]:
        """The ready documents, in the order they were added."""
        rows = sorted(self._document_rows(), key=lambda r: (r["added_at"], r["path"]))
        return [LibraryDocument(**row) for row in rows]

    def find(self, doc: str) -> LibraryDocument:
        """A document by id, by a unique id prefix (6+ characters) or by path."""
        path = str(Path(doc).expanduser().resolve())
        found = self._document_rows(f"id = {quote(doc)} OR path = {quote(path)}")
        if not found and len(doc) >= 6 and all(c in "0123456789abcdef" for c in doc):
            found = [r for r in self._document_rows() if r["id"].startswith(doc)]
            if len(found) > 1:
                raise DocumentError(f"{doc!r} matches {len(found)} documents; give more of the id")
        if not found:
            raise DocumentError(f"no document {doc!r} in the library {self.name!r}")
        return LibraryDocument(**found[0])

    def _stray_chunks(self, ready: list[dict[str, Any]]) -> int:
        """Chunks that belong to no ready document (an add in progress, or one killed)."""
        total = self._guarded("counting chunks", self.chunks_table.count_rows)
        return max(0, int(total) - sum(r["chunk_count"] for r in ready))

    def info(self) -> dict[str, Any]:
        """Counts, sizes and settings of the library."""
        ready = self._document_rows()
        if self.folder is not None:
            on_disk = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        else:  # the current versions' data (an object store lists slowly)
            on_disk = sum(_total_bytes(self.db.open_table(n).stats()) for n in TABLES)
        return {
            "name": self.name,
            "path": self.location,
            "documents": len(ready),
            "chunks": sum(r["chunk_count"] for r in ready),
            "bytes": sum(r["size"] for r in ready),
            "chars": sum(r["chars"] for r in ready),
            "stray_chunks": self._stray_chunks(ready),
            "disk_bytes": on_disk,
            "embedder": self.meta.get("embedder", "none"),
            "chunk_tokens": self.chunk_tokens,
            "created_at": self.meta.get("created_at", ""),
        }

    def search(self, query: str, k: int = 10, *, vectors: bool = True) -> list[ChunkHit]:
        """The `k` best chunks of ready documents for `query`: BM25 over LanceDB's native
        full-text index and cosine similarity of each chunk's best passage, fused by rank
        (BM25 alone in a library without vectors, or with `vectors` False)."""
        return library_search.search(self, query, k, vectors=vectors)
