"""Documents in: `load` turns a path, bytes or a string into a `Document`.

One loader per format, chosen by file suffix from `LOADERS` (or, for bytes without a
name, by sniffing the first bytes). Every user mistake (missing file, empty or binary
file, unsupported suffix, encrypted or corrupt PDF, file over the size limit) raises
`DocumentError` with a message naming the file and the problem, never a raw traceback.

Text is decoded by its byte-order mark, else as UTF-8 when it is valid UTF-8 (which
text in another encoding almost never is), else in the encoding chardet detects.
Line ends are normalised to `\\n`; all offsets refer to the resulting `Document.text`.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from longagent.chunking import pdf_text
from longagent.chunking.bounded_read import open_fifo, read_at_most
from longagent.chunking.document import Document, DocumentFormat, Heading
from longagent.chunking.html_text import extract_html
from longagent.chunking.markdown_headings import markdown_headings
from longagent.config import Settings, get_settings
from longagent.errors import DocumentError

Loader = Callable[[bytes, str], Document]

# A str longer than this, or with a line break, is document text, never a path.
MAX_PATH_CHARS = 1024

_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters that do not occur in text (tab, newlines and form feed are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")
_SNIFF_CHARS = 65536


# -- decoding ---------------------------------------------------------------------------


def _binary_error(name: str, why: str) -> DocumentError:
    return DocumentError(f"{name}: looks like a binary file, not text ({why})")


def _detect_and_decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode non-UTF-8 bytes in the encoding a detector finds. chardet (7+) is preferred:
    on short Western European texts charset-normalizer often picks a Baltic or Central
    European code page (French "garçon" read as "garēon"); it is only the fallback."""
    try:
        import chardet
    except ImportError:  # pragma: no cover - chardet is a dependency
        from charset_normalizer import from_bytes

        match = from_bytes(data).best()
        if match is None:
            raise _binary_error(name, "no text encoding fits its bytes") from None
        return str(match), match.encoding
    # prefer_superset: the Windows superset decodes bytes past the sample it looked at.
    found = chardet.detect(data, prefer_superset=True, compat_names=False)
    encoding = found["encoding"]
    if not encoding:
        raise _binary_error(name, f"detected as {found.get('mime_type') or 'binary data'}")
    # A stray undecodable byte past the sample is replaced, not fatal.
    return data.decode(encoding, errors="replace"), encoding


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Text of `data` and the encoding it was read with; refuses binary data."""
    encoding = None
    for bom, candidate in _BOMS:
        if data.startswith(bom):
            encoding = candidate
            break
    if encoding is None and b"\x00" in data:
        # No text encoding without a byte-order mark puts NULs in text (git and grep agree).
        raise _binary_error(name, "it contains NUL bytes")
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DocumentError(
                f"{name}: starts with a {encoding} byte-order mark but is not valid {encoding} "
                f"(byte {exc.start})"
            ) from exc
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _detect_and_decode(data, name)
    sample = text[:_SNIFF_CHARS]
    if sample and len(_CONTROL.findall(sample)) > max(1, len(sample) // 100):
        raise _binary_error(name, f"control characters after decoding as {encoding}")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _require_text(text: str, name: str, what: str = "the document is empty") -> None:
    if not text.strip():
        raise DocumentError(f"{name}: {what}")


# -- one loader per format ----------------------------------------------------------------


def parse_text(text: str, name: str, fmt: DocumentFormat, **metadata: Any) -> Document:
    """A document from already-decoded text of a text format (plain, Markdown, HTML)."""
    _require_text(text, name)
    if fmt == "html":
        page = extract_html(text)
        _require_text(page.text, name, "the HTML page has no text content")
        if page.title:
            metadata["title"] = page.title
        return Document.create(
            page.text, source=name, format="html", headings=page.headings, metadata=metadata
        )
    headings = markdown_headings(text) if fmt == "markdown" else []
    return Document.create(text, source=name, format=fmt, headings=headings, metadata=metadata)


def _text_loader(fmt: DocumentFormat) -> Loader:
    def load_format(data: bytes, name: str) -> Document:
        text, encoding = decode(data, name)
        return parse_text(text, name, fmt, encoding=encoding)

    load_format.__name__ = f"load_{fmt}"
    return load_format


def load_pdf(data: bytes, name: str) -> Document:
    """Text of every page (`pdf_text.page_texts`: as laid out, running headers and footers
    only on the first), pages separated by a blank line; page starts kept in `pages`."""
    page_texts = pdf_text.page_texts(data, name)
    pages: list[tuple[int, int]] = []
    parts: list[str] = []
    pos = 0
    for number, page_text in enumerate(page_texts, start=1):
        if parts:
            parts.append("\n\n")
            pos += 2
        pages.append((number, pos))
        parts.append(page_text)
        pos += len(page_text)
    text = "".join(parts)
    _require_text(text, name, "the PDF has no extractable text (scanned pages need OCR first)")
    return Document.create(
        text, source=name, format="pdf", pages=pages, metadata={"page_count": len(page_texts)}
    )


def load_docx(data: bytes, name: str) -> Document:
    """Paragraphs and tables in body order; `Title` and `Heading N` styles become headings."""
    try:
        import docx
        from docx.table import Table
    except ImportError as exc:  # pragma: no cover - python-docx is a dependency
        raise DocumentError(f"{name}: reading .docx needs python-docx") from exc
    try:
        body = docx.Document(io.BytesIO(data))
        blocks = list(body.iter_inner_content())
    except Exception as exc:  # a zip/XML error from a broken or non-Word file
        raise DocumentError(f"{name}: not a readable .docx file, corrupt ({exc})") from exc
    parts: list[str] = []
    headings: list[Heading] = []
    pos = 0
    for block in blocks:
        level = None
        if isinstance(block, Table):
            text = "\n".join(
                " | ".join(cell.text.strip() for cell in row.cells) for row in block.rows
            )
        else:
            text = block.text
            style = (block.style.name if block.style is not None else "") or ""
            if style == "Title":
                level = 1
            elif match := re.fullmatch(r"Heading (\d)", style):
                level = min(6, int(match.group(1)) + 1)  # under the Title, if any
        text = text.strip()
        if not text:
            continue
        if parts:
            pos += 2
        if level is not None:
            headings.append(Heading(level=level, title=text, start=pos, end=pos + len(text)))
        parts.append(text)
        pos += len(text)
    text = "\n\n".join(parts)
    _require_text(text, name)
    return Document.create(text, source=name, format="docx", headings=headings)


TEXT_FORMATS: dict[str, DocumentFormat] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
LOADERS: dict[str, Loader] = {
    **{suffix: _text_loader(fmt) for suffix, fmt in TEXT_FORMATS.items()},
    ".pdf": load_pdf,
    ".docx": load_docx,
}
SUPPORTED = ", ".join(LOADERS)


# -- choosing a loader ---------------------------------------------------------------------


def _sniff_suffix(data: bytes) -> str:
    """A suffix for nameless bytes, from their first bytes."""
    if data.startswith(b"%PDF-"):
        return ".pdf"
    if data.startswith(b"PK\x03\x04"):
        return ".docx"  # a zip: load_docx reports it clearly if it is not a Word file
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return ".html"
    return ".txt"


def _load_bytes(data: bytes, name: str, suffix: str) -> Document:
    suffix = suffix.lower() or _sniff_suffix(data)
    loader = LOADERS.get(suffix)
    if loader is None:
        raise DocumentError(f"{name}: unsupported file type {suffix!r} (supported: {SUPPORTED})")
    if not data:
        raise DocumentError(f"{name}: the file is empty")
    return loader(data, name)


def _check_size(size: int, name: str, settings: Settings) -> None:
    limit = settings.max_document_bytes
    if size > limit:
        raise DocumentError(
            f"{name}: too large ({size:,} bytes; the limit is {limit:,}, "
            "set LONGAGENT_MAX_DOCUMENT_BYTES to raise it)"
        )


def _load_path(path: Path, settings: Settings) -> Document:
    name = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DocumentError(f"{name}: no such file") from None
    except OSError as exc:
        raise DocumentError(f"{name}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DocumentError(f"{name}: is a directory, not a document")
    suffix = path.suffix.lower()
    if suffix and suffix not in LOADERS:
        raise DocumentError(f"{name}: unsupported file type {suffix!r} (supported: {SUPPORTED})")
    limit = settings.max_document_bytes
    streamed = stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode)
    if not streamed and not stat.S_ISREG(info.st_mode):
        raise DocumentError(f"{name}: not a file, a pipe or a device (a socket?)")
    if not streamed:
        _check_size(info.st_size, name, settings)
    first = b""
    try:
        if stat.S_ISFIFO(info.st_mode):
            fd, first = open_fifo(path)
        else:
            fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise DocumentError(f"{name}: cannot be read ({exc.strerror})") from None
    try:
        # Never more than limit + 1 bytes: a file may have grown since stat, and a pipe or
        # a device (/dev/zero) may never end.
        rest = limit + 1 - len(first)
        expected = 0 if streamed else info.st_size + 1  # +1: to see whether it grew
        data = first + read_at_most(fd, name, rest, expected) if rest > 0 else first
    finally:
        os.close(fd)
    if len(data) > limit and streamed:  # its real size is unknown: it may never end
        raise DocumentError(
            f"{name}: too large (more than {limit:,} bytes; set LONGAGENT_MAX_DOCUMENT_BYTES "
            "to raise the limit)"
        )
    _check_size(len(data), name, settings)
    if not data and streamed:
        raise DocumentError(f"{name}: nothing to read (a pipe with no writer, or an empty device)")
    return _load_bytes(data, name, suffix)


def _is_text(value: str) -> bool:
    """Whether a str given to `load` is document text rather than a path (see `load`)."""
    if not value.strip() or len(value) > MAX_PATH_CHARS or any(c in value for c in "\n\r\0"):
        return True
    path = Path(value).expanduser()
    try:
        if path.exists():
            return False
    except OSError:  # a name too long for the file system is not a file
        pass
    looks_like_path = path.suffix.lower() in LOADERS or (
        ("/" in value or os.sep in value) and not any(c.isspace() for c in value)
    )
    return not looks_like_path


def load(
    source: str | os.PathLike[str] | bytes | Document,
    *,
    filename: str | None = None,
    settings: Settings | None = None,
) -> Document:
    """Load a document from a path, raw bytes, a string of text, or pass a `Document` through.

    A str is document text when it has a line break, is blank, or is longer than
    `MAX_PATH_CHARS`; otherwise it is a path when that file exists or when it looks like
    one (a supported suffix such as "report.pdf", or a "/" and no spaces), so a mistyped
    path fails as a missing file instead of becoming a one-line document; any other
    one-line string is text. Pass `Path(...)` to force a path, or `filename=` to force text.

    `filename` names bytes or text (its suffix picks the format, e.g. "notes.md"; it also
    names the source in errors). Bytes without it are sniffed (PDF, Word, HTML, else text).
    Inputs over `settings.max_document_bytes` are refused, files before they are read.
    """
    if isinstance(source, Document):
        return source
    settings = settings or get_settings()
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = filename or "<bytes>"
        _check_size(len(data), name, settings)
        return _load_bytes(data, name, Path(filename).suffix if filename else "")
    if isinstance(source, str) and (filename is not None or _is_text(source)):
        name = filename or "<text>"
        if len(source) * 4 > settings.max_document_bytes:  # cheap test before encoding
            _check_size(len(source.encode("utf-8", "surrogatepass")), name, settings)
        suffix = Path(filename).suffix.lower() if filename else ".txt"
        fmt = TEXT_FORMATS.get(suffix)
        if fmt is None:
            why = "is binary: pass bytes or a path" if suffix in LOADERS else "is not supported"
            raise DocumentError(f"{name}: file type {suffix!r} {why} (supported: {SUPPORTED})")
        text = source.replace("\r\n", "\n").replace("\r", "\n")
        return parse_text(text, name, fmt)
    if isinstance(source, str | os.PathLike):
        return _load_path(Path(os.fspath(source)).expanduser(), settings)
    raise TypeError(f"load() takes a path, bytes, text or a Document, not {type(source).__name__}")
