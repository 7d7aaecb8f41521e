"""Plumbing shared by the attention implementations that move tokens to other positions.

Transformers (5.x) rotates queries and keys before it calls an attention function, and the
KV cache holds rotated keys. Self-Extend and LM-Infinite need some query-key pairs at other
relative distances than the true one. RoPE is a rotation, so R(a) R(b) = R(a + b): a vector
already rotated to position p is moved to position p' by one more rotation by p' - p. We do
that here instead of patching each model's attention module to keep un-rotated keys: it works
for every rotate-half RoPE model (Llama, Mistral, Qwen, SmolLM, ...), with any cache, and the
angles are computed in float64, so the extra rotation adds no error beyond the model's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from pydantic import BaseModel

from longagent.kernels.rope import inv_freq_from_config, scaling_from_config

# Elements of one (batch, heads, block, keys) score matrix: 2**26 fp32 = 256 MiB, so a few
# temporaries per block keep a 32K-token prefill within ~1.5 GB whatever the length.
SCORE_BUDGET = 2**26

Part = tuple[torch.Tensor, torch.Tensor]  # an attention output and its log-sum-exp
P = TypeVar("P", bound=BaseModel)


def register(name: str, fn: Callable[..., Any]) -> None:
    """Make `name` usable as `attn_implementation` (idempotent).

    The mask is built as for SDPA (a boolean mask, or None when plain causal attention
    needs none), and our functions add their own structure on top of it.
    """
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(name, fn)
    AttentionMaskInterface.register(name, sdpa_mask)


def rotary_inv_freq(config: Any, device: torch.device) -> torch.Tensor:
    """The inverse frequencies the model rotated with. Dynamic NTK changes them with the
    length, so a second rotation could not know the first; we refuse that combination."""
    scaling = scaling_from_config(config)
    if scaling is not None and scaling.method == "dynamic":
        raise ValueError("Self-Extend and LM-Infinite cannot be combined with dynamic NTK RoPE")
    inv_freq, _ = inv_freq_from_config(config)
    return inv_freq.to(device)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rotate(x: torch.Tensor, delta: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    """Rotate `x` (batch, heads, n, head_dim), already at some positions, `delta` (batch or 1,
    n) positions further (negative moves back). Only the first 2*len(inv_freq) dims rotate."""
    angles = delta.to(torch.float64)[..., None] * inv_freq.to(torch.float64)
    emb = torch.cat((angles, angles), dim=-1)[:, None]
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    rot = emb.shape[-1]
    if rot == x.shape[-1]:
        return x * cos + rotate_half(x) * sin
    head, tail = x[..., :rot], x[..., rot:]
    return torch.cat((head * cos + rotate_half(head) * sin, tail), dim=-1)


def token_positions(
    q_len: int, kv_len: int, position_ids: torch.Tensor | None, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """RoPE positions of the queries (b, q_len) and of the cached keys (b, kv_len).

    The queries are the last q_len cache entries. A row's positions follow its cache indices
    less a constant offset, read at its last query (left padding gives it; pads are masked).
    """
    offset = torch.zeros(1, 1, dtype=torch.long, device=device)
    if position_ids is not None and position_ids.dim() == 2:
        offset = (kv_len - 1) - position_ids[:, -1:].to(device=device, dtype=torch.long)
    k_pos = torch.arange(kv_len, device=device)[None] - offset
    return k_pos[:, kv_len - q_len :], k_pos


def allowed_mask(attention_mask: torch.Tensor | None, kv_len: int) -> torch.Tensor | None:
    """The mask transformers passed in, as booleans (True = may attend), or None."""
    if attention_mask is None:
        return None
    mask = attention_mask[..., :kv_len]
    if mask.dtype == torch.bool:
        return mask
    return mask > torch.finfo(mask.dtype).min / 2  # an additive 0 / -inf mask


def with_mask(
    allowed: torch.Tensor, mask: torch.Tensor | None, s: int, e: int, k0: int, k1: int
) -> torch.Tensor:
    """`allowed` over (queries s:e, keys k0:k1), and the caller's mask over the same cells."""
    return allowed if mask is None else allowed & mask[:, :, s:e, k0:k1]


def expand_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Grouped-query attention: repeat each key/value head for its query heads."""
    if n_rep == 1:
        return x
    b, h, n, d = x.shape
    return x[:, :, None].expand(b, h, n_rep, n, d).reshape(b, h * n_rep, n, d)


def query_blocks(
    q_len: int, per_query: int, block_size: int | None = None
) -> Iterator[tuple[int, int]]:
    """[start, end) ranges of queries; `per_query` is the mask elements one query costs."""
    if block_size is None:
        block_size = max(64, SCORE_BUDGET // max(per_query, 1) // 64 * 64)
    for start in range(0, q_len, block_size):
        yield start, min(q_len, start + block_size)


def _flash_cpu() -> Callable[..., Any] | None:
    # The op behind torch's CPU SDPA, which also returns the log-sum-exp we merge with.
    # It is not public API, hence the explicit fallback below.
    return getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)


def attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, allowed: torch.Tensor, scale: float
) -> Part:
    """softmax(scale * q k^T where allowed) v and its log-sum-exp, (b, h, n, d) and (b, h, n).

    A row with no allowed key gets output 0 and log-sum-exp -inf, so `merge` ignores it.
    On CPU a fused kernel (about 2.5x faster than materialising the scores) does the work.
    """
    if k.shape[-2] == 0:
        return q.new_zeros(q.shape[:-1] + v.shape[-1:]), q.new_full(q.shape[:-1], -torch.inf)
    empty = ~allowed.any(dim=-1)  # (b or 1, 1, n)
    flash = _flash_cpu() if q.device.type == "cpu" else None
    if flash is not None:
        bias = torch.zeros(allowed.shape, dtype=q.dtype, device=q.device)
        bias.masked_fill_(~allowed, -torch.inf)
        out, lse = flash(q, k, v, 0.0, False, attn_mask=bias, scale=scale)
        lse = lse.float()
    else:
        scores = torch.matmul(q, k.transpose(2, 3)).float().mul_(scale)
        scores.masked_fill_(~allowed, -torch.inf)
        lse = scores.logsumexp(dim=-1)
        probs = (scores - lse.masked_fill(empty, 0)[..., None]).exp_()
        out = torch.matmul(probs.to(v.dtype), v)
    lse = lse.masked_fill(empty, -torch.inf)
    return out.masked_fill(empty[..., None], 0), lse


def merge(parts: list[Part]) -> torch.Tensor:
    """One softmax over the union of the parts' keys, from each part's output and
    log-sum-exp: the exact equivalent of merging the score matrices before the softmax."""
    total = torch.logsumexp(torch.stack([lse for _, lse in parts]), dim=0)
    total = total.masked_fill(torch.isinf(total), 0)  # rows no part attends: all weights 0
    out = sum(o.float() * (lse - total).exp()[..., None] for o, lse in parts)
    return out.to(parts[0][0].dtype)  # type: ignore[union-attr]


def method_params(module: torch.nn.Module, name: str, schema: type[P]) -> P:
    """The method's parameters, stored on the model config as a dict under `name`."""
    return schema.model_validate(getattr(module.config, name, None) or {})


@dataclass
class AttentionCall:
    """One call of an attention function that moves some query-key pairs: its inputs, where
    every query and key sits, and the caller's mask. Queries and keys (cache included) come
    rotated to their true positions; the queries are the last q_len cache entries."""

    query: torch.Tensor  # (b, heads, q, d)
    key: torch.Tensor  # (b, heads, kv, d): the key/value heads already repeated (GQA)
    value: torch.Tensor  # (b, heads, kv, d)
    scaling: float
    q_pos: torch.Tensor  # RoPE positions, (b or 1, q)
    k_pos: torch.Tensor  # (b or 1, kv)
    mask: torch.Tensor | None  # (b, 1, q, kv) booleans, True = may attend

    @classmethod
    def of(
        cls,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: torch.Tensor | None,
        scaling: float | None,
        position_ids: torch.Tensor | None,
    ) -> AttentionCall:
        q_len, kv_len = query.shape[-2], key.shape[-2]
        q_pos, k_pos = token_positions(q_len, kv_len, position_ids, query.device)
        n_rep = query.shape[1] // key.shape[1]
        return cls(
            query=query,
            key=expand_kv(key, n_rep),
            value=expand_kv(value, n_rep),
            scaling=query.shape[-1] ** -0.5 if scaling is None else scaling,
            q_pos=q_pos,
            k_pos=k_pos,
            mask=allowed_mask(attention_mask, kv_len),
        )

    @property
    def first(self) -> int:
        """The cache index of the first query."""
        return self.key.shape[-2] - self.query.shape[-2]

    def expand(self, kv: torch.Tensor) -> torch.Tensor:
        """Repeat key/value heads for their query heads; rotate before, it is cheaper."""
        return expand_kv(kv, self.query.shape[1] // kv.shape[1])

    def masked(self, allowed: torch.Tensor, s: int, e: int, k0: int, k1: int) -> torch.Tensor:
        """`allowed` (.., queries s:e, keys k0:k1) and the caller's mask over the same cells."""
        return with_mask(allowed, self.mask, s, e, k0, k1)

    def blockwise(
        self,
        window: int,
        per_query: int,
        block_size: int | None,
        far: Callable[[int, int, torch.Tensor], Part | None],
    ) -> torch.Tensor:
        """Attention for blocks of queries: each query's keys less than `window` before it,
        at their true distance, in one softmax with the part `far(s, e, q_idx)` adds for
        queries s:e (cache indices q_idx, a column), if any. Returns (b, q, heads, d)."""
        b, heads, q_len, d = self.query.shape
        first, device = self.first, self.query.device
        out = self.query.new_empty(b, heads, q_len, d)
        for s, e in query_blocks(q_len, per_query, block_size):
            q_idx = torch.arange(first + s, first + e, device=device)[:, None]
            k0, k1 = max(0, first + s - window + 1), first + e
            dist = q_idx - torch.arange(k0, k1, device=device)[None]
            near = self.masked(((dist >= 0) & (dist < window))[None, None], s, e, k0, k1)
            keys, values = self.key[:, :, k0:k1], self.value[:, :, k0:k1]
            parts = [attend(self.query[:, :, s:e], keys, values, near, self.scaling)]
            if (part := far(s, e, q_idx)) is not None:
                parts.append(part)
            out[:, :, s:e] = merge(parts)
        return out.transpose(1, 2).contiguous()
