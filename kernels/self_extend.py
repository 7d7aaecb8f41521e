"""Self-Extend (Jin et al., 2024, "LLM Maybe LongLM") as a transformers attention function.

Keys within `window` tokens of a query attend at their true distance (the neighbour part);
farther keys attend at a *grouped* distance, both positions floor-divided by `group_size`
and the query shifted by window - window // group_size so the two parts meet at the window
edge. Both parts are scored and share one softmax, as in the reference implementation
(datamllab/LongLM, which merges the two score matrices by that mask before the softmax); we
compute each part with a fused attention kernel and merge them exactly through their
log-sum-exps, which never materialises a score matrix. The largest distance the model then sees is about
(length - window) / group_size + window, which must stay inside the native window.

Use: `plan_extension(config, n, "self_extend").apply(model)`, or by hand
`model.config.self_extend = {"group_size": 4, "window": 2048}` and
`longagent.kernels.register_attention()`, `model.set_attn_implementation("self_extend")`.
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

ATTN_NAME = "self_extend"


class SelfExtendConfig(BaseModel):
    """Parameters, stored on the model config as `config.self_extend` (a dict)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_size: int = Field(default=8, ge=1)
    window: int = Field(default=1024, ge=1)
    block_size: int | None = Field(default=None, ge=1, description="queries per block")

    def max_distance(self, length: int) -> int:
        """The largest relative position the model sees for `length` tokens."""
        g, w = self.group_size, self.window
        if length <= w:
            return length - 1
        return (length - 1) // g + w - w // g


def self_extend_attention(
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
    params = SelfExtendConfig.model_validate(getattr(module.config, "self_extend", None) or {})
    g, w = params.group_size, params.window
    b, heads, q_len, d = query.shape
    kv_len = key.shape[-2]
    scaling = d**-0.5 if scaling is None else scaling
    device = query.device

    inv_freq = rotary_inv_freq(module.config, device)
    q_pos, k_pos = token_positions(q_len, kv_len, kwargs.get("position_ids"), device)
    mask = allowed_mask(attention_mask, kv_len)

    def grouped(pos: torch.Tensor) -> torch.Tensor:  # floor(p / g)
        return pos.div(g, rounding_mode="floor")

    # Only keys w or more before the last query are ever grouped; they move to floor(p / g).
    far_keys = max(0, kv_len - w)
    far_pos = k_pos[:, :far_keys]
    key_grouped = rotate(key[:, :, :far_keys], grouped(far_pos) - far_pos, inv_freq)
    n_rep = heads // key.shape[1]  # grouped-query attention: repeat after rotating
    key, value, key_grouped = (expand_kv(x, n_rep) for x in (key, value, key_grouped))
    shift = w - w // g  # grouped queries sit at floor(p / g) + w - floor(w / g)

    out = query.new_empty(b, heads, q_len, d)
    first = kv_len - q_len  # cache index of the first query
    for s, e in query_blocks(q_len, b * heads * kv_len, params.block_size):
        q_idx = torch.arange(first + s, first + e, device=device)[:, None]
        qb, qp = query[:, :, s:e], q_pos[:, s:e]
        # Neighbour part: keys less than w before the query, at their true distance.
        n0, n1 = max(0, first + s - w + 1), first + e
        dist = q_idx - torch.arange(n0, n1, device=device)[None]
        near_ok = with_mask(((dist >= 0) & (dist < w))[None, None], mask, s, e, n0, n1)
        parts = [attend(qb, key[:, :, n0:n1], value[:, :, n0:n1], near_ok, scaling)]
        # Grouped part: keys w or more before the query, both sides at grouped positions.
        g1 = max(0, first + e - w)
        if g1 > 0:
            q_grouped = rotate(qb, grouped(qp) + shift - qp, inv_freq)
            far_ok = (q_idx - torch.arange(g1, device=device)[None] >= w)[None, None]
            far_ok = with_mask(far_ok, mask, s, e, 0, g1)
            k_far, v_far = key_grouped[:, :, :g1], value[:, :, :g1]
            parts.append(attend(q_grouped, k_far, v_far, far_ok, scaling))
        out[:, :, s:e] = merge(parts)
    return out.transpose(1, 2).contiguous(), None
