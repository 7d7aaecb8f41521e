"""The web server's memory: the model thread gives freed memory back when its work runs
out, a finished job keeps only what the jobs list shows, and /api/memory reports the
process and the prefix cache."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from longagent.apps.web.jobs import Job, JobRunner
from longagent.apps.web.memory import status_bytes, trim

WAIT_S = 30  # a bound on waits for the model thread, never a timing assertion


class Payload:
    """Stands for what a job's work holds while it runs: a document, chunks, KV states."""


def runner_with(work: Callable[[Job], Any], on_idle: Callable[[], Any] | None) -> JobRunner:
    runner = JobRunner(on_idle=on_idle)
    runner.register("work", work)
    return runner


def test_the_model_thread_runs_the_idle_hook_once_its_work_runs_out() -> None:
    gate, idle = threading.Event(), threading.Event()
    seen: list[list[str]] = []
    jobs: list[Job] = []

    def work(job: Job) -> str:
        assert gate.wait(WAIT_S)
        return job.id

    def on_idle() -> None:
        seen.append([j.status for j in jobs])
        idle.set()

    runner = runner_with(work, on_idle)
    try:
        jobs.extend(runner.submit("work") for _ in range(3))
        gate.set()
        assert idle.wait(WAIT_S)
        # Once, after all three jobs (not between them: the next one was waiting).
        assert seen == [["done", "done", "done"]]
        idle.clear()
        assert runner.call(lambda: 42).result(WAIT_S) == 42
        assert idle.wait(WAIT_S) and len(seen) == 2  # an interactive call counts too
    finally:
        runner.shutdown()


def test_a_failing_idle_hook_does_not_stop_the_model_thread(
    capfd: pytest.CaptureFixture[str],
) -> None:
    def on_idle() -> None:
        raise RuntimeError("trim failed")

    runner = runner_with(lambda job: "ok", on_idle)
    try:
        first = runner.submit("work")
        assert runner.call(lambda: "after").result(WAIT_S) == "after"
        second = runner.submit("work")
        assert runner.call(lambda: "again").result(WAIT_S) == "again"
        assert first.status == second.status == "done"
    finally:
        runner.shutdown()
    assert "idle hook failed" in capfd.readouterr().err


def _finished(work: Callable[[Job], Any]) -> Job:
    done = threading.Event()
    runner = runner_with(work, done.set)
    try:
        job = runner.submit("work")
        assert done.wait(WAIT_S) and job.done
        return job
    finally:
        runner.shutdown()


def test_a_failed_job_keeps_its_error_but_not_what_its_work_held() -> None:
    held: list[weakref.ref[Payload]] = []

    def work(job: Job) -> None:
        payload = Payload()  # a local of the failing frame: the traceback would pin it
        held.append(weakref.ref(payload))
        raise ValueError("the model failed")

    job = _finished(work)
    gc.collect()
    assert job.status == "failed" and isinstance(job.error, ValueError)
    assert str(job.error) == "the model failed"  # what the jobs list shows
    assert held[0]() is None


def test_a_done_job_keeps_its_result_but_not_what_its_work_held() -> None:
    held: list[weakref.ref[Payload]] = []

    def work(job: Job) -> str:
        payload = Payload()
        held.append(weakref.ref(payload))
        return "Renda"

    job = _finished(work)
    gc.collect()
    assert job.status == "done" and job.result == "Renda" and held[0]() is None


def test_api_memory_reports_the_process_and_the_prefix_cache(make_app: Any) -> None:
    with TestClient(make_app()) as client:
        report = client.get("/api/memory").json()
    assert report["prefix_cache_bytes"] is None  # the scripted model has no prefix cache
    assert report["prepared_documents"] == 0 and report["jobs"] == 0
    if sys.platform.startswith("linux"):
        assert report["rss_bytes"] > 0 and report["peak_rss_bytes"] >= report["rss_bytes"]


# A child fills the heap with 1 MiB blocks (below the mmap threshold it sets) between
# small ones that pin the heap's top, frees the blocks, and prints its RSS before and
# after trim(): free() alone cannot return pages below a live allocation.
HEAP_CHILD = """
import ctypes, json
from longagent.apps.web.memory import status_bytes, trim
libc = ctypes.CDLL("libc.so.6")
assert libc.mallopt(-3, 16 << 20)  # M_MMAP_THRESHOLD: 1 MiB blocks come from the heap
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
big, pins = [], []
for _ in range(256):
    big.append(libc.malloc(1 << 20))
    ctypes.memset(big[-1], 1, 1 << 20)
    pins.append(libc.malloc(16 << 10))  # from the top: pins it
for p in big:
    libc.free(p)
freed = status_bytes()["VmRSS"]
trimmed = trim()
print(json.dumps({"freed": freed, "after": status_bytes()["VmRSS"], "trimmed": trimmed}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_trim_gives_freed_heap_pages_back_to_the_system() -> None:
    import json

    out = subprocess.run(
        [sys.executable, "-c", HEAP_CHILD], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    numbers = json.loads(out.stdout)
    if not numbers["trimmed"]:
        pytest.skip("no glibc malloc_trim here (musl?)")
    # 256 MiB were freed but stayed resident until trim; it returns most of them.
    assert numbers["freed"] - numbers["after"] > 200 << 20


def test_status_bytes_of_a_process_that_is_gone_is_empty() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert status_bytes(child.pid) == {}
    assert isinstance(trim(), bool)
