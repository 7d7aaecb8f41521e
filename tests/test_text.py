"""The one text toolkit."""

from __future__ import annotations

from longagent import text
from longagent.agents import LongAgent, Question
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel


def test_a_possessive_names_its_owner() -> None:
    assert text.words("Oskar Lindqvist's house") == ["oskar", "lindqvist", "house"]
    assert Question.parse("What colour was the door of Oskar Lindqvist's house?").entities == {
        "oskar",
        "lindqvist",
    }


def test_a_possessive_question_reads_the_chunk_that_names_the_person() -> None:
    filler = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
    fact = "The front door of the house of Oskar Lindqvist was painted green."
    doc = Document.create(f"{filler}\n\n{filler}{fact} {filler}\n\n{filler}")

    def respond(request: GenerationRequest) -> dict:
        if fact in request.task.get("passage", ""):
            return {"quote": fact, "answer": "green"}
        return {"quote": "", "answer": ""}

    model = ScriptedModel(respond)
    answer = LongAgent(model, chunk_tokens=120).ask(
        doc, "What colour was the front door of Oskar Lindqvist's house?"
    )
    assert answer.found and answer.text == "green"


def test_sentences_are_spans_of_the_text() -> None:
    source = "One. Two words!\nThree?  Four"
    spans = text.sentences(source)
    assert [source[a:b] for a, b in spans] == ["One.", "Two words!", "Three?", "Four"]


def test_rrf_fuses_ranks_and_ignores_zero_scores() -> None:
    assert text.rrf([0.1, 0.9, 0.5], [0.2, 0.8, 0.9])[0] == 1
    assert text.rrf([0.0, 0.0, 0.0], [0.1, 0.9, 0.5]) == [1, 2, 0]
