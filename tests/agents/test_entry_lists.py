"""A list question over a manual answered from its entries (`agents/entry_lists.py`,
issue #19), with the real MiniLM embedder. The scripted reader fails the test if it is
asked anything where the entries answer: picking entries needs no model."""

from __future__ import annotations

import re

import pytest

from longagent.agents import LongAgent
from longagent.agents.entry_lists import _holds, listing
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import MiniLMEmbedder

from ._qa_helpers import reply

MANUAL = """\
CRAWL(1)                     User Commands                     CRAWL(1)

NAME
       crawl - fetch web pages for offline reading

OPTIONS
   Logging and Input File Options
       -o logfile, --output-file=logfile
              Log all messages to logfile.  The messages are normally reported
              to standard error.

       -i file, --input-file=file
              Read URLs from a local or external file.

       -q, --quiet
              Turn off the crawler's output.

   Download Options
       -t number, --tries=number
              Set number of tries to number.  Specify 0 for infinite retrying.

       -T seconds, --timeout=seconds
              Set the network timeout to seconds seconds.

       --connect-timeout=seconds
              Set the connect timeout to seconds seconds.  TCP connections that
              take longer to establish will be aborted.

       --read-timeout=seconds
              Set the read (and write) timeout to seconds seconds.  Reads that
              take longer will fail.

       --limit-rate=amount
              Limit the download speed to amount bytes per second.

   HTTP Options
       --no-cookies
              Disable the use of cookies.

       --load-cookies file
              Load cookies from file before the first HTTP retrieval.

       --save-cookies file
              Save cookies to file before exiting.

       --user-agent=agent-string
              Identify as agent-string to the HTTP server.

EXIT STATUS
       0      No problems occurred.
       1      Generic error code.
"""


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def picked(question: str, embedder: MiniLMEmbedder) -> list[str]:
    found = listing(MANUAL, question, embedder)
    assert found is not None
    assert found.sections == ["OPTIONS"]
    return [p.term for p in found.picks]


def test_options_taking_a_file_are_those_whose_argument_names_one(embedder) -> None:
    assert picked("Which options take a file name?", embedder) == [
        "-o logfile, --output-file=logfile",
        "-i file, --input-file=file",
        "--load-cookies file",
        "--save-cookies file",
    ]


def test_options_are_picked_by_meaning_with_the_question_words_in_them(embedder) -> None:
    assert picked("Which options deal with cookies?", embedder) == [
        "--no-cookies",
        "--load-cookies file",
        "--save-cookies file",
    ]
    assert picked("Which options set a timeout?", embedder) == [
        "-T seconds, --timeout=seconds",
        "--connect-timeout=seconds",
        "--read-timeout=seconds",
    ]


def test_no_section_of_the_asked_kind_gives_no_listing(embedder) -> None:
    assert listing(MANUAL, "Which commands move forward in the file?", embedder) is None
    flat = "Options: -o names the log file; -i names the input file."
    assert listing(flat, "Which options take a file name?", embedder) is None


def never(request: GenerationRequest) -> dict:
    raise AssertionError("the entries answer: no reader is asked")


def test_longagent_answers_a_list_with_each_entry_cited_verbatim() -> None:
    document = Document.create(MANUAL)
    answer = LongAgent(ScriptedModel(never), chunk_tokens=120).ask(
        document, "Which options deal with cookies?"
    )
    assert answer.shape == "list" and answer.found
    items = re.split(r"[;,] ", answer.text)
    assert items == ["--no-cookies", "--load-cookies file", "--save-cookies file"]
    for citation, term in zip(answer.citations, items, strict=True):
        assert document.text[citation.start : citation.end] == citation.quote
        assert citation.quote.startswith(term)  # the term line, then its first sentence
    assert answer.usage.model_calls == 0


def test_when_no_entry_answers_the_passages_are_read_instead() -> None:
    asked: list[str] = []

    def reader(request: GenerationRequest) -> dict:
        asked.append(request.task.get("passage", ""))
        return reply()

    document = Document.create(MANUAL)
    answer = LongAgent(ScriptedModel(reader), chunk_tokens=120).ask(
        document, "Which options change the colour of the progress bar?"
    )
    assert not answer.found
    assert asked  # read after the entries gave nothing
    listing_round = answer.trace[0]
    assert listing_round.kind == "collect" and not listing_round.reports


CONTROL = """\
5.2. Source package control files – debian/control

The fields in the general stanza (the first one, for the source package) are:

- Source (mandatory)

- Maintainer (mandatory)

- Build-Depends et al

5.5. Debian changes files – .changes

The .changes files are used by the archive maintenance software to process updates.

The fields in this file are:

- Format (mandatory)

- Date (mandatory)

- Closes

- Files (mandatory)
"""


def test_without_entries_the_announced_list_closest_to_the_question_answers() -> None:
    document = Document.create(CONTROL)
    answer = LongAgent(ScriptedModel(never), chunk_tokens=120).ask(
        document, "Which fields does a .changes file have?"
    )
    assert answer.found and answer.shape == "list"
    assert re.split(r"[;,] ", answer.text) == [
        "Format (mandatory)",
        "Date (mandatory)",
        "Closes",
        "Files (mandatory)",
    ]
    for citation in answer.citations:
        assert document.text[citation.start : citation.end] == citation.quote


POLICY_KEYS = """\
5.6.31. Rules-Requires-Root

This field is used to indicate whether the binary targets need root.

A tool may use the gain root command only if the package lists its keyword in
Rules-Requires-Root.

5.6.31.3. Provided keywords

The following keywords are defined:

- dpkg/target-subcommand: declares that a command must run under (fake)root.
- dpkg/target/foo: declares that the target foo must run under (fake)root.

5.6.32. Build-Profiles

The following keywords are reserved:

- cross: the package is built for another architecture.
- nocheck: no test suite is run.
"""


def test_a_key_s_own_list_answers_a_multi_value_question_and_no_other_key_s(embedder) -> None:
    document = Document.create(POLICY_KEYS)
    answer = LongAgent(ScriptedModel(never), chunk_tokens=60).ask(
        document, "What keywords are defined for Rules-Requires-Root?"
    )
    assert answer.found and answer.shape == "multi_value"
    assert answer.text.split(", ") == ["dpkg/target-subcommand", "dpkg/target/foo"]
    for citation in answer.citations:
        assert document.text[citation.start : citation.end] == citation.quote
    # The keywords of a key named nowhere near a list: none of the lists answers for it.
    question = "What keywords are defined for Built-Using?"
    assert listing(POLICY_KEYS, question, embedder, keys=frozenset({"built-using"})) is None


def test_the_document_s_own_vocabulary_tells_only_when_nothing_else_does(embedder) -> None:
    question = "Which options read from a file?"
    assert "--save-cookies file" in picked(question, embedder)  # it names "file"
    # Where "file" stands in most chunks (a pager's manual), it tells nothing: "read" picks.
    found = listing(MANUAL, question, embedder, common=frozenset({"file"}))
    assert found is not None
    assert [p.term for p in found.picks] == [
        "-i file, --input-file=file",
        "--read-timeout=seconds",
    ]
    # Asked with that word alone, the question still has its answer: "the crawler's output".
    found = listing(MANUAL, "Which options concern the crawler?", embedder, frozenset({"crawler"}))
    assert found is not None and [p.term for p in found.picks] == ["-q, --quiet"]


def test_an_item_names_a_word_inside_its_term_but_only_at_a_word_start_in_its_text() -> None:
    assert _holds("times", "atime n", "file was last accessed n days ago.")  # "-atime"
    assert _holds("moves", "m move", "move the files instead of copying them.")
    assert not _holds("move", ":d", "remove the current file from the list of files.")


# A manual whose every paragraph speaks of a file, as a pager's manual does; two of its
# six options do.
FILES = (
    "DESCRIPTION\n"
    + "".join(f"       Part {n} of the file is shown on screen {n}.\n\n" for n in range(1, 13))
    + "OPTIONS\n"
    + "\n".join(
        f"       {term}\n              {text}\n"
        for term, text in [
            ("-i file", "Read the URLs from the input file."),
            ("--read-timeout=seconds", "Stop reading after seconds."),
            ("-o file", "Write the log to a file."),
            ("-q", "Turn off the output."),
            ("-v", "Explain what is done."),
            ("-t number", "Set the number of tries."),
        ]
    )
)


def test_longagent_takes_the_document_s_own_vocabulary_for_no_telling_word() -> None:
    answer = LongAgent(ScriptedModel(never), chunk_tokens=20).ask(
        Document.create(FILES), "Which options read from a file?"
    )
    assert answer.found and answer.usage.model_calls == 0
    items = answer.text.split(", ")
    # "-o file" names only "file"; reading is what is asked.
    assert "--read-timeout=seconds" in items and "-o file" not in items


FIND = """\
EXPRESSION
   ACTIONS
       -delete
              Delete files or directories; true if removal succeeded.

       -exec command ;
              Execute command; true if 0 status is returned.

       -ok command ;
              Like -exec but ask the user first.  If the user agrees, run the command.

       -ls
              True; list the current file in ls -dils format on standard output.

       -prune
              True; if the file is a directory, do not descend into it.

       -quit
              Exit immediately, with no child processes left running.
"""


def test_items_with_a_semicolon_of_their_own_are_set_apart_by_semicolons() -> None:
    answer = LongAgent(ScriptedModel(never), chunk_tokens=120).ask(
        Document.create(FIND), "Which actions run a command?"
    )
    assert answer.text == "-exec command ;; -ok command ;"


PAGER = """\
COMMANDS
       SPACE or f
              Scroll forward one window.

       F
              Scroll forward, and keep trying to read when the end of file is reached.

       b
              Scroll backward one window.

       /pattern
              Search forward in the file for the next line containing the pattern.

       ?pattern
              Search backward in the file for the next line containing the pattern.

       :n
              Examine the next file in the command line list.

       q
              Exit the pager.
"""


def test_an_item_alike_but_for_a_word_the_question_asks_is_no_sibling(embedder) -> None:
    # "?pattern" reads like the picked "/pattern" but for "backward": it is the contrary.
    found = listing(
        PAGER, "Which commands move forward in the file?", embedder, frozenset({"file"})
    )
    assert found is not None and found.sections == ["COMMANDS"]
    terms = [p.term for p in found.picks]
    assert "/pattern" in terms and "?pattern" not in terms and "b" not in terms
