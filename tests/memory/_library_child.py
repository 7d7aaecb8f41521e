"""Subprocess for the library tests (test_library_processes, test_library_s3): adds paths
to a library with the hash embedder and a word counter, printing "start TIME" before the
add and "done TIME" after it (flushed).

    python _library_child.py HOME NAME KILL_AFTER PATH...

KILL_AFTER > 0: the process SIGKILLs itself right after its KILL_AFTER-th progress event
(a chunk batch of two chunks, or a finished file), so the parent sees an add stopped
between two commits at a known place. 0: run to the end.

With LIBRARY_CHILD_GO=FILE set, the child opens the library, prints "ready" and waits for
FILE to exist before adding, so the parent can start two adds at the same moment whatever
each child's start-up took.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library
from longagent.memory.library_types import AddProgress

LEASE = 2.0  # on an object store, the parent takes over a killed child's locks this soon


def words(text: str) -> int:
    return len(text.split())


def main() -> None:
    home, name, kill_after, paths = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    library = Library(
        Path(home), name, embedder=HashEmbedder(), count_tokens=words, chunk_tokens=40,
        write_batch=2, lock_lease=LEASE,
    )  # fmt: skip
    events = 0

    def on_progress(_: AddProgress) -> None:
        nonlocal events
        events += 1
        if events == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    go = os.environ.get("LIBRARY_CHILD_GO")
    if go:
        print("ready", flush=True)
        while not os.path.exists(go):
            time.sleep(0.01)
    print("start", time.time(), flush=True)
    library.add(paths, on_progress=on_progress)
    print("done", time.time(), flush=True)


if __name__ == "__main__":
    main()
