"""A scripted model for deterministic tests of control flow (like DSPy's DummyLM).

It answers from a script instead of weights, records every batch it was given, and
counts tokens as whitespace-separated words, so tests can reason about budgets exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from longagent.errors import ContextOverflowError
from longagent.llm.base import Generation, GenerationRequest

Responder = Callable[[GenerationRequest], str | dict]


class ScriptedModel:
    """`ScriptedModel(["a", "b"])` answers "a" then "b"; `ScriptedModel(fn)` answers
    `fn(request)`. A dict answer is serialised as JSON (for schema-constrained requests)."""

    def __init__(
        self,
        script: Iterable[str | dict] | Responder,
        *,
        name: str = "scripted",
        context_window: int = 2048,
    ) -> None:
        self.name = name
        self.context_window = context_window
        self._responder: Responder | None = script if callable(script) else None
        self._queue: list[str | dict] = [] if callable(script) else list(script)
        self.batches: list[list[GenerationRequest]] = []

    @property
    def calls(self) -> int:
        """Number of `generate` calls (batches), not requests."""
        return len(self.batches)

    @property
    def requests(self) -> list[GenerationRequest]:
        return [r for batch in self.batches for r in batch]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.batches.append(list(requests))
        return [self._one(r) for r in requests]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _one(self, request: GenerationRequest) -> Generation:
        prompt = " ".join(m.content for m in request.messages)
        if self.count_tokens(prompt) >= self.context_window:  # as a real model refuses it
            raise ContextOverflowError(
                f"The prompt has {self.count_tokens(prompt)} tokens; the window is "
                f"{self.context_window}."
            )
        if self._responder is not None:
            answer = self._responder(request)
        elif self._queue:
            answer = self._queue.pop(0)
        else:
            raise AssertionError("ScriptedModel ran out of scripted answers")
        text = json.dumps(answer) if isinstance(answer, dict) else answer
        return Generation(
            text=text,
            prompt_tokens=self.count_tokens(prompt),
            completion_tokens=self.count_tokens(text),
            finish_reason="stop",
        )
