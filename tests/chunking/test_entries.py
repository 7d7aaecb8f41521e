"""Definition lists in plain text (`chunking/entries.py`): terms, bodies, nesting."""

from __future__ import annotations

from longagent.chunking.entries import announced_lists, entries, walk

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


POLICY = """\
5.3. Binary package control files – DEBIAN/control

The DEBIAN/control file contains the most vital information about a binary package.

The fields in this file are:

- Package (mandatory)

- Version (mandatory)

- Rules-Requires-Root: Declares whether building needs root. It is optional.

Compilation Flags

Here’s a table of the available flags, followed by a more detailed explanation of each one.

Flag | Meaning

ASCII , A | Makes several escapes match only on ASCII characters.

DOTALL , S | Make . match any character, including newlines.

Here’s a complete list of the metacharacters; their meanings will be discussed later.

. ^ $ * + ?

Run it like this:

wget -r -l 2 http://example.com/
"""


def test_announced_lists_are_bullets_table_rows_or_a_line_of_symbols() -> None:
    found = announced_lists(POLICY)
    said = [([POLICY[a:b] for a, b in f.items], f.heading) for f in found]
    assert said == [
        (
            ["Package (mandatory)", "Version (mandatory)", "Rules-Requires-Root"],
            "5.3. Binary package control files – DEBIAN/control",
        ),
        (["ASCII , A", "DOTALL , S"], "Compilation Flags"),  # the header row is no item
        ([".", "^", "$", "*", "+", "?"], "Compilation Flags"),
    ]  # a command line after a colon is no list
    assert POLICY[slice(*found[0].lead)] == "The fields in this file are:"
