"""A library on an object store: a real S3-compatible server (moto's server mode, started
here as a subprocess on 127.0.0.1 at a free port) and the real LanceDB talking to it over
HTTP, with the endpoint and keys in the usual AWS_* variables. Add, list, search, remove
and ask (CLI in-process, a scripted model standing in for the loaded one); an add killed
by SIGKILL, whose locks the next add takes over; a reader in another process during an
add; two writer processes adding the same files at once; two writers in one process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import boto3
import pytest

from longagent.apps import ask_cmd
from longagent.apps.cli import run
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory import StoreError
from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library
from longagent.memory.library_types import LibraryDocument

from ._library_helpers import words, write_doc

CHILD = Path(__file__).with_name("_library_child.py")
LEASE = 2.0  # the child's lock lease: a killed child's locks are free this soon
BORN = "Kalomi was born in the town of Fenni."
TIMEOUT = 120


def write_docs(folder: Path, stem: str, count: int, paragraphs: int) -> Path:
    """`count` documents STEMi.txt in `folder`, each on its own topic."""
    for i in range(count):
        write_doc(folder / f"{stem}{i}.txt", f"{stem}{i}x", paragraphs)
    return folder


def open_library(home: Path, uri: str, **kwargs: object) -> Library:
    """The settings of _library_child.py: hash vectors, 40-word chunks, two per write."""
    options: dict[str, object] = {
        "embedder": HashEmbedder(),
        "count_tokens": words,
        "chunk_tokens": 40,
        "write_batch": 2,
        "lock_lease": LEASE,
    }
    return Library(home, uri, **(options | kwargs))  # type: ignore[arg-type]


def consistent(library: Library) -> list[LibraryDocument]:
    """The visible documents, each with exactly its chunks; search sees no other chunk."""
    docs = library.documents()
    counts = Counter(library.chunks_table.to_arrow().column("document_id").to_pylist())
    for doc in docs:
        assert counts[doc.id] == doc.chunk_count, doc.path
    visible = {d.id for d in docs}
    assert all(h.document_id in visible for h in library.search("Paragraph about", k=50))
    return docs


def stored_keys(bucket: str, endpoint: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    for i, topic in enumerate(["alpha", "beta", "gamma"]):
        write_doc(tmp_path / "docs" / f"d{i}.txt", topic)
    return tmp_path / "docs"


def test_add_list_search_and_remove_on_s3(
    tmp_path: Path, bucket: str, s3_endpoint: str, docs: Path
) -> None:
    home, uri = tmp_path / "home", f"s3://{bucket}/libraries/work"
    assert not Library.exists(home, uri)
    with pytest.raises(StoreError, match="there is no library"):
        Library(home, uri, create=False)
    library = open_library(home, uri)
    assert library.add([docs]).count("added") == 3
    assert len(consistent(library)) == 3
    hits = library.search("beta3w7 beta3w8", k=3)
    assert hits[0].path.endswith("d1.txt") and hits[0].index == 3 and hits[0].similarity
    version = library.chunks_table.version
    assert library.add([docs]).count("unchanged") == 3
    assert library.chunks_table.version == version  # nothing was written
    # Another reader (no embedder: BM25) opens it by its URI; everything lives in the bucket.
    reader = Library(home, uri, create=False)
    assert [d.id for d in reader.documents()] == [d.id for d in library.documents()]
    info = reader.info()
    assert (info["path"], info["documents"], info["chunks"]) == (uri, 3, 30)
    assert info["disk_bytes"] > 0 and not (home / "libraries").exists()
    keys = stored_keys(bucket, s3_endpoint)
    assert any(k.startswith("libraries/work/chunks.lance/") for k in keys)
    assert reader.remove(str(docs / "d0.txt")).path.endswith("d0.txt")
    assert len(consistent(library)) == 2


def born_in_fenni(request: GenerationRequest) -> dict[str, str]:
    if BORN in request.task.get("passage", ""):
        return {"quote": BORN, "answer": "Fenni"}
    return {"quote": "", "answer": ""}


def test_cli_add_ls_info_and_ask_on_s3(
    tmp_path: Path,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LONGAGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LONGAGENT_THREADS", "1")
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setattr(ask_cmd, "_load", lambda spec: ScriptedModel(born_in_fenni))
    folder = tmp_path / "notes"
    topics = ["Harbour cranes are orange.", "Rye bread is baked daily.", "Comets pass by."]
    for i, topic in enumerate(topics):
        fact = f" {BORN}" if i == 1 else ""
        (folder / f"n{i}.txt").parent.mkdir(exist_ok=True)
        (folder / f"n{i}.txt").write_text(f"{topic} The town is quiet in winter.{fact}\n")
    uri = f"s3://{bucket}/libraries/notes"
    assert run(["add", str(folder), "--library", uri]) == 0  # MiniLM passage vectors
    assert "3 added" in capsys.readouterr().out
    assert run(["library", "ls", "--library", uri]) == 0
    listed = capsys.readouterr().out
    assert all(f"n{i}.txt" in listed for i in range(3))
    assert run(["library", "info", "-l", uri]) == 0
    assert "3 documents" in capsys.readouterr().out
    assert run(["ask", "--library", uri, "Where was Kalomi born?"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "Fenni" in shown and str((folder / "n1.txt").resolve()) in shown


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("ftp://host/libraries/x", "bad library location"),
        ("s3://only-a-bucket", "give a bucket and a folder"),
    ],
)
def test_a_bad_location_is_one_clear_line(
    tmp_path: Path,
    location: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LONGAGENT_HOME", str(tmp_path / "home"))
    assert run(["library", "ls", "--library", location]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_an_unreachable_store_fails_fast_in_one_line(
    tmp_path: Path,
    bucket: str,
    free_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LONGAGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port}")  # nothing there
    started = time.monotonic()
    assert run(["library", "ls", "--library", f"s3://{bucket}/libraries/x"]) == 2
    err = capsys.readouterr().err
    assert "cannot open the library at s3://" in err and "Traceback" not in err
    assert time.monotonic() - started < 60  # bounded retries, not LanceDB's minutes


# -- what is safe without file locks ------------------------------------------------------


def child(home: Path, uri: str, kill_after: int, *paths: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(home), uri, str(kill_after), *map(str, paths)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_an_add_killed_on_s3_shows_no_half_document_and_the_next_completes(
    tmp_path: Path, bucket: str, docs: Path
) -> None:
    # Each document: 10 chunks written two at a time (events 1-5), then its row (event 6).
    home, uri = tmp_path / "home", f"s3://{bucket}/libraries/killed"
    proc = child(home, uri, 8, docs)  # d0 whole, two batches (4 chunks) of d1
    proc.wait(TIMEOUT)
    assert proc.returncode == -9, proc.stderr.read() if proc.stderr else ""
    library = open_library(home, uri)
    assert len(consistent(library)) == 1 and library.info()["stray_chunks"] == 4
    # The dead child's locks are stale once unrenewed for a lease (and the second the
    # store's dates round off): the next add takes them over and cleans up after it.
    time.sleep(LEASE + 1.5)
    report = library.add([docs])
    assert report.count("added") == 2 and report.cleaned_chunks == 4
    assert len(consistent(library)) == 3 and library.info()["stray_chunks"] == 0


def test_a_reader_elsewhere_sees_only_whole_documents_during_an_add(
    tmp_path: Path, bucket: str
) -> None:
    folder = write_docs(tmp_path / "many", "t", 6, 20)
    home, uri = tmp_path / "home", f"s3://{bucket}/libraries/busy"
    reader = open_library(home, uri)  # created before the writer starts
    proc = child(home, uri, 0, folder)
    seen: list[int] = []
    deadline = time.monotonic() + TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline:
        # Documents only appear here, so read in that order: every hit's document and
        # every visible document's chunks must be there by the next read.
        hits = reader.search("Paragraph about", k=50)
        docs = reader.documents()
        counts = Counter(reader.chunks_table.to_arrow().column("document_id").to_pylist())
        assert {h.document_id for h in hits} <= {d.id for d in docs}
        assert all(counts[d.id] == d.chunk_count for d in docs)
        seen.append(len(docs))
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert len(consistent(reader)) == 6
    assert seen == sorted(seen) and any(0 < n < 6 for n in seen), seen  # read mid-add


def test_two_writers_in_one_process_are_serialised_and_lose_nothing(
    tmp_path: Path, bucket: str
) -> None:
    # Threads of one process share its leases on the store's lock objects: they take turns.
    folders = [write_docs(tmp_path / name, name, 4, 12) for name in ("left", "right")]
    home, uri = tmp_path / "home", f"s3://{bucket}/libraries/threads"
    open_library(home, uri)
    errors: list[BaseException] = []

    def add(folder: Path) -> None:
        try:
            open_library(home, uri).add([folder])
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(f,)) for f in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not errors
    library = open_library(home, uri)
    assert len(consistent(library)) == 8 and library.info()["stray_chunks"] == 0


def test_two_processes_adding_the_same_files_on_s3_store_each_once(
    tmp_path: Path, bucket: str
) -> None:
    # Without locks shared through the store, both processes add every file: documents
    # twice and chunks written by both under one id.
    folder = write_docs(tmp_path / "same", "s", 6, 12)
    home, uri = tmp_path / "home", f"s3://{bucket}/libraries/shared"
    open_library(home, uri)
    procs = [child(home, uri, 0, folder) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
    library = open_library(home, uri)
    assert len(consistent(library)) == 6
    assert library.documents_table.count_rows() == 6 and library.info()["stray_chunks"] == 0


HOLD_AND_DIE = """
import os, signal, sys
from longagent.memory.locks import ObjectStoreLock, open_store
lock = ObjectStoreLock(open_store(sys.argv[1], None), "k", lease=float(sys.argv[2]))
lock.acquire(timeout=10)
print("held", flush=True)
if sys.argv[3] == "die":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stdin.readline()  # holds the lock (renewing it) until the parent writes a line
lock.release()
"""


def test_a_lease_on_s3_excludes_other_processes_until_released_or_its_holder_dies(
    bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    from filelock import Timeout

    from longagent.memory.locks import ObjectStoreLock, open_store

    location = f"s3://{bucket}/libraries/leases"
    mine = ObjectStoreLock(open_store(location, None), "k", lease=LEASE)

    def holder(fate: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD_AND_DIE, location, str(LEASE), fate],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        return proc

    alive = holder("hold")
    with pytest.raises(Timeout):  # renewed every third of a lease: never taken over
        mine.acquire(timeout=3 * LEASE)
    # A long wait says who holds the lock.
    assert any(str(alive.pid) in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert alive.communicate("\n", timeout=TIMEOUT)[1] is None and alive.returncode == 0
    mine.acquire(timeout=LEASE)  # released: taken at once
    mine.release()

    holder("die").wait(TIMEOUT)
    started = time.monotonic()
    mine.acquire(timeout=10 * LEASE)  # its holder died: taken over after one lease
    assert time.monotonic() - started >= LEASE * 0.9
    mine.release()


def test_a_library_on_s3_configured_by_storage_options_alone(
    tmp_path: Path, bucket: str, s3_endpoint: str, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The options LanceDB takes configure the locks too; nothing comes from AWS_* here.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_ALLOW_HTTP"):
        monkeypatch.delenv(key)
    options = {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "aws_endpoint": s3_endpoint,
        "allow_http": "true",
    }
    uri = f"s3://{bucket}/libraries/options"
    library = open_library(tmp_path / "home", uri, storage_options=options)
    assert library.add([docs]).count("added") == 3
    assert len(consistent(library)) == 3
