"""One tier of the store (archival, recall or thoughts): writes under the table's lock,
reads, and hybrid search (vector + native full-text, fused by reciprocal rank)."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Unpack, cast

import numpy as np
import pyarrow as pa
from lancedb.index import IvfPq
from lancedb.query import ColumnOrdering, LanceHybridQueryBuilder, LanceVectorQueryBuilder
from lancedb.rerankers import RRFReranker

from longagent.errors import LongAgentError
from longagent.memory.errors import StoreDamagedError
from longagent.memory.filters import FilterArgs, build_where, in_list
from longagent.memory.records import Hit, R, TableSpec, record_from_row

if TYPE_CHECKING:
    from lancedb.table import Table

    from longagent.memory.store import MemoryStore

SearchMode = Literal["hybrid", "vector", "fts"]
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """Turn a failure that comes from damaged data files into StoreDamagedError, which
    names the store and the repair command; any other error passes unchanged."""

    @functools.wraps(method)
    def wrapper(self: Tier[Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except LongAgentError:
            raise
        except (RuntimeError, OSError, ValueError) as exc:
            try:
                self.store.check((self.name,), thorough=True)
            except StoreDamagedError as damaged:
                raise damaged from exc
            raise

    return cast(F, wrapper)


class Tier(Generic[R]):
    """Records of one type in one LanceDB table. Get one from `MemoryStore`."""

    def __init__(self, store: MemoryStore, spec: TableSpec) -> None:
        self.store = store
        self.spec = spec
        self.name = spec.name
        self._table: Table | None = None
        self._pending_ops = 0
        self._pending_rows = 0
        # RRF with the usual k=60 (Cormack et al.); ranks, not raw scores, are fused, so
        # BM25 and cosine need no common scale.
        self._reranker = RRFReranker(K=60)

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = self.store.db.open_table(self.name)
        return self._table

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold this table's cross-process write lock (for read-modify-write sequences)."""
        return self.store.lock(self.name)

    # -- writes --------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self.store.embedder.embed(texts), dtype=np.float32)
        if vectors.shape != (len(texts), self.store.embedder.dim):
            raise ValueError(f"embedder returned shape {vectors.shape} for {len(texts)} texts")
        return vectors

    def _arrow(self, records: Sequence[R], vectors: np.ndarray | None) -> pa.Table:
        for r in records:
            if not isinstance(r, self.spec.record):
                raise TypeError(
                    f"the {self.name} tier stores {self.spec.record.__name__}, "
                    f"not {type(r).__name__}"
                )
        if vectors is None:
            vectors = self.embed([getattr(r, self.spec.text_column) for r in records])
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = self.store.embedder.dim
        if vectors.shape != (len(records), dim):
            raise ValueError(
                f"expected vectors of shape ({len(records)}, {dim}), got {vectors.shape}"
            )
        dumped = [r.model_dump() for r in records]
        columns: dict[str, Any] = {c: [d[c] for d in dumped] for c in self.spec.columns()}
        columns["vector"] = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), dim)
        return pa.table(columns, schema=self.spec.schema(dim))

    @_guarded
    def add(self, records: Sequence[R], vectors: np.ndarray | None = None) -> list[str]:
        """Append `records` (embedding their text unless `vectors` are given) and return
        their ids once the write is committed: an id returned is durable."""
        if not records:
            return []
        data = self._arrow(records, vectors)  # embed outside the lock: it is the slow part
        ids = [r.id for r in records]
        with self.locked():
            try:
                self.table.add(data)
            except Exception:
                # An error (a full disk, an I/O hiccup) can come after LanceDB committed
                # the rows: then the write stands, and reporting it failed would make the
                # caller retry and store everything twice. One commit is all or nothing.
                if not self._committed(ids):
                    raise
                log.warning("%s: add() raised after its commit; the rows are stored", self.name)
            self._after_write(len(records))
        return ids

    def _committed(self, ids: Sequence[str]) -> bool:
        try:
            return self.table.count_rows(in_list("id", ids)) == len(set(ids))
        except Exception:
            return False

    @_guarded
    def upsert(
        self,
        records: Sequence[R],
        vectors: np.ndarray | None = None,
        *,
        delete_ids: Sequence[str] = (),
    ) -> None:
        """Insert or overwrite `records` by id and delete `delete_ids`, in one commit, so a
        crash leaves either the old rows or the new ones."""
        if not records and not delete_ids:
            return
        with self.locked():
            if not records:
                self.table.delete(in_list("id", delete_ids))
            else:
                builder = (
                    self.table.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                )
                if delete_ids:
                    builder = builder.when_not_matched_by_source_delete(in_list("id", delete_ids))
                builder.execute(self._arrow(records, vectors))
            self._after_write(len(records) + len(delete_ids))

    @_guarded
    def update_sql(self, ids: Sequence[str], values_sql: dict[str, str]) -> None:
        """Set columns of the rows `ids` to SQL expressions (e.g. `{"hits": "hits + 1"}`)."""
        if not ids:
            return
        with self.locked():
            self.table.update(where=in_list("id", ids), values_sql=values_sql)
            self._after_write(len(ids))

    @_guarded
    def delete(self, ids: Sequence[str]) -> int:
        """Delete rows by id; returns how many existed."""
        if not ids:
            return 0
        where = in_list("id", ids)
        with self.locked():
            found = self.table.count_rows(where)
            if found:
                self.table.delete(where)
                self._after_write(found)
        return found

    @_guarded
    def delete_where(self, **filters: Unpack[FilterArgs]) -> int:
        """Delete every row matching the filters (at least one required); returns how many."""
        where = build_where(self.spec, filters)
        if where is None:
            raise ValueError("delete_where needs a filter; use delete(ids) for single rows")
        with self.locked():
            found = self.table.count_rows(where)
            if found:
                self.table.delete(where)
                self._after_write(found)
        return found

    # -- reads ---------------------------------------------------------------------------

    def _rows(self, arrow: pa.Table) -> list[dict[str, Any]]:
        return arrow.to_pylist()

    @_guarded
    def get(self, ids: Sequence[str]) -> list[R]:
        """The records with these ids, in the order asked; missing ids are skipped."""
        if not ids:
            return []
        arrow = (
            self.table.search()
            .where(in_list("id", ids))
            .select(self.spec.columns())
            .limit(len(ids))
            .to_arrow()
        )
        by_id = {row["id"]: record_from_row(self.spec, row) for row in self._rows(arrow)}
        return [by_id[i] for i in ids if i in by_id]

    @_guarded
    def count(self, **filters: Unpack[FilterArgs]) -> int:
        return self.table.count_rows(build_where(self.spec, filters))

    @_guarded
    def scan(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = False,
        **filters: Unpack[FilterArgs],
    ) -> list[R]:
        """Records in time order (no query), filtered and paginated."""
        query = self.table.search().select(self.spec.columns())
        if (where := build_where(self.spec, filters)) is not None:
            query = query.where(where)
        query = query.order_by(
            [ColumnOrdering(column_name="created_at", ascending=not newest_first)]
        )
        rows = self._rows(query.limit(limit).offset(offset).to_arrow())
        return [record_from_row(self.spec, row) for row in rows]

    @_guarded
    def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        limit: int = 10,
        offset: int = 0,
        vector: np.ndarray | None = None,
        **filters: Unpack[FilterArgs],
    ) -> list[Hit[R]]:
        """Best matches for `query`, best first, `limit` from `offset` on.

        hybrid (default): vector and full-text results fused by reciprocal rank; score is
        the RRF score. vector: score is cosine similarity. fts: score is BM25.
        `vector` is the query's embedding when the caller has it already.
        """
        if not query.strip():
            raise ValueError("search needs a non-empty query")
        where = build_where(self.spec, filters)
        text_col = self.spec.text_column
        if mode == "fts":
            builder: Any = self.table.search(query, query_type="fts", fts_columns=text_col)
            score_col = "_score"
        else:
            if vector is None:
                vector = self.embed([query])[0]
            if mode == "vector":
                builder = self._vector_search(vector)
                score_col = "_distance"
            elif mode == "hybrid":
                builder = (
                    cast(
                        LanceHybridQueryBuilder,
                        self.table.search(query_type="hybrid", fts_columns=text_col),
                    )
                    .vector(vector)
                    .text(query)
                    .distance_type("cosine")
                    .rerank(self._reranker)
                )
                score_col = "_relevance_score"
            else:
                raise ValueError(f"unknown search mode {mode!r}; use hybrid, vector or fts")
        if where is not None:
            builder = builder.where(where, prefilter=True)
        if mode != "hybrid":
            # Naming the score column keeps Lance from warning about its auto-projection;
            # the hybrid legs cannot select it, so hybrid reads whole rows (a few dozen).
            builder = builder.select([*self.spec.columns(), score_col])
        arrow = builder.limit(limit).offset(offset).to_arrow()
        hits = []
        for row in self._rows(arrow):
            score = float(row[score_col])
            hits.append(
                Hit(record_from_row(self.spec, row), 1.0 - score if mode == "vector" else score)
            )
        return hits

    @_guarded
    def nearest(
        self, vector: np.ndarray, *, limit: int = 5, **filters: Unpack[FilterArgs]
    ) -> list[Hit[R]]:
        """Nearest records to an embedding, scored by cosine similarity."""
        builder = self._vector_search(vector)
        if (where := build_where(self.spec, filters)) is not None:
            builder = builder.where(where, prefilter=True)
        arrow = builder.select([*self.spec.columns(), "_distance"]).limit(limit).to_arrow()
        return [
            Hit(record_from_row(self.spec, row), 1.0 - float(row["_distance"]))
            for row in self._rows(arrow)
        ]

    def _vector_search(self, vector: np.ndarray) -> LanceVectorQueryBuilder:
        # A vector query builds a LanceVectorQueryBuilder; Table.search is annotated with
        # the base class (only LanceTable's overloads name the subclass per query type).
        search = self.table.search(vector, query_type="vector")
        return cast(LanceVectorQueryBuilder, search).distance_type("cosine")

    # -- upkeep --------------------------------------------------------------------------

    def _after_write(self, rows: int) -> None:
        self._pending_ops += 1
        self._pending_rows += rows
        if (
            self._pending_ops >= self.store.optimize_every
            or self._pending_rows >= self.store.optimize_rows
        ):
            try:
                self._optimize_locked()
            except Exception as exc:
                # Upkeep after a committed write: failing it (a full disk) must not make
                # the write look failed. The counters stay up, so the next write retries.
                log.warning("%s: optimize after a write failed: %s", self.name, exc)

    def _optimize_locked(self) -> None:
        threshold = self.store.vector_index_rows
        if threshold is not None and not self._has_vector_index():
            rows = self.table.count_rows()
            if rows >= threshold:
                # Cosine IVF-PQ; rows added later are searched exactly until optimize()
                # folds them in, so results never miss recent writes.
                self.table.create_index("vector", config=IvfPq(distance_type="cosine"))
        # Compacts small fragments and adds new rows to the FTS (and vector) index.
        self.table.optimize()
        self._pending_ops = self._pending_rows = 0

    def _has_vector_index(self) -> bool:
        return any("vector" in idx.columns for idx in self.table.list_indices())

    @_guarded
    def optimize(self) -> None:
        with self.locked():
            self._optimize_locked()

    @_guarded
    def index_status(self) -> dict[str, int]:
        """Indexed and not-yet-indexed rows of the full-text index."""
        name = next(i.name for i in self.table.list_indices() if self.spec.text_column in i.columns)
        stats = self.table.index_stats(name)
        if stats is None:
            return {"indexed": 0, "unindexed": self.table.count_rows()}
        return {"indexed": stats.num_indexed_rows, "unindexed": stats.num_unindexed_rows}

    def close(self) -> None:
        self._table = None

    def __iter__(self) -> Iterator[R]:
        """Every record, oldest first (reads in pages)."""
        offset = 0
        while page := self.scan(limit=1000, offset=offset):
            yield from page
            offset += len(page)

    @_guarded
    def __len__(self) -> int:
        return self.table.count_rows()
