"""What a document library stores and returns: the Arrow schemas of its tables, the
records read back (documents, chunk hits), the report of an add, and how the paths given
to an add become files (folders recursively, globs)."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, Field

from longagent.chunking.bounded_read import read_at_most
from longagent.chunking.loaders import LOADERS, SUPPORTED
from longagent.errors import DocumentError
from longagent.text import sentences

# 2: a chunk's vectors are its passages' (one per passage), no longer one per chunk.
LIBRARY_SCHEMA_VERSION = 2
READY = "ready"  # the only status written: a document row is written after all its chunks
# A passage: sentences of a chunk joined up to this many characters (~130 MiniLM word
# pieces of English). MiniLM reads at most 256 word pieces (it was trained on 128), so one
# vector for a 512-token chunk saw only its first half; a vector per passage sees it all.
PASSAGE_CHARS = 600
_GLOB_CHARS = frozenset("*?[")


def documents_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),  # sha256 of the file's bytes
            pa.field("path", pa.string(), nullable=False),  # absolute, resolved
            pa.field("title", pa.string(), nullable=False),
            pa.field("format", pa.string(), nullable=False),
            pa.field("size", pa.int64(), nullable=False),  # bytes of the file
            pa.field("chars", pa.int64(), nullable=False),  # characters of its text
            pa.field("added_at", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("chunk_count", pa.int32(), nullable=False),
            pa.field("status", pa.string(), nullable=False),
        ]
    )


def chunks_schema(dim: int) -> pa.Schema:
    """`dim` 0: a library without vectors (full-text search only)."""
    fields = [
        pa.field("id", pa.string(), nullable=False),
        pa.field("document_id", pa.string(), nullable=False),
        pa.field("index", pa.int32(), nullable=False),
        pa.field("start", pa.int64(), nullable=False),  # exact offsets into the text
        pa.field("end", pa.int64(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("token_count", pa.int32(), nullable=False),
        pa.field("heading_path", pa.list_(pa.string()), nullable=False),
        pa.field("pages", pa.list_(pa.int32()), nullable=False),  # PDFs; empty otherwise
    ]
    if dim:
        # One vector per passage (`passages`), in order; LanceDB's multivector search with
        # one query vector scores a chunk by its best passage (cosine distance: 1 - max).
        fields.append(pa.field("vector", vectors_type(dim), nullable=False))
    return pa.schema(fields)


def vectors_type(dim: int) -> pa.DataType:
    return pa.list_(pa.list_(pa.float32(), dim))


def passages(text: str, limit: int = PASSAGE_CHARS) -> list[tuple[int, int]]:
    """Character spans that cover `text`'s sentences, consecutive sentences joined while
    they fit `limit`; a longer sentence is cut at spaces (hard cut without any). At least
    one span, so every chunk has a vector."""
    spans: list[tuple[int, int]] = []
    for start, end in sentences(text) or [(0, len(text))]:
        while end - start > limit:  # one sentence too long to embed whole
            cut = text.rfind(" ", start + 1, start + limit)
            cut = cut if cut > start else start + limit
            spans.append((start, cut))
            start = cut + (text[cut : cut + 1] == " ")
        if spans and end - spans[-1][0] <= limit:
            spans[-1] = (spans[-1][0], end)
        elif end > start:
            spans.append((start, end))
    return spans or [(0, len(text))]


DOCUMENT_COLUMNS = documents_schema().names
CHUNK_COLUMNS = chunks_schema(0).names  # without the vector: callers never read it


class LibraryDocument(BaseModel):
    """One document of a library, as `Library.documents()` lists it."""

    id: str
    path: str
    title: str
    format: str
    size: int
    chars: int
    added_at: datetime
    chunk_count: int
    status: str


class ChunkHit(BaseModel):
    """A chunk found by `Library.search`, best first, with where it sits in its document.
    `bm25` and `similarity` are the scores of the two rankings (None: not found by it)."""

    document_id: str
    path: str
    title: str
    index: int
    start: int
    end: int
    text: str
    token_count: int
    heading_path: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list)
    score: float = Field(description="The fused reciprocal-rank score.")
    bm25: float | None = None
    similarity: float | None = None


Outcome = Literal["added", "replaced", "unchanged", "duplicate", "failed", "skipped"]


class FileResult(BaseModel):
    """What an add did with one file; `reason` says why for failed and skipped files."""

    path: str
    outcome: Outcome
    document_id: str | None = None
    chunks: int = 0
    bytes: int = 0
    reason: str = ""


class AddReport(BaseModel):
    """Per-file results of one `Library.add`, and its totals."""

    files: list[FileResult] = Field(default_factory=list)
    seconds: float = 0.0
    cleaned_chunks: int = Field(
        default=0, description="Chunks of documents an earlier, interrupted add left behind."
    )

    def count(self, *outcomes: Outcome) -> int:
        return sum(f.outcome in outcomes for f in self.files)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files if f.outcome in ("added", "replaced"))

    def summary(self) -> str:
        parts = [
            f"{self.count('added')} added",
            f"{self.count('replaced')} re-indexed",
            f"{self.count('unchanged', 'duplicate')} unchanged",
            f"{self.count('failed')} failed",
            f"{self.count('skipped')} skipped",
        ]
        rate = self.chunks / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{', '.join(parts)}; {self.chunks:,} chunks, {self.bytes / 1e6:.2f} MB in "
            f"{self.seconds:.1f} s ({rate:.0f} chunks/s)"
        )


@dataclass
class AddProgress:
    """Passed to `on_progress` after every chunk batch and every file an add finishes."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    chunks_done: int
    path: str  # the file being added
    stage: Literal["chunks", "file"]


# -- from the paths given to the files to add ------------------------------------------


def _folder_files(folder: Path) -> Iterable[Path]:
    """Files under `folder`, recursively and sorted, leaving out hidden files and folders
    (.git) and LanceDB tables (a library added to itself)."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.endswith(".lance"))
        yield from (Path(root) / name for name in sorted(names) if not name.startswith("."))


def collect(inputs: Sequence[str | os.PathLike[str]]) -> tuple[list[Path], list[FileResult]]:
    """The files to add, in order and without repeats, and the inputs skipped with a
    reason (missing, unsupported type, a glob that matched nothing, not a regular file).
    A file inside a folder with an unsupported type is skipped; one named explicitly too."""
    files: list[Path] = []
    skipped: list[FileResult] = []
    seen: set[Path] = set()

    def take(path: Path, named: bool) -> None:
        if path.suffix.lower() not in LOADERS:
            why = f"unsupported file type {path.suffix.lower() or '(none)'!r}"
            if named or path.suffix:  # files without a suffix in folders: not documents
                skipped.append(FileResult(path=str(path), outcome="skipped", reason=why))
            return
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for item in inputs:
        text = os.fspath(item)
        path = Path(text).expanduser()
        if not path.exists() and _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(os.path.expanduser(text), recursive=True))
            if not matches:
                skipped.append(FileResult(path=text, outcome="skipped", reason="no file matches"))
            for match in matches:
                found = Path(match)
                for file in _folder_files(found) if found.is_dir() else [found]:
                    take(file, named=False)
            continue
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else str(exc.strerror)
            skipped.append(FileResult(path=text, outcome="skipped", reason=reason))
            continue
        if stat.S_ISDIR(mode):
            for file in _folder_files(path):
                take(file, named=False)
        elif stat.S_ISREG(mode):
            take(path, named=True)
        else:
            why = "not a regular file (a pipe, a device or a socket)"
            skipped.append(FileResult(path=text, outcome="skipped", reason=why))
    return files, skipped


def read_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, refusing one over `limit` before reading it (and
    never reading more than limit + 1, should it grow meanwhile)."""
    name = str(path)
    try:
        size = path.stat().st_size
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise DocumentError(f"{name}: cannot be read ({exc.strerror})") from None
    try:
        if size > limit:
            raise DocumentError(
                f"{name}: too large ({size:,} bytes; the limit is {limit:,}, "
                "set LONGAGENT_MAX_DOCUMENT_BYTES to raise it)"
            )
        return read_at_most(fd, name, limit + 1, size + 1)
    finally:
        os.close(fd)


__all__ = [
    "LIBRARY_SCHEMA_VERSION",
    "PASSAGE_CHARS",
    "READY",
    "SUPPORTED",
    "AddProgress",
    "AddReport",
    "ChunkHit",
    "FileResult",
    "LibraryDocument",
    "chunks_schema",
    "collect",
    "documents_schema",
    "passages",
    "read_file",
]
