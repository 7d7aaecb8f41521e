"""Definition lists in plain text: a term line and its indented description.

A manual page, a `--help` screen or an indented glossary lists its options, commands or
terms as entries:

           -f FILE, --file=FILE
                  Obtain patterns from FILE, one per line.

A term is one to `MAX_TERM_LINES` short lines at one indentation ("-o logfile" above
"--output-file=logfile"), followed at once by lines indented deeper: its body, which runs
until a line at the term's indentation or less. Entries nest: a section heading
("OPTIONS", "   Matching Control") is an entry whose body holds the options. Spans are
character offsets into the text, so an entry can be cited verbatim.

Text without indentation (a PDF's extracted text, HTML turned into paragraphs) has no
entries; callers fall back to reading passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TERM_LINES = 4  # "-o logfile" / "--output-file=logfile": a term may take a few lines
MAX_TERM_CHARS = 70  # a longer line is prose, not a term
_LINE = re.compile(r"[^\n]*\n?")


@dataclass(frozen=True)
class Entry:
    term: tuple[int, int]  # offsets of the term line(s) in the text
    body: tuple[int, int]  # offsets of the description (its nested entries included)
    indent: int
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


def entries(text: str) -> list[Entry]:
    """The text's outermost entries, each with its nested ones."""
    lines = []
    for match in _LINE.finditer(text):
        if match.start() == len(text):
            break
        raw = match.group().rstrip("\n")
        stripped = raw.strip()
        lines.append(
            _Line(
                match.start(),
                match.start() + len(raw),
                len(raw) - len(raw.lstrip()),
                not stripped,
                len(stripped),
            )
        )
    return _parse(lines)


def _parse(lines: list[_Line]) -> list[Entry]:
    found: list[Entry] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        last = i  # the term's last line
        while (
            last + 1 < len(lines)
            and last - i + 1 < MAX_TERM_LINES
            and not lines[last + 1].blank
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
            i += 1
            continue
        end = last + 1
        while end < len(lines) and (lines[end].blank or lines[end].indent > line.indent):
            end += 1
        body = lines[last + 1 : end]
        while body and body[-1].blank:
            body.pop()
        children = tuple(_parse(body))
        found.append(
            Entry(
                term=(line.start + line.indent, term[-1].end),
                body=(body[0].start + body[0].indent, body[-1].end),
                indent=line.indent,
                children=children,
            )
        )
        i = end
    return found


def walk(found: list[Entry] | tuple[Entry, ...]) -> list[Entry]:
    """Every entry, each before its nested ones."""
    return [e for entry in found for e in (entry, *walk(entry.children))]
