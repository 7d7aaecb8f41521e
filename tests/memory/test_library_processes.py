"""A library under other processes: adds killed between commits or on a timer, and two
processes adding at once (the safety part of issue #20), each child `_library_child.py`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from ._library_helpers import consistent, docs, open_library, write_doc

__all__ = ["docs"]  # the fixture, imported for pytest

CHILD = Path(__file__).with_name("_library_child.py")
TIMEOUT = 120


def child(
    home: Path, kill_after: int, *paths: Path, go: Path | None = None
) -> subprocess.Popen[str]:
    """`go`: the child opens the library, prints "ready", and adds only once `go` exists."""
    env = os.environ | ({"LIBRARY_CHILD_GO": str(go)} if go else {})
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(home), "t", str(kill_after), *map(str, paths)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("kill_after", [1, 5, 6, 8])
def test_an_add_killed_between_commits_shows_no_half_document(
    tmp_path: Path, docs: Path, kill_after: int
) -> None:
    # Each document: 10 chunks written two at a time (events 1-5), then its row (event 6).
    # Killed at 5: every chunk of d0 is written but its row is not.
    home = tmp_path / "home"
    proc = child(home, kill_after, docs)
    proc.wait(TIMEOUT)
    assert proc.returncode == -9, proc.stderr.read() if proc.stderr else ""
    library = open_library(home)
    visible = consistent(library)
    assert len(visible) == kill_after // 6
    assert library.info()["stray_chunks"] == 2 * (kill_after % 6)
    report = library.add([docs])
    assert report.count("added") == 3 - len(visible) and report.count("unchanged") == len(visible)
    assert len(consistent(library)) == 3 and library.info()["stray_chunks"] == 0


def test_a_killed_reindex_keeps_the_old_version_visible(tmp_path: Path, docs: Path) -> None:
    home = tmp_path / "home"
    library = open_library(home)
    library.add([docs])
    old = library.find(str(docs / "d0.txt"))
    write_doc(docs / "d0.txt", "omega")
    proc = child(home, 2, docs / "d0.txt")
    proc.wait(TIMEOUT)
    assert proc.returncode == -9
    assert library.find(str(docs / "d0.txt")).id == old.id
    consistent(library)
    assert library.add([docs]).count("replaced") == 1
    assert library.chunks_table.count_rows(f"document_id = '{old.id}'") == 0
    consistent(library)


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.0])
def test_an_add_killed_on_a_timer_leaves_the_library_consistent(
    tmp_path: Path, delay: float
) -> None:
    folder = tmp_path / "many"
    for i in range(8):
        write_doc(folder / f"m{i}.txt", f"t{i}x", 30)
    home = tmp_path / "home"
    proc = child(home, 0, folder)
    assert proc.stdout is not None and proc.stdout.readline().startswith("start")
    time.sleep(delay)
    proc.kill()
    proc.wait(TIMEOUT)
    library = open_library(home)
    consistent(library)
    library.add([folder])
    assert len(consistent(library)) == 8 and library.info()["stray_chunks"] == 0


def test_cleanup_spares_the_chunks_of_an_add_in_progress(tmp_path: Path, docs: Path) -> None:
    home = tmp_path / "home"
    proc = child(home, 3, docs / "d0.txt")  # leaves 6 chunks of d0 and no row
    proc.wait(TIMEOUT)
    library = open_library(home)
    doc_id = str(library.chunks_table.to_arrow().column("document_id")[0])
    # Another process adding d0 right now holds its lock: its chunks must stay.
    with FileLock(library.root / ".locks" / f"doc-{doc_id}.lock"):
        report = library.add([docs / "d1.txt"])
        assert report.cleaned_chunks == 0 and library.info()["stray_chunks"] == 6
    assert library.add([docs / "d2.txt"]).cleaned_chunks == 6
    assert library.info()["stray_chunks"] == 0


def test_two_processes_adding_at_once_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folders = []
    for name in ("left", "right"):
        for i in range(6):
            write_doc(tmp_path / name / f"{name}{i}.txt", f"{name}{i}x", 30)
        folders.append(tmp_path / name)
    open_library(home)  # created once, so the children race on adds, not on creation
    go = tmp_path / "go"  # both start adding at once, however long each took to start up
    procs = [child(home, 0, folder, go=go) for folder in folders]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    go.touch()
    spans = []
    for proc in procs:
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0 and "done" in out, err
        spans.append([float(line.split()[1]) for line in out.splitlines()])
    assert max(s for s, _ in spans) < min(e for _, e in spans), "the adds did not overlap"
    library = open_library(home)
    docs = consistent(library)
    assert len(docs) == 12 and sum(d.chunk_count for d in docs) == 12 * 30
    assert library.info()["stray_chunks"] == 0


def test_two_processes_adding_the_same_files_store_each_once(tmp_path: Path, docs: Path) -> None:
    home = tmp_path / "home"
    open_library(home)
    procs = [child(home, 0, docs) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
    library = open_library(home)
    assert len(consistent(library)) == 3
    assert library.chunks_table.count_rows() == 30 and library.info()["stray_chunks"] == 0
