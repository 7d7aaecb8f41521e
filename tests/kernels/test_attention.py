"""Self-Extend and LM-Infinite: against naive references, standard attention, and themselves
with a KV cache (prefill, chunked prefill, token-by-token decoding, left padding)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from transformers import DynamicCache, LlamaForCausalLM
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

from longagent.kernels import (
    attention_base,
    lm_infinite_attention,
    register_attention,
    self_extend_attention,
)

from .conftest import tiny_llama_config

register_attention()
N, HEADS, KV_HEADS, D = 45, 4, 2, 16


@pytest.fixture(params=["fused", "explicit"], autouse=True)
def kernel_path(request, monkeypatch):
    """Every test runs with the fused CPU kernel and with the explicit fallback."""
    if request.param == "explicit":
        monkeypatch.setattr(attention_base, "_flash_cpu", lambda: None)
    return request.param


@pytest.fixture
def qkv():
    """Un-rotated q, k, v and a rotary embedding; the model-facing inputs are rotated."""
    torch.manual_seed(1)
    config = tiny_llama_config(hidden_size=HEADS * D, head_dim=D)
    q = torch.randn(1, HEADS, N, D)
    k = torch.randn(1, KV_HEADS, N, D)
    v = torch.randn(1, KV_HEADS, N, D)
    return config, LlamaRotaryEmbedding(config), q, k, v


def rope_at(rotary, x, positions):
    cos, sin = rotary(x, torch.as_tensor(positions)[None])
    return apply_rotary_pos_emb(x, x, cos, sin)[0]


def reference(q, k, v, scores):
    """softmax(causal scores) @ v with GQA, (b, heads, n, d) -> (b, n, heads, d)."""
    causal = torch.ones(N, N, dtype=torch.bool).tril()
    probs = scores.masked_fill(~causal, float("-inf")).softmax(-1)
    return (probs @ v.repeat_interleave(HEADS // KV_HEADS, 1)).transpose(1, 2)


def naive_self_extend(rotary, q, k, v, g, w):
    pos = torch.arange(N)
    kk = k.repeat_interleave(HEADS // KV_HEADS, 1)
    near = rope_at(rotary, q, pos) @ rope_at(rotary, kk, pos).transpose(2, 3)
    gq = pos // g + w - w // g
    far = rope_at(rotary, q, gq) @ rope_at(rotary, kk, pos // g).transpose(2, 3)
    dist = pos[:, None] - pos[None]
    return reference(q, k, v, torch.where(dist < w, near, far) * D**-0.5)


def naive_lm_infinite(rotary, q, k, v, window, n_global, cap):
    pos = torch.arange(N)
    kk = k.repeat_interleave(HEADS // KV_HEADS, 1)
    local = rope_at(rotary, q, pos) @ rope_at(rotary, kk, pos).transpose(2, 3)
    capped = rope_at(rotary, q, torch.full((N,), cap)) @ rope_at(
        rotary, kk, torch.zeros(N, dtype=torch.long)
    ).transpose(2, 3)
    dist = pos[:, None] - pos[None]
    scores = torch.where(dist < window, local, capped)
    visible = (dist < window) | (pos[None] < n_global)
    return reference(q, k, v, scores.masked_fill(~visible, float("-inf")) * D**-0.5)


def call(fn, config, rotary, q, k, v):
    pos = torch.arange(N)
    module = SimpleNamespace(config=config, training=False)
    qr, kr = rope_at(rotary, q, pos), rope_at(rotary, k, pos)
    return fn(module, qr, kr, v, None, scaling=D**-0.5, position_ids=pos[None])[0]


@pytest.mark.parametrize(("g", "w", "block"), [(2, 4, None), (3, 10, 7), (4, 1, 16), (5, 8, 1)])
def test_self_extend_matches_the_reference_formula(qkv, g, w, block):
    config, rotary, q, k, v = qkv
    config.self_extend = {"group_size": g, "window": w, "block_size": block}
    out = call(self_extend_attention, config, rotary, q, k, v)
    torch.testing.assert_close(out, naive_self_extend(rotary, q, k, v, g, w), atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize(
    ("window", "n_global", "cap", "block"),
    [(8, 2, None, None), (10, 0, None, 7), (5, 4, 3, 16), (1, 1, None, 1)],
)
def test_lm_infinite_matches_the_lambda_mask_reference(qkv, window, n_global, cap, block):
    config, rotary, q, k, v = qkv
    config.lm_infinite = {
        "window": window,
        "n_global": n_global,
        "max_distance": cap,
        "block_size": block,
    }
    out = call(lm_infinite_attention, config, rotary, q, k, v)
    expected = naive_lm_infinite(rotary, q, k, v, window, n_global, window if cap is None else cap)
    torch.testing.assert_close(out, expected, atol=2e-5, rtol=1e-4)


def logits(model, ids, **kwargs):
    with torch.no_grad():
        return model(ids, **kwargs).logits


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("self_extend", {"group_size": 1, "window": 4}),  # group size 1: nothing is grouped
        ("self_extend", {"group_size": 4, "window": 64}),  # window covers the input
        ("lm_infinite", {"window": 64, "n_global": 3}),  # window covers the input
        ("lm_infinite", {"window": 64, "n_global": 0, "block_size": 5}),
    ],
)
def test_equal_to_standard_attention_when_nothing_is_moved(tiny_llama, method, params):
    ids = torch.randint(0, 97, (2, 50))
    expected = logits(tiny_llama, ids)
    setattr(tiny_llama.config, method, params)
    tiny_llama.set_attn_implementation(method)
    torch.testing.assert_close(logits(tiny_llama, ids), expected, atol=1e-5, rtol=1e-5)


EXTENDING = [
    ("self_extend", {"group_size": 3, "window": 6}),
    ("lm_infinite", {"window": 8, "n_global": 2}),
]


@pytest.mark.parametrize(("method", "params"), EXTENDING)
def test_kv_cache_prefill_chunks_and_decoding_agree(tiny_llama, method, params):
    """A KV cache (chunked prefill, then one token at a time) gives the full pass's logits."""
    ids = torch.randint(0, 97, (1, 48))
    standard = logits(tiny_llama, ids)
    setattr(tiny_llama.config, method, params)
    tiny_llama.set_attn_implementation(method)
    full = logits(tiny_llama, ids)
    assert not torch.allclose(full, standard, atol=1e-3)  # the method does move tokens here

    cache = DynamicCache(config=tiny_llama.config)
    parts = [logits(tiny_llama, ids[:, :20], cache=cache, use_cache=True)]
    parts.append(logits(tiny_llama, ids[:, 20:33], cache=cache, use_cache=True))
    for t in range(33, 48):
        parts.append(logits(tiny_llama, ids[:, t : t + 1], cache=cache, use_cache=True))
    torch.testing.assert_close(torch.cat(parts, dim=1), full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("method", "params"), EXTENDING)
def test_generate_with_cache_equals_greedy_without(tiny_llama, method, params):
    setattr(tiny_llama.config, method, params)
    tiny_llama.set_attn_implementation(method)
    ids = torch.randint(0, 97, (1, 40))
    with torch.no_grad():
        generated = tiny_llama.generate(ids, max_new_tokens=6, do_sample=False)
    seq = ids
    for _ in range(6):
        seq = torch.cat((seq, logits(tiny_llama, seq)[:, -1:].argmax(-1)), dim=1)
    assert torch.equal(generated, seq)


@pytest.mark.parametrize(("method", "params"), EXTENDING)
def test_left_padding_in_a_batch(tiny_llama, method, params):
    setattr(tiny_llama.config, method, params)
    tiny_llama.set_attn_implementation(method)
    long, short = torch.randint(0, 97, (1, 40)), torch.randint(0, 97, (1, 29))
    pad = long.shape[1] - short.shape[1]
    ids = torch.cat((long, torch.cat((torch.zeros(1, pad, dtype=torch.long), short), 1)))
    mask = torch.ones_like(ids)
    mask[1, :pad] = 0
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    batch = logits(tiny_llama, ids, attention_mask=mask, position_ids=position_ids)
    torch.testing.assert_close(batch[:1], logits(tiny_llama, long), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(batch[1:, pad:], logits(tiny_llama, short), atol=1e-5, rtol=1e-5)
    assert torch.isfinite(batch).all()


def test_dynamic_rope_cannot_be_combined():
    rope = {"rope_type": "dynamic", "rope_theta": 1e4, "factor": 2.0}
    model = LlamaForCausalLM(tiny_llama_config(rope_parameters=rope)).eval()
    model.config.self_extend = {"group_size": 2, "window": 4}
    model.set_attn_implementation("self_extend")
    with pytest.raises(ValueError, match="dynamic NTK"):
        logits(model, torch.randint(0, 97, (1, 40)))


def test_rotations_compose_and_leave_the_non_rotary_tail_alone():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 16)
    inv_freq = torch.rand(4)  # a partial rotary dim of 8 of the 16
    a, b = torch.randint(-50, 50, (2, 5)), torch.randint(-50, 50, (1, 5))
    twice = attention_base.rotate(attention_base.rotate(x, a, inv_freq), b, inv_freq)
    torch.testing.assert_close(twice, attention_base.rotate(x, a + b, inv_freq))
    torch.testing.assert_close(twice[..., 8:], x[..., 8:])
    back = attention_base.rotate(attention_base.rotate(x, a, inv_freq), -a, inv_freq)
    torch.testing.assert_close(back, x)
