"""Damaged stores: find tables whose data files cannot be read, and rewrite them from
every row that still can be.

A LanceDB table is a folder of data files (one or more per fragment) listed by a
manifest. A data file that is truncated, zeroed, overwritten or missing makes every read
that touches it fail, and LanceDB opens such a table without noticing. `damage` finds it
with a scan of one column; `repair_store` then reads the table by row offset in batches
(`take_offsets`: a batch touches only the fragments that hold it), splits every batch
that fails in halves down to single rows, so each row that can be read on its own is
kept, and writes the kept rows as a fresh table. The damaged table folder is set aside
under `damaged-<time>/`, never deleted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lancedb
import pyarrow as pa
from filelock import FileLock
from lancedb.index import FTS

from longagent.memory.errors import StoreError
from longagent.memory.records import TABLES, utcnow

META_TABLE = "_meta"  # also in store.py, which imports this module
BATCH = 1024  # rows per read; a failing batch is split in halves down to single rows
_TEXT_COLUMN = {spec.name: spec.text_column for spec in TABLES}


def short_error(exc: BaseException) -> str:
    """The first line of a LanceDB error, without the Rust source location."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(", /")[0][:240]


def damage(table: Any) -> str | None:
    """Why `table` cannot be read, or None when a scan of its id column succeeds (that
    opens every data file: a truncated, zeroed, garbage or missing file fails it)."""
    try:
        table.search().select(["id" if "id" in table.schema.names else "key"]).limit(
            None
        ).to_arrow()
    except Exception as exc:  # LanceDB raises RuntimeError, ValueError or OSError
        return short_error(exc)
    return None


def damage_everywhere(table: Any) -> str | None:
    """Like `damage`, reading every column (for errors the id scan does not explain)."""
    try:
        table.to_arrow()
    except Exception as exc:
        return short_error(exc)
    return None


@dataclass
class TableReport:
    """What repair found and did for one table."""

    name: str
    rows: int | None  # rows the manifest lists (None: the table could not be opened)
    kept: int = 0
    lost: int | None = 0  # None: unknown (the table could not be opened)
    problem: str | None = None  # the read error, None when the table was healthy
    set_aside: Path | None = None  # where the damaged folder went

    @property
    def repaired(self) -> bool:
        return self.set_aside is not None

    def line(self) -> str:
        if self.problem is None:
            return f"{self.name}: {self.rows} rows, all readable"
        lost = "an unknown number of" if self.lost is None else str(self.lost)
        return (
            f"{self.name}: kept {self.kept} of {self.rows if self.rows is not None else '?'} "
            f"rows, lost {lost} ({self.problem}); damaged files set aside in {self.set_aside}"
        )


def _read(table: Any, lo: int, hi: int) -> Iterator[pa.Table | int]:
    """The readable rows of offsets [lo, hi) in order, as tables, and each unreadable
    offset as an int."""
    try:
        yield table.take_offsets(list(range(lo, hi))).to_arrow()
        return
    except Exception:
        if hi - lo == 1:
            yield lo
            return
    mid = (lo + hi) // 2
    yield from _read(table, lo, mid)
    yield from _read(table, mid, hi)


def readable_rows(table: Any) -> tuple[pa.Table, int]:
    """Every row of `table` that can be read, in order, and how many could not."""
    total = table.count_rows()  # from the manifest: works while data files are damaged
    schema = table.schema
    pieces: list[pa.Table] = []
    lost = 0
    for start in range(0, total, BATCH):
        for piece in _read(table, start, min(start + BATCH, total)):
            if isinstance(piece, int):
                lost += 1
            else:
                pieces.append(piece.select(schema.names).cast(schema))
    kept = pa.concat_tables(pieces) if pieces else schema.empty_table()
    return kept, lost


def _rebuild_meta(db: Any) -> pa.Table:
    """The metadata rows of a store whose `_meta` table is lost: the version this code
    writes and the embedding size of the archival table."""
    from longagent.memory.store import _META_SCHEMA, SCHEMA_VERSION

    values = {
        "schema_version": str(SCHEMA_VERSION),
        "embedder": "unknown (metadata rebuilt by repair)",
        "dim": str(_dim(db)),
        "created_at": utcnow().isoformat(),
    }
    return pa.table({"key": list(values), "value": list(values.values())}, schema=_META_SCHEMA)


def _dim(db: Any) -> int:
    """The embedding size, from the first tier table that still opens."""
    for spec in TABLES:
        with contextlib.suppress(Exception):
            return int(db.open_table(spec.name).schema.field("vector").type.list_size)
    raise StoreError("no table of this store can be opened: there is nothing left to repair")


def _replace_table(home: Path, db: Any, name: str, data: pa.Table, aside: Path) -> None:
    """Write `data` as table `name`, setting the old folder aside first-written-last, so
    a crash leaves either the damaged table or the repaired one in place."""
    temp = f"{name}__repair"
    with contextlib.suppress(Exception):
        db.drop_table(temp)  # left by an interrupted repair
    fresh = db.create_table(temp, data=data, schema=data.schema)
    if name in _TEXT_COLUMN:
        fresh.create_index(_TEXT_COLUMN[name], config=FTS())
    aside.mkdir(parents=True, exist_ok=True)
    old = home / f"{name}.lance"
    if old.exists():
        os.replace(old, aside / f"{name}.lance")
    os.replace(home / f"{temp}.lance", old)


def repair_table(home: Path, db: Any, name: str, aside: Path) -> TableReport:
    try:
        table = db.open_table(name)
        rows = table.count_rows()
    except Exception as exc:
        # The manifest itself is gone or unreadable: nothing of the table can be read.
        report = TableReport(name, None, lost=None, problem=short_error(exc), set_aside=aside)
        if name == META_TABLE:
            data = _rebuild_meta(db)
        else:
            data = next(s for s in TABLES if s.name == name).schema(_dim(db)).empty_table()
        _replace_table(home, db, name, data, aside)
        return report
    problem = damage(table) or damage_everywhere(table)
    if problem is None:
        return TableReport(name, rows, kept=rows)
    data, lost = readable_rows(table)
    if name == META_TABLE and data.num_rows == 0:
        data = _rebuild_meta(db)
    report = TableReport(name, rows, data.num_rows, lost, problem, aside)
    table = None  # release file handles before the folder moves
    _replace_table(home, db, name, data, aside)
    return report


def repair_store(path: str | Path) -> list[TableReport]:
    """Check every table of the store at `path` and rewrite the damaged ones from their
    readable rows; one report per table. Holds each table's write lock meanwhile, so a
    process using the store waits instead of writing into a table being replaced."""
    home = Path(path).expanduser()
    if not (home / f"{META_TABLE}.lance").exists() and not any(
        (home / f"{s.name}.lance").exists() for s in TABLES
    ):
        raise StoreError(f"there is no memory store at {home}")
    aside = home / f"damaged-{utcnow():%Y%m%d-%H%M%S}"
    db = lancedb.connect(str(home))
    reports = []
    (home / ".locks").mkdir(exist_ok=True)
    for name in (META_TABLE, *(s.name for s in TABLES)):
        with FileLock(home / ".locks" / f"{name}.lock", timeout=120):
            reports.append(repair_table(home, db, name, aside))
    if aside.exists() and not any(aside.iterdir()):
        shutil.rmtree(aside)
    return reports
