"""The prefix cache's disk tier: KV blocks as files that outlive the process.

One file per block, `KEY.kv`, in a folder named by the model's fingerprint, so a
different model, dtype or context-extension plan never reads another's KV. A new process
builds its index from the folder's file names and sizes (nothing is read until a block
is asked for), least recently used first by modification time, and trims it to the byte
bound. Writes go to a temp file renamed into place, so a reader sees a whole block or
none; there is no fsync (it would cost more than the block is worth): every file carries
its key, its model fingerprint, its shape and a CRC of its bytes, and one that does not
check out (cut short by a crash, damaged, foreign) is skipped and removed, never trusted.
Several processes may share the folder: a block another process removed is a miss, and a
block it wrote is found on the next miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import time
import zlib
from collections import OrderedDict
from pathlib import Path

import torch

log = logging.getLogger(__name__)

MAGIC = b"LAKVBLK1"
SUFFIX = ".kv"
_KEY = re.compile(r"[0-9a-f]{32}")
_DTYPES = {str(t).removeprefix("torch."): t for t in (torch.float32, torch.float16, torch.bfloat16)}
_STALE_TMP_S = 3600  # a temp file this old was left by a killed writer


def weights_digest(folder: Path) -> str:
    """Names, sizes and the first and last MiB of a model folder's weight files: tells
    checkpoints apart without reading gigabytes."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(folder.iterdir()):
        if path.suffix not in {".safetensors", ".bin", ".pt", ".pth", ".gguf"}:
            continue
        size = path.stat().st_size
        digest.update(f"{path.name}|{size}|".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(1 << 20))
            fh.seek(max(0, size - (1 << 20)))
            digest.update(fh.read(1 << 20))
    return digest.hexdigest()


def fingerprint(name: str, *parts: str) -> str:
    """A folder name for one model's KV: readable name plus a hash of everything the KV
    depends on (weights, config, dtype, extension plan, block size)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:40] or "model"
    return f"{safe}-{hashlib.blake2b('|'.join(parts).encode(), digest_size=8).hexdigest()}"


class DiskBlocks:
    """KV blocks on disk under `max_bytes`, shared by every process that opens `folder`."""

    def __init__(self, folder: Path, fingerprint: str, max_bytes: int, block_tokens: int) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.max_bytes = max_bytes
        self.block_tokens = block_tokens
        self.index: OrderedDict[str, int] = OrderedDict()  # key -> file size, oldest first
        self.bytes = 0
        self.writable = True
        # What the disk cost, for benchmarks: files and seconds each way.
        self.reads = self.writes = 0
        self.read_s = self.write_s = 0.0
        folder.mkdir(parents=True, exist_ok=True)
        self._scan()

    def __contains__(self, key: str) -> bool:
        if key in self.index:
            return True
        # Another process may have written it since we looked.
        try:
            size = self._path(key).stat().st_size
        except OSError:
            return False
        self.index[key] = size
        self.bytes += size
        return True

    def read(self, key: str) -> torch.Tensor | None:
        """The block, or None when its file is gone or does not check out (then removed)."""
        start = time.perf_counter()
        path = self._path(key)
        try:
            block = self._load(path, key)
        except FileNotFoundError:
            block = None
        except (OSError, ValueError) as exc:
            log.warning("skipping prefix-cache block %s: %s", path, exc)
            block = None
        if block is None:
            self.drop(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recency, for the next process's index
        self.index.move_to_end(key)
        self.reads += 1
        self.read_s += time.perf_counter() - start
        return block

    def write(self, key: str, block: torch.Tensor) -> None:
        """Keep `block` on disk (a whole file appears, or none); a full or read-only disk
        turns writing off for this process with one warning."""
        if not self.writable or key in self.index:
            return
        start = time.perf_counter()
        data = block.contiguous().view(-1).view(torch.uint8).numpy()
        header = json.dumps(
            {
                "key": key,
                "fingerprint": self.fingerprint,
                "dtype": str(block.dtype).removeprefix("torch."),
                "shape": list(block.shape),
                "crc32": zlib.crc32(data.data),
            }
        ).encode()
        path = self._path(key)
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(MAGIC + struct.pack("<I", len(header)) + header)
                    fh.write(data.data)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("prefix-cache blocks are no longer written to %s: %s", self.folder, exc)
            self.writable = False
            return
        size = len(MAGIC) + 4 + len(header) + data.nbytes  # not stat: it may be trimmed already
        self.index[key] = size
        self.bytes += size
        self.writes += 1
        self.write_s += time.perf_counter() - start
        self._trim()

    def drop(self, key: str) -> None:
        self.bytes -= self.index.pop(key, 0)
        with contextlib.suppress(OSError):
            self._path(key).unlink()

    def clear(self) -> None:
        for key in list(self.index):
            self.drop(key)

    # -- internals ----------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def _scan(self) -> None:
        """Index the folder's blocks, oldest first; remove temp files of killed writers."""
        found: list[tuple[float, str, int]] = []
        now = time.time()
        for entry in os.scandir(self.folder):
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            name = entry.name
            if name.endswith(".tmp") and now - stat.st_mtime > _STALE_TMP_S:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
            elif name.endswith(SUFFIX) and _KEY.fullmatch(name[: -len(SUFFIX)]) and entry.is_file():
                found.append((stat.st_mtime, name[: -len(SUFFIX)], stat.st_size))
        for _, key, size in sorted(found):
            self.index[key] = size
            self.bytes += size
        self._trim()

    def _trim(self) -> None:
        while self.bytes > self.max_bytes and self.index:
            self.drop(next(iter(self.index)))

    def _load(self, path: Path, key: str) -> torch.Tensor:
        with path.open("rb") as fh:
            head = fh.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or not head.startswith(MAGIC):
                raise ValueError("not a prefix-cache block")
            header = json.loads(fh.read(struct.unpack("<I", head[len(MAGIC) :])[0]))
            if not isinstance(header, dict):
                raise ValueError("no header")
            if header.get("key") != key or header.get("fingerprint") != self.fingerprint:
                raise ValueError("the block belongs to another prefix or model")
            dtype = _DTYPES.get(str(header.get("dtype")))
            shape = header.get("shape")
            if dtype is None or not isinstance(shape, list) or len(shape) != 5:
                raise ValueError("unknown dtype or shape")
            if not all(isinstance(n, int) and n > 0 for n in shape):
                raise ValueError("a bad shape")
            if shape[3] != self.block_tokens:
                raise ValueError("the block has another size")
            numel = 1
            for n in shape:
                numel *= n
            raw = torch.empty(numel * dtype.itemsize, dtype=torch.uint8)
            view = raw.numpy()
            if fh.readinto(view.data) != raw.numel() or fh.read(1):
                raise ValueError("the file is cut short or too long")
        if zlib.crc32(view.data) != header.get("crc32"):
            raise ValueError("the block's bytes are damaged")
        return raw.view(dtype).view(shape)
