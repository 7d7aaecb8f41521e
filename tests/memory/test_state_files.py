"""Damaged state files (core.json, paging.json): recovered from the `.bak` copy of the
last good write, or reported by name with what to do; never a raw JSONDecodeError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from longagent.llm.fake import ScriptedModel
from longagent.memory import CoreMemory, MemoryStore, PagingController
from longagent.memory.errors import DamagedFileError, StoreError

DAMAGE = {
    "garbage": lambda p: p.write_bytes(os.urandom(200)),
    "zeroed": lambda p: p.write_bytes(b"\0" * p.stat().st_size),
    "truncated": lambda p: os.truncate(p, p.stat().st_size // 2),
    "empty": lambda p: p.write_bytes(b""),
}


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_core_memory_is_restored_from_the_last_good_write(tmp_path: Path, how: str) -> None:
    path = tmp_path / "core.json"
    CoreMemory(path).append("human", "Her sister is Ines.")
    DAMAGE[how](path)
    core = CoreMemory(path)
    assert core["human"] == "Her sister is Ines."
    assert (tmp_path / "core.json.damaged").exists()  # kept, not deleted
    assert CoreMemory(path)["human"] == "Her sister is Ines."  # the file itself is fixed


def test_damaged_core_memory_without_a_copy_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "core.json"
    CoreMemory(path)
    DAMAGE["garbage"](path)
    os.unlink(tmp_path / "core.json.bak")
    with pytest.raises(DamagedFileError, match=r"core\.json is damaged.*Move it aside"):
        CoreMemory(path)


def test_damaged_paging_state_is_restored_or_reported(tmp_path: Path) -> None:
    from longagent.memory.embedder import HashEmbedder

    store = MemoryStore(tmp_path / "memory", HashEmbedder())
    model = ScriptedModel(["summary"], context_window=4096)
    state = tmp_path / "paging.json"
    first = PagingController(store, model, agent="alice", budget=500, state_path=state)
    first.append("user", "my sister is Ines")
    DAMAGE["garbage"](state)
    again = PagingController(store, model, agent="alice", budget=500, state_path=state)
    assert [m.content for m in again.messages] == ["my sister is Ines"]

    DAMAGE["zeroed"](state)
    DAMAGE["zeroed"](tmp_path / "paging.json.bak")
    with pytest.raises(DamagedFileError, match=r"paging\.json is damaged"):
        PagingController(store, model, agent="alice", budget=500, state_path=state)
    state.write_text('{"agent": "alice", "in_context": 7}')
    with pytest.raises(StoreError, match=r"paging\.json is not a paging state"):
        PagingController(store, model, agent="alice", budget=500, state_path=state)
