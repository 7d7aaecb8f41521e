"""Definition lists in plain text (`chunking/entries.py`): terms, bodies, nesting."""

from __future__ import annotations

from longagent.chunking.entries import entries, walk

MANUAL = """\
NAME
       crawl - fetch pages

OPTIONS
   Logging Options
       -o logfile
       --output-file=logfile
           Log all messages to logfile.  The messages are normally
           reported to standard error.

       --load-cookies file
           Load cookies from file before the first retrieval.

           "Netscape 4.x."
               The cookies are in ~/.netscape/cookies.txt.

   Download Options
       -t number, --tries=number
           Set number of tries to number.
"""


def terms(text: str) -> list[str]:
    return [e.term_text(text) for e in walk(entries(text))]


def test_terms_their_bodies_and_sections_nest() -> None:
    found = entries(MANUAL)
    assert [e.term_text(MANUAL) for e in found] == ["NAME", "OPTIONS"]
    options = found[1]
    assert [c.term_text(MANUAL) for c in options.children] == [
        "Logging Options",
        "Download Options",
    ]
    logging, download = options.children
    assert logging.opens_with_entry(MANUAL)  # a heading over its options
    output, cookies = logging.children
    # Two term lines at one indentation are one term.
    assert output.term_text(MANUAL) == "-o logfile, --output-file=logfile"
    body = MANUAL[output.body[0] : output.body[1]]
    assert body.startswith("Log all messages") and body.endswith("standard error.")
    # An item's own nested entry stays inside it; its body starts with prose.
    assert [c.term_text(MANUAL) for c in cookies.children] == ['"Netscape 4.x."']
    assert not cookies.opens_with_entry(MANUAL)
    assert download.children[0].term_text(MANUAL) == "-t number, --tries=number"


def test_spans_are_offsets_into_the_text() -> None:
    for entry in walk(entries(MANUAL)):
        term = MANUAL[entry.term[0] : entry.term[1]]
        assert term.strip() == term and term  # no surrounding whitespace
        assert MANUAL[entry.body[0] : entry.body[1]].strip()


def test_text_without_indentation_has_no_entries() -> None:
    prose = "Options\nThe -o option names a log file.\nThe -t option sets the tries.\n"
    assert entries(prose) == []


def test_a_long_line_before_an_indented_block_is_prose_not_a_term() -> None:
    text = (
        "This sentence is far too long to be the term of any definition list entry at all,\n"
        "    so the indented line below it is not a description.\n"
    )
    assert terms(text) == []
