"""The lexical verifier on real manual text (man pages, coreutils, Python's docs, as Debian
12 ships them): is the evidence about what the question asks? Measured failure modes of
the 135M readers; the basic checks are in test_evidence.py, the checks over whole manuals
in test_evidence_manuals.py."""

from __future__ import annotations

import pytest

from longagent.agents.evidence import LexicalVerifier
from longagent.agents.member import MemberReply
from longagent.agents.question import Question

from ._qa_helpers import lexical_check as check

VERIFIER = LexicalVerifier()

PYTHON_DOCS = (
    "Decorators are a way of wrapping code. The decorator syntax allows you to pass a "
    "function to a function. The pass key is 88952."
)
COREUTILS = (
    "10.1.3 Sorting the output. '-S' '--sort=size' Sort by file size, largest first. "
    "7.1 sort: Sort text files. With '-n -r', sort puts the largest numbers first."
)


DIFF = (
    "--no-ignore-file-name-case\n    consider case when comparing file names\n"
    "-D, --ifdef=NAME\n    output merged file with '#ifdef NAME' diffs\n"
    "If a FILE is '-', read standard input.  Exit status is 0 if inputs are the same, 1 "
    "if different, 2 if trouble."
)


@pytest.mark.parametrize(
    ("answer", "quote", "chunk", "question", "verdict"),
    [
        # a sentence sharing one topic word of two ("pass") is not about the pass key
        (
            "The pass key is a function that allows you to pass a function to a function.",
            "The decorator syntax allows you to pass a function to a function.",
            PYTHON_DOCS,
            "What is the pass key?",
            "unsupported",
        ),
        # ls's option shares 3 of the 6 topic words: not most of them
        (
            "'-S' '--sort=size' Sort by file size, largest first.",
            "'-S' '--sort=size' Sort by file size, largest first.",
            COREUTILS,
            "How do I make sort put the largest numbers first?",
            "unsupported",
        ),
        # sort's own sentence shares 5 of the 6
        (
            "-n -r",
            "With '-n -r', sort puts the largest numbers first.",
            COREUTILS,
            "How do I make sort put the largest numbers first?",
            "grounded",
        ),
        # a word counts by its stem: "lucky numbers" is about "The lucky number is 4242."
        (
            "4242",
            "The lucky number is 4242.",
            "The lucky number is 4242.",
            "Which lucky numbers are there?",
            "grounded",
        ),
        # ... an English stem, not a word's first letters: "diffs" is not "different"
        # (diff's manual; the 135M reader answered with this option line, quoting a
        # sentence of its own)
        (
            "-D, --ifdef=NAME output merged file with '#ifdef NAME' diffs",
            'The output of diff is "diff: different files"',
            DIFF,
            "What does diff exit with when the files are different?",
            "unsupported",
        ),
    ],
)
def test_evidence_must_share_most_of_the_question_s_topic(
    answer: str, quote: str, chunk: str, question: str, verdict: str
) -> None:
    assert check(answer, quote, chunk, question).verdict == verdict


def test_a_chunk_sharing_a_word_only_by_its_first_letters_is_read_but_grounds_nothing() -> None:
    """Choosing chunks is looser than grounding: "different" shares only its first letters
    with "diffs", enough to read the chunk, never enough to ground an answer from it."""
    option = "-D, --ifdef=NAME\n    output merged file with '#ifdef NAME' diffs\n"
    question = Question.parse("What does diff print for different files?")
    assert VERIFIER.could_ground(option, question)
    reply = MemberReply(answer="merged file with '#ifdef NAME' diffs", quote=option.strip())
    assert VERIFIER.check(reply, option, question).verdict == "unsupported"


WGET = (
    "--waitretry=seconds\n    If you don't want Wget to wait between every retrieval, but only "
    "between retries of failed downloads, you can use this option. By default, Wget will "
    "assume a value of 10 seconds.\n-t number, --tries=number\n    Set number of tries to "
    "number. By default Wget retries 20 times."
)


@pytest.mark.parametrize("verifier", ["lexical", "semantic"])
def test_an_answer_of_another_kind_than_asked_is_not_supported(verifier: str) -> None:
    from longagent.agents.verifier import get_verifier

    asked = Question.parse("How many times does Wget retry a failed download by default?")
    judge = get_verifier(verifier)
    quote = "By default, Wget will assume a value of 10 seconds."
    wrong = judge.check(MemberReply(quote=quote, answer="a value of 10 seconds"), WGET, asked)
    assert wrong.verdict == "unsupported"  # a number, but of seconds, not of tries
    quote = "By default Wget retries 20 times."
    right = judge.check(MemberReply(quote=quote, answer="20 times"), WGET, asked)
    assert right.verdict == "grounded"


MAKE_END = (
    "--output-sync[=type] Ensure that the output of each recipe is printed in one piece, "
    "not interleaved with other jobs' output.\n\nCOPYRIGHT\n       Copyright 1992-2016 "
    "Free Software Foundation, Inc. This file is part of GNU make.\n\n"
    "GNU                            28 February 2016                        MAKE(1)\n"
)


def test_a_version_question_is_not_answered_by_a_date() -> None:
    # blind2's make-09, an absent fact: the 135M reader answered with the page's footer,
    # which names GNU (the question's only name) and holds numbers, but no version.
    question = (
        "Which release of GNU make first added the option that keeps output from "
        "parallel jobs grouped together?"
    )
    footer = "GNU                            28 February 2016"
    assert check("GNU 28 February 2016", footer, MAKE_END, question).verdict == "unsupported"
    added = MAKE_END + "The --output-sync option was added in GNU make 4.0.\n"
    quote = "The --output-sync option was added in GNU make 4.0."
    assert check("GNU make 4.0", quote, added, question).verdict == "grounded"


TOP_CPU = (
    "-1, --single-cpu-toggle\n   Starts top with the last remembered Cpu States portion of the\n"
    "   summary area reversed.  Either all cpu information will be displayed\n   in a single "
    "line or each cpu will be displayed separately.\n\n%CPU  --  CPU Usage\n    The task's "
    "share of the elapsed CPU  time  since  the  last  screen\n    update, expressed as a "
    "percentage of total CPU time.\n"
)


@pytest.mark.parametrize("verifier", ["lexical", "semantic"])
def test_a_yes_no_question_s_evidence_must_say_what_it_asks_not_only_its_names(
    verifier: str,
) -> None:
    from longagent.agents.verifier import get_verifier

    judge = get_verifier(verifier)
    # blind5's top-08, an absent fact: the 135M reader's claim passed on a sentence that
    # names the CPU (the question's name) and says nothing of a temperature.
    absent = Question.parse("Can top display the CPU temperature alongside the load numbers?")
    claim = MemberReply(
        answer="The CPU temperature is displayed alongside the load numbers in the summary area.",
        quote="Starts top with the last remembered Cpu States portion of the summary area reversed.",
    )
    assert judge.check(claim, TOP_CPU, absent).verdict == "unsupported"
    asked = Question.parse("Does top show each task's share of the CPU time?")
    share = MemberReply(
        answer="Yes: the task's share of the elapsed CPU time since the last screen update",
        quote="The task's share of the elapsed CPU time since the last screen update",
    )
    assert judge.check(share, TOP_CPU, asked).verdict == "grounded"


# dmesg(1), as Debian 12 ships it.
DMESG_BUFFER = (
    "       -s, --buffer-size size\n"
    "           Use a buffer of size to query the kernel ring buffer. This is 16392\n"
    "           by default. (The default kernel syslog buffer size was 4096 at\n"
    "           first, 8192 since 1.3.54, 16384 since 2.1.113.)\n"
)


def test_a_sentence_that_refers_back_is_judged_with_the_sentence_before_it() -> None:
    # blind5's dmesg-03: the 135M reader's right answer was refused, its evidence "This is
    # 16392 by default." sharing only "default" with the question.
    asked = "What size of buffer does dmesg use by default when it reads the kernel log?"
    reply = "The buffer size is 16392"
    assert check(reply, reply, DMESG_BUFFER, asked).verdict == "grounded"
    # What "this" is comes from the sentence before, so an unrelated one grounds nothing.
    elsewhere = "Colours are read from the theme file. This is 16392 by default.\n"
    assert check(reply, reply, elsewhere, asked).verdict == "unsupported"
    # A record before it lends its key to no other value (RULER's needles in essays).
    needle = "The special magic number for grubby-color is: 4411. It was founded in 1995."
    key = "What is the special magic number for grubby-color?"
    assert check("1995", "It was founded in 1995.", needle, key).verdict == "unsupported"


# top(1), as Debian 12 ships it: the -d option, then the S field's letters.
TOP_STATES = (
    "       -d, --delay = SECS [.TENTHS]\n"
    "          Specifies  the  delay  between  screen  updates,  and  overrides the\n"
    "          corresponding value in one's  personal  configuration  file  or  the\n"
    "          startup  default.   Later  this  can  be changed with the `d' or `s'\n"
    "          interactive commands.\n\n"
    "       S  --  Process Status\n"
    "           The status of the task which can be one of:\n"
    "               D = uninterruptible sleep\n"
    "               I = idle\n"
    "               R = running\n"
)


@pytest.mark.parametrize(
    ("answer", "quote", "verdict"),
    [
        ("uninterruptible sleep", "D = uninterruptible sleep", "grounded"),
        # blind5's top-03, wrong but found: "`d'" (a key) and "-d" (an option) are not D
        ("s", "Later this can be changed with the `d' or `s' interactive commands.", "unsupported"),
        ("SECS", "-d, --delay = SECS [.TENTHS]", "unsupported"),
    ],
)
def test_a_one_letter_name_is_that_capital_letter_standing_alone(
    answer: str, quote: str, verdict: str
) -> None:
    asked = "Some of my processes show a D in the state column. What does that letter mean?"
    assert check(answer, quote, TOP_STATES, asked).verdict == verdict


# mount(8), as Debian 12 ships it: options that are bare words, each an entry of its own.
MOUNT_OPTIONS = (
    "       noexec\n"
    "           Do not permit direct execution of any binaries on the mounted\n"
    "           filesystem.\n\n"
    "       nofail\n"
    "           Do not report errors for this device if it does not exist.\n\n"
    "       relatime\n"
    "           Update inode access times relative to modify or change time.\n"
)
NOFAIL = "nofail Do not report errors for this device if it does not exist."
DEVICE_ERRORS = "Which option stops errors being reported for a device that does not exist?"


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("nofail", "grounded"),  # the term of the entry the evidence stands in
        ("`nofail'", "grounded"),
        ("relatime", "unsupported"),  # another entry's term
        ("report", "unsupported"),  # a word of the body is no option
        ("Do not report errors for this device", "unsupported"),  # nor is a sentence
    ],
)
def test_a_bare_word_option_is_the_term_of_the_entry_its_evidence_describes(
    answer: str, verdict: str
) -> None:
    # blind6's mount-03 and blind5's fstab-04: the right answer "nofail" was refused as
    # "no option or syntax" whatever its evidence.
    assert check(answer, NOFAIL, MOUNT_OPTIONS, DEVICE_ERRORS).verdict == verdict
