"""The prefix KV cache: block matching, LRU order, disk spill, and equal output for real."""

from __future__ import annotations

import torch

from longagent.llm import GenerationRequest
from longagent.llm.prefix_cache import PrefixCache, block_keys

LAYERS, HEADS, DIM = 2, 3, 4


def kv_for(tokens: list[int]) -> torch.Tensor:
    """Fake KV whose values encode token and position, so slices can be checked."""
    values = torch.tensor(tokens, dtype=torch.float32) * 1000 + torch.arange(len(tokens))
    return values.view(1, 1, 1, -1, 1).expand(LAYERS, 2, HEADS, -1, DIM).clone()


def test_keys_name_the_whole_prefix() -> None:
    a = block_keys([1, 2, 3, 4], 2)
    b = block_keys([9, 9, 3, 4], 2)
    assert len(a) == 2 and a[0] != b[0]
    assert a[1] != b[1]  # same block tokens, different prefix
    assert block_keys([1, 2, 3], 2) == a[:1]  # partial blocks are never keyed


def test_lookup_returns_the_longest_cached_prefix_and_leaves_the_last_token() -> None:
    cache = PrefixCache(block_tokens=4)
    prompt = list(range(10, 22))  # 12 tokens: three full blocks
    cache.store(prompt, kv_for(prompt))
    assert len(cache) == 3
    # The same prompt: one token must stay unread, so only two blocks are served.
    n, kv = cache.lookup(prompt)
    assert n == 8 and torch.equal(kv, kv_for(prompt)[:, :, :, :8])
    # A prompt that diverges inside the second block shares only the first.
    other = prompt[:6] + [99] * 10
    assert cache.match(other) == 4
    assert cache.lookup([1, 2, 3]) == (0, None)


def test_store_from_an_offset_keeps_only_the_new_blocks() -> None:
    cache = PrefixCache(block_tokens=4)
    prompt = list(range(16))
    cache.store(prompt[:8], kv_for(prompt[:8]))
    cache.store(prompt, kv_for(prompt)[:, :, :, 8:], start=8)
    n, kv = cache.lookup([*prompt, 7])
    assert n == 16 and torch.equal(kv, kv_for(prompt))


def test_eviction_takes_continuations_before_their_prefix() -> None:
    block_bytes = LAYERS * 2 * HEADS * 4 * DIM * 4
    cache = PrefixCache(block_tokens=4, max_bytes=2 * block_bytes)
    shared = [1, 2, 3, 4]
    cache.store([*shared, 5, 6, 7, 8], kv_for([*shared, 5, 6, 7, 8]))
    cache.store([*shared, 9, 9, 9, 9], kv_for([*shared, 9, 9, 9, 9]))
    assert cache.bytes <= cache.max_bytes and len(cache) == 2
    # The older continuation went; the shared prefix stays for the newer one.
    assert cache.match([*shared, 9, 9, 9, 9, 0]) == 8
    assert cache.match([*shared, 5, 6, 7, 8, 0]) == 4


def test_evicted_blocks_spill_to_disk_and_come_back(tmp_path) -> None:
    block_bytes = LAYERS * 2 * HEADS * 4 * DIM * 4
    cache = PrefixCache(block_tokens=4, max_bytes=block_bytes, spill_dir=tmp_path)
    prompt = list(range(12))
    cache.store(prompt, kv_for(prompt))
    # Written through: all three blocks are on disk, one is still in memory.
    assert cache.bytes <= block_bytes and len(list(tmp_path.glob("*/*.kv"))) == 3
    n, kv = cache.lookup([*prompt, 0])
    assert n == 12 and torch.equal(kv, kv_for(prompt))
    assert cache.bytes <= block_bytes  # read back, then evicted again


def test_disk_is_bounded_too(tmp_path) -> None:
    block_bytes = LAYERS * 2 * HEADS * 4 * DIM * 4
    cache = PrefixCache(
        block_tokens=4, max_bytes=block_bytes, spill_dir=tmp_path, max_disk_bytes=3 * block_bytes
    )
    prompt = list(range(40))
    cache.store(prompt, kv_for(prompt))
    assert cache.disk_bytes <= 3 * block_bytes
    assert sum(f.stat().st_size for f in tmp_path.glob("*/*.kv")) == cache.disk_bytes


CHUNK = (
    "The lighthouse keeper, Mara Venn, logged every ship that passed the northern cape. "
    "In the spring of 1911 she recorded forty-two vessels, among them the steamer Aurora, "
    "which carried copper ore from the mines at Kettle Bay. "
) * 4


def member_like(question: str, **kwargs) -> GenerationRequest:
    return GenerationRequest.chat(
        ("system", "Answer from the text only."),
        ("user", f"<text>\n{CHUNK}\n</text>\n\nQuestion: {question}"),
        max_new_tokens=24,
        **kwargs,
    )


def test_real_model_output_is_the_same_with_and_without_the_cache(bundled_model) -> None:
    from longagent.llm.prefix_cache import PrefixCache

    schema = {
        "type": "object",
        "properties": {"quote": {"type": "string"}, "answer": {"type": "string"}},
        "required": ["quote", "answer"],
    }
    first = [member_like("Who kept the lighthouse?"), member_like("What did the Aurora carry?")]
    second = [
        member_like("How many vessels passed in 1911?"),
        GenerationRequest.chat("Name a colour.", max_new_tokens=8),  # nothing to reuse
        member_like("Where were the mines?", json_schema=schema),
    ]
    saved = bundled_model.prefix_cache
    try:
        bundled_model.prefix_cache = None
        reference = bundled_model.generate(first + second)
        bundled_model.prefix_cache = PrefixCache()
        warm = bundled_model.generate(first)
        served_before = bundled_model.prefix_cache.hits
        reused = bundled_model.generate(second)
        served = bundled_model.prefix_cache.hits - served_before
    finally:
        bundled_model.prefix_cache = saved
    assert [g.text for g in warm + reused] == [g.text for g in reference]
    assert [g.prompt_tokens for g in warm + reused] == [g.prompt_tokens for g in reference]
    # Both member-like prompts of the second call read the chunk from the cache.
    chunk_blocks = bundled_model.count_tokens(CHUNK) // 32
    assert served >= 2 * chunk_blocks


def test_the_cache_is_off_when_positions_depend_on_the_length(bundled_model) -> None:
    # Dynamic NTK rescales every position by the current length, so a prefix's KV states
    # change with what follows it.
    config = bundled_model.hf_model.config
    saved = dict(config.rope_parameters)
    try:
        assert not bundled_model._kv_depends_on_what_follows()
        config.rope_parameters = {**saved, "rope_type": "dynamic", "factor": 2.0}
        assert bundled_model._kv_depends_on_what_follows()
    finally:
        config.rope_parameters = saved


def test_the_cache_is_off_for_attention_that_moves_cached_keys(bundled_model) -> None:
    # Self-Extend and LM-Infinite re-position keys assuming a row's tokens are contiguous in
    # the cache; a reused prefix is followed by padding.
    from longagent.kernels.planner import LM_INFINITE, SELF_EXTEND

    config = bundled_model.hf_model.config
    saved = config._attn_implementation
    try:
        for name in (SELF_EXTEND, LM_INFINITE):
            config._attn_implementation = name
            assert bundled_model._kv_depends_on_what_follows()
    finally:
        config._attn_implementation = saved
    assert not bundled_model._kv_depends_on_what_follows()
