"""Keep the KV states of prompt prefixes so a second question over a chunk skips its prefill.

Prompts are cut into fixed blocks of tokens. A block is keyed by a hash chained over every
token before it, so a key names one whole prefix (as vLLM's automatic prefix caching does).
Each block holds its own slice of KV states, which shares common prefixes between prompts
(a system prompt, a chunk asked about twice) instead of storing them once per prompt.
Blocks live in memory under a byte bound, least recently used first out; evicted blocks
can spill to disk under a second bound.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import torch

# A block's KV: [layers, 2 (key, value), kv_heads, block_tokens, head_dim].
BlockKV = torch.Tensor


def block_keys(tokens: Sequence[int], block_tokens: int) -> list[str]:
    """The chained key of every full block of `tokens`, in order."""
    keys: list[str] = []
    digest = b""
    for start in range(0, len(tokens) - block_tokens + 1, block_tokens):
        block = ",".join(map(str, tokens[start : start + block_tokens])).encode()
        digest = hashlib.blake2b(digest + block, digest_size=16).digest()
        keys.append(digest.hex())
    return keys


class PrefixCache:
    """An LRU store of KV blocks keyed by their whole prefix.

    `max_bytes` bounds memory; with `spill_dir`, blocks evicted from memory are written there
    (bounded by `max_disk_bytes`) and read back on a hit.
    """

    def __init__(
        self,
        *,
        block_tokens: int = 32,
        max_bytes: int = 2 << 30,
        spill_dir: str | Path | None = None,
        max_disk_bytes: int = 8 << 30,
    ) -> None:
        self.block_tokens = block_tokens
        self.max_bytes = max_bytes
        self.max_disk_bytes = max_disk_bytes
        self.spill_dir = Path(spill_dir).expanduser() if spill_dir else None
        if self.spill_dir:
            self.spill_dir.mkdir(parents=True, exist_ok=True)
        self._memory: OrderedDict[str, BlockKV] = OrderedDict()
        self._disk: OrderedDict[str, int] = OrderedDict()  # key -> file size
        self.bytes = 0
        self.disk_bytes = 0
        self.hits = 0  # blocks served
        self.misses = 0  # blocks looked for and not found

    def __len__(self) -> int:
        return len(self._memory) + len(self._disk)

    def match(self, tokens: Sequence[int], *, keep_last: int = 1) -> int:
        """How many leading tokens of `tokens` `lookup` would serve (no data is moved)."""
        return len(self._cached_keys(tokens, keep_last)) * self.block_tokens

    def lookup(self, tokens: Sequence[int], *, keep_last: int = 1) -> tuple[int, BlockKV | None]:
        """The longest cached prefix of `tokens` that leaves at least `keep_last` tokens
        unread (the model needs logits for the last prompt token): its length, and its KV
        as [layers, 2, kv_heads, length, head_dim]."""
        keys = self._cached_keys(tokens, keep_last)
        usable = max(0, len(tokens) - keep_last) // self.block_tokens
        self.hits += len(keys)
        self.misses += usable - len(keys)
        if not keys:
            return 0, None
        blocks = [self._get(key) for key in keys]
        self._touch(keys)
        self._evict()  # blocks read back from disk may overflow memory
        return len(keys) * self.block_tokens, torch.cat(blocks, dim=3)

    def store(self, tokens: Sequence[int], kv: BlockKV, *, start: int = 0) -> None:
        """Keep the full blocks of `tokens` from position `start` (a block boundary);
        `kv` holds positions `start` to `len(tokens)` as [layers, 2, kv_heads, n, head_dim]."""
        assert start % self.block_tokens == 0
        keys = block_keys(tokens, self.block_tokens)
        for index in range(start // self.block_tokens, len(keys)):
            key = keys[index]
            if key in self._memory or key in self._disk:
                continue
            offset = index * self.block_tokens - start
            # clone: a view would keep the whole batch's KV alive.
            block = kv[:, :, :, offset : offset + self.block_tokens].clone()
            self._memory[key] = block
            self.bytes += block.numel() * block.element_size()
        self._touch(keys)
        self._evict()

    def clear(self) -> None:
        for key in list(self._disk):
            self._drop_file(key)
        self._memory.clear()
        self.bytes = 0

    # -- internals ----------------------------------------------------------------------

    def _cached_keys(self, tokens: Sequence[int], keep_last: int) -> list[str]:
        usable = max(0, len(tokens) - keep_last) // self.block_tokens
        keys = block_keys(tokens[: usable * self.block_tokens], self.block_tokens)
        for n, key in enumerate(keys):
            if key not in self._memory and key not in self._disk:
                return keys[:n]
        return keys

    def _touch(self, keys: list[str]) -> None:
        # From the chain's end back to its start, so a prefix is never older than its
        # continuations and eviction takes continuations first.
        for key in reversed(keys):
            if key in self._memory:
                self._memory.move_to_end(key)

    def _get(self, key: str) -> BlockKV:
        if key not in self._memory:
            assert self.spill_dir is not None
            block = torch.load(self.spill_dir / f"{key}.pt", weights_only=True)
            self._drop_file(key)
            self._memory[key] = block
            self.bytes += block.numel() * block.element_size()
            return block
        return self._memory[key]

    def _evict(self) -> None:
        while self.bytes > self.max_bytes and self._memory:
            key, block = self._memory.popitem(last=False)
            self.bytes -= block.numel() * block.element_size()
            if self.spill_dir is not None:
                self._spill(key, block)

    def _spill(self, key: str, block: BlockKV) -> None:
        assert self.spill_dir is not None
        path = self.spill_dir / f"{key}.pt"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save(block, tmp)
        tmp.replace(path)  # atomic: a reader never sees half a block
        size = path.stat().st_size
        self._disk[key] = size
        self.disk_bytes += size
        while self.disk_bytes > self.max_disk_bytes and self._disk:
            self._drop_file(next(iter(self._disk)))

    def _drop_file(self, key: str) -> None:
        assert self.spill_dir is not None
        self.disk_bytes -= self._disk.pop(key)
        (self.spill_dir / f"{key}.pt").unlink(missing_ok=True)
