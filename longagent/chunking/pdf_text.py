"""A PDF's pages as text, laid out as printed.

pypdf's layout mode keeps each line's indentation, which is a manual's structure (which
lines are terms and which their descriptions, `chunking.entries`). A page set in columns is
read in reading order instead (laid out, a paper's two columns would share every line), and
a running header or footer stays only on the first page (on later pages it cuts a list or a
paragraph in two). Encrypted and broken files raise `DocumentError` naming the file.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

from longagent.errors import DocumentError

_COLUMN_GAP = re.compile(r" {4,}")
COLUMN_CHARS = 20
_BLANK_LINES = re.compile(r"\n{3,}")
MIN_FURNITURE_PAGES = 3  # a header on two pages may be a coincidence


def page_texts(data: bytes, name: str) -> list[str]:
    """Every page's text, running headers and footers kept only on the first page."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are encrypted only against editing and open with an empty password.
            try:
                opened = reader.decrypt("")
            except Exception as exc:
                raise DocumentError(
                    f"{name}: the PDF is encrypted and cannot be opened ({exc})"
                ) from exc
            if not opened:
                raise DocumentError(
                    f"{name}: the PDF is encrypted with a password; decrypt it first "
                    "(for example `qpdf --decrypt --password=... in.pdf out.pdf`)"
                )
        texts = [_page_text(page) for page in reader.pages]
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise DocumentError(f"{name}: not a readable PDF, corrupt or truncated ({exc})") from exc
    return _without_furniture(texts)


def _page_text(page: Any) -> str:
    """The page laid out as printed: a manual's indentation is its structure (which lines
    are terms and which their descriptions, `chunking.entries`). Lines are right-trimmed and
    runs of blank lines kept to one. A page set in columns (most lines split by a wide gap,
    text on both sides) is extracted in reading order instead, as is a page whose layout
    fails: laid out, a paper's two columns would share every line."""
    try:
        laid_out = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # layout mode fails on some fonts where plain extraction works
        laid_out = ""
    lines = _trimmed_lines(laid_out)
    written = [line.strip() for line in lines if line.strip()]
    if not written or sum(map(_beside_another, written)) * 3 >= len(written):
        lines = _trimmed_lines(page.extract_text() or "")
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _trimmed_lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _beside_another(line: str) -> bool:
    """Whether the (stripped) line is a column's line beside another's: a gap of four spaces
    or more with `COLUMN_CHARS` on both sides (a term beside its description has a word or
    two on the left)."""
    return any(
        gap.start() >= COLUMN_CHARS and len(line) - gap.end() >= COLUMN_CHARS
        for gap in _COLUMN_GAP.finditer(line)
    )


def _without_furniture(page_texts: list[str]) -> list[str]:
    """The pages with a running header or footer (the first or last line, the same on most
    pages but for its numbers, not a sentence) kept only on the first page: on later pages
    it cuts a list or a paragraph in two."""
    if len(page_texts) < MIN_FURNITURE_PAGES:
        return page_texts
    pages = [text.split("\n") for text in page_texts]
    repeated = {
        key
        for end in (0, -1)
        for key, count in Counter(_furniture_key(lines[end]) for lines in pages).items()
        if key and count * 2 > len(pages)
    }
    kept = page_texts[:1]
    for lines in pages[1:]:
        if len(lines) > 1 and _furniture_key(lines[0]) in repeated:
            lines = lines[1:]
        if len(lines) > 1 and _furniture_key(lines[-1]) in repeated:
            lines = lines[:-1]
        kept.append("\n".join(lines).strip("\n"))
    return kept


def _furniture_key(line: str) -> str:
    """The line with its numbers masked ("Version 590: 03 Jun 2021 2"); "" for a sentence."""
    line = " ".join(line.split())
    return "" if line.endswith((".", "!", "?")) else re.sub(r"\d+", "#", line)
