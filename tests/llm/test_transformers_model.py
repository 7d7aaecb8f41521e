"""The embedded backend with the real bundled model on small inputs."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import BaseModel

from longagent.errors import ContextOverflowError
from longagent.llm import GenerationRequest
from longagent.llm.constrained import generate_structured

FILLER = (
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
)


def passkey_prompt(passkey: str, repeats: int) -> str:
    half = FILLER * (repeats // 2)
    return (
        "There is important info hidden inside a lot of irrelevant text. Find it and memorize it.\n"
        f"{half}The pass key is {passkey}. Remember it. {passkey} is the pass key. {half}\n"
        "What is the pass key?"
    )


@pytest.mark.slow
def test_passkey_in_a_1k_token_prompt(bundled_model) -> None:
    prompt = passkey_prompt("68302", repeats=44)
    request = GenerationRequest.chat(prompt, max_new_tokens=24)
    assert 900 <= len(bundled_model.encode_chat(request)) <= 1300
    (result,) = bundled_model.generate([request])
    assert "68302" in result.text


def test_the_dtype_setting_chooses_the_weights(bundled_model, float32_model) -> None:
    from longagent.config import Settings
    from longagent.llm import load_model
    from longagent.llm.transformers_model import native_dtype

    assert float32_model.hf_model.dtype == torch.float32
    bf16 = load_model(settings=Settings(dtype="bfloat16", prefix_cache_mb=0))
    assert bf16.hf_model.dtype == torch.bfloat16
    request = GenerationRequest.chat("What is the capital of France?", max_new_tokens=8)
    assert bf16.generate([request])[0].completion_tokens > 0
    assert bundled_model.hf_model.dtype == getattr(torch, native_dtype())  # "auto"


def test_batched_equals_sequential_greedy(float32_model) -> None:
    requests = [
        GenerationRequest.chat("What is the capital of France?", max_new_tokens=20),
        GenerationRequest.chat(
            "Name three colours of the rainbow, please, in a list.", max_new_tokens=20
        ),
        GenerationRequest.chat(
            ("system", "Answer in one word."), ("user", "Opposite of hot?"), max_new_tokens=8
        ),
        GenerationRequest.chat("Count: one, two,", max_new_tokens=12),
    ]
    batched = float32_model.generate(requests)
    sequential = [float32_model.generate([r])[0] for r in requests]
    assert [b.text for b in batched] == [s.text for s in sequential]
    assert [b.completion_tokens for b in batched] == [s.completion_tokens for s in sequential]
    assert any(b.completion_tokens > 5 for b in batched)


def test_continuous_batching_equals_sequential_greedy(float32_model) -> None:
    # Three slots for eight requests of different lengths: finished rows are replaced by
    # waiting ones, whose caches join the running batch with other padding.
    questions = [
        "What is the capital of France?",
        "Name three colours of the rainbow, please, in a list.",
        "Count: one, two,",
        "Write a haiku about rain.",
        "Opposite of hot?",
        "What is 2+2?",
        "Tell me a fact about cats.",
        "Translate 'hello' to French.",
    ]
    requests = [
        GenerationRequest.chat(q, max_new_tokens=6 + 5 * i) for i, q in enumerate(questions)
    ]
    sequential = [float32_model.generate([r])[0] for r in requests]
    saved = float32_model.max_batch_size
    try:
        float32_model.max_batch_size = 3
        batched = float32_model.generate(requests)
    finally:
        float32_model.max_batch_size = saved
    assert [b.text for b in batched] == [s.text for s in sequential]
    lengths = {s.completion_tokens for s in sequential}
    assert len(lengths) > 3  # rows really finish at different steps


class Person(BaseModel):
    name: str
    age: int
    city: str


def test_json_schema_request_returns_valid_json(bundled_model) -> None:
    requests = [
        GenerationRequest.chat(
            "Describe Ada, 36, who lives in London, as JSON.", max_new_tokens=60
        ),
        GenerationRequest.chat("Invent a person and give them as JSON.", max_new_tokens=60),
    ]
    results = generate_structured(bundled_model, requests, Person)
    assert all(isinstance(r, Person) for r in results), results
    raw = bundled_model.generate(
        [requests[0].model_copy(update={"json_schema": Person.model_json_schema()})]
    )
    # Properties come in the schema's order, not sorted: schemas rely on it to make the
    # model write evidence before its answer.
    assert list(json.loads(raw[0].text)) == ["name", "age", "city"]


def test_token_counts_match_the_tokenizer(bundled_model) -> None:
    text = "Tokenizers split words like 'unbelievably' into pieces."
    assert bundled_model.count_tokens(text) == len(
        bundled_model.tokenizer.encode(text, add_special_tokens=False)
    )
    request = GenerationRequest.chat(text, max_new_tokens=10)
    (result,) = bundled_model.generate([request])
    assert result.prompt_tokens == len(bundled_model.encode_chat(request))
    assert result.completion_tokens == len(
        bundled_model.tokenizer.encode(result.text, add_special_tokens=False)
    )


def test_max_new_tokens_and_stop_strings(bundled_model) -> None:
    long, stopped = bundled_model.generate(
        [
            GenerationRequest.chat("Write a long story about a dragon.", max_new_tokens=5),
            GenerationRequest.chat(
                "Count from 1 to 10 with digits, separated by commas.",
                max_new_tokens=40,
                stop=["5"],
            ),
        ]
    )
    assert long.finish_reason == "length" and long.completion_tokens == 5
    assert stopped.finish_reason == "stop" and "5" not in stopped.text and "4" in stopped.text


def test_a_reply_caught_in_a_loop_is_cut_off_where_the_loop_is_plain(bundled_model) -> None:
    looped = "Continue this list exactly as it goes: 1. 1. 1. 1. 1. 1. 1. 1. 1. 1. 1. 1."
    prose = "Write a long story about a dragon."
    free, cut, story, story_watched = bundled_model.generate(
        [
            GenerationRequest.chat(looped, max_new_tokens=100),
            GenerationRequest.chat(looped, max_new_tokens=100, stop_loops=24),
            GenerationRequest.chat(prose, max_new_tokens=60),
            GenerationRequest.chat(prose, max_new_tokens=60, stop_loops=24),
        ]
    )
    assert free.finish_reason == "length" and free.completion_tokens == 100
    assert cut.finish_reason == "length" and 24 <= cut.completion_tokens < 50
    assert free.text.startswith(cut.text)  # the same decoding, stopped early
    assert story_watched == story  # text that does not loop is untouched


def test_stream_yields_the_same_text_as_generate(bundled_model) -> None:
    request = GenerationRequest.chat(
        "Say hello to the world in a short sentence.", max_new_tokens=20
    )
    pieces = list(bundled_model.stream(request))
    assert len(pieces) > 1
    assert "".join(pieces) == bundled_model.generate([request])[0].text


def test_prompt_longer_than_the_window_is_a_clear_error(bundled_model) -> None:
    request = GenerationRequest.chat("word " * (bundled_model.context_window + 10))
    with pytest.raises(ContextOverflowError, match="window"):
        bundled_model.generate([request])


def test_sampling_is_seeded(bundled_model) -> None:
    request = GenerationRequest.chat(
        "Invent a name for a cat.", max_new_tokens=12, temperature=1.0, seed=7
    )
    first, second = bundled_model.generate([request, request])
    assert first.text == second.text


def test_extend_to_widens_the_window_and_still_answers() -> None:
    from longagent.llm import load_model

    extended = load_model(extend_to=16384)
    assert extended.context_window == 16384
    (result,) = extended.generate(
        [GenerationRequest.chat("What is the capital of France?", max_new_tokens=12)]
    )
    assert "Paris" in result.text


def test_generating_emits_no_future_warning(bundled_model) -> None:
    # The KV cache goes in as the pinned transformers expects it (`cache=`, a Cache object);
    # the deprecated spelling printed a FutureWarning on every question.
    import warnings

    requests = [
        GenerationRequest.chat("What is the capital of Spain?", max_new_tokens=4),
        GenerationRequest.chat("Name a colour.", max_new_tokens=6),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bundled_model.generate(requests)
        list(bundled_model.stream(requests[0]))
    assert not [w for w in caught if issubclass(w.category, (FutureWarning, DeprecationWarning))]


def test_a_cancelled_row_leaves_and_the_others_are_unchanged(bundled_model) -> None:
    requests = [
        GenerationRequest.chat("Write a long story about a dragon.", max_new_tokens=200),
        GenerationRequest.chat("What is the capital of France?", max_new_tokens=12),
        GenerationRequest.chat("Count: one, two,", max_new_tokens=12),
    ]
    alone = [bundled_model.generate([r])[0] for r in requests[1:]]
    asked = {0: 0}

    def cancelled(i: int) -> bool:  # the story's client leaves after five steps
        asked[i] = asked.get(i, 0) + 1
        return i == 0 and asked[0] > 5

    story, *others = bundled_model.generate_cancellable(requests, cancelled)
    assert 0 < story.completion_tokens <= 5
    assert [o.text for o in others] == [a.text for a in alone]
    # A request cancelled before it starts is never prefilled.
    (never,) = bundled_model.generate_cancellable(requests[:1], lambda _: True)
    assert never.completion_tokens == 0 and never.text == ""


def test_check_refuses_a_bad_request_alone(bundled_model) -> None:
    from longagent.errors import InvalidRequestError

    good = GenerationRequest.chat("hi")
    assert bundled_model.check(good) == len(bundled_model.encode_chat(good))
    with pytest.raises(InvalidRequestError, match="Unsupported type"):
        bundled_model.check(good.model_copy(update={"json_schema": {"type": "nonsense"}}))
    with pytest.raises(ContextOverflowError):
        bundled_model.check(GenerationRequest.chat("word " * bundled_model.context_window))
    with pytest.raises(ValueError, match="seed"):
        GenerationRequest.chat("hi", seed=2**70)


def test_a_request_s_own_narrower_schema_holds_its_reply(
    bundled_model, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A member's quote schema names its passage's sentences: each request brings its own.
    schema = Person.model_json_schema()
    schema["properties"]["city"] = {"type": "string", "enum": ["Quito", "Oslo"]}
    request = GenerationRequest.chat("Invent a person and give them as JSON.", max_new_tokens=60)
    (held,) = generate_structured(
        bundled_model, [request.model_copy(update={"json_schema": schema})], Person
    )
    assert isinstance(held, Person) and held.city in ("Quito", "Oslo")
    # Compiled grammars are kept least recently used first out, not one per passage forever.
    from longagent.llm import constrained

    monkeypatch.setattr(constrained, "COMPILED_KEPT", 2)
    for city in ("Lima", "Rome", "Pune", "Kiev"):
        schema["properties"]["city"] = {"type": "string", "enum": [city]}
        bundled_model._json.matcher(schema)
    assert len(bundled_model._json._compiled) <= 2
