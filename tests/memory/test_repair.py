"""Damaged LanceDB files, made for real on a temporary store: opening the store names the
damage and the repair command; repair keeps every readable row and the store works after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from longagent.memory import ArchivalEntry, MemoryStore, RecallMessage
from longagent.memory.embedder import HashEmbedder
from longagent.memory.errors import StoreDamagedError
from longagent.memory.repair import repair_store

EMBEDDER = HashEmbedder()
DAMAGE = {
    "truncated": lambda f: os.truncate(f, f.stat().st_size // 2),
    "zeroed": lambda f: f.write_bytes(b"\0" * f.stat().st_size),
    "garbage": lambda f: f.write_bytes(os.urandom(f.stat().st_size)),
    "deleted": lambda f: f.unlink(),
}


def filled(path: Path) -> tuple[list[set[str]], set[str]]:
    """A store whose archival table has three data files (one per add) of 10 rows, and
    a recall table; returns the archival ids per file and the recall ids."""
    store = MemoryStore(path, EMBEDDER)
    batches = [
        set(store.archival.add([ArchivalEntry(text=f"note {b} {i} kept") for i in range(10)]))
        for b in range(3)
    ]
    recall = store.recall.add(
        [RecallMessage(agent="alice", role="user", content=f"hello {i}") for i in range(5)]
    )
    store.close()
    return batches, set(recall)


def data_files(path: Path, table: str) -> list[Path]:
    return sorted((path / f"{table}.lance" / "data").iterdir())


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_file_is_named_then_repaired_keeping_every_readable_row(
    tmp_path: Path, how: str
) -> None:
    home = tmp_path / "memory"
    batches, recall = filled(home)
    DAMAGE[how](data_files(home, "archival")[1])

    with pytest.raises(StoreDamagedError) as caught:
        MemoryStore(home, EMBEDDER)
    message = str(caught.value)
    assert str(home) in message and "archival table (30 rows)" in message
    assert f"longagent repair {home}" in message

    reports = {r.name: r for r in repair_store(home)}
    archival = reports["archival"]
    assert (archival.rows, archival.kept, archival.lost) == (30, 20, 10)
    assert archival.set_aside is not None and (archival.set_aside / "archival.lance").is_dir()
    assert not reports["recall"].repaired and reports["recall"].kept == 5

    store = MemoryStore(home, EMBEDDER)  # opens cleanly now
    kept = {e.id for e in store.archival}
    assert sum(batch <= kept for batch in batches) == 2  # two whole files survive
    assert len(kept) == 20 and kept <= set().union(*batches)
    assert {m.id for m in store.recall} == recall
    assert store.archival.search("note kept", mode="fts", limit=50)  # the index is rebuilt
    store.archival.add([ArchivalEntry(text="written after the repair")])
    assert store.archival.count() == 21
    assert not any(r.repaired for r in repair_store(home))  # nothing left to repair


def test_damage_found_after_opening_names_the_repair_too(tmp_path: Path) -> None:
    home = tmp_path / "memory"
    filled(home)
    store = MemoryStore(home, EMBEDDER)
    for file in data_files(home, "recall"):
        DAMAGE["zeroed"](file)
    with pytest.raises(StoreDamagedError, match=r"recall table .*longagent repair"):
        store.recall.scan()


def test_a_damaged_metadata_table_is_rebuilt(tmp_path: Path) -> None:
    home = tmp_path / "memory"
    filled(home)
    for file in data_files(home, "_meta"):
        DAMAGE["garbage"](file)
    with pytest.raises(StoreDamagedError, match="_meta table"):
        MemoryStore(home, EMBEDDER)
    repair_store(home)
    store = MemoryStore(home, EMBEDDER)
    assert store.schema_version == 1 and store.archival.count() == 30


def test_repair_command_reports_and_exits_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    memory = home / "agents" / "alice" / "memory"
    filled(memory)
    DAMAGE["garbage"](data_files(memory, "archival")[0])
    cli = [sys.executable, "-m", "longagent.apps.cli", "repair", "--home", str(home)]
    done = subprocess.run([*cli, "--agent", "alice"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kept 20 of 30 rows, lost 10" in " ".join(done.stdout.split())
    again = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "nothing was damaged" in again.stdout
    missing = subprocess.run([*cli, "--agent", "bob"], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "bob" in missing.stderr
    assert "Traceback" not in missing.stderr
