"""LM-Infinite (Han et al., 2024) as a transformers attention function.

A Lambda-shaped mask: each query sees the keys of its local window (the last `window`
tokens, at their true distance) plus the first `n_global` tokens of the sequence; a global
token outside the window is seen at a distance capped to `max_distance` (the paper's d_max,
the native window), so no query ever meets a distance it was not trained on. Cost grows
linearly with the length. Tokens outside both branches are invisible: unlike Self-Extend,
a fact beyond the window can only reach the answer through the layers' hidden states.

Use: `plan_extension(config, n, "lm_infinite").apply(model)`, or by hand
`model.config.lm_infinite = {"window": 8192, "n_global": 10}` and
`longagent.kernels.register_attention()`, `model.set_attn_implementation("lm_infinite")`.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from longagent.kernels.attention_base import (
    allowed_mask,
    attend,
    expand_kv,
    merge,
    query_blocks,
    rotary_inv_freq,
    rotate,
    token_positions,
    with_mask,
)

ATTN_NAME = "lm_infinite"


class LMInfiniteConfig(BaseModel):
    """Parameters, stored on the model config as `config.lm_infinite` (a dict)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(default=4096, ge=1, description="local branch, in tokens")
    n_global: int = Field(default=10, ge=0, description="leading tokens every query sees")
    max_distance: int | None = Field(default=None, ge=0, description="d_max; None = window")
    block_size: int | None = Field(default=None, ge=1, description="queries per block")


def lm_infinite_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """query (b, heads, q, d) and key/value (b, kv_heads, kv, d), all rotated to their true
    positions (keys from the cache included); returns (b, q, heads, d) like transformers.
    Inference only: `dropout` is accepted for the interface and ignored."""
    params = LMInfiniteConfig.model_validate(getattr(module.config, "lm_infinite", None) or {})
    window, n_global = params.window, params.n_global
    cap = params.window if params.max_distance is None else params.max_distance
    b, heads, q_len, d = query.shape
    kv_len = key.shape[-2]
    scaling = d**-0.5 if scaling is None else scaling
    device = query.device

    q_pos, k_pos = token_positions(q_len, kv_len, kwargs.get("position_ids"), device)
    mask = allowed_mask(attention_mask, kv_len)
    first = kv_len - q_len  # cache index of the first query

    # Global branch: the keys at positions [0, n_global) (left padding moves their cache
    # index), rotated back to position 0, met by the query rotated to position `cap`.
    g1 = min(kv_len, n_global + int((-k_pos[:, :1]).clamp(min=0).max()))
    use_global = n_global > 0 and kv_len - 1 - window >= 0  # some key is out of window
    if use_global:
        inv_freq = rotary_inv_freq(module.config, device)
        g_pos = k_pos[:, :g1]
        key_global = rotate(key[:, :, :g1], -g_pos, inv_freq)
        is_global = ((g_pos >= 0) & (g_pos < n_global))[:, None, None]  # (b, 1, 1, g1)

    n_rep = heads // key.shape[1]  # grouped-query attention: repeat after rotating
    key, value = expand_kv(key, n_rep), expand_kv(value, n_rep)
    if use_global:
        key_global = expand_kv(key_global, n_rep)

    out = query.new_empty(b, heads, q_len, d)
    for s, e in query_blocks(q_len, b * heads * (window + g1), params.block_size):
        q_idx = torch.arange(first + s, first + e, device=device)[:, None]
        qb = query[:, :, s:e]
        n0, n1 = max(0, first + s - window + 1), first + e  # the block's local keys
        dist = q_idx - torch.arange(n0, n1, device=device)[None]
        local_ok = with_mask(((dist >= 0) & (dist < window))[None, None], mask, s, e, n0, n1)
        parts = [attend(qb, key[:, :, n0:n1], value[:, :, n0:n1], local_ok, scaling)]
        if use_global and first + e - 1 - window >= 0:
            q_capped = rotate(qb, cap - q_pos[:, s:e], inv_freq)
            far_ok = is_global & (q_idx - torch.arange(g1, device=device)[None] >= window)
            far_ok = with_mask(far_ok, mask, s, e, 0, g1)
            parts.append(attend(q_capped, key_global, value[:, :, :g1], far_ok, scaling))
        out[:, :, s:e] = merge(parts)
    return out.transpose(1, 2).contiguous(), None
