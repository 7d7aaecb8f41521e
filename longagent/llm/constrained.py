"""Decoding-time JSON-schema constraints with xgrammar, and pydantic validation after.

A 135M model asked for JSON rarely writes valid JSON on its own; masking every token the
grammar forbids makes the output parse by construction.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic_core
from pydantic import BaseModel, ValidationError

from longagent.errors import (
    ContextOverflowError,
    InvalidRequestError,
    LongAgentError,
    ModelResponseError,
)
from longagent.llm.base import ChatModel, Generation, GenerationRequest

if TYPE_CHECKING:  # only a type here: importing torch takes seconds
    import torch

T = TypeVar("T", bound=BaseModel)
COMPILED_KEPT = 256  # grammars kept compiled


class JsonConstrainer:
    """Compiles schemas once (cached by their JSON text) and masks logits per row."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: set[int]) -> None:
        self._tokenizer = tokenizer
        self._vocab_size = vocab_size
        self._stop_ids = sorted(stop_ids)
        self._compiler: Any = None
        # The least recently used go first: a member's schema names its passage's
        # sentences, so each passage compiles its own (about 50 ms), and a long run would
        # otherwise keep them all (xgrammar's own cache is off for the same reason).
        self._compiled: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()  # the server compiles while a batch decodes

    def matcher(self, schema: dict[str, Any]) -> Any:
        """A fresh matcher for `schema`; `InvalidRequestError` when it does not compile."""
        import xgrammar as xgr

        # Sorted only for the cache key: the grammar keeps the schema's property order, so
        # a schema can make the model write its evidence before its answer.
        key = json.dumps(schema, sort_keys=True)
        with self._lock:
            if self._compiler is None:
                info = xgr.TokenizerInfo.from_huggingface(
                    self._tokenizer, vocab_size=self._vocab_size, stop_token_ids=self._stop_ids
                )
                self._compiler = xgr.GrammarCompiler(info, cache_enabled=False)
            if key not in self._compiled:
                try:
                    # Compact JSON (no free whitespace): fewer tokens, and no room to ramble.
                    self._compiled[key] = self._compiler.compile_json_schema(
                        json.dumps(schema), any_whitespace=False
                    )
                except RuntimeError as exc:  # xgrammar's only error type for a bad schema
                    raise InvalidRequestError(
                        f"The JSON schema does not compile: {_xgrammar_message(exc)}"
                    ) from None
                while len(self._compiled) > COMPILED_KEPT:
                    self._compiled.popitem(last=False)
            self._compiled.move_to_end(key)
            compiled = self._compiled[key]
        return xgr.GrammarMatcher(compiled)

    def mask(self, logits: torch.Tensor, matchers: Sequence[Any | None]) -> None:
        """Set logits of forbidden tokens to -inf, in place, for constrained rows."""
        active = [(i, m) for i, m in enumerate(matchers) if m is not None and not m.is_terminated()]
        if not active:
            return
        import xgrammar as xgr

        bitmask = xgr.allocate_token_bitmask(len(matchers), self._vocab_size)
        for i, matcher in active:
            matcher.fill_next_token_bitmask(bitmask, i)
        rows = [i for i, _ in active]
        xgr.apply_token_bitmask_inplace(logits, bitmask, vocab_size=self._vocab_size, indices=rows)


def _xgrammar_message(exc: Exception) -> str:
    """xgrammar's message without its "[time] file.cc:line:" prefix."""
    return re.sub(r"^\[[^\]]*\]\s*\S+:\d+:\s*", "", str(exc).strip())


def generate_structured(
    model: ChatModel, requests: Sequence[GenerationRequest], output_type: type[T]
) -> list[T | ModelResponseError]:
    """Run requests constrained to `output_type`'s JSON schema and validate each answer.
    A request that carries its own schema (a narrower one: an enum of allowed values) is
    held to that; every answer is still validated as `output_type`.

    Returns one item per request: the parsed object, or the error explaining why the
    output was unusable (cut off at `max_new_tokens`, a server that ignored the schema, a
    prompt the model refused). One bad row never fails the batch: when the batch call
    fails, each row is run alone and only the failing ones report the error.
    """
    schema = output_type.model_json_schema()
    constrained = [
        r if r.json_schema else r.model_copy(update={"json_schema": schema}) for r in requests
    ]
    return [parse_structured(g, output_type) for g in generate_rows(model, constrained)]


def parse_structured(
    generation: Generation | LongAgentError, output_type: type[T]
) -> T | ModelResponseError:
    """One row of `generate_rows` validated as `output_type`, or why it cannot be."""
    if isinstance(generation, LongAgentError):
        return ModelResponseError(str(generation))
    try:
        return output_type.model_validate_json(generation.text)
    except ValidationError as exc:
        cut = generation.finish_reason == "length"
        reason = " (cut off at max_new_tokens)" if cut else ""
        return ModelResponseError(
            f"Invalid {output_type.__name__} JSON{reason}: {exc.errors()[:1]}",
            partial=_complete_fields(generation.text) if cut else None,
        )


def _complete_fields(cut_off: str) -> dict[str, object]:
    """The fields of JSON cut off mid-value that were written whole (pydantic's partial
    parsing drops a string the cut left open)."""
    try:
        fields = pydantic_core.from_json(cut_off, allow_partial=True)
    except ValueError:
        return {}
    if not isinstance(fields, dict) or not fields:
        return {}
    return fields


# What one request can cause; a model that is unreachable fails the whole call instead.
ROW_ERRORS = (ContextOverflowError, ModelResponseError)


def generate_rows(
    model: ChatModel, requests: list[GenerationRequest]
) -> list[Generation | LongAgentError]:
    """One batched call; when it fails for one request's sake, each request alone, so only
    the failing rows carry the error."""
    try:
        return list(model.generate(requests))
    except ROW_ERRORS as exc:
        if len(requests) == 1:
            return [exc]
    rows: list[Generation | LongAgentError] = []
    for request in requests:
        try:
            rows.append(model.generate([request])[0])
        except ROW_ERRORS as exc:
            rows.append(exc)
    return rows
