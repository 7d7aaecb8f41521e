"""The data that leaves this package: a loaded `Document` and the `Chunk`s cut from it.

Both are frozen pydantic models because they cross seams (agents cite chunks, memory
persists them). Offsets are character offsets into `Document.text`, so
`document.text[chunk.start:chunk.end] == chunk.text` always holds.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DocumentFormat = Literal["text", "markdown", "html", "pdf", "docx"]


def _hash(*parts: object, size: int = 16) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:size]


class Heading(BaseModel):
    """A heading line of the document: its level (1 = top) and where it sits in the text."""

    model_config = ConfigDict(frozen=True)

    level: int = Field(ge=1, le=6)
    title: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Document(BaseModel):
    """A loaded document. `id` is a hash of the text only, so the same content loaded from
    a path, from bytes or from a string gets the same id (and the same chunk ids)."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    source: str = Field(description="The path, or the filename hint, or '<text>'/'<bytes>'.")
    format: DocumentFormat = "text"
    headings: tuple[Heading, ...] = Field(
        default=(), description="Heading lines in text order, with character spans."
    )
    pages: tuple[tuple[int, int], ...] = Field(
        default=(), description="(page_number, start_char) for paged formats (PDF), in order."
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def create(
        cls,
        text: str,
        *,
        source: str = "<text>",
        format: DocumentFormat = "text",
        headings: Iterable[Heading] = (),
        pages: Iterable[tuple[int, int]] = (),
        metadata: dict[str, Any] | None = None,
    ) -> Document:
        """Build a document, computing its content-hash id."""
        return cls(
            id=_hash(text),
            text=text,
            source=source,
            format=format,
            headings=tuple(headings),
            pages=tuple(pages),
            metadata=dict(metadata or {}),
        )

    def heading_path_at(self, offset: int) -> tuple[str, ...]:
        """Titles of the headings that enclose `offset`, outermost first."""
        stack: list[Heading] = []
        for heading in self.headings:
            if heading.start > offset:
                break
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
        return tuple(h.title for h in stack)

    def pages_between(self, start: int, end: int) -> tuple[int, ...]:
        """Page numbers that the span [start, end) touches (empty for unpaged formats)."""
        if not self.pages:
            return ()
        starts = [s for _, s in self.pages]
        first = max(0, bisect_right(starts, start) - 1)
        last = max(first, bisect_right(starts, max(start, end - 1)) - 1)
        return tuple(number for number, _ in self.pages[first : last + 1])

    def __repr__(self) -> str:
        # The default repr would print the whole text, which may be megabytes.
        preview = self.text[:40].replace("\n", " ")
        return (
            f"Document(id={self.id!r}, source={self.source!r}, format={self.format!r}, "
            f"chars={len(self.text)}, text={preview!r}...)"
        )

    __str__ = __repr__


class Chunk(BaseModel):
    """A piece of a document that fits a member's token budget."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable: a hash of (document id, start, end).")
    document_id: str
    index: int = Field(ge=0, description="Position in the list `split` returned.")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(description="Exactly document.text[start:end].")
    token_count: int = Field(ge=0, description="Tokens of `text` under the counter split used.")
    heading_path: tuple[str, ...] = Field(
        default=(), description="Headings the chunk sits under, outermost first."
    )
    pages: tuple[int, ...] = Field(default=(), description="Pages the chunk touches (PDF).")

    @model_validator(mode="after")
    def _span_matches_text(self) -> Chunk:
        if self.end - self.start != len(self.text):
            raise ValueError(f"chunk span {self.start}:{self.end} does not match its text length")
        return self

    @staticmethod
    def make_id(document_id: str, start: int, end: int) -> str:
        return _hash(document_id, start, end)
