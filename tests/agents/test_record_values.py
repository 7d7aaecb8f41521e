"""A reader that quotes a record's value but answers something else: the quoted value is
judged as the answer (`repairs.record_value`, in `Runner.judge`), once, by the same rules;
a neighbouring record's value never passes."""

from __future__ import annotations

import pytest

from longagent.agents.evidence import LexicalVerifier
from longagent.agents.question import Question
from longagent.llm import GenerationRequest, ScriptedModel

from ._qa_helpers import FILLER, agent, chunk_of, document, reply

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


KEYED = (
    "One of the special magic uuids for 7d1c0b2e-5a44 is: 0e9f3c21-77ab-4c1d.",
    "One of the special magic uuids for 3be6f0d9-1c8e is: 9a42d7e5-0b13-4f6a.",
    "One of the special magic uuids for c5a1e8f4-9d20 is: 61b7c0aa-3e5f-48d2.",
)
QUESTION = "What is the special magic uuid for 3be6f0d9-1c8e mentioned in the text?"


def first_value_reader(request: GenerationRequest) -> dict:
    """Answers the first record's value in whatever it reads, as a small model does when
    a passage holds several records."""
    for line in KEYED:
        if line in chunk_of(request):
            return reply(line, line.rsplit(" ", 1)[1].rstrip("."))
    return reply()


def test_a_focus_on_a_record_key_reads_the_key_s_line_alone() -> None:
    # The whole chunk's first record is the neighbour's; the key's line alone is its own.
    answer = agent(ScriptedModel(first_value_reader)).ask(document(" ".join(KEYED)), QUESTION)
    assert answer.found and answer.text == "9a42d7e5-0b13-4f6a"
    assert answer.citations[0].quote == KEYED[1]
    focus = next(r for r in answer.trace if r.kind == "focus")
    assert any(r.verdict == "grounded" for r in focus.reports)


@pytest.mark.parametrize(
    ("said", "found"),
    [
        ("9a42d7e5-0b13-4f6b", True),  # the key's value with its last character miscopied
        ("9a42d7e5-0b13", True),  # cut short
        ("61b7c0aa-3e5f-48d2", False),  # another record's value: no near copy of the key's
        ("4c11aa09-f00d-1234", False),  # an invented value
    ],
)
def test_an_answer_that_miscopies_the_key_s_one_value_is_repaired_to_it(
    said: str, found: bool
) -> None:
    def respond(request: GenerationRequest) -> dict:
        return reply("", said) if "uuids" in chunk_of(request) else reply()

    answer = agent(ScriptedModel(respond)).ask(document(" ".join(KEYED)), QUESTION)
    assert answer.found is found, answer.text
    if found:
        assert answer.text == "9a42d7e5-0b13-4f6a"
        assert answer.citations[0].quote == KEYED[1]


def test_a_focus_reads_a_record_key_s_line_alone_but_a_year_s_sentence_with_neighbours() -> None:
    # A year dates a sentence; the answer may stand in the next one. A record key's
    # neighbours are other records.
    verifier = LexicalVerifier()
    dated = "Kalomi left the coast in 2019. She opened a glass shop in Renda."
    excerpt = verifier.focus(FILLER + dated, Question.parse("What did Kalomi open in 2019?"))
    assert "glass shop" in excerpt
    excerpt = verifier.focus(" ".join(KEYED), Question.parse(QUESTION))
    assert excerpt == KEYED[1]


def test_a_short_number_in_a_list_is_no_miscopy_of_a_value() -> None:
    # mount(8), as Debian 12 ships it: "read-only" is the question's key, "mount(2)" a
    # number on its line. The 135M reader answered with a list "1) ... 2)" (blind6's
    # mount-05) and "2" passed as the key's miscopied value.
    rw = (
        "       -w, --rw, --read-write\n"
        "           Mount the filesystem read/write. Read-write is the kernel default\n"
        "           and the mount default is to try read-only if the previous mount(2)\n"
        "           syscall with read-write flags on write-protected devices failed.\n"
    )
    asked = (
        "I'm stacking a writable directory on top of a read-only one to get a merged view. "
        "What conditions must the extra scratch directory that this setup needs meet?"
    )
    listed = "The extra scratch directory must meet the following: 1) 2)"

    def respond(request: GenerationRequest) -> dict:
        return reply("", listed) if "read-only" in chunk_of(request) else reply()

    answer = agent(ScriptedModel(respond)).ask(document(rw), asked)
    assert not answer.found, answer.text


PIDWAIT = (
    "Defunct processes are reported.\n\n"
    "pidwait requires the pidfd_open(2) system call which first appeared in\nLinux 5.3.\n"
)
KERNEL = (
    "What's the minimum Linux kernel version needed for the variant that waits until "
    "processes exit?"
)


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        # pgrep(1)'s sentence, quoted whole; the answer is its first 80 characters, short
        # of "5.3" (blind8's pgrep-06): the one version it states answers
        (
            "Defunct processes are reported. pidwait requires the pidfd_open(2) system call "
            "which first appeared in Linux 5.3.",
            True,
        ),
        # the reader's own sentence, sharing a few of its words, quotes no sentence
        ("pidwait requires the minimum Linux kernel version 2.2.2.", False),
    ],
)
def test_a_reader_that_quotes_the_sentence_but_not_its_value_is_answered_with_the_value(
    quote: str, found: bool
) -> None:
    cut = "Defunct processes are reported. pidwait requires the pidfd_open(2) system call,"

    def respond(request: GenerationRequest) -> dict:
        return reply(quote, cut) if "pidwait" in chunk_of(request) else reply()

    answer = agent(ScriptedModel(respond)).ask(document(PIDWAIT), KERNEL)
    assert answer.found is found, answer.text
    if found:
        assert answer.text == "5.3" and "Linux 5.3" in answer.citations[0].quote
