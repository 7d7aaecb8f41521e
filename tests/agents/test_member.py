"""A member's reply: with the profile's opt-in `quote_held`, its quote is held to its passage's
own sentences at decoding time."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from longagent import text
from longagent.agents.member import (
    QUOTE_CHARS,
    MemberReply,
    member_request,
    quote_schema,
    run_batch,
)
from longagent.agents.profiles import get_profile
from longagent.agents.question import Question

PASSAGE = (
    "-t number\n--tries=number\n    Set number of tries to number.  Specify 0 or inf for\n"
    "    infinite retrying. The default is to retry 20 times.\n\n"
    + "A very long sentence "
    + "that goes on " * 30
    + "until it ends."
)


def test_the_quote_may_only_be_a_sentence_of_the_passage_or_nothing() -> None:
    schema = quote_schema(text.compact(PASSAGE))
    allowed = schema["properties"]["quote"]["enum"]
    assert allowed[0] == ""
    assert "The default is to retry 20 times." in allowed
    assert "-t number --tries=number Set number of tries to number." in allowed  # its option
    (long,) = [q for q in allowed if q.startswith("A very long sentence")]
    assert len(long) <= QUOTE_CHARS and long + " " in " ".join(PASSAGE.split())  # cut at a word
    # Every allowed quote is a valid MemberReply quote: the reply still validates as one.
    for quote in allowed:
        MemberReply.model_validate_json(json.dumps({"quote": quote, "answer": ""}))
    assert set(schema["properties"]) == set(MemberReply.model_json_schema()["properties"])


HELD = replace(get_profile("small"), quote_held=True)


def test_with_quote_held_a_member_request_carries_its_passage_s_schema() -> None:
    request = member_request(0, PASSAGE, Question.parse("How often?"), HELD)
    assert request.json_schema == quote_schema(text.compact(PASSAGE))
    # By default (opt-in) the reply is held to MemberReply's schema by run_batch alone.
    free = member_request(0, PASSAGE, Question.parse("How often?"), get_profile("small"))
    assert free.json_schema is None


@pytest.mark.slow
def test_the_bundled_reader_quotes_the_passage_s_own_answer_sentence(bundled_model) -> None:
    """wget's retry entry, as `bench qa --gold` hands it over (natural dev question wget-01).
    With a free quote the 135M reader wrote another text here; held to the chunk's
    sentences it copies the one that answers, and its answer holds the number."""
    from longagent.apps.bench.suites import gold_items, make_items

    (item,) = [
        i
        for i in make_items("natural", bundled_model.count_tokens, split="dev")
        if i.question.id == "wget-01"
    ]
    (gold,) = gold_items([item], bundled_model.count_tokens, get_profile("small").chunk_tokens)
    request = member_request(0, gold.text, Question.parse(item.question.question), HELD)
    (reply,) = run_batch(bundled_model, [request])
    assert isinstance(reply, MemberReply)
    assert reply.quote in text.sentence_texts(text.compact(gold.text))
    assert "retry 20 times" in reply.quote and "20" in reply.answer
