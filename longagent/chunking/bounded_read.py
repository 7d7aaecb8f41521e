"""Reading input of unknown size without trusting it: never more than a limit from files,
pipes and devices (/dev/zero never ends), and never hanging on a pipe with no writer."""

from __future__ import annotations

import os
import time
from pathlib import Path

from longagent.errors import DocumentError

# How long an opened FIFO may go without a writer before it counts as empty.
FIFO_WRITER_WAIT_S = 2.0
_BLOCK = 1 << 20


def read_at_most(fd: int, name: str, size: int, expected: int) -> bytes:
    """Up to `size` bytes, fewer only at the end of the input. `expected` (a file's size)
    is read in one piece; the rest, if any, in blocks, never allocating `size` up front."""
    parts: list[bytes] = []
    total = 0
    try:
        with open(fd, "rb", closefd=False) as stream:
            want = min(size, max(expected, _BLOCK))
            while want > 0:
                block = stream.read(want)
                if not block:
                    break
                parts.append(block)
                total += len(block)
                want = min(size - total, _BLOCK)
    except OSError as exc:
        raise DocumentError(f"{name}: cannot be read ({exc.strerror})") from None
    return parts[0] if len(parts) == 1 else b"".join(parts)


def open_fifo(path: Path) -> tuple[int, bytes]:
    """Open a FIFO without hanging (a blocking open waits for a writer forever): open it
    non-blocking and give a writer a moment to appear. Returns the fd, in blocking mode,
    and whatever was read while waiting."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    deadline = time.monotonic() + FIFO_WRITER_WAIT_S
    first = b""
    while True:
        try:
            first = os.read(fd, 65536)
        except BlockingIOError:
            break  # a writer is there, nothing written yet
        if first or time.monotonic() > deadline:
            break  # data, or still no writer: the read below sees the end at once
        time.sleep(0.05)  # no writer (yet)
    os.set_blocking(fd, True)
    return fd, first
