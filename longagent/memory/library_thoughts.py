"""A library's thoughts: grounded answers kept in the library's own LanceDB, each with its
citation (document, chunk, character span), under the thoughts tier's policy
(`ThoughtMemory`: merged when near-duplicate, replaced on contradiction).

    memory = library_thoughts(library, embedder)      # creates the table on first use
    memory.restate(subject, scope, [{"text": ..., "chunk_id": ..., "start": 10, ...}])

The table sits beside the library's `documents` and `chunks` as `thoughts.lance`. It is a
`Tier` like the memory store's, hosted by the library: the library's file locks guard its
writes, and a damaged table gives a `StoreDamagedError` that says what to move aside.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
from lancedb.index import FTS

from longagent.memory.embedder import Embedder
from longagent.memory.errors import StoreDamagedError, StoreError
from longagent.memory.filters import in_list
from longagent.memory.library_types import CHUNK_COLUMNS, ChunkHit
from longagent.memory.records import THOUGHTS, TableSpec, Thought
from longagent.memory.repair import damage, damage_everywhere, short_error
from longagent.memory.thoughts import ThoughtMemory
from longagent.memory.tier import Tier

if TYPE_CHECKING:
    from longagent.memory.library import Library
    from longagent.memory.store import MemoryStore

THOUGHTS_TABLE = "thoughts"


class LibraryThought(Thought):
    """A thought with its citation: `document_id` is the cited document (`doc_id` is the
    scope it is recalled in: one document, or a whole library), `start`/`end` the span."""

    document_id: str | None = None
    start: int | None = None
    end: int | None = None
    model: str | None = None  # which model's member grounded it (a repeat is answered only by it)


LIBRARY_THOUGHTS = TableSpec(
    name=THOUGHTS_TABLE,
    record=LibraryThought,
    fields=(
        *THOUGHTS.fields,
        pa.field("document_id", pa.string()),
        pa.field("start", pa.int64()),
        pa.field("end", pa.int64()),
        pa.field("model", pa.string()),
    ),
    text_column="text",
    document_column="doc_id",
)


class _LibraryHost:
    """What a `Tier` asks of its store (database, embedder, locks, damage check, upkeep
    thresholds), answered by a library."""

    optimize_every = 50
    optimize_rows = 20_000
    vector_index_rows: int | None = None

    def __init__(self, library: Library, embedder: Embedder) -> None:
        self.library = library
        self.db = library.db
        self.embedder = embedder
        self.uri = str(library.location)

    def lock(self, table: str) -> contextlib.AbstractContextManager[None]:
        return self.library._lock(table)

    def check(self, names: tuple[str, ...] | None = None, *, thorough: bool = False) -> None:
        for name in names or (THOUGHTS_TABLE,):
            try:
                table = self.db.open_table(name)
                problem = damage(table) or (damage_everywhere(table) if thorough else None)
            except Exception as exc:
                problem = short_error(exc)
            if problem is not None:
                raise damaged(self.library, problem)


def damaged(library: Library, problem: str) -> StoreDamagedError:
    return StoreDamagedError(
        f"the thoughts of the library at {library.location} are damaged ({problem}). Nothing "
        f"was changed. Move {library.location}/{THOUGHTS_TABLE}.lance aside: the "
        "documents and chunks are intact, only the remembered answers are lost."
    )


def library_thoughts(
    library: Library, embedder: Embedder, *, max_thoughts: int | None = 10_000
) -> ThoughtMemory:
    """The library's thoughts tier, creating its table on first use."""
    host = _LibraryHost(library, embedder)
    with library._lock(THOUGHTS_TABLE):  # two processes must not both create it
        try:
            _open_or_create(library, embedder)
        except StoreError:
            raise
        except Exception as exc:
            host.check((THOUGHTS_TABLE,))
            raise StoreError(
                f"cannot open the thoughts of the library at {library.location}: {short_error(exc)}"
            ) from exc
    host.check((THOUGHTS_TABLE,))
    # The tier only uses the attributes `_LibraryHost` provides.
    tier: Tier[Thought] = Tier(cast("MemoryStore", host), LIBRARY_THOUGHTS)
    return ThoughtMemory(tier, max_thoughts=max_thoughts)


def _open_or_create(library: Library, embedder: Embedder) -> None:
    expected = LIBRARY_THOUGHTS.schema(embedder.dim)
    if not library.has_table(THOUGHTS_TABLE):
        table: Any = library.db.create_table(THOUGHTS_TABLE, schema=expected)
    else:
        table = library.db.open_table(THOUGHTS_TABLE)
        if "model" not in table.schema.names:  # written before thoughts named their model
            table.add_columns(expected.field("model"))
        # the added column comes last, after the vector: the same fields in another order
        if sorted(table.schema, key=lambda f: f.name) != sorted(expected, key=lambda f: f.name):
            raise StoreError(
                f"the thoughts of the library at {library.location} were written with another "
                f"embedder or version ({table.schema.field('vector').type}, not "
                f"{expected.field('vector').type}); move "
                f"{library.location}/{THOUGHTS_TABLE}.lance aside to start them anew"
            )
    # Created after the table: a kill in between leaves a table without it, made here.
    if not any("text" in index.columns for index in table.list_indices()):
        table.create_index("text", config=FTS())


def chunks_by_id(library: Library, ids: list[str]) -> list[ChunkHit]:
    """The chunks with these ids that belong to ready documents, in the order asked (a
    thought's chunk whose document was removed or re-indexed is gone)."""
    if not ids:
        return []
    documents = {r["id"]: r for r in library._document_rows()}
    query = library.chunks_table.search().where(in_list("id", ids)).select(CHUNK_COLUMNS)
    rows = library._guarded("reading chunks", lambda: query.limit(len(ids)).to_arrow())
    found = {}
    for row in rows.to_pylist():
        doc = documents.get(row["document_id"])
        if doc is not None:
            fields = {c: row[c] for c in CHUNK_COLUMNS if c != "id"}
            found[row["id"]] = ChunkHit(**fields, path=doc["path"], title=doc["title"], score=0.0)
    return [found[i] for i in ids if i in found]
