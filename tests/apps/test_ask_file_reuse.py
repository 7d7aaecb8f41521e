"""`longagent ask FILE` twice, in two real processes (scripted model, hashed vectors; see
_ask_file_child.py): the second reuses the first's stored chunks (the chunks table is not
written again) and its thought, which answers the same question again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lancedb

from longagent.chunking import load, split

from ._cli_helpers import base_env

CHILD = Path(__file__).with_name("_ask_file_child.py")
FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
BORN = "Kalomi was born in the town of Fenni."
WHERE = "Where was Kalomi born?"


def ask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHILD), "ask", *args, "--chunk-tokens", "120", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=base_env(tmp_path),
    )


def the_library(tmp_path: Path) -> Path:
    (folder,) = (tmp_path / "home" / "libraries").iterdir()
    return folder


def test_a_second_process_reuses_the_chunks_and_the_thought(tmp_path: Path) -> None:
    facts = ["Kalomi visited the observatory in spring.", BORN, "Kalomi bakes bread."]
    path = tmp_path / "doc.txt"
    path.write_text("\n\n".join(f"{FILLER}{fact} {FILLER}" for fact in facts))

    first = ask(tmp_path, str(path), WHERE)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert answer["text"] == "Fenni" and not answer["trace"][0]["recalled"]
    assert len(answer["trace"][0]["members"]) == 3  # every chunk naming Kalomi
    folder = the_library(tmp_path)
    db = lancedb.connect(str(folder))
    chunks = db.open_table("chunks")
    stored_version, stored = chunks.version, chunks.count_rows()
    assert stored == len(split(load(path), lambda t: len(t.split()), 120))
    assert db.open_table("thoughts").count_rows() == 1

    second = ask(tmp_path, str(path), WHERE)
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    said = " ".join(second.stderr.split())  # unwrapped
    assert "reused from" in said and f"{stored} chunks, 1 thoughts" in said
    # The same question by the same model: its remembered answer, nothing read again.
    assert again["text"] == "Fenni" and again["trace"][0]["recalled"] == [WHERE]
    assert not any(r["members"] for r in again["trace"])
    assert again["usage"]["model_calls"] == 0
    assert again["citations"] == answer["citations"]
    chunks = lancedb.connect(str(folder)).open_table("chunks")
    assert chunks.version == stored_version  # nothing split or written again

    fresh = ask(tmp_path, str(path), WHERE, "--no-reuse")
    assert fresh.returncode == 0, fresh.stderr
    assert "reused" not in fresh.stderr and json.loads(fresh.stdout)["text"] == "Fenni"
    assert not json.loads(fresh.stdout)["trace"][0]["recalled"]


def test_a_damaged_implicit_library_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text(f"{FILLER}{BORN} {FILLER}")
    assert ask(tmp_path, str(path), WHERE).returncode == 0
    for data in (the_library(tmp_path) / "chunks.lance" / "data").iterdir():
        data.write_bytes(b"\0" * data.stat().st_size)
    result = ask(tmp_path, str(path), WHERE)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())
    assert "damaged" in said and "--no-reuse" in said
