"""A chain (RULER's variable tracking) followed value by value, with scripted readers; a
link the reader missed is read from its assignment line (`agents/chain_links.py`)."""

from __future__ import annotations

import re

import pytest

from longagent.agents.chain_links import assignment_target
from longagent.llm import GenerationRequest, ScriptedModel

from .test_shapes import agent, spread


def chain_reader(request: GenerationRequest) -> dict:
    """Names the variable its passage assigns the asked value to."""
    task = request.task or {}
    passage = str(task.get("passage", ""))
    asked = re.search(r"assigned the value (.+?) in the text", request.messages[-1].content)
    if asked is None:
        return {"quote": "", "answer": ""}
    line = re.search(rf"(VAR (\w+) = (?:VAR )?{re.escape(asked.group(1))}\.)", passage)
    if line is None:
        return {"quote": "", "answer": ""}
    return {"quote": line.group(1), "answer": f"VAR {line.group(2)}"}


def test_a_chain_follows_each_value_to_the_next() -> None:
    doc = spread(
        "VAR CCCCC = VAR BBBBB.",
        "VAR AAAAA = 12345.",
        "VAR ZZZZZ = 99999.",
        "VAR BBBBB = VAR AAAAA.",
    )
    model = ScriptedModel(chain_reader)
    question = "Find all variables that are assigned the value 12345 in the text above."
    answer = agent(model).ask(doc, question)
    assert answer.shape == "chain" and answer.found
    assert answer.text == "AAAAA, BBBBB, CCCCC"  # each link is its name
    assert len(answer.citations) == 3
    assert [r.kind for r in answer.trace] == ["collect"] * 4  # the last adds nothing
    assert "CCCCC" in answer.trace[-1].instruction


def echoing_chain_reader(request: GenerationRequest) -> dict:
    """Reads its passage's line but echoes the value it was asked about, as the 135M model
    does; the line's own syntax must then name the link."""
    task = request.task or {}
    passage = str(task.get("passage", ""))
    asked = re.search(r"assigned the value (.+?) in the text", request.messages[-1].content)
    if asked is None or asked.group(1) not in passage:
        return {"quote": "", "answer": ""}
    return {"quote": f"VAR {asked.group(1)}", "answer": asked.group(1)}


def test_a_chain_link_the_reader_missed_is_read_from_its_assignment_line() -> None:
    doc = spread(
        "VAR CCCCC = VAR BBBBB.",
        "VAR AAAAA = 12345.",
        "The value 12345 is also the zip code of Brask.",  # names it, assigns nothing
        "VAR BBBBB = VAR AAAAA.",
        "VAR ZZZZZ = 99999.",  # another chain: "VAR" stands on every line
        "VAR YYYYY = VAR ZZZZZ.",
    )
    question = "Find all variables that are assigned the value 12345 in the text above."
    answer = agent(ScriptedModel(echoing_chain_reader)).ask(doc, question)
    assert answer.shape == "chain" and answer.found
    assert answer.text == "AAAAA, BBBBB, CCCCC"
    assert [c.quote for c in answer.citations] == [
        "VAR AAAAA = 12345.",
        "VAR BBBBB = VAR AAAAA.",
        "VAR CCCCC = VAR BBBBB.",
    ]
    for citation in answer.citations:
        assert doc.text[citation.start : citation.end] == citation.quote


@pytest.mark.parametrize(
    ("line", "value", "target"),
    [
        ("VAR KUYAW = VAR KIMBV", "KIMBV", "KUYAW"),
        ("VAR KIMBV = 77221", "77221", "KIMBV"),
        ("export PATH=$HOME/bin;", "HOME", "PATH"),
        ("VAR KUYAW = VAR KIMBV", "KUYAW", None),  # the target, not the value assigned
        ("The value 77221 is a zip code.", "77221", None),  # no assignment
        ("So when the long list of all the terms = 77221 holds", "77221", None),  # prose
    ],
)
def test_an_assignment_line_names_the_variable_that_takes_a_value(
    line: str, value: str, target: str | None
) -> None:
    document = "\n".join([line, "VAR OTHER = 5", "VAR MORE = 6"])
    assert assignment_target(line, value, document) == target
