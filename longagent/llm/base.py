"""The seam every model sits behind: a small batched chat protocol and its data types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length"]
LOOP_PERIOD = 8  # the longest repeated pattern `stop_loops` looks for, in tokens


def looping(token_ids: Sequence[int], span: int) -> bool:
    """Whether the last `span` tokens repeat one pattern of at most LOOP_PERIOD tokens
    ("1. 1. 1.", "-v -v -v", a sentence of a few tokens said again and again)."""
    if span < 2 or len(token_ids) < span:
        return False
    tail = token_ids[-span:]
    return any(
        all(tail[i] == tail[i - period] for i in range(period, span))
        for period in range(1, min(LOOP_PERIOD, span - 1) + 1)
    )


class Message(BaseModel):
    role: Role
    content: str


class GenerationRequest(BaseModel):
    """One chat completion to run. Greedy unless `temperature` > 0."""

    messages: list[Message]
    max_new_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0)
    stop: list[str] = Field(default_factory=list)
    stop_loops: int = Field(
        default=0,
        ge=0,
        description="Cut the reply off (finish_reason 'length') once its last `stop_loops` "
        "tokens repeat one pattern of at most LOOP_PERIOD tokens: a small model caught in "
        "a loop never leaves it. 0: never. Backends without it (vLLM) decode as usual.",
    )
    json_schema: dict[str, Any] | None = Field(
        default=None, description="When set, the output is constrained to JSON of this schema."
    )
    # torch's seed range; a larger one would raise deep inside a batched decode.
    seed: int | None = Field(default=None, ge=-(2**63), le=2**64 - 1)
    task: dict[str, Any] = Field(
        default_factory=dict,
        description="What the request is for (e.g. a member reading chunk 3), for traces and "
        "scripted test models; backends never send it to the model.",
    )

    @classmethod
    def chat(cls, *turns: tuple[Role, str] | str, **kwargs: Any) -> GenerationRequest:
        """Shorthand: `GenerationRequest.chat("hi")` or `.chat(("system", s), ("user", u))`."""
        messages = [
            Message(role="user", content=t)
            if isinstance(t, str)
            else Message(role=t[0], content=t[1])
            for t in turns
        ]
        return cls(messages=messages, **kwargs)


class Generation(BaseModel):
    """What a model produced for one request."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: FinishReason


@runtime_checkable
class ChatModel(Protocol):
    """Anything that runs chat requests in batches. Implementations: transformers, vLLM,
    OpenAI-compatible servers, and the scripted fakes used in tests."""

    name: str
    context_window: int

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Run all requests, as one batch where the backend can, results in request order."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in this model's tokenizer (no special tokens)."""
        ...
