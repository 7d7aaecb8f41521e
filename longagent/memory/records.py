"""What each tier stores: one pydantic record type and one Arrow schema per table.

Records cross the seam to agents and apps, so they are pydantic; the Arrow schemas
add the `vector` column, which records never carry (callers search, they do not
read embeddings).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import pyarrow as pa
from pydantic import BaseModel, Field, field_validator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def _aware(value: datetime) -> datetime:
    # Naive datetimes are taken as UTC, so filters and stored times always compare.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Record(BaseModel):
    id: str = Field(default_factory=new_id)
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("created_at", mode="after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value)


class ArchivalEntry(_Record):
    """Free text the agent chose to keep, with tags and where it came from."""

    text: str
    tags: list[str] = Field(default_factory=list)
    source: str = ""


class RecallMessage(_Record):
    """One conversation message, kept forever so evicted context stays searchable."""

    agent: str
    role: str
    content: str


class Thought(_Record):
    """A finding distilled from a document or a conversation (Think-in-Memory).

    `subject` is an optional key naming what the thought is about; a newer thought with
    the same `doc_id` and `subject` replaces this one (see `longagent.memory.thoughts`).
    """

    text: str
    doc_id: str | None = None
    chunk_id: str | None = None
    question: str | None = None
    subject: str | None = None
    hits: int = 1
    updated_at: datetime = Field(default_factory=utcnow)

    @field_validator("updated_at", mode="after")
    @classmethod
    def _utc_updated(cls, value: datetime) -> datetime:
        return _aware(value)


R = TypeVar("R", ArchivalEntry, RecallMessage, Thought)

_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class TableSpec:
    """How one tier maps onto a LanceDB table."""

    name: str
    record: type[BaseModel]
    fields: tuple[pa.Field, ...]
    text_column: str
    # Which column each search filter reads; None where the filter does not apply.
    tags_column: str | None = None
    document_column: str | None = None
    agent_column: str | None = None

    def schema(self, dim: int) -> pa.Schema:
        return pa.schema([*self.fields, pa.field("vector", pa.list_(pa.float32(), dim))])

    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


ARCHIVAL = TableSpec(
    name="archival",
    record=ArchivalEntry,
    fields=(
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("source", pa.string()),
        pa.field("created_at", _TS, nullable=False),
    ),
    text_column="text",
    tags_column="tags",
    document_column="source",
)

RECALL = TableSpec(
    name="recall",
    record=RecallMessage,
    fields=(
        pa.field("id", pa.string(), nullable=False),
        pa.field("agent", pa.string(), nullable=False),
        pa.field("role", pa.string(), nullable=False),
        pa.field("content", pa.string(), nullable=False),
        pa.field("created_at", _TS, nullable=False),
    ),
    text_column="content",
    agent_column="agent",
)

THOUGHTS = TableSpec(
    name="thoughts",
    record=Thought,
    fields=(
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("doc_id", pa.string()),
        pa.field("chunk_id", pa.string()),
        pa.field("question", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("hits", pa.int64(), nullable=False),
        pa.field("created_at", _TS, nullable=False),
        pa.field("updated_at", _TS, nullable=False),
    ),
    text_column="text",
    document_column="doc_id",
)

TABLES: tuple[TableSpec, ...] = (ARCHIVAL, RECALL, THOUGHTS)


@dataclass(frozen=True)
class Hit(Generic[R]):
    """One search result: the record and its fused relevance (higher is better)."""

    record: R
    score: float


def record_from_row(spec: TableSpec, row: dict[str, Any]) -> Any:
    return spec.record.model_validate({k: row[k] for k in spec.columns() if k in row})
