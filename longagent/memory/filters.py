"""Search filters, turned into the SQL predicates LanceDB evaluates (prefiltered)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypedDict

from longagent.memory.records import TableSpec


class FilterArgs(TypedDict, total=False):
    """Keyword filters every read of a tier accepts; all given filters must hold.

    tags: entries carrying any of these tags (all of them with `all_tags=True`).
    since / until: `created_at` within [since, until); naive datetimes are UTC.
    document: the document an entry came from (`source` in archival, `doc_id` in thoughts).
    agent / role: whose conversation and which speaker (recall only).
    where: a raw LanceDB SQL predicate, for anything else.
    """

    tags: Sequence[str]
    all_tags: bool
    since: datetime
    until: datetime
    document: str
    agent: str
    role: str
    where: str


def quote(value: str) -> str:
    """A SQL string literal; doubling quotes keeps user text from ending the literal."""
    return "'" + value.replace("'", "''") + "'"


def in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(quote(v) for v in values)})"


def _timestamp(value: datetime) -> str:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return f"timestamp '{value.isoformat()}'"


def _column(spec: TableSpec, column: str | None, name: str) -> str:
    if column is None:
        raise ValueError(f"the {spec.name} tier has no {name!r} filter")
    return column


def build_where(spec: TableSpec, filters: FilterArgs) -> str | None:
    """The conjunction of the given filters, or None when there are none."""
    unknown = set(filters) - set(FilterArgs.__annotations__)
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    clauses: list[str] = []
    tags = filters.get("tags")
    if tags:
        column = _column(spec, spec.tags_column, "tags")
        fn = "array_has_all" if filters.get("all_tags") else "array_has_any"
        clauses.append(f"{fn}({column}, [{', '.join(quote(t) for t in tags)}])")
    if (since := filters.get("since")) is not None:
        clauses.append(f"created_at >= {_timestamp(since)}")
    if (until := filters.get("until")) is not None:
        clauses.append(f"created_at < {_timestamp(until)}")
    if (document := filters.get("document")) is not None:
        clauses.append(f"{_column(spec, spec.document_column, 'document')} = {quote(document)}")
    if (agent := filters.get("agent")) is not None:
        clauses.append(f"{_column(spec, spec.agent_column, 'agent')} = {quote(agent)}")
    if (role := filters.get("role")) is not None:
        _column(spec, spec.agent_column, "role")  # role exists where agent does (recall)
        clauses.append(f"role = {quote(role)}")
    if where := filters.get("where"):
        clauses.append(f"({where})")
    return " AND ".join(clauses) or None
