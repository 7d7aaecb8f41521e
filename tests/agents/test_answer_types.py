"""The kind of value a question asks for, and whether a passage holds a new one
(`agents/answer_types.py`): what keeps a sentence close in meaning but of the wrong kind
from answering (issue #18)."""

from __future__ import annotations

import pytest

from longagent.agents.answer_types import (
    DURATION,
    FIELD,
    NUMBER,
    UNIT,
    VARIABLE,
    VERSION,
    WAY,
    asks_yes_no,
    expected,
    holds_answer,
    new_values,
)

RETRIES = "How many times does wget try a download again by default before it gives up?"
IGNORE_CASE = (
    "With -i, less still pays attention to case as soon as I type a capital letter. "
    "Which option ignores case no matter what?"
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        (RETRIES, NUMBER),
        ("What exit code does grep give back when something went wrong?", NUMBER),
        ("In what unit is the installed size given?", UNIT),  # "kilobytes" holds no digit
        ("When I cap the speed, what unit is the number given in?", UNIT),
        ("What unit does the timer start when it elapses?", None),  # a systemd unit
        ("How often does cron run the job?", DURATION),  # "daily" is one too
        ("If the laptop wakes up, how long does logind wait before it acts?", DURATION),
        ("Which setting controls how long they wait before trying again?", None),
        ("If the server is down, how many times does it retry, and how long?", NUMBER),
        ("Which environment variable changes the colours grep uses?", VARIABLE),
        ("Which field says whether building needs root?", FIELD),
        ("Which field records the release of the rulebook a package follows?", FIELD),
        ("Which release of make first added the option?", VERSION),
        ("In which curl version was WebSocket support added?", VERSION),
        ("Which version control system does the project use?", None),
        ("What's the minimum Linux kernel version needed for pidwait?", VERSION),
        ("What does a version number with no dash in it tell you?", None),
        ("Which file holds my personal client settings?", None),  # "lesshst" is a file too
        ("My download stopped. How do I pick it up where it stopped?", WAY),
        (IGNORE_CASE, WAY),
        ("Who maintains the package?", None),
        # the cue said first decides (blind's xz-05, blind6's flock-02)
        ("Which option shows how much RAM and how many CPU threads xz sees?", WAY),
        ("How do I choose the exit status returned when the lock is taken?", WAY),
        ("How many lines of context does grep print, and which option sets it?", NUMBER),
        # the sentence that asks decides (blind9's file-06)
        ("My script checks file's exit code, but it is 0. Which option makes it fail?", WAY),
        ("What is this document about?", None),
    ],
)
def test_the_kind_a_question_asks_for(question: str, kind: object) -> None:
    assert expected(question) is kind


def test_a_duration_is_a_number_or_a_word_of_time() -> None:
    often = "When the kernel syncs the clock, how often does it write the time back?"
    for answer in ("every 11 minutes", "30s", "daily", "once a day", "It waits forever."):
        assert holds_answer(often, answer), answer
    for answer in ("Available values:", "an approved option", "the hardware clock"):
        assert not holds_answer(often, answer), answer


def test_a_number_must_count_what_the_question_counts() -> None:
    assert holds_answer(RETRIES, "Set number of tries to number. The default is to retry 20 times.")
    assert not holds_answer(RETRIES, "By default, Wget will assume a value of 10 seconds.")
    assert holds_answer("How many levels deep does it go?", "The default maximum depth is 5.")
    assert holds_answer("How many retries does it make?", "It retries 20 times.")  # any count
    assert not holds_answer("How many retries does it make?", "It waits 20 seconds.")
    # the question's own number, whatever word follows it (blind8's pgrep-04)
    code = "My script got a return value of 1 from pgrep. What does that mean?"
    assert not holds_answer(code, "The return value of 1 from pgrep is a result of the match.")
    assert holds_answer(code, "It returns 0 when a process matched, 1 when none did.")
    # "one" as a pronoun is no quantity; as a count it is.
    shortest = "What is the shortest a package name is allowed to be?"
    assert not holds_answer(shortest, "The first line is empty. Each one of the next lines ...")
    assert holds_answer("How many files does it keep?", "It keeps one file.")
    # A man page's section reference is no quantity.
    assert not holds_answer(
        "How many past searches does less remember?",
        'Should be set to "global" if your system has the global(1) command.',
    )


def test_an_option_must_be_new_and_keeps_its_case() -> None:
    # The entry of the question's own -i, by its other name, is no answer ...
    assert not holds_answer(IGNORE_CASE, "-i or --ignore-case Causes searches to ignore case.")
    # ... -I is another option, though it mentions -i.
    assert holds_answer(IGNORE_CASE, "-I or --IGNORE-CASE Like -i, but ignores case always.")
    assert holds_answer("How do I resume a download?", "-c, --continue Continue a download.")
    assert not holds_answer("How do I get grep to list file names?", "NAME grep - print lines")
    # A key or a pager's command is a way too.
    assert holds_answer("How do I open the file in an editor?", "Press v.")
    assert holds_answer("How do I search forward?", "Type /pattern and Enter.")
    assert holds_answer("How do I undo the highlighting?", 'Use "ESC-u".')


def test_a_setting_or_a_variable_is_a_way_too() -> None:
    # blind6's mount-04, blind's argparse-07 and xz-08: right answers refused as no option.
    asked = "Which option stops the time translation on my camera's card?"
    assert holds_answer(asked, "tz=UTC")
    assert holds_answer("How do I keep logs for 90 days at most?", "MaxRetentionSec=90day")
    assert holds_answer("How do I make a switch that is on or off?", 'action="store_true"')
    assert holds_answer("How can I hand my settings to xz from tar?", "XZ_OPT")
    assert holds_answer("How can I change the search list for one program?", "LOCALDOMAIN")
    # Not any word: a bare word must name its evidence's entry (test_evidence_about.py).
    assert not holds_answer(asked, "nofail")
    assert not holds_answer(asked, "The time is converted to UTC by the kernel.")


def test_other_kinds_and_questions_of_no_kind() -> None:
    variable = "Which environment variable changes the colours grep uses?"
    assert holds_answer(variable, "The colors are defined by the variable GREP_COLORS.")
    assert not holds_answer(variable, "The colors are defined by the environment.")
    assert holds_answer("Which environment variable sets the proxy?", "Set http_proxy.")
    assert holds_answer("Which field gives the version?", "Version")
    assert not holds_answer("Which field gives the version?", "the version of the package")
    release = "Which field records the release of the Debian rulebook a package follows?"
    assert holds_answer(release, "Standards-Version")
    assert not holds_answer(release, "For example, suppose Debian 10 released with it.")
    assert holds_answer("Who wrote the manual?", "It was written by the maintainers.")


def test_a_unit_question_is_answered_by_a_unit_of_measure() -> None:
    # blind8's ss-03: the 135M reader answered "MD5", from ss(8)'s "the key for TCP MD5
    # signature", wrong but found.
    rtt = "In the detailed TCP internals output, what unit are the round-trip times given in?"
    for right in ("millisecond", "ms", "their units are millisecond", "KiB", "Kbit/s", "100%"):
        assert holds_answer(rtt, right), right
    assert holds_answer(rtt, "512-byte blocks") and holds_answer(rtt, "kilobytes")
    for wrong in ("MD5", "the key for TCP MD5 signature", "rtt", "10"):
        assert not holds_answer(rtt, wrong), wrong


def test_a_version_is_a_dotted_or_named_number_never_a_date() -> None:
    asked = "In which version of the tool was the option added?"
    for right in ("4.0", "GNU make 4.0", "It came in 7.86.0.", "version 4", "v3", "2.3-3"):
        assert holds_answer(asked, right), right
    assert holds_answer("Which Debian release first shipped it?", "Debian 12")
    assert new_values(asked, "It first appeared in Linux 5.3.") == ["5.3"]  # not "Linux 5"
    for wrong in ("GNU 28 February 2016", "February 2016", "2016-02-28", "the 2016 release"):
        assert not holds_answer(asked, wrong), wrong
    assert not holds_answer(asked, "It exits 2.")


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Can top display the CPU temperature alongside the load numbers?", True),
        ("Is there a built-in debugger in mawk that lets me set a breakpoint?", True),
        ("After applying a patch in a git repository, can patch commit the changes?", True),
        ("Some processes show a D in the state column. What does that letter mean?", False),
        ("In which town was Kalomi born?", False),
        ("How do I make top quit after ten refreshes?", False),
        ("Issues aside, which option sorts by memory?", False),
    ],
)
def test_a_yes_no_question_opens_with_an_auxiliary_verb(question: str, yes_no: bool) -> None:
    assert asks_yes_no(question) is yes_no
