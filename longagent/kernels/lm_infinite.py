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
    AttentionCall,
    Part,
    attend,
    method_params,
    rotary_inv_freq,
    rotate,
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
    params = method_params(module, ATTN_NAME, LMInfiniteConfig)
    window, n_global = params.window, params.n_global
    cap = params.window if params.max_distance is None else params.max_distance
    call = AttentionCall.of(query, key, value, attention_mask, scaling, kwargs.get("position_ids"))
    kv_len, device = key.shape[-2], query.device

    b, heads, _, _ = query.shape
    g1 = min(kv_len, n_global + int((-call.k_pos[:, :1]).clamp(min=0).max()))
    per_query = b * heads * (window + g1)
    if n_global == 0 or kv_len - 1 - window < 0:  # no global branch, or every key is local
        return call.blockwise(window, per_query, params.block_size, lambda *_: None), None

    # Global branch: the keys at positions [0, n_global) (left padding moves their cache
    # index, hence g1), rotated back to position 0, met by the query rotated to `cap`.
    inv_freq = rotary_inv_freq(module.config, device)
    g_pos = call.k_pos[:, :g1]
    key_global = call.expand(rotate(key[:, :, :g1], -g_pos, inv_freq))
    is_global = ((g_pos >= 0) & (g_pos < n_global))[:, None, None]  # (b, 1, 1, g1)

    def global_part(s: int, e: int, q_idx: torch.Tensor) -> Part | None:
        if call.first + e - 1 - window < 0:  # the block's queries see every key locally
            return None
        q_capped = rotate(call.query[:, :, s:e], cap - call.q_pos[:, s:e], inv_freq)
        far_ok = is_global & (q_idx - torch.arange(g1, device=device)[None] >= window)
        far_ok = call.masked(far_ok, s, e, 0, g1)
        return attend(q_capped, key_global, call.value[:, :, :g1], far_ok, call.scaling)

    return call.blockwise(window, per_query, params.block_size, global_part), None
