"""The running batch of the embedded backend: each request's decoding state, and the KV
cache the rows share, left-padded to one length, which rows join and leave between steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache

from longagent.llm.base import FinishReason, Generation, GenerationRequest


@dataclass
class Row:
    """Decoding state of one request inside a batch."""

    request: GenerationRequest
    prompt_len: int
    matcher: Any | None  # xgrammar.GrammarMatcher for JSON-schema requests
    generator: torch.Generator | None  # for sampling; None means greedy
    token_ids: list[int] = field(default_factory=list)
    text: str = ""
    finish_reason: FinishReason | None = None

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def result(self) -> Generation:
        return Generation(
            text=self.text,
            prompt_tokens=self.prompt_len,
            completion_tokens=len(self.token_ids),
            finish_reason=self.finish_reason or "length",
        )


def pad_left(x: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - x.shape[dim]
    if missing == 0:
        return x
    shape = list(x.shape)
    shape[dim] = missing
    return torch.cat([x.new_zeros(shape), x], dim=dim)


@dataclass
class DecodeBatch:
    """The rows decoding together: their KV cache, left-padded to one length, the mask over
    it, each row's next position and next input token, and which request each row is."""

    cache: DynamicCache
    attention: torch.Tensor  # (rows, past): 1 where a row has a real token
    positions: torch.Tensor  # (rows, 1): the position of each row's next input token
    tokens: list[int]
    live: list[int]  # batch index -> request index

    def merge(self, other: DecodeBatch, config: Any) -> DecodeBatch:
        """Rows that were just prefilled join the running ones (pads go on the left)."""
        width = max(self.attention.shape[1], other.attention.shape[1])
        layers = [
            tuple(
                torch.cat([pad_left(a, width, 2), pad_left(b, width, 2)])
                for a, b in ((mine.keys, theirs.keys), (mine.values, theirs.values))
            )
            for mine, theirs in zip(self.cache.layers, other.cache.layers, strict=True)
        ]
        return DecodeBatch(
            DynamicCache(ddp_cache_data=layers, config=config),
            torch.cat([pad_left(self.attention, width, 1), pad_left(other.attention, width, 1)]),
            torch.cat([self.positions, other.positions]),
            self.tokens + other.tokens,
            self.live + other.live,
        )

    def without_finished(self, rows: list[Row]) -> DecodeBatch | None:
        """Drop finished rows, and the pad columns no remaining row needs; None when empty."""
        keep = [b for b, i in enumerate(self.live) if not rows[i].done]
        if not keep:
            return None
        if len(keep) < len(self.live):
            index = torch.tensor(keep)
            self.cache.batch_select_indices(index)
            self.attention = self.attention[index]
            self.positions = self.positions[index]
            self.tokens = [self.tokens[b] for b in keep]
            self.live = [self.live[b] for b in keep]
            first = int(self.attention.any(dim=0).int().argmax())  # leftmost column in use
            if first > 0:  # the rows that needed the widest padding have left
                self.attention = self.attention[:, first:]
                for layer in self.cache.layers:
                    layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]
        return self
