"""Counting what a model costs: calls, tokens and seconds, for any `ChatModel`."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel

from longagent.llm.base import ChatModel, Generation, GenerationRequest


class Usage(BaseModel):
    model_calls: int = 0  # batched generate() calls
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # wall time inside the model

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            **{name: getattr(self, name) - getattr(other, name) for name in Usage.model_fields}
        )


class MeteredModel:
    """Wraps a model and adds up its usage; otherwise behaves exactly like it."""

    def __init__(self, model: ChatModel) -> None:
        self.inner = model
        self.name = model.name
        self.context_window = model.context_window
        self.usage = Usage()

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        start = time.perf_counter()
        results = self.inner.generate(requests)
        self.usage.seconds += time.perf_counter() - start
        self.usage.model_calls += 1
        self.usage.requests += len(requests)
        self.usage.prompt_tokens += sum(r.prompt_tokens for r in results)
        self.usage.completion_tokens += sum(r.completion_tokens for r in results)
        return results

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)
