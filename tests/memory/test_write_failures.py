"""A write that fails after LanceDB committed it (a full disk while finishing up) is not
reported as failed, so no caller retries it into a duplicate. The store is real; only
the failing step is faked."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

from longagent.memory import ArchivalEntry, MemoryStore
from longagent.memory.embedder import HashEmbedder


class FailsAfterCommit:
    """The real LanceDB table, whose add() commits and then raises ENOSPC."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def add(self, data: Any) -> None:
        self._table.add(data)
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def test_add_that_fails_after_its_commit_is_not_duplicated(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "memory", HashEmbedder())
    store.archival._table = FailsAfterCommit(store.archival.table)
    entry = ArchivalEntry(text="Ines is my sister")
    assert store.archival.add([entry]) == [entry.id]  # committed, so reported stored
    store.archival.close()
    assert [e.text for e in store.archival.scan()] == ["Ines is my sister"]


def test_optimize_failing_after_a_write_does_not_fail_the_write(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "memory", HashEmbedder(), optimize_every=1)

    def full_disk() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    store.archival._optimize_locked = full_disk  # type: ignore[method-assign]
    entry = ArchivalEntry(text="Ines is my sister")
    assert store.archival.add([entry]) == [entry.id]
    assert store.archival.count() == 1


def test_an_add_that_did_not_commit_still_raises(tmp_path: Path) -> None:
    store = MemoryStore(tmp_path / "memory", HashEmbedder())

    class FailsBeforeCommit(FailsAfterCommit):
        def add(self, data: Any) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    store.archival._table = FailsBeforeCommit(store.archival.table)
    try:
        store.archival.add([ArchivalEntry(text="lost")])
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    else:
        raise AssertionError("a write that did not commit must fail")
    assert store.archival.count() == 0
