"""The server's memory: what it holds (resident and peak bytes, the prefix cache) and
giving freed memory back to the system when the model thread goes idle.

A long-running server frees its per-request tensors, but glibc keeps the freed pages in
its heap arenas (each thread that allocated gets one), so RSS stays at the peak. Calling
`malloc_trim(0)` when no work is waiting returns those pages; `longagent bench
serve-memory` measures what it pays.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache
from pathlib import Path
from typing import Any


def status_bytes(pid: int | str = "self") -> dict[str, int]:
    """Resident (VmRSS) and peak resident (VmHWM) bytes of a process, and the resident
    bytes that are anonymous (RssAnon: the heap, tensors) or file pages (RssFile: shared
    libraries and mapped weights, which the kernel can drop and read again), from /proc;
    empty where /proc is not there (not Linux) or the process has gone."""
    out: dict[str, int] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) * 1024  # kB
    return out


@cache
def _malloc_trim() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only: musl has no malloc_trim
    except (OSError, AttributeError):
        return None


def trim() -> bool:
    """Give the heap's free pages back to the system (glibc `malloc_trim(0)`). False where
    there is no such call; harmless to call at any time, costs milliseconds."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True


def report(model: Any) -> dict[str, Any]:
    """The numbers `GET /api/memory` shows: process bytes and the prefix cache's own."""
    cache_ = getattr(model, "prefix_cache", None)
    proc = status_bytes()
    return {
        "rss_bytes": proc.get("VmRSS"),
        "peak_rss_bytes": proc.get("VmHWM"),
        "anonymous_bytes": proc.get("RssAnon"),
        "file_bytes": proc.get("RssFile"),
        "prefix_cache_bytes": getattr(cache_, "bytes", None),
        "prefix_cache_limit_bytes": getattr(cache_, "max_bytes", None),
        "prefix_cache_blocks": len(cache_) if cache_ is not None else None,
    }
