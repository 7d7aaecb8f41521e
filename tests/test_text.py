"""The one text toolkit."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Does nscd see my change? Since which version of Python?", {"python"}),
        ("I take the lock in my script. If I open the file, what happens?", set()),
        ("What did Mr. Smith buy, e.g. Apples or pears?", {"mr", "smith", "apples"}),
        ("Where did Ann go? And when did Ann come back?", {"ann"}),
    ],
)
def test_a_capitalised_word_that_starts_a_sentence_is_no_name(
    question: str, names: set[str]
) -> None:
    assert Question.parse(question).entities == names


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


def test_a_sentence_ends_after_its_closing_bracket_or_quote() -> None:
    source = '(The names are part of the API.) Lomivel kept bees. He said "go." Then (x) left.'
    assert text.sentence_texts(source) == [
        "(The names are part of the API.)",
        "Lomivel kept bees.",
        'He said "go."',
        "Then (x) left.",
    ]


def test_rrf_fuses_ranks_and_ignores_zero_scores() -> None:
    assert text.rrf([0.1, 0.9, 0.5], [0.2, 0.8, 0.9])[0] == 1
    assert text.rrf([0.0, 0.0, 0.0], [0.1, 0.9, 0.5]) == [1, 2, 0]


MAN_PAGE = """       -w, --word-regexp
              Select only those  lines  containing  matches  that  form  whole
              words.   The  test is that the matching substring must either be
              at the  beginning  of  the  line.

Level | Value
ERROR | 40
WARNING | 30

- first item of a list
- second item
  "k-111": "v-aaa",
  "k-222": "v-bbb"
"""


def test_sentences_run_across_wrapped_lines_and_keep_rows_items_and_records_whole() -> None:
    assert text.sentence_texts(MAN_PAGE) == [
        "-w, --word-regexp Select only those lines containing matches that form whole words.",
        "The test is that the matching substring must either be at the beginning of the line.",
        "Level | Value",
        "ERROR | 40",
        "WARNING | 30",
        "- first item of a list",
        "- second item",
        '"k-111": "v-aaa",',
        '"k-222": "v-bbb"',
    ]
    spans = text.sentences(MAN_PAGE)
    assert MAN_PAGE[spans[3][0] : spans[3][1]] == "ERROR | 40"


def test_a_run_on_sentence_is_cut_at_its_line_breaks() -> None:
    code = "\n".join(f"x{i} = compute(x{i - 1}) + offset" for i in range(1, 40))
    pieces = text.sentence_texts(code)
    assert len(pieces) == 39 and all(len(p) < text.LONGEST_SENTENCE for p in pieces)


def test_compact_drops_padding_a_model_need_not_read() -> None:
    assert text.compact(
        "       -l, --files-with-matches\n              Suppress  normal  output."
    ) == ("-l, --files-with-matches\nSuppress normal output.")


def test_a_hyphenated_key_is_an_entity_its_evidence_must_name() -> None:
    question = Question.parse("What is the special magic number for jittery-hospital?")
    assert "jittery-hospital" in question.entities
    assert "ignore-case" not in text.entities("What does --ignore-case do?")  # an option


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("married", "marry", True),
        ("numbers", "number", True),
        ("compressing", "compression", True),
        ("different", "diffs", False),  # a shared first four letters is not a shared word
        ("timeout", "time", False),
    ],
)
def test_words_share_a_stem_by_english_stemming(a: str, b: str, same: bool) -> None:
    assert (text.stem(a) == text.stem(b)) is same


def test_a_contraction_in_a_question_is_neither_a_name_nor_a_topic_word() -> None:
    # blind6's scp-01 asked with "I'm": mid-sentence and capitalised, it was a name its
    # evidence had to contain, and "don't" a topic word no manual shares.
    question = Question.parse("Which switch do I give scp when I'm copying? I don't know it.")
    assert not {"i'm", "don't"} & (question.entities | question.content_words)
    assert {"switch", "give", "copying", "know"} <= question.content_words


def test_numbers_are_whole_numbers() -> None:
    # words() splits "2.25" into 2 and 25; a version is one number, and so is 1,000.
    assert text.numbers("removed in glibc 2.25, since 1,000 hosts") == {"2.25", "1000"}
    assert text.numbers("The default is 5.") == {"5"}
    assert "25" not in text.numbers("glibc 2.25")
