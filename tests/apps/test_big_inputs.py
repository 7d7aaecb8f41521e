"""`ask` on an endless pipe, a device or an oversized file refuses quickly (a kill timer
and the exit code catch a hang) and in bounded memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from ._cli_helpers import CLI, base_env

RSS_BOUND_MB = 400  # the CLI without a model is ~150 MB; the input may add at most its limit


# Linux starts a child's peak RSS at its parent's size (fork copies the page counts, and
# exec keeps the old high-water mark), and this test process may hold a model from an
# earlier test. So `ask` runs under a small launcher, and its peak is read there.
_LAUNCHER = """
import resource, subprocess, sys
timeout, report, *argv = sys.argv[1:]
try:
    code = subprocess.run(argv, stdin=subprocess.DEVNULL, timeout=float(timeout)).returncode
except subprocess.TimeoutExpired:  # a hang: the exit code fails the test
    code = 124
with open(report, "w") as out:
    out.write(f"{code} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
"""


def _ask_child(path: str, env: dict[str, str], timeout: float) -> tuple[int, str, float]:
    """Run `ask` in a child: (exit code, stderr, its own peak RSS in MB). A child
    that hangs is killed at `timeout`, so its exit code fails the test; no test asserts a
    time (a loaded machine would make that flaky)."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report"
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(timeout), str(report), *CLI, "ask", path, "q"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout + 60,
        )
        stderr = launched.stderr.decode(errors="replace")
        assert report.exists(), stderr
        code, peak_kb = report.read_text().split()
    return int(code), stderr, int(peak_kb) / 1024


def test_ask_refuses_an_endless_pipe_quickly_in_bounded_memory(tmp_path: Path) -> None:
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    stop = threading.Event()

    def write_zeros() -> None:
        try:
            with open(fifo, "wb") as out:  # blocks until the reader opens it
                while not stop.is_set():
                    out.write(b"\0" * 65536)
        except BrokenPipeError:  # the reader refused and closed its end
            return

    writer = threading.Thread(target=write_zeros, daemon=True)
    writer.start()
    env = base_env(tmp_path) | {"LONGAGENT_MAX_DOCUMENT_BYTES": str(50 * 2**20)}
    try:
        code, stderr, rss = _ask_child(str(fifo), env, timeout=60)
    finally:
        stop.set()
    assert code == 2, stderr
    assert "too large" in stderr and "Traceback" not in stderr
    assert rss < RSS_BOUND_MB, f"peak RSS {rss:.0f} MB"


def test_ask_refuses_a_file_over_the_limit_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with open(big, "wb") as out:  # sparse: 2 GB on paper, nothing on disk
        out.truncate(2 * 2**30)
    code, stderr, rss = _ask_child(str(big), base_env(tmp_path), timeout=60)
    assert code == 2 and "too large" in stderr, stderr
    assert rss < RSS_BOUND_MB, f"peak RSS {rss:.0f} MB"


def test_ask_refuses_dev_zero_in_bounded_memory(tmp_path: Path) -> None:
    code, stderr, rss = _ask_child("/dev/zero", base_env(tmp_path), timeout=60)
    assert code == 2 and "too large" in stderr, stderr
    assert rss < RSS_BOUND_MB, f"peak RSS {rss:.0f} MB"
