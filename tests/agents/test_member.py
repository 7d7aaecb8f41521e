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


def _free_and_instructed(request) -> str | dict:
    if request.task["style"] == "free":
        return "The default is to retry 20 times.  Then it stops.\nMore words."
    return {"quote": "The default is to retry 20 times.", "answer": "20"}


def test_a_free_reading_is_not_held_to_json_and_its_first_sentence_answers() -> None:
    from longagent.llm import ScriptedModel

    question, small = Question.parse("How often does it retry?"), get_profile("small")
    free = member_request(0, PASSAGE, question, small, style="free")
    instructed = member_request(0, PASSAGE, question, small, style="instructed")
    model = ScriptedModel(_free_and_instructed)
    replies = run_batch(model, [free, instructed])
    # One call: the free reading goes out without a schema, the instructed one with one.
    ([sent_free, sent_instructed],) = model.batches
    assert sent_free.json_schema is None and sent_instructed.json_schema is not None
    assert sent_free.max_new_tokens < sent_instructed.max_new_tokens
    first, second = replies
    assert isinstance(first, MemberReply) and first.answer == "The default is to retry 20 times."
    assert isinstance(second, MemberReply) and second.answer == "20"


@pytest.mark.parametrize(
    "said",
    [
        "The text does not say how often it retries.",
        "The document part doesn't mention retries.",
        "It cannot be found in the text.",
        "",
    ],
)
def test_a_free_reading_that_says_its_passage_does_not_answer_is_a_refusal(said: str) -> None:
    from longagent.agents.evidence import LexicalVerifier
    from longagent.llm import ScriptedModel

    question = Question.parse("How often does it retry?")
    request = member_request(0, PASSAGE, question, get_profile("small"), style="free")
    (reply,) = run_batch(ScriptedModel([said]), [request])
    assert isinstance(reply, MemberReply)
    assert LexicalVerifier().check(reply, PASSAGE, question).verdict == "refused"


def test_a_free_reading_written_as_json_anyway_is_taken_as_it_is() -> None:
    from longagent.llm import ScriptedModel

    request = member_request(
        0, PASSAGE, Question.parse("How often?"), get_profile("small"), style="free"
    )
    said = {"quote": "The default is to retry 20 times.", "answer": "20 times"}
    (reply,) = run_batch(ScriptedModel([said]), [request])
    assert reply == MemberReply(**said)


RETRIES = (
    "-t number\n--tries=number\n    Set number of tries to number.  Specify 0 or inf for\n"
    "    infinite retrying. The default is to retry 20 times, with the exception of fatal\n"
    '    errors like "connection refused" or "not found" (404), which are not retried.'
)


@pytest.mark.slow
def test_the_bundled_reader_answers_freely_and_the_answer_grounds(bundled_model) -> None:
    # Read freely (the search's style), the reader answers in its own words and the
    # checker finds the passage's sentence that holds the answer. (Held to JSON, the same
    # reader grounded nothing here in float32, the measurement behind the search's free
    # style; in bfloat16 its JSON replies may ground too, so that is not asserted.)
    from longagent.agents.evidence import LexicalVerifier

    question, small = Question.parse("What is the default number of retries?"), get_profile("small")
    (free,) = run_batch(bundled_model, [member_request(0, RETRIES, question, small, style="free")])
    assert isinstance(free, MemberReply) and "20" in free.answer
    check = LexicalVerifier().check(free, RETRIES, question)
    assert check.verdict == "grounded" and check.span is not None
    assert "retry 20 times" in RETRIES[check.span[0] : check.span[1]]
