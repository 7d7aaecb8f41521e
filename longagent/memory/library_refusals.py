"""A library's refusals: the "not found" answers its questions ended in, each kept whole
(as JSON) under a key naming everything that decided it, so the very same question asked
again with the same settings over the same chunks is answered without reading again.

A grounded answer is remembered as thoughts (`library_thoughts`), re-checked at its cited
span when asked again; a refusal has no span to check, so its key must say all that could
change it (the caller's: question, settings, code, chunks, thoughts). The table sits beside
the library's others as `refusals.lance`; one row per key, written in one commit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pyarrow as pa

from longagent.memory import library_upkeep
from longagent.memory.filters import in_list
from longagent.memory.library import Library

REFUSALS_TABLE = "refusals"
_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),
        pa.field("document_id", pa.string(), nullable=False),  # what it was asked about
        pa.field("question", pa.string(), nullable=False),
        pa.field("answer", pa.large_string(), nullable=False),  # the whole answer, as JSON
        pa.field("asked_at", pa.float64(), nullable=False),  # seconds since the epoch
    ]
)


def stored(library: Library, key: str) -> tuple[str, float] | None:
    """The answer JSON kept under `key` and when it was asked, or None."""
    row = library_upkeep.keyed_row(library, REFUSALS_TABLE, key, "reading refusals")
    return (row["answer"], row["asked_at"]) if row else None


def store(library: Library, key: str, document_id: str, question: str, answer: str) -> None:
    """Keep a refusal (written again under the same key, it replaces itself)."""
    row = {
        "key": key,
        "document_id": document_id,
        "question": question,
        "answer": answer,
        "asked_at": time.time(),
    }
    data = pa.Table.from_pylist([row], schema=_SCHEMA)
    library_upkeep.upsert(library, REFUSALS_TABLE, _SCHEMA, data, "writing a refusal")


def forget(library: Library, document_ids: Sequence[str]) -> None:
    """The refusals about these documents (replaced or removed) go with them."""
    where = in_list("document_id", document_ids)
    library_upkeep.delete_rows(library, REFUSALS_TABLE, where, "forgetting refusals")
