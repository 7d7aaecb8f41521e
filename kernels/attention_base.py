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
from typing import Any

import torch

from longagent.kernels.rope import inv_freq_from_config, scaling_from_config

# Elements of one (batch, heads, block, keys) score matrix: 2**26 fp32 = 256 MiB, so a few
# temporaries per block keep a 32K-token prefill within ~1.5 GB whatever the length.
SCORE_BUDGET = 2**26


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
) -> tuple[torch.Tensor, torch.Tensor]:
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


def merge(parts: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """One softmax over the union of the parts' keys, from each part's output and
    log-sum-exp: the exact equivalent of merging the score matrices before the softmax."""
    total = torch.logsumexp(torch.stack([lse for _, lse in parts]), dim=0)
    total = total.masked_fill(torch.isinf(total), 0)  # rows no part attends: all weights 0
    out = sum(o.float() * (lse - total).exp()[..., None] for o, lse in parts)
    return out.to(parts[0][0].dtype)  # type: ignore[union-attr]
