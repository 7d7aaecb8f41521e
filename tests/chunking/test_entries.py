"""Definition lists in plain text (`chunking/entries.py`): terms, bodies, nesting."""

from __future__ import annotations

from longagent.chunking import load
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


# A pager's commands as a PDF lays them out: a short tag beside its text, the text's later
# lines at its column; one-line entries between; justified prose (two spaces between
# words) in a description.
COMMANDS = """\
COMMANDS
           h or H    Help: display a summary of these commands.
           SPACE or ˆV
                      Scroll forward N lines, default one window.  If N is more than
                      the screen size, only the final screenful is displayed.
           z             Like SPACE, but N becomes the new window size.
           d or ˆD   Scroll forward N lines, default one half of the screen size.  If N
                      is specified, it becomes the new default.
           J             Like j, but continues to scroll beyond the end of the file.
           K or Y   Like k, but continues to scroll beyond the beginning of the
                      file.

           Commands  are  based  on both more and vi.  Many commands may be
           preceded  by  a  decimal number, called N in the descriptions.
"""


def test_a_tag_beside_its_text_is_a_term_and_one_line_entries_join_their_neighbours() -> None:
    (section,) = entries(COMMANDS)
    assert [c.term_text(COMMANDS) for c in section.children] == [
        "h or H",
        "SPACE or ˆV",
        "z",
        "d or ˆD",
        "J",
        "K or Y",
    ]
    d_entry = section.children[3]
    body = COMMANDS[d_entry.body[0] : d_entry.body[1]]
    assert body.startswith("Scroll forward N lines") and body.endswith("the new default.")
    z_entry = section.children[2]
    assert COMMANDS[z_entry.body[0] : z_entry.body[1]] == (
        "Like SPACE, but N becomes the new window size."
    )


def test_a_manual_printed_to_pdf_keeps_its_entries_across_pages() -> None:
    """less(1) as a PDF (bench data): its commands are entries, page breaks and all."""
    from longagent.apps.bench.natural_data import DATA

    doc = load(DATA / "less.pdf")
    (commands,) = [e for e in entries(doc.text) if e.term_text(doc.text) == "COMMANDS"]
    terms = [c.term_text(doc.text) for c in commands.children]
    assert {"z", "ESC-SPACE", "J", "F", "d or ˆD", ":n"} <= set(terms)
    (scroll,) = [c for c in commands.children if c.term_text(doc.text) == "F"]
    assert doc.pages_between(*scroll.term) == (2,)  # past page 1's footer
    assert doc.text[scroll.body[0] :].startswith("Scroll forward, and keep trying to read")


def test_justified_prose_is_not_a_list_of_tags() -> None:
    text = (
        "DESCRIPTION\n"
        "       Grep  searches  for  patterns  in  each  FILE.   A  FILE  of\n"
        "       \u201c-\u201d  stands  for  standard  input.   If  no FILE is given,\n"
        "       recursive  searches  examine  the working directory.\n"
    )
    (description,) = entries(text)
    assert description.children == ()


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
