"""Opening a library (`memory/library.py`): its folder, its tables and metadata, the
schema version and embedder it was made with, and the check for damaged files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from lancedb.index import FTS

from longagent.memory.errors import SchemaVersionError, StoreDamagedError, StoreError
from longagent.memory.library_types import LIBRARY_SCHEMA_VERSION, chunks_schema, documents_schema
from longagent.memory.records import utcnow
from longagent.memory.repair import META_TABLE, damage, short_error
from longagent.memory.store import _META_SCHEMA

if TYPE_CHECKING:
    from longagent.memory.library import Library

DOCUMENTS, CHUNKS = "documents", "chunks"
TABLES = (DOCUMENTS, CHUNKS, META_TABLE)
_OWN = {f"{name}.lance" for name in TABLES} | {".locks"}
DEFAULT_CHUNK_TOKENS = 512  # the small profile's member chunk (agents/profiles.py)


def prepare_folder(name: str, root: Path) -> None:
    """Make a local library's folder, refusing a file or a folder of something else."""
    if root.exists() and not root.is_dir():
        raise StoreDamagedError(
            f"the library {name!r} cannot be opened: {root} is a file, not a library "
            "folder. Move it aside and add the documents again."
        )
    if root.is_dir() and not (root / f"{META_TABLE}.lance").exists():
        foreign = sorted(p.name for p in root.iterdir() if p.name not in _OWN)
        if foreign:
            raise StoreError(
                f"{root} is not a longagent library (it holds {', '.join(foreign[:3])}); "
                "use another library name or move the folder aside"
            )
    try:
        (root / ".locks").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the library at {root}: {exc.strerror}") from None


def open_or_create(library: Library, chunk_tokens: int) -> None:
    """Open the library's tables (creating them, or finishing an interrupted creation)
    and set its `meta`, `dim` and `chunk_tokens` from its metadata."""
    db = library.db
    names = set(db.list_tables().tables)
    if META_TABLE not in names:
        # The metadata table is written last: tables without it and without rows are a
        # creation that was interrupted; finish it.
        present = [n for n in (DOCUMENTS, CHUNKS) if n in names]
        if any(db.open_table(n).count_rows() for n in present):
            raise StoreDamagedError(
                f"the library at {library.location} has tables but no metadata; move it aside "
                "and add the documents again"
            )
        for table_name in present:
            db.drop_table(table_name)
        _create(library, chunk_tokens)
    rows = db.open_table(META_TABLE).to_arrow().to_pylist()
    library.meta = meta = {row["key"]: row["value"] for row in rows}
    version = int(meta.get("schema_version", "0"))
    if version != LIBRARY_SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the library at {library.location} has schema version {version}; this longagent "
            f"reads version {LIBRARY_SCHEMA_VERSION}. Open it with the longagent that "
            "wrote it, or move it aside and add the documents again."
        )
    library.dim = int(meta.get("dim", "0"))
    library.chunk_tokens = int(meta.get("chunk_tokens", str(DEFAULT_CHUNK_TOKENS)))
    embedder = library.embedder
    if embedder is not None and embedder.dim != library.dim:
        have = f"{library.dim}-dimensional vectors" if library.dim else "no vectors"
        raise StoreError(
            f"the library {library.name!r} holds {have} ({meta.get('embedder')}), but "
            f"the embedder given makes {embedder.dim}; open it with the embedder "
            "that created it" + (" (none)" if not library.dim else "")
        )


def _create(library: Library, chunk_tokens: int) -> None:
    embedder = library.embedder
    dim = embedder.dim if embedder is not None else 0
    library.db.create_table(DOCUMENTS, schema=documents_schema())
    chunks = library.db.create_table(CHUNKS, schema=chunks_schema(dim))
    # LanceDB's native (not tantivy) inverted index; rows added later are searched
    # unindexed until `optimize` folds them in, which every add does at its end.
    chunks.create_index("text", config=FTS())
    values = {
        "schema_version": str(LIBRARY_SCHEMA_VERSION),
        "embedder": embedder.name if embedder is not None else "none",
        "dim": str(dim),
        "chunk_tokens": str(chunk_tokens),
        "created_at": utcnow().isoformat(),
    }
    meta = pa.table({"key": list(values), "value": list(values.values())}, schema=_META_SCHEMA)
    library.db.create_table(META_TABLE, data=meta, schema=_META_SCHEMA)


def check(library: Library) -> None:
    """Raise StoreDamagedError when a table cannot be opened or has data files that
    cannot be read (a scan of the id column opens each of them)."""
    for table_name in TABLES:
        try:
            problem = damage(library.db.open_table(table_name))
        except Exception as exc:
            problem = short_error(exc)
        if problem is not None:
            raise StoreDamagedError(
                f"the library at {library.location} is damaged: its {table_name} table cannot "
                f"be read ({problem}). Nothing was changed. Move the folder aside and add "
                "the documents again (they are re-read from their files)."
            )
