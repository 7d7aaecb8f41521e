"""`longagent add` and `longagent library ls|rm|info` on a real LanceDB in a temporary
home, with the bundled tokenizer: in-process through `cli.run` (the tokenizer and MiniLM
load once per test process), plus real subprocesses for the exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from longagent.apps.cli import run
from longagent.memory.library import Library


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "acme.txt").write_text(
        "The founder of Acme was Ada Lovelace.\n\n" + "Filler sentence. " * 400
    )
    (folder / "sub" / "notes.md").write_text("# Notes\n\nThe river Quill flows north.\n")
    (folder / "page.html").write_text(
        "<html><head><title>A page</title></head><body><p>Hello there.</p></body></html>"
    )
    (folder / "image.png").write_bytes(b"\x89PNG\r\n")
    return folder


def test_add_ls_info_rm(home: Path, docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["add", str(docs), "--library", "work", "--no-vectors"]) == 0
    out, err = capsys.readouterr()
    assert "3 added" in out and "1 skipped" in out and "chunks/s" in out
    assert "image.png" in err and "Traceback" not in err
    assert run(["add", str(docs / "*.txt"), "-l", "work"]) == 0  # --no-vectors is kept
    assert "1 unchanged" in capsys.readouterr().out
    assert run(["library", "ls", "--library", "work"]) == 0
    listing = capsys.readouterr().out
    assert "acme.txt" in listing and "notes.md" in listing and "A page" in listing
    assert run(["library", "info", "-l", "work"]) == 0
    assert "3 documents" in capsys.readouterr().out
    library = Library(home, "work")
    acme = next(d for d in library.documents() if d.path.endswith("acme.txt"))
    assert acme.chunk_count >= 2 and library.info()["embedder"] == "none"
    assert run(["library", "rm", acme.id[:8], "-l", "work"]) == 0
    assert "removed" in capsys.readouterr().out
    assert sorted(Path(d.path).name for d in library.documents()) == ["notes.md", "page.html"]
    assert run(["library", "rm", acme.id[:8], "-l", "work"]) == 2
    assert "no document" in capsys.readouterr().err


def test_a_changed_file_is_reindexed_with_vectors(
    home: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = docs / "sub" / "notes.md"
    assert run(["add", str(target)]) == 0  # the default library, MiniLM vectors
    target.write_text("# Notes\n\nThe river Quill flows south now.\n")
    assert run(["add", str(target)]) == 0
    assert "1 re-indexed" in capsys.readouterr().out
    library = Library(home, "default")
    assert library.info()["embedder"] == "all-MiniLM-L6-v2"
    [doc] = library.documents()
    assert library.chunks_table.count_rows() == doc.chunk_count == 1


def test_user_mistakes_exit_2_with_one_line(
    home: Path, docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (docs / "bin.txt").write_bytes(b"\x00\x01" * 40)
    cases = [
        (["add", str(docs / "missing.txt")], "no such file"),
        (["add", str(docs / "*.pdf")], "no file matches"),
        (["add", str(docs / "bin.txt"), "--no-vectors"], "nothing was added"),
        (["add", str(docs), "--library", "../x"], "is not allowed"),
        (["add", str(docs), "--chunk-tokens", "0"], "--chunk-tokens must be at least"),
        (["library", "ls", "-l", "nobody"], "there is no library"),
        (["library", "info", "-l", "nobody"], "there is no library"),
    ]
    for argv, message in cases:
        assert run(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
    # the library exists now (made by the add that added nothing), with 512-token chunks
    assert run(["add", str(docs / "acme.txt"), "--chunk-tokens", "100"]) == 2
    assert "applies to a new library" in capsys.readouterr().err


def test_a_damaged_library_is_one_line_and_exit_2_in_a_subprocess(home: Path, docs: Path) -> None:
    library = Library(home, "default")  # no vectors, no tokenizer: fast to make
    for data in (library.root / "documents.lance").rglob("*"):
        if data.is_file() and data.parent.name == "_versions":
            data.write_bytes(b"garbage")
    (home / "libraries" / "file").parent.mkdir(parents=True, exist_ok=True)
    (home / "libraries" / "file").write_text("not a folder")
    env = {**os.environ, "LONGAGENT_HOME": str(home)}
    for argv, problem in (
        (["library", "ls"], "is damaged"),
        (["library", "info", "-l", "file"], "is a file"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "longagent.apps.cli", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error:") and "Traceback" not in done.stderr
        assert problem in done.stderr and len(done.stderr.strip().splitlines()) == 1
