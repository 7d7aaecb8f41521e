"""The running batch of the embedded backend: each request's decoding state, and the KV
cache the rows share, left-padded to one length, which rows join and leave between steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache
from transformers.cache_utils import CacheLayerMixin

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


def attention_layers(cache: DynamicCache) -> list[CacheLayerMixin]:
    """The cache's layers, all key/value layers: the embedded backend runs attention models,
    never linear-attention ones, so no layer of another kind can be there."""
    layers = []
    for layer in cache.layers:
        assert isinstance(layer, CacheLayerMixin), f"unexpected cache layer {type(layer)}"
        layers.append(layer)
    return layers


def layer_kv(layer: CacheLayerMixin) -> tuple[torch.Tensor, torch.Tensor]:
    """A layer's keys and values; set once the layer has seen a forward pass, which every
    layer of a prefilled batch has."""
    assert layer.keys is not None and layer.values is not None, "cache layer never filled"
    return layer.keys, layer.values


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
                for a, b in zip(layer_kv(mine), layer_kv(theirs), strict=True)
            )
            for mine, theirs in zip(
                attention_layers(self.cache), attention_layers(other.cache), strict=True
            )
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
                for layer in attention_layers(self.cache):
                    keys, values = layer_kv(layer)
                    layer.keys, layer.values = keys[:, :, first:], values[:, :, first:]
        return self
