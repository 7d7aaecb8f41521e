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
    AttentionCall,
    Part,
    attend,
    method_params,
    rotary_inv_freq,
    rotate,
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
    params = method_params(module, ATTN_NAME, SelfExtendConfig)
    g, w = params.group_size, params.window
    call = AttentionCall.of(query, key, value, attention_mask, scaling, kwargs.get("position_ids"))
    inv_freq = rotary_inv_freq(module.config, query.device)

    def grouped(pos: torch.Tensor) -> torch.Tensor:  # floor(p / g)
        return pos.div(g, rounding_mode="floor")

    # Only keys w or more before the last query are ever grouped; they move to floor(p / g).
    far_keys = max(0, key.shape[-2] - w)
    far_pos = call.k_pos[:, :far_keys]
    key_grouped = call.expand(rotate(key[:, :, :far_keys], grouped(far_pos) - far_pos, inv_freq))
    shift = w - w // g  # grouped queries sit at floor(p / g) + w - floor(w / g)

    def grouped_part(s: int, e: int, q_idx: torch.Tensor) -> Part | None:
        """Keys w or more before the query, both sides at grouped positions."""
        g1 = max(0, call.first + e - w)
        if g1 == 0:
            return None
        qp = call.q_pos[:, s:e]
        q_grouped = rotate(call.query[:, :, s:e], grouped(qp) + shift - qp, inv_freq)
        far_ok = (q_idx - torch.arange(g1, device=query.device)[None] >= w)[None, None]
        far_ok = call.masked(far_ok, s, e, 0, g1)
        return attend(
            q_grouped, key_grouped[:, :, :g1], call.value[:, :, :g1], far_ok, call.scaling
        )

    b, heads, _, _ = query.shape
    per_query = b * heads * key.shape[-2]
    return call.blockwise(w, per_query, params.block_size, grouped_part), None
