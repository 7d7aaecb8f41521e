"""Crash-safe small-file writes: temp file in the same folder, fsync, os.replace, fsync dir.

With `backup=True` the writer also keeps `NAME.bak`, a second copy of the last good
write, and `read_json` falls back to it when the file itself is damaged (garbage, zeroed,
cut short): the damaged file is set aside as `NAME.damaged`, the file is restored from the
copy and a warning is logged. Without a readable copy it raises DamagedFileError, which
names the file and what to do.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from longagent.memory.errors import DamagedFileError

log = logging.getLogger(__name__)


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) so a reader (or a crash) sees the old or the new
    file, never a torn one."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a reader (or a crash) sees the old or the new file,
    never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename itself lives in the directory entry; sync it so it survives power loss.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_json_atomic(path: Path, data: Any, *, backup: bool = False) -> None:
    """Replace `path` with `data` as JSON so a reader (or a crash) sees the old or the new
    file, never a torn one. With `backup`, `NAME.bak` then gets the same content."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    write_text_atomic(path, text)
    if backup:
        # Written after the file: a crash in between leaves a .bak one write behind,
        # still a good state to recover from.
        write_text_atomic(backup_path(path), text)


def _parse(path: Path) -> Any:
    """The parsed file; FileNotFoundError when absent, ValueError when damaged."""
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from None


def read_json(path: Path, *, advice: str = "") -> Any | None:
    """The parsed file, or None when it does not exist. A damaged file is recovered from
    its `.bak` copy when there is a readable one (see the module docstring); otherwise
    DamagedFileError says which file and, with `advice`, what to do."""
    try:
        return _parse(path)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        problem = str(exc)
    backup = backup_path(path)
    try:
        data = _parse(backup)
    except (FileNotFoundError, ValueError):
        raise DamagedFileError(
            f"{path} is damaged (not valid JSON: {problem}) and there is no readable copy "
            f"at {backup.name}. {advice}".strip()
        ) from None
    damaged = path.with_name(path.name + ".damaged")
    os.replace(path, damaged)
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2))
    log.warning(
        "%s was damaged (%s): restored it from %s, the last good write; the damaged file "
        "is kept as %s",
        path,
        problem,
        backup.name,
        damaged.name,
    )
    return data
