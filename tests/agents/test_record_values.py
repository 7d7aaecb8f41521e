"""A reader that quotes a record's value but answers something else: the quoted value is
judged as the answer (`evidence.record_value`, in `Runner.judge`), once, by the same rules;
a neighbouring record's value never passes."""

from __future__ import annotations

import pytest

from longagent.llm import GenerationRequest, ScriptedModel

from ._qa_helpers import agent, chunk_of, document, reply

RECORDS = (
    "One of the special magic uuids for 5299e505-2976 is: 5894f7f1-39b8-4bb2.",
    "One of the special magic uuids for 1b36aa26-f770 is: 4cbf131d-901b-4def.",
)


@pytest.mark.parametrize(
    ("quoted", "found"),
    [
        ("5894f7f1-39b8-4bb2", True),  # the key's own value, answered as its neighbour's
        ("4cbf131d-901b-4def", False),  # the neighbour's value: its line names another key
    ],
)
def test_a_reader_that_quotes_a_record_s_value_but_answers_another_keeps_the_quoted_one(
    quoted: str, found: bool
) -> None:
    def respond(request: GenerationRequest) -> dict:
        return reply(quoted, "4cbf131d-901b-4def") if "uuids" in chunk_of(request) else reply()

    question = "What is the special magic uuid for 5299e505-2976 mentioned in the text?"
    answer = agent(ScriptedModel(respond)).ask(document(" ".join(RECORDS)), question)
    assert answer.found is found
    if found:
        assert answer.text == "5894f7f1-39b8-4bb2"
        assert answer.citations[0].quote == RECORDS[0]


def test_a_quoted_value_that_is_not_in_the_chunk_is_tried_once() -> None:
    # A capitalised value the chunk does not hold: judged once as the answer, refused.
    def respond(request: GenerationRequest) -> dict:
        return reply("QX-7Z", "nonsense") if "uuids" in chunk_of(request) else reply()

    question = "What is the special magic uuid for 5299e505-2976 mentioned in the text?"
    answer = agent(ScriptedModel(respond)).ask(document(" ".join(RECORDS)), question)
    assert not answer.found
