"""Core-memory blocks: checked edits, refused edits change nothing, atomic persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from longagent.memory import CoreMemory, CoreMemoryError


def test_defaults_append_replace_and_render(tmp_path: Path) -> None:
    core = CoreMemory(tmp_path / "core.json")
    assert core.labels == ["persona", "human"]
    core.append("human", "Name: Maria.")
    core.append("human", "Sister: Ines.")
    assert core["human"] == "Name: Maria.\nSister: Ines."
    core.replace("human", "Ines", "Inès")
    assert core.get("human") == "Name: Maria.\nSister: Inès."
    core.replace("human", "Name: Maria.\n", "")  # an empty new text deletes
    assert core["human"] == "Sister: Inès."
    rendered = core.render()
    assert '<human characters="13/2000">\nSister: Inès.\n</human>' in rendered
    assert rendered.startswith("<persona")


def test_persisted_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "agent" / "core.json"
    core = CoreMemory(path, defaults={"persona": "I am a helpful archivist."}, limit=100)
    core.add_block("project", "longagent", limit=50)
    again = CoreMemory(path)
    assert again.labels == ["persona", "project"]
    assert again["persona"] == "I am a helpful archivist."
    assert again.block("project").limit == 50
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.append("human", "x" * 20), "over its limit of 20"),
        (lambda c: c.replace("human", "short", "much much longer text"), "over its limit"),
        (lambda c: c.replace("human", "absent", "y"), "'absent' is not in it"),
        (lambda c: c.replace("human", "", "y"), "old text is empty"),
        (lambda c: c.append("nobody", "y"), "no core memory block 'nobody'"),
        (lambda c: c.add_block("human"), "already exists"),
        (lambda c: c.add_block("big", "z" * 30, limit=10), "over its limit of 10"),
    ],
)
def test_refused_edit_changes_nothing(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "core.json"
    core = CoreMemory(path, defaults={"human": "short"}, limit=20)
    before = path.read_bytes()
    with pytest.raises(CoreMemoryError, match=message):
        edit(core)
    assert core["human"] == "short"
    assert core.labels == ["human"]
    assert path.read_bytes() == before


def test_two_instances_do_not_lose_edits(tmp_path: Path) -> None:
    path = tmp_path / "core.json"
    a, b = CoreMemory(path), CoreMemory(path)
    a.append("human", "likes tea")
    b.append("human", "likes chess")  # b re-reads the file under the lock first
    assert CoreMemory(path)["human"] == "likes tea\nlikes chess"
    b.reload()
    assert b["human"] == "likes tea\nlikes chess"


def test_corrupt_or_over_limit_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "core.json"
    path.write_text(
        json.dumps({"version": 1, "blocks": [{"label": "h", "value": "abc", "limit": 2}]})
    )
    with pytest.raises(CoreMemoryError, match="over its limit of 2"):
        CoreMemory(path)
    path.write_text(json.dumps({"version": 7, "blocks": []}))
    with pytest.raises(CoreMemoryError, match="version 7"):
        CoreMemory(path)
