"""Definition lists in plain text: a term line and its indented description.

A manual page, a `--help` screen or an indented glossary lists its options, commands or
terms as entries:

           -f FILE, --file=FILE
                  Obtain patterns from FILE, one per line.

A term is one to `MAX_TERM_LINES` short lines at one indentation ("-o logfile" above
"--output-file=logfile"), followed at once by lines indented deeper: its body, which runs
until a line at the term's indentation or less. A short term may stand beside its text
(a man page's tagged paragraph), the text's later lines at its column:

           d or ˆD   Scroll forward N lines, default one half of the screen size.  If N
                      is specified, it becomes the new default.

and such a line with no continuation is an entry when an entry of the other forms stands
right above or below it (in justified prose two spaces between words are common).
Entries nest: a section heading ("OPTIONS", "   Matching Control") is an entry whose
body holds the options. Spans are character offsets into the text, so an entry can be
cited verbatim.

Text without indentation (HTML turned into paragraphs; PDFs keep theirs, see
`pdf_text`) has no entries. It may have announced lists (`announced_lists`): a sentence that announces a list
("The fields in this file are:", "Here's a complete list of the metacharacters; ...")
followed by bulleted items, or by one line of short tokens (". ^ $ * + ?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from longagent import text as toolkit

MAX_TERM_LINES = 4  # "-o logfile" / "--output-file=logfile": a term may take a few lines
MAX_TERM_CHARS = 70  # a longer line is prose, not a term
MAX_TAG_CHARS = 24  # "SPACE or ˆV", "--color[=WHEN]": a tag beside its text is short
COLUMN_SLACK = 2  # a PDF's layout places a continuation only near the text's column
_TAGGED = re.compile(r"(\S(?:\S| (?! ))*)  +(\S)")  # a field without double spaces, a gap
_LINE = re.compile(r"[^\n]*\n?")
_TEXT_LINE = re.compile(r"[^\n]+")
# A sentence that announces a list: it ends with a colon, or speaks of a list, a table or "the
# following" (then the list must follow at once).
_ANNOUNCES = re.compile(r":$|\b(?:list|table) of\b|\bthe following\b", re.I)
_BULLET = re.compile(r"(?:[-*\u2022]|\d{1,3}[.)])\s+")
MAX_TOKEN_CHARS = 3  # a one-line list is of symbols (". ^ $ * +"), not a command line
MIN_TOKENS = 3
HEADING_WORDS = 12  # a paragraph this short, not ending in a full stop, is a heading


@dataclass(frozen=True)
class Entry:
    term: tuple[int, int]  # offsets of the term line(s) in the text
    body: tuple[int, int]  # offsets of the description (its nested entries included)
    children: tuple[Entry, ...] = field(default=())

    def term_text(self, text: str) -> str:
        """The term's lines joined with ", " ("-o logfile, --output-file=logfile")."""
        lines = text[self.term[0] : self.term[1]].splitlines()
        return ", ".join(line.strip() for line in lines if line.strip())

    def opens_with_entry(self, text: str) -> bool:
        """Whether the body starts with a nested entry (a heading over a list), not prose."""
        if not self.children:
            return False
        body = text[self.body[0] : self.body[1]]
        return body.lstrip().startswith(
            text[self.children[0].term[0] : self.children[0].term[1]].strip()
        )


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # without the newline
    indent: int
    blank: bool
    length: int  # stripped
    tag: int = 0  # a hanging tag's length ("-I     Process a binary ..."), else 0
    column: int = 0  # where the text after the tag starts


def _tag(raw: str, indent: int) -> tuple[int, int]:
    """A short first field set off by two or more spaces, and the column of what follows."""
    match = _TAGGED.match(raw, indent)
    if not match or match.group(1)[-1] in ".,;:" or len(match.group(1)) > MAX_TAG_CHARS:
        return 0, 0
    return len(match.group(1)), match.start(2)


def entries(text: str) -> list[Entry]:
    """The text's outermost entries, each with its nested ones."""
    lines = []
    for match in _LINE.finditer(text):
        if match.start() == len(text):
            break
        raw = match.group().rstrip("\n")
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        lines.append(
            _Line(
                match.start(),
                match.start() + len(raw),
                indent,
                not stripped,
                len(stripped),
                *_tag(raw, indent),
            )
        )
    return _parse(lines)


class _Opening(NamedTuple):
    """Where an entry stands: its term's and body's offsets, and the lines of the body that
    may hold nested entries (`inner`, up to `end`, the first line after the entry)."""

    term: tuple[int, int]
    body: tuple[int, int]
    inner: int
    end: int


def _parse(lines: list[_Line]) -> list[Entry]:
    found: list[Entry] = []
    i = 0
    after_entry = False  # the line above closed an entry (not a one-line one) at this indent
    while i < len(lines):
        line = lines[i]
        opening = _hanging(lines, i) or _term_over_body(lines, i)
        strong = opening is not None
        if opening is None and (after_entry or _entry_below(lines, i)):
            opening = _single_line(lines, i)
        if opening is None:
            after_entry = False
            i += 1
            continue
        children = tuple(_parse(lines[opening.inner : opening.end]))
        found.append(Entry(opening.term, opening.body, children))
        after_entry = strong and _sibling(lines, opening.end, line)
        i = opening.end
    return found


def _sibling(lines: list[_Line], j: int, line: _Line) -> bool:
    return j < len(lines) and not lines[j].blank and lines[j].indent == line.indent


def _entry_below(lines: list[_Line], i: int) -> bool:
    """Whether the next line, at this one's indentation, opens an entry of the other forms."""
    return _sibling(lines, i + 1, lines[i]) and bool(
        _hanging(lines, i + 1) or _term_over_body(lines, i + 1)
    )


def _body_end(lines: list[_Line], after: int, indent: int) -> int:
    """Where the lines deeper than `indent` (blank ones among them) that start at `after` end."""
    end = after
    while end < len(lines) and (lines[end].blank or lines[end].indent > indent):
        end += 1
    while end > after and lines[end - 1].blank:
        end -= 1
    return end


def _hanging(lines: list[_Line], i: int) -> _Opening | None:
    """A tag with its text on the same line, continued below at the text's column:
    "F          Scroll forward, and keep trying ..." (a man page's tagged paragraph)."""
    if i + 1 >= len(lines) or not lines[i].tag:
        return None
    line, below = lines[i], lines[i + 1]
    if below.blank or below.indent <= line.indent or abs(below.indent - line.column) > COLUMN_SLACK:
        return None
    end = _body_end(lines, i + 1, line.indent)
    term = (line.start + line.indent, line.start + line.indent + line.tag)
    return _Opening(term, (line.start + line.column, lines[end - 1].end), i + 1, end)


def _single_line(lines: list[_Line], i: int) -> _Opening | None:
    """A tagged line with no continuation ("J             Like j, but continues ..."), taken
    only beside an entry of the other forms: in justified prose two spaces are common."""
    line = lines[i]
    if not line.tag or line.blank:
        return None
    term = (line.start + line.indent, line.start + line.indent + line.tag)
    return _Opening(term, (line.start + line.column, line.end), i + 1, i + 1)


def _term_over_body(lines: list[_Line], i: int) -> _Opening | None:
    """One to `MAX_TERM_LINES` short lines, then lines indented deeper: the description.
    A line with a tag beside its text ("h or H    Help: ...") is an entry of its own."""
    line = lines[i]
    if line.tag:
        return None
    last = i  # the term's last line
    while (
        last + 1 < len(lines)
        and last - i + 1 < MAX_TERM_LINES
        and not lines[last + 1].blank
        and not lines[last + 1].tag
        and lines[last + 1].indent == line.indent
    ):
        last += 1
    term = lines[i : last + 1]
    after = lines[last + 1] if last + 1 < len(lines) else None
    if (
        line.blank
        or after is None
        or after.blank
        or after.indent <= line.indent
        or any(t.length > MAX_TERM_CHARS for t in term)
    ):
        return None
    end = _body_end(lines, last + 1, line.indent)
    body = (after.start + after.indent, lines[end - 1].end)
    return _Opening((line.start + line.indent, term[-1].end), body, last + 1, end)


def walk(found: list[Entry] | tuple[Entry, ...]) -> list[Entry]:
    """Every entry, each before its nested ones."""
    return [e for entry in found for e in (entry, *walk(entry.children))]


@dataclass(frozen=True)
class AnnouncedList:
    lead: tuple[int, int]  # the announcing sentence
    heading: str  # the nearest heading above it ("" when none)
    items: tuple[tuple[int, int], ...]  # each item's span: a bullet's text, or a token


def announced_lists(text: str) -> list[AnnouncedList]:
    """The lists that a sentence announces, with the items that follow it."""
    blocks = toolkit.paragraphs(text)
    found: list[AnnouncedList] = []
    for i, (start, end) in enumerate(blocks):
        spans = toolkit.sentences(text[start:end])
        if not spans or i + 1 == len(blocks):
            continue
        lead = (start + spans[-1][0], start + spans[-1][1])
        if not _ANNOUNCES.search(text[lead[0] : lead[1]]):
            continue
        items = _items_after(text, blocks[i + 1 :])
        if items:
            found.append(AnnouncedList(lead, _heading(text, blocks[:i]), items))
    return found


def _items_after(text: str, blocks: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The bulleted items that follow (a block of bullets, or one bullet a block), or the
    first cells of the table rows that follow, else the tokens of a line of symbols."""
    rows = _table(text, blocks)
    if rows:
        return rows
    items: list[tuple[int, int]] = []
    for start, end in blocks:
        lines = [
            (m.start() - start, m.end() - start) for m in _TEXT_LINE.finditer(text, start, end)
        ]
        bullets = [_BULLET.match(text, start + a) for a, _ in lines]
        if not all(bullets):
            break
        for (_, b), bullet in zip(lines, bullets, strict=True):
            assert bullet is not None
            item = text[bullet.end() : start + b]
            # "no: Declares that neither root nor fakeroot ...": the item is its name; a
            # bullet that is a paragraph is its first sentence.
            cut = item.find(": ")
            first = toolkit.sentences(item)
            size = cut if cut > 0 else first[0][1] if first else len(item.rstrip())
            items.append((bullet.end(), bullet.end() + size))
    if items or not blocks:
        return tuple(items)
    start, end = blocks[0]
    line = text[start:end]
    tokens = [m.span() for m in re.finditer(r"\S+", line)]
    if (
        "\n" not in line
        and len(tokens) >= MIN_TOKENS
        and all(b - a <= MAX_TOKEN_CHARS for a, b in tokens)
        and not toolkit.is_prose(line)
    ):
        return tuple((start + a, start + b) for a, b in tokens)
    return ()


def _table(text: str, blocks: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The first cells of the table rows ("ASCII , A | Makes several escapes ...") that
    follow, less a header row ("Flag | Meaning": its last cell a word or two where the
    other rows' are longer)."""
    rows: list[tuple[int, int, str]] = []  # first cell's span, last cell
    for start, end in blocks:
        lines = [(m.start(), m.group()) for m in _TEXT_LINE.finditer(text, start, end)]
        if not all(" | " in line for _, line in lines):
            break
        for offset, line in lines:
            first = line.split(" | ")[0].rstrip()
            rows.append((offset, offset + len(first), line.rsplit(" | ", 1)[1]))
    if len(rows) >= 2 and len(rows[0][2].split()) <= 2 < min(len(r[2].split()) for r in rows[1:]):
        rows = rows[1:]
    return tuple((a, b) for a, b, _ in rows) if len(rows) >= 2 else ()


def _heading(text: str, above: list[tuple[int, int]]) -> str:
    """The nearest paragraph above that reads as a heading ("5.5. Debian changes files –
    .changes¶"): one short line that does not end in a full stop."""
    for start, end in reversed(above):
        said = text[start:end]
        one_line = "\n" not in said and len(said.split()) <= HEADING_WORDS
        if (
            one_line
            and not said.endswith((".", ":"))
            and not _BULLET.match(said)
            and " | " not in said
        ):
            return said
    return ""
