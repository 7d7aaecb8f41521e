"""The memory store: one embedded LanceDB database holding the archival, recall and
thoughts tiers, with a schema version, cross-process write locks and index upkeep.

Every write holds its table's lock, so two processes appending to the same store
serialise instead of racing on LanceDB commits (and on the read-then-write of merging a
thought). A URI such as `s3://bucket/agents/alice` opens the same tables on object
storage, with the endpoint and keys from the AWS_* variables; its locks are leases on
objects under the store (locks.py), so processes on several machines serialise too.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import pyarrow as pa
from filelock import Timeout
from lancedb.index import FTS

from longagent.config import Settings
from longagent.errors import LongAgentError
from longagent.memory.embedder import Embedder, MiniLMEmbedder
from longagent.memory.errors import SchemaVersionError, StoreDamagedError, StoreError
from longagent.memory.filters import quote
from longagent.memory.library_location import REMOTE_SCHEMES
from longagent.memory.locks import Lock, make_lock
from longagent.memory.records import (
    ARCHIVAL,
    RECALL,
    TABLES,
    THOUGHTS,
    ArchivalEntry,
    RecallMessage,
    TableSpec,
    Thought,
    utcnow,
)
from longagent.memory.repair import META_TABLE, damage, damage_everywhere, short_error
from longagent.memory.tier import Tier

SCHEMA_VERSION = 1

# Step migrations: MIGRATIONS[n] upgrades a store from version n to n + 1 in place.
# Version 1 is the first released layout, so there is nothing to migrate from yet;
# a store at any other version gets a SchemaVersionError naming both versions.
Migration = Callable[[Any], None]
MIGRATIONS: dict[int, Migration] = {}

_META_SCHEMA = pa.schema(
    [pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string(), nullable=False)]
)


class MemoryStore:
    """Archival, recall and thoughts tables in one LanceDB database under `home`.

    >>> store = MemoryStore(tmp_path, embedder)
    >>> store.archival.add([ArchivalEntry(text="Ines is my sister", tags=["family"])])
    >>> store.archival.search("sister", tags=["family"], limit=5)

    `optimize_every` writes to a table (or `optimize_rows` rows, whichever first) fold
    the new rows into its indexes and compact its files; until then LanceDB searches the
    unindexed tail by brute force, so results are always current, only slower.
    """

    def __init__(
        self,
        home: str | Path,
        embedder: Embedder | None = None,
        *,
        lock_timeout: float = 120.0,
        optimize_every: int = 50,
        optimize_rows: int = 20_000,
        vector_index_rows: int | None = None,
    ) -> None:
        self.uri = str(home)
        self.is_local = "://" not in self.uri
        self.home = Path(self.uri).expanduser() if self.is_local else None
        self.embedder: Embedder = embedder or MiniLMEmbedder()
        self.lock_timeout = lock_timeout
        self.optimize_every = optimize_every
        self.optimize_rows = optimize_rows
        # From this many rows on, a table gets an IVF-PQ vector index at its next
        # optimize. None (the default): exact search, which stays within tens of ms at
        # 100K rows (see `longagent bench memory`) and never misses a neighbour.
        self.vector_index_rows = vector_index_rows
        self._locks: dict[str, Lock] = {}
        if self.home is not None:
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / ".locks").mkdir(exist_ok=True)
        try:
            # A zero interval makes every read check for commits by other processes.
            self.db = lancedb.connect(
                str(self.home) if self.home else self.uri,
                read_consistency_interval=timedelta(0),
            )
        except Exception as exc:  # LanceDB raises plain OSError/ValueError/RuntimeError
            raise StoreError(f"cannot open the memory store at {self.uri}: {exc}") from exc
        with self.lock(META_TABLE):
            try:
                self._open_or_create()
            except LongAgentError:
                raise
            except Exception as exc:  # LanceDB's own errors: find out whether it is damage
                self.check()
                raise StoreError(
                    f"cannot open the memory store at {self.uri}: {short_error(exc)}"
                ) from exc
        self.check()
        self.archival: Tier[ArchivalEntry] = Tier(self, ARCHIVAL)
        self.recall: Tier[RecallMessage] = Tier(self, RECALL)
        self.thoughts: Tier[Thought] = Tier(self, THOUGHTS)

    @classmethod
    def from_settings(
        cls, settings: Settings, name: str = "default", embedder: Embedder | None = None
    ) -> MemoryStore:
        """The store of agent `name` under `settings.home`."""
        return cls(settings.home / "agents" / name / "memory", embedder)

    # -- locking -------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, table: str) -> Iterator[None]:
        """Hold the cross-process write lock of `table` (re-entrant within a thread)."""
        if self.home is None and self.uri.partition("://")[0] not in REMOTE_SCHEMES:
            yield  # another scheme (memory://): no place to lock, LanceDB's commits alone
            return
        # One lock object per table: filelock counts re-entry per object (and thread),
        # while a second object on the same file would block on its own flock.
        lock = self._locks.get(table) or self._locks.setdefault(
            table, make_lock(self.uri, self.home, table, self.lock_timeout)
        )
        try:
            lock.acquire(timeout=self.lock_timeout)
        except Timeout as exc:
            raise StoreError(
                f"timed out after {self.lock_timeout:.0f}s waiting for the write lock on "
                f"{table!r} in {self.uri}; another process holds it"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    # -- opening and schema version ------------------------------------------------------

    def _table_names(self) -> list[str]:
        return list(self.db.list_tables().tables)

    def _open_or_create(self) -> None:
        names = set(self._table_names())
        if META_TABLE not in names:
            # The metadata table is written last, so empty tier tables without it are a
            # creation that was interrupted (a crash, a kill): finish it. Rows without it
            # are a store from before versioning.
            present = [spec.name for spec in TABLES if spec.name in names]
            if any(self.db.open_table(name).count_rows() for name in present):
                raise SchemaVersionError(
                    f"the memory store at {self.uri} has tables but no schema version: it was "
                    f"written before versioning (version 0) and this longagent reads version "
                    f"{SCHEMA_VERSION}, with no migration from 0. Move it aside and start anew."
                )
            for name in present:
                self.db.drop_table(name)
            self._create()
            return
        meta = self.meta()
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the memory store at {self.uri} has schema version {version}, newer than "
                f"version {SCHEMA_VERSION} that this longagent reads; upgrade longagent."
            )
        while version < SCHEMA_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise SchemaVersionError(
                    f"the memory store at {self.uri} has schema version {version}; this "
                    f"longagent reads version {SCHEMA_VERSION} and has no migration from "
                    f"version {version}. Open it with the longagent that wrote it and export it."
                )
            step(self)
            version += 1
            self._write_meta({"schema_version": str(version)})
        dim = int(meta.get("dim", "0"))
        if dim != self.embedder.dim:
            raise StoreError(
                f"the memory store at {self.uri} holds {dim}-dimensional embeddings from "
                f"{meta.get('embedder')!r}, but the embedder given makes {self.embedder.dim}; "
                "open it with the embedder that wrote it."
            )
        for spec in TABLES:
            self._check_columns(spec)

    def _create(self) -> None:
        for spec in TABLES:
            table = self.db.create_table(spec.name, schema=spec.schema(self.embedder.dim))
            # The native (Lance) inverted index; new rows are searched unindexed until
            # the next optimize() folds them in.
            table.create_index(spec.text_column, config=FTS())
        self.db.create_table(META_TABLE, schema=_META_SCHEMA)
        self._write_meta(
            {
                "schema_version": str(SCHEMA_VERSION),
                "embedder": self.embedder.name,
                "dim": str(self.embedder.dim),
                "created_at": utcnow().isoformat(),
            }
        )

    def _check_columns(self, spec: TableSpec) -> None:
        try:
            schema = self.db.open_table(spec.name).schema
        except Exception as exc:
            raise StoreError(f"the memory store at {self.uri} lacks table {spec.name!r}") from exc
        expected = spec.schema(self.embedder.dim)
        missing = [f.name for f in expected if f.name not in schema.names]
        wrong = [
            f.name
            for f in expected
            if f.name in schema.names and schema.field(f.name).type != f.type
        ]
        if missing or wrong:
            raise SchemaVersionError(
                f"table {spec.name!r} in {self.uri} does not match schema version "
                f"{SCHEMA_VERSION} (missing columns: {missing or 'none'}, changed types: "
                f"{wrong or 'none'}); it was written by another version of longagent."
            )

    # -- damage ---------------------------------------------------------------------------

    def damaged_error(self, name: str, problem: str) -> StoreDamagedError:
        """The error for table `name` that cannot be read: which store, what is at stake,
        and the command that keeps every readable row."""
        try:
            rows = f"{self.db.open_table(name).count_rows()} rows"
        except Exception:
            rows = "rows unknown"
        return StoreDamagedError(
            f"the memory store at {self.uri} is damaged: its {name} table ({rows}) cannot be "
            f"read ({problem}). Nothing was changed. Run `longagent repair {self.uri}` to "
            "keep every readable row (the damaged files are set aside, not deleted)."
        )

    def check(self, names: tuple[str, ...] | None = None, *, thorough: bool = False) -> None:
        """Raise StoreDamagedError if a table has data files that cannot be read: a scan
        of the id column (`thorough`: of every column) opens each of them."""
        for name in names or (META_TABLE, *(spec.name for spec in TABLES)):
            try:
                table = self.db.open_table(name)
            except Exception as exc:
                raise self.damaged_error(name, short_error(exc)) from exc
            problem = damage(table) or (damage_everywhere(table) if thorough else None)
            if problem is not None:
                raise self.damaged_error(name, problem)

    def meta(self) -> dict[str, str]:
        """The store's metadata: schema_version, embedder, dim, created_at."""
        rows = self.db.open_table(META_TABLE).to_arrow().to_pylist()
        return {row["key"]: row["value"] for row in rows}

    def _write_meta(self, values: dict[str, str]) -> None:
        data = pa.table({"key": list(values), "value": list(values.values())}, schema=_META_SCHEMA)
        table = self.db.open_table(META_TABLE)
        (
            table.merge_insert("key")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(data)
        )

    @property
    def schema_version(self) -> int:
        return int(self.meta()["schema_version"])

    # -- upkeep --------------------------------------------------------------------------

    def optimize(self) -> None:
        """Fold new rows into every index and compact files now (also runs on its own)."""
        for tier in (self.archival, self.recall, self.thoughts):
            tier.optimize()

    def forget(self, entry_id: str) -> str | None:
        """Delete the archival entry or thought whose id is `entry_id` (or starts with it,
        at least 6 hex characters, when exactly one does); the tier it was in, else None."""
        if not re.fullmatch(r"[0-9a-f]{6,32}", entry_id):
            return None
        for tier in (self.archival, self.thoughts):
            where = f"id LIKE {quote(entry_id + '%')}"
            ids = [r.id for r in tier.scan(limit=2, where=where)]
            if len(ids) == 1 and tier.delete(ids):
                return tier.name
        return None

    def close(self) -> None:
        """Release file handles (a store is also fine to drop without closing)."""
        for tier in (self.archival, self.recall, self.thoughts):
            tier.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MemoryStore({self.uri!r}, embedder={self.embedder.name!r})"
