"""The lexical verifier over whole natural-suite manuals, chunked as the pipeline chunks
them: replies the 135M readers gave and that were once marked found, and units that only
a sentence of the manual states. The rules on short excerpts are in
test_evidence_about.py."""

from __future__ import annotations

import functools

import pytest

from longagent.agents.evidence import LexicalVerifier
from longagent.agents.member import MemberReply
from longagent.agents.question import Question
from longagent.agents.relevance import in_document
from longagent.apps.bench.natural_data import document_text
from longagent.apps.library_cmd import token_counter
from longagent.chunking import Chunk, Document, split
from longagent.config import Settings

VERIFIER = LexicalVerifier()


@functools.cache
def manual(name: str) -> list[Chunk]:
    """A natural-suite manual in the pipeline's chunks (512 tokens)."""
    return split(Document.create(document_text(name)), token_counter(Settings()), 512)


@pytest.mark.parametrize(
    ("name", "question", "answer", "quote"),
    [
        # blind7's useradd-06: an echo of the question cut by the reply's length limit
        # after "U", a letter useradd's -u gives the evidence.
        (
            "useradd.txt",
            "What is the lowest numeric user ID handed out to ordinary (non-system) "
            "accounts by default?",
            "The lowest numeric user ID handed out to ordinary (non-system) accounts by the U",
            "",
        ),
        # blind7's resolv-02: "25" is a piece of glibc's version 2.25, not a number of its own.
        (
            "resolv.conf.txt",
            "By default, how many seconds does a lookup wait for an answer from one DNS "
            "server before it tries another?",
            "25 nin%%",
            "copy the one sentence of the document part that answers the question",
        ),
        # blind7's resolv-09 (absent): the sentence shares only the document's word
        # "resolver" and the question's frame "before" with what is asked.
        (
            "resolv.conf.txt",
            "How long does the resolver cache DNS answers before asking again?",
            "The DNSSEC-validating re-solver sets the AD bit in outgoing DNS queries before",
            "The DNSSEC-validating re-solver sets the AD bit in outgoing DNS queries before "
            "return-again",
        ),
        # blind7's keygen-06: "ssh-keygen", in most of its manual's chunks, is its subject
        # and makes no sentence evidence; this one shares only "use" with the question.
        (
            "ssh-keygen.txt",
            "When ssh-keygen shows me a key's fingerprint, which hash algorithm does it use "
            "unless I ask for another one?",
            "ssh-keygen can create keys for use by SSH protocol version 2. This is a default,",
            "ssh-keygen can create keys for use by SSH protocol version 2.",
        ),
        # blind8's ss-03: a unit is asked, and "MD5" is none.
        (
            "ss.txt",
            "In the detailed TCP internals output, what unit are the round-trip time numbers "
            "given in?",
            "MD5",
            "The memory used for storing socket option, e.g., the key for TCP MD5 signature",
        ),
        # blind8's pgrep-04: "1 from" is no new number, and "Example 1" no exit status.
        (
            "pgrep.txt",
            "My script got a return value of 1 from pgrep. What does that mean?",
            "The return value of 1 from pgrep is a result of the process ID matching the "
            "process ID of the named daemon.",
            "The return value of 1 from pgrep is a result of the process ID matching the "
            "process ID of the named daemon.",
        ),
        # blind6's mount-05: of the reader's words, only "Rock Ridge" stands in the sentence.
        (
            "mount.txt",
            "I'm stacking a writable directory on top of a read-only one to get a merged "
            "view. What conditions must the extra scratch directory that this setup needs "
            "meet?",
            "The production process is not uncomplicated. To avoid problems, Rock Ridge needs",
            "The production process is not uncomplicated. To avoid problems, Rock Ridge needs",
        ),
        # blind9's hwclock-05: "how often" asks for a time, and "Available values:" is none.
        (
            "hwclock.txt",
            "When the kernel is keeping the clock in sync via NTP, how often does it write the "
            "system time back to the hardware clock?",
            "Available values:",
            "wcoolspace,zwcoolspace,zwcoolspace,v1.2,wcoolspace}",
        ),
        # Its other junk reply: an option made of the question's words is in no chunk.
        (
            "hwclock.txt",
            "When the kernel is keeping the clock in sync via NTP, when does it write the "
            "system time back to the hardware clock?",
            "use --with-system-date-data --with-system-date-data --user-mode-with-system-date",
            "usage: --with-system-date-data --with-system-date-data "
            "--user-mode-with-system-date-data --communication-with-time-regul",
        ),
        # blind9's file-06: the question's "0" is no option "-0" nor an escape "\0".
        (
            "file.txt",
            "My script checks file's exit code, but it is 0 even when a file doesn't exist. "
            "Which option makes it fail instead?",
            "-0, --print0",
            "-0, --print0 Output a null character ‘\\0’ after the end of the filename.",
        ),
    ],
    ids=[
        "echo-cut-at-the-limit",
        "piece-of-a-version",
        "shares-only-common-words",
        "names-only-the-subject",
        "no-unit",
        "the-question-s-own-number",
        "only-its-names-stand-there",
        "no-time",
        "an-option-made-up",
        "the-question-s-number-as-an-option",
    ],
)
def test_wrong_answers_the_135m_reader_got_marked_found_ground_in_no_chunk(
    name: str, question: str, answer: str, quote: str
) -> None:
    chunks = manual(name)
    asked = in_document(Question.parse(question), chunks)
    # Constructed as a free reading is (`member.free_reply`): its sentence may run past 80.
    reply = MemberReply.model_construct(answer=answer, quote=quote)
    assert [VERIFIER.check(reply, c.text, asked).verdict for c in chunks].count("grounded") == 0


@pytest.mark.parametrize(
    ("answer", "grounds"),
    [("1024", True), ("kibibytes", False), ("MD5", False), ("the package", False)],
)
def test_a_unit_question_takes_a_number_with_the_unit_its_sentence_gives(
    answer: str, grounds: bool
) -> None:
    # dev's debian-06: Debian Policy's size is "in bytes, divided by 1024"; the sentence
    # holds no "kibibytes", and "MD5" or "the package" is no unit.
    chunks = manual("debian-policy-control-fields.html")
    asked = in_document(
        Question.parse("In what unit is the disk space a package takes up after installing given?"),
        chunks,
    )
    quote = (
        "The disk space is given as the integer value of the estimated installed size in "
        "bytes, divided by 1024 and rounded up."
    )
    reply = MemberReply(answer=answer, quote=quote)
    verdicts = [VERIFIER.check(reply, c.text, asked).verdict for c in chunks]
    assert ("grounded" in verdicts) is grounds
