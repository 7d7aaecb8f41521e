"""Keep the KV states of prompt prefixes so a second question over a chunk skips its prefill.

Prompts are cut into fixed blocks of tokens. A block is keyed by a hash chained over every
token before it, so a key names one whole prefix (as vLLM's automatic prefix caching does).
Each block holds its own slice of KV states, which shares common prefixes between prompts
(a system prompt, a chunk asked about twice) instead of storing them once per prompt.
Blocks live in memory under a byte bound, least recently used first out. With a spill
folder, every block is also written there as it is computed (`prefix_disk`): memory
evictions lose nothing, and a later process on the same model reads those blocks instead
of prefilling them again.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import torch

from longagent.llm.prefix_disk import DiskBlocks

log = logging.getLogger(__name__)

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

    `max_bytes` bounds memory. With `spill_dir`, blocks are written through to
    `spill_dir/fingerprint` (bounded by `max_disk_bytes`), read back on a hit, and found
    there by the next process; `fingerprint` names everything the KV depends on (model,
    dtype, extension plan), so another model never reads them.
    """

    def __init__(
        self,
        *,
        block_tokens: int = 32,
        max_bytes: int = 2 << 30,
        spill_dir: str | Path | None = None,
        max_disk_bytes: int = 8 << 30,
        fingerprint: str = "default",
    ) -> None:
        self.block_tokens = block_tokens
        self.max_bytes = max_bytes
        self.disk: DiskBlocks | None = None
        if spill_dir is not None:
            folder = Path(spill_dir).expanduser() / fingerprint
            try:
                self.disk = DiskBlocks(folder, fingerprint, max_disk_bytes, block_tokens)
            except OSError as exc:  # a cache: answer from memory rather than fail
                log.warning("prefix-cache blocks stay in memory: %s is unusable (%s)", folder, exc)
        self._memory: OrderedDict[str, BlockKV] = OrderedDict()
        self.bytes = 0
        self.hits = 0  # blocks served
        self.disk_hits = 0  # of those, blocks read from disk
        self.misses = 0  # blocks looked for and not found

    @property
    def disk_bytes(self) -> int:
        return self.disk.bytes if self.disk is not None else 0

    def __len__(self) -> int:
        on_disk = self.disk.index.keys() if self.disk is not None else set()
        return len(self._memory.keys() | on_disk)

    def match(self, tokens: Sequence[int], *, keep_last: int = 1) -> int:
        """How many leading tokens of `tokens` `lookup` would serve (no data is moved)."""
        return len(self._cached_keys(tokens, keep_last)) * self.block_tokens

    def lookup(self, tokens: Sequence[int], *, keep_last: int = 1) -> tuple[int, BlockKV | None]:
        """The longest cached prefix of `tokens` that leaves at least `keep_last` tokens
        unread (the model needs logits for the last prompt token): its length, and its KV
        as [layers, 2, kv_heads, length, head_dim]."""
        usable = max(0, len(tokens) - keep_last) // self.block_tokens
        blocks: list[BlockKV] = []
        for key in self._cached_keys(tokens, keep_last):
            block = self._get(key)
            if block is None:  # its file went (another process trimmed it) or was damaged
                break
            blocks.append(block)
        keys = block_keys(tokens[: len(blocks) * self.block_tokens], self.block_tokens)
        self.hits += len(keys)
        self.misses += usable - len(keys)
        if not keys:
            return 0, None
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
            if key in self._memory:
                continue
            offset = index * self.block_tokens - start
            # clone: a view would keep the whole batch's KV alive.
            block = kv[:, :, :, offset : offset + self.block_tokens].clone()
            self._memory[key] = block
            self.bytes += block.numel() * block.element_size()
            if self.disk is not None:
                self.disk.write(key, block)
        self._touch(keys)
        self._evict()

    def clear(self) -> None:
        """Forget every block, in memory and on disk."""
        if self.disk is not None:
            self.disk.clear()
        self._memory.clear()
        self.bytes = 0

    # -- internals ----------------------------------------------------------------------

    def _cached_keys(self, tokens: Sequence[int], keep_last: int) -> list[str]:
        usable = max(0, len(tokens) - keep_last) // self.block_tokens
        keys = block_keys(tokens[: usable * self.block_tokens], self.block_tokens)
        for n, key in enumerate(keys):
            if key not in self._memory and (self.disk is None or key not in self.disk):
                return keys[:n]
        return keys

    def _touch(self, keys: list[str]) -> None:
        # From the chain's end back to its start, so a prefix is never older than its
        # continuations and eviction takes continuations first.
        for key in reversed(keys):
            if key in self._memory:
                self._memory.move_to_end(key)

    def _get(self, key: str) -> BlockKV | None:
        if key in self._memory:
            return self._memory[key]
        assert self.disk is not None
        block = self.disk.read(key)
        if block is not None:
            self.disk_hits += 1
            self._memory[key] = block
            self.bytes += block.numel() * block.element_size()
        return block

    def _evict(self) -> None:
        # Blocks are on disk already (written through), so eviction only frees memory.
        while self.bytes > self.max_bytes and self._memory:
            _, block = self._memory.popitem(last=False)
            self.bytes -= block.numel() * block.element_size()
