"""Crash and concurrency, with real subprocesses: a writer killed by SIGKILL loses no
acknowledged write, and two writers on one store lose nothing."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from longagent.memory import ArchivalEntry, MemoryStore, MiniLMEmbedder, ThoughtMemory

WRITER = Path(__file__).with_name("_writer.py")
_spec = importlib.util.spec_from_file_location("memory_test_writer", WRITER)
assert _spec is not None and _spec.loader is not None
_writer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_writer)
TIMEOUT = 120  # seconds


def vectors(tmp_path: Path, embedder: MiniLMEmbedder, tags: list[str], n: int) -> Path:
    """Real embeddings of the texts the writers will write."""
    path = tmp_path / "vectors.npz"
    arrays = {tag: embedder.embed([_writer.note(tag, i) for i in range(n)]) for tag in tags}
    np.savez(path, facts=embedder.embed(_writer.FACTS), **arrays)
    return path


def start(home: Path, tag: str, count: int, vectors: Path, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(home), tag, str(count), str(vectors), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    return proc


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"writer failed to start (exit {proc.poll()})"


def go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


def test_sigkill_mid_write_loses_no_acknowledged_write(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    home = tmp_path / "store"
    MemoryStore(home, embedder)  # created here, so the writer only opens it
    proc = start(home, "killed", 0, vectors(tmp_path, embedder, ["killed"], 100))
    try:
        wait_ready(proc)
        go(proc)
        acknowledged: list[str] = []
        assert proc.stdout is not None
        while len(acknowledged) < 23:  # several optimize() runs happen on the way
            line = proc.stdout.readline()
            assert line, "writer died on its own"
            acknowledged.append(line.strip())
        proc.send_signal(signal.SIGKILL)  # mid-loop: most likely inside a write
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL

    store = MemoryStore(home, embedder)
    found = {e.id for e in store.archival.get(acknowledged)}
    assert found == set(acknowledged)
    assert len(store.archival) >= len(acknowledged)  # the write in flight may have landed
    # The store is fully usable: search, write, and index upkeep.
    assert store.archival.search("note number 3", tags=["killed"], limit=3)
    store.archival.add([ArchivalEntry(text="written after the crash")])
    store.optimize()
    assert store.archival.index_status()["unindexed"] == 0


def test_two_processes_writing_lose_nothing(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    two_writers_lose_nothing(tmp_path / "store", tmp_path, embedder, per_process=25)


def test_two_processes_writing_to_a_store_on_s3_lose_nothing(
    tmp_path: Path, embedder: MiniLMEmbedder, bucket: str
) -> None:
    # The store's locks are leases on objects in the bucket; without them one of the two
    # failed to open the new store ("damaged: its _meta table was not found").
    two_writers_lose_nothing(f"s3://{bucket}/agents/a/memory", tmp_path, embedder, per_process=8)


def two_writers_lose_nothing(
    home: Path | str, tmp_path: Path, embedder: MiniLMEmbedder, per_process: int
) -> None:
    # Both also create the store at the same moment, and insert the same findings (one
    # every third write: 8 for 25 writes each).
    tags = ["left", "right"]
    path = vectors(tmp_path, embedder, tags, per_process)
    procs = [start(home, tag, per_process, path, "thoughts") for tag in tags]
    try:
        for p in procs:
            wait_ready(p)
        for p in procs:
            go(p)
        outputs = [p.communicate(timeout=TIMEOUT)[0].split() for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0]
    left, right = outputs
    assert len(left) == len(right) == per_process

    store = MemoryStore(home, embedder)
    assert len(store.archival) == 2 * per_process
    assert {e.id for e in store.archival} == set(left) | set(right)
    assert (
        store.archival.count(tags=["left"]) == store.archival.count(tags=["right"]) == per_process
    )
    # Both wrote the same findings: under the lock each second copy was merged into the
    # first, not duplicated, and every insert counted.
    findings = min(per_process // 3, len(_writer.FACTS))
    thoughts = ThoughtMemory(store.thoughts).all()
    assert len(thoughts) == findings
    assert sum(t.hits for t in thoughts) == 2 * findings
