"""Heading positions in raw Markdown, so chunks can carry the heading path they sit under.

The text is never rewritten: we only find where headings are (ATX `# Title` lines and
setext `Title\\n=====` underlines, as CommonMark defines them), skipping fenced code
blocks and YAML front matter, where `#` and `---` lines are not headings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from longagent.chunking.document import Heading

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# Lines that cannot be the text of a setext heading (list items, quotes, tables, code).
_NOT_PARAGRAPH = re.compile(r"^(?: {4}|\t| {0,3}(?:[-*+>|]|\d{1,9}[.)])(?:[ \t]|$))")


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, line) for every line, `end` excluding the newline."""
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line), line
        pos += len(line) + 1


def _front_matter_end(text: str) -> int:
    """Offset just past a leading `---` ... `---` YAML block, or 0 if there is none."""
    if not text.startswith("---\n"):
        return 0
    close = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], flags=re.MULTILINE)
    return 4 + close.end() if close else 0


def markdown_headings(text: str) -> list[Heading]:
    """All headings of a Markdown text (with `\\n` line ends), in order."""
    headings: list[Heading] = []
    fence: str | None = None
    paragraph: tuple[int, str] | None = None  # start and first line of the open paragraph
    skip_until = _front_matter_end(text)
    for start, end, line in _lines(text):
        if start < skip_until:
            continue
        if fence is not None:
            closing = _FENCE.match(line)
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                fence = None
            continue
        if opening := _FENCE.match(line):
            fence, paragraph = opening.group(1), None
            continue
        if atx := _ATX.match(line):
            # An empty `#` line is a heading with no title: nothing to put in a path.
            if title := (atx.group(2) or "").strip():
                headings.append(Heading(level=len(atx.group(1)), title=title, start=start, end=end))
            paragraph = None
            continue
        if paragraph is not None and (underline := _SETEXT.match(line)):
            level = 1 if underline.group(1)[0] == "=" else 2
            para_start, first_line = paragraph
            headings.append(
                Heading(level=level, title=first_line.strip(), start=para_start, end=end)
            )
            paragraph = None
            continue
        if not line.strip() or _NOT_PARAGRAPH.match(line):
            paragraph = None
        elif paragraph is None:
            paragraph = (start, line)
    return headings
