"""The ChatModel contract, for the scripted fake and the real bundled model: results come
back in request order, and one bad row never fails the batch it came in."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from longagent.errors import ModelResponseError
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.llm.constrained import generate_structured


class Word(BaseModel):
    word: str


def ask(word: str) -> GenerationRequest:
    return GenerationRequest.chat(f'Reply with JSON whose "word" is "{word}".', max_new_tokens=16)


def scripted() -> ScriptedModel:
    return ScriptedModel(
        lambda r: {"word": r.messages[-1].content.split('"')[3]}, context_window=64
    )


@pytest.fixture(params=["scripted", "bundled"])
def model(request: pytest.FixtureRequest):
    return request.getfixturevalue("bundled_model") if request.param == "bundled" else scripted()


def test_results_keep_request_order() -> None:
    # The real model's order is tested against one-by-one decoding in test_transformers_model.
    words = ["apple", "river", "seven"]
    results = generate_structured(scripted(), [ask(w) for w in words], Word)
    assert [r.word for r in results if isinstance(r, Word)] == words


def test_one_prompt_too_long_for_the_window_fails_only_its_own_row(model) -> None:
    too_long = GenerationRequest.chat("word " * (model.context_window + 10), max_new_tokens=8)
    results = generate_structured(model, [ask("apple"), too_long, ask("river")], Word)
    assert isinstance(results[1], ModelResponseError)
    assert isinstance(results[0], Word) and isinstance(results[2], Word)
