"""The lexical verifier's checks on hand-made cases (measured failure modes of the 135M
model). The could-ground contract is tested for every verifier in test_verifier.py."""

from __future__ import annotations

import pytest

from longagent.agents.evidence import LexicalVerifier
from longagent.agents.question import Question
from longagent.agents.repairs import record_value

from ._qa_helpers import lexical_check as check

VERIFIER = LexicalVerifier()

CHUNK = (
    "Some text about json. Kalomi was born in the town of Renda. The pass key is 88952. "
    "Remember it. 88952 is the pass key.\nMore filler text follows here."
)
TOWN = "In which town was Kalomi born?"


@pytest.mark.parametrize(
    ("answer", "quote", "question", "verdict"),
    [
        ("Renda", "Kalomi was born in the town of Renda.", TOWN, "grounded"),
        # a right answer with a quote that has a stray tail (copied prompt markup)
        ("Renda", "Kalomi was born in the town of Renda.</document part", TOWN, "grounded"),
        # a right answer with no usable quote: the sentence holding the answer is found
        ("Kalomi was born in Renda.", "", TOWN, "grounded"),
        # paraphrase around the right name
        ("The town of Renda is where Kalomi came from", "", TOWN, "grounded"),
        # one invented word is a hallucination
        ("Renda, Greece", "Kalomi was born in Renda", TOWN, "hallucinated"),
        # a real sentence about someone else does not answer this question
        (
            "Renda",
            "Kalomi was born in the town of Renda.",
            "In which town was Velto born?",
            "unsupported",
        ),
        # the answer runs over into the next sentence
        (
            "The pass key is 88952. Remember it.",
            "The pass key is 88952. Remember it.",
            "What is the pass key?",
            "grounded",
        ),
        (
            "The pass key is 1.0 divided by the mean.",
            "The pass key is 1.0.",
            "What is the pass key?",
            "hallucinated",
        ),
        ("", "", "What is the pass key?", "refused"),
        ("Kalomi", "Kalomi was born", TOWN, "unsupported"),
    ],
)
def test_verdicts(answer: str, quote: str, question: str, verdict: str) -> None:
    assert check(answer, quote, CHUNK, question).verdict == verdict


def test_follow_up_evidence_must_mention_the_bridge() -> None:
    chunk = "The town of Renda is famous for its glass bells."
    question = "What is the town where Kalomi was born famous for?"
    assert check("glass bells", chunk, chunk, question).verdict == "unsupported"
    assert check("glass bells", chunk, chunk, question, bridge="renda").verdict == "grounded"
    assert check("glass bells", chunk, chunk, question, bridge="velto").verdict == "unsupported"


def test_focus_keeps_the_sentences_naming_the_subject_with_their_neighbours() -> None:
    chunk = (
        "Filler one. Filler two. Before it. Kalomi was born in the town of Renda. After it. "
        "Filler three. Filler four. Kalomi left at dawn. Filler five."
    )
    focused = VERIFIER.focus(chunk, Question.parse(TOWN))
    assert focused == (
        "Before it. Kalomi was born in the town of Renda. After it. ... Filler four. "
        "Kalomi left at dawn. Filler five."
    )
    assert VERIFIER.focus(chunk, Question.parse("Where was Zorbu born?")) == ""


def test_a_quoted_key_s_value_must_stand_on_the_key_s_own_line() -> None:
    chunk = '  "k-111": "v-aaa",\n  "k-222": "v-bbb",\n  "k-333": "v-ccc"'
    question = 'What is the value associated with the key "k-222"?'
    assert check("v-bbb", '"k-222": "v-bbb"', chunk, question).verdict == "grounded"
    # The neighbouring line's value names another record.
    wrong = check("v-ccc", '"k-222"', chunk, question)
    assert wrong.verdict != "grounded"
    # A quote of the wrong line does not sink the right value on the key's own line.
    assert check("v-bbb", '"k-111": "v-aaa"', chunk, question).verdict == "grounded"
    # In prose an answer may still run over into the next sentence.
    prose = "Kalomi left the coast young. She was born in the town of Renda, far inland."
    assert (
        check("Renda", "Kalomi left the coast young.", prose, "Where was Kalomi born?").verdict
        == "grounded"
    )


def test_an_answer_that_restates_the_question_in_the_plural_adds_nothing() -> None:
    key = "dcc98e43-420c-4738-b5cb-42f68fe5e1ab"
    chunk = (
        "One of the special magic uuids for 7a3e-1111 is: 2a9dcb87-ad47-48fa-b844-f24070503308.\n"
        f"One of the special magic uuids for {key} is: 08c401a1-6bfa-4535-af4d-80514d5284b5.\n"
    )
    question = f"What is the special magic uuid for {key} mentioned in the provided text?"
    # The 135M model's reply (RULER, seed 7): the question again, "uuids" and junk.
    restated = f"Bob has the special magic uuids for {key} which i"
    assert check(restated, "w31611513-72d3-46c8-be77-02a6ffb69f092", chunk, question).verdict != (
        "grounded"
    )
    value = "08c401a1-6bfa-4535-af4d-80514d5284b5"
    assert check(value, f"uuids for {key} is: {value}", chunk, question).verdict == "grounded"


def test_a_symbol_is_an_answer_when_the_quoted_sentence_holds_it() -> None:
    chunk = "The reader splits fields at the delimiter, which defaults to ','. Quotes are kept."
    question = "What is the default delimiter of the reader?"
    quote = "The reader splits fields at the delimiter, which defaults to ','."
    assert check(",", quote, chunk, question).verdict == "grounded"
    assert check(";", quote, chunk, question).verdict == "hallucinated"
    assert check("", quote, chunk, question).verdict == "refused"


def test_a_neighbour_s_value_does_not_pass_when_the_quote_states_its_own() -> None:
    chunk = "The option strict is True by default. The option lenient is False by default."
    question = "What is the default of the option strict?"
    quote = "The option strict is True by default."
    assert check("True", quote, chunk, question).verdict == "grounded"
    wrong = check("False", quote, chunk, question)
    assert wrong.verdict != "grounded"


ABOUT_LOMIVEL = (
    "The return type must be a single type. Lomivel wrote letters to an old teacher. "
    "Lomivel was born in the town of Kasa. Lomivel kept bees behind the mill."
)


@pytest.mark.parametrize(
    ("answer", "quote", "question", "verdict"),
    [
        # a document about one person: a whole sentence that only names them is no answer
        (
            "The return type must be a single type. Lomivel wrote letters to an old teacher.",
            "Lomivel wrote letters to an old teacher.",
            "In which town was Lomivel born?",
            "unsupported",
        ),
        # the sentence that says what is asked may be the answer
        (
            "Lomivel was born in the town of Kasa.",
            "Lomivel was born in the town of Kasa.",
            "In which town was Lomivel born?",
            "grounded",
        ),
        # a short answer from other words ("birthplace", "born") still stands
        (
            "Kasa",
            "Lomivel was born in the town of Kasa.",
            "What do you know about the birthplace of Lomivel?",
            "grounded",
        ),
        # a long answer whose evidence shares a word of what is asked ("mill")
        (
            "Lomivel kept bees behind the mill, it is said.",
            "Lomivel kept bees behind the mill.",
            "What does Lomivel keep behind the mill?",
            "grounded",
        ),
    ],
)
def test_a_restated_sentence_must_say_what_is_asked(
    answer: str, quote: str, question: str, verdict: str
) -> None:
    assert check(answer, quote, ABOUT_LOMIVEL, question).verdict == verdict


def test_a_bracketed_sentence_does_not_borrow_the_subject_of_the_next() -> None:
    # From a generated biography among Python docs: the answer's sentence ends in ".)",
    # and the next one names the person; together they passed as evidence.
    chunk = (
        "(The field names are also in the _fields attribute, which is part of the "
        "namedtuple API.) An alternative syntax is also accepted:: Lomivel kept bees."
    )
    answer = "The type of type is a namedtuple, which is part of the namedtuple API."
    verdict = check(
        answer, "which is part of the namedtuple API", chunk, "In which town was Lomivel born?"
    )
    assert verdict.verdict != "grounded"


def test_a_short_quote_standing_in_several_lines_is_the_line_holding_the_answer() -> None:
    chunk = "VAR KUYAW = VAR KIMBV.\nVAR OMYHK = VAR KUYAW.\nVAR XVNTU = VAR OMYHK."
    question = "Find all variables that are assigned the value KUYAW in the text above."
    assert check("VAR OMYHK", "KUYAW", chunk, question).verdict == "grounded"
    assert check("VAR XVNTU", "KUYAW", chunk, question).verdict != "grounded"


@pytest.mark.parametrize(
    ("quote", "question", "value"),
    [
        # The quote's one value with a digit, for a record named by its key.
        ("5894f7f1-39b8-4bb2", "What is the uuid for 5299e505-2976?", "5894f7f1-39b8-4bb2"),
        (
            "The magic number for grubby-color is: 7711",
            "What is the number for grubby-color?",
            "7711",
        ),
        ("5299e505-2976", "What is the uuid for 5299e505-2976?", None),  # the key itself
        ("It is 7711 or 7712.", "What is the number for grubby-color?", None),  # two values
        ("Lomivel was 12 then.", "How old was Lomivel?", None),  # no record key
    ],
)
def test_a_record_s_value_is_the_one_value_its_quote_adds(
    quote: str, question: str, value: str | None
) -> None:
    assert record_value(quote, Question.parse(question)) == value
