"""The prefix cache holds no more than its limit: its byte count is what its blocks really
take (each block owns its storage, no view keeps a whole batch's KV alive), and it stays
under `max_bytes` through any sequence of stores and lookups, in memory and on disk."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from longagent.llm import GenerationRequest
from longagent.llm.prefix_cache import PrefixCache

LAYERS, HEADS, DIM, BLOCK = 2, 3, 4, 4
BLOCK_BYTES = LAYERS * 2 * HEADS * BLOCK * DIM * 4


def held_bytes(cache: PrefixCache) -> int:
    """What the blocks in memory really hold: their storages, each counted once."""
    storages = {b.untyped_storage().data_ptr(): b.untyped_storage().nbytes() for b in
                cache._memory.values()}  # fmt: skip
    return sum(storages.values())


def prompts(seed: int, count: int) -> list[list[int]]:
    """Prompts that share prefixes (a system prompt, a chunk asked twice) and diverge."""
    rng = random.Random(seed)
    stems = [[rng.randrange(50) for _ in range(rng.randrange(4, 24))] for _ in range(5)]
    return [rng.choice(stems) + [rng.randrange(50) for _ in range(rng.randrange(1, 30))]
            for _ in range(count)]  # fmt: skip


@pytest.mark.parametrize("spill", [False, True])
def test_the_cache_never_holds_more_than_its_limit(tmp_path: Path, spill: bool) -> None:
    cache = PrefixCache(
        block_tokens=BLOCK,
        max_bytes=7 * BLOCK_BYTES,
        spill_dir=tmp_path / "spill" if spill else None,
        max_disk_bytes=5 * BLOCK_BYTES,
    )
    for prompt in prompts(seed=7, count=60):
        start, _ = cache.lookup(prompt)
        # A batch's KV for every prompt token after the cached prefix, as the model keeps it
        # (a slice of a bigger tensor: a block must not keep the rest alive).
        batch = torch.randn(LAYERS, 2, 3, HEADS, len(prompt) + 5, DIM)
        cache.store(prompt, batch[:, :, 1, :, start : len(prompt)], start=start)
        assert cache.bytes == held_bytes(cache) <= cache.max_bytes
        if spill:
            on_disk = sum(p.stat().st_size for p in (tmp_path / "spill").glob("*/*.kv"))
            assert cache.disk_bytes == on_disk <= 5 * BLOCK_BYTES
    assert cache.hits > 0 and len(cache) > 0


@pytest.mark.slow
def test_the_real_model_s_cache_stays_within_its_limit(bundled_model) -> None:
    saved = bundled_model.prefix_cache
    text = "The keeper lit the lamp at dusk and wrote the ships in his book. " * 12
    questions = ["Who lit the lamp?", "When was it lit?", "What did he write?", "Why?"]
    try:
        cache = bundled_model.prefix_cache = PrefixCache(max_bytes=12 << 20)  # ~8 blocks
        for question in questions:
            bundled_model.generate(
                [GenerationRequest.chat(f"{text}\n\n{question}", max_new_tokens=2)]
            )
            assert cache.bytes == held_bytes(cache) <= cache.max_bytes
        assert cache.hits > 0  # the shared text was served from the cache
    finally:
        bundled_model.prefix_cache = saved
