"""Thought memory (Think-in-Memory): findings are merged, replaced and forgotten, so the
tier stays a small set of current conclusions instead of a pile of repeats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Unpack

import numpy as np

from longagent.memory.filters import FilterArgs, quote
from longagent.memory.records import Hit, Thought, utcnow
from longagent.memory.tier import SearchMode, Tier

Outcome = Literal["inserted", "merged", "replaced"]


@dataclass(frozen=True)
class ThoughtWrite:
    """What `ThoughtMemory.insert` did: the thought as now stored, the ids it removed
    (replaced by contradiction, or stale duplicates folded into a merge) and the ids the
    size cap dropped."""

    outcome: Outcome
    thought: Thought
    replaced: tuple[str, ...] = ()
    evicted: tuple[str, ...] = ()


class ThoughtMemory:
    """The thoughts tier with its policy. The rules, in order, for a new thought T:

    1. Same subject (contradiction). If T has a `subject`, every stored thought with the
       same `subject` and the same `doc_id` is about the same thing. If the closest of
       them is a near-duplicate of T it absorbs T (rule 2); otherwise T *replaces* them
       all: the newer finding wins, in one commit.
    2. Near-duplicate (merge). Otherwise the stored thought of the same `doc_id` closest
       to T (among those without a subject, when T has one), if its cosine similarity is
       at least `merge_threshold`, absorbs T: it keeps its id and creation time, its hit
       count grows by T's, and it takes T's wording, chunk and question (T is the
       fresher statement of the same finding).
    3. Otherwise T is inserted.
    4. Size cap. When more than `max_thoughts` are stored, the least used go: fewest hits
       first, then least recently updated; the thought just written is never dropped.

    Similarity alone never replaces a thought: two findings about one document can be
    close in embedding space and both true, so contradiction needs an explicit subject
    (callers may pass the question that produced the finding, or an entity key).

    The tier's record type may extend `Thought` (a library's thoughts keep their
    citation's span); `extra` fields are passed to it on insert and carried on merge.
    """

    def __init__(
        self,
        tier: Tier[Thought],
        *,
        merge_threshold: float = 0.9,
        max_thoughts: int | None = 10_000,
    ) -> None:
        self.tier = tier
        self.merge_threshold = merge_threshold
        self.max_thoughts = max_thoughts

    def insert(
        self,
        text: str,
        *,
        doc_id: str | None = None,
        chunk_id: str | None = None,
        question: str | None = None,
        subject: str | None = None,
        vector: np.ndarray | None = None,
        **extra: Any,
    ) -> ThoughtWrite:
        """Store a finding under the rules above and say what happened. Pass `vector` when
        the text's embedding is already at hand."""
        if not text.strip():
            raise ValueError("a thought needs text")
        new = self._record(
            text=text, doc_id=doc_id, chunk_id=chunk_id, question=question, subject=subject, **extra
        )
        # Embed outside the lock: it is the slow part.
        vector = self.tier.embed([text]) if vector is None else np.reshape(vector, (1, -1))
        with self.tier.locked():  # check-then-write must not interleave with other writers
            same_doc = self._doc_where(doc_id)
            candidates: list[Hit[Thought]] = []
            if subject is not None:
                where = f"{same_doc} AND subject = {quote(subject)}"
                candidates = self.tier.nearest(vector[0], limit=1000, where=where)
            same_subject = bool(candidates)
            if not same_subject:
                # A thought keyed to another subject is never merged into: it says
                # something about another thing, however close the wording.
                where = same_doc if subject is None else f"{same_doc} AND subject IS NULL"
                candidates = self.tier.nearest(vector[0], limit=1, where=where)
            if candidates and candidates[0].score >= self.merge_threshold:
                old = candidates[0].record
                stale = tuple(h.record.id for h in candidates[1:])
                merged = old.model_copy(
                    update={
                        "text": text,
                        "chunk_id": chunk_id if chunk_id is not None else old.chunk_id,
                        "question": question if question is not None else old.question,
                        "subject": subject if subject is not None else old.subject,
                        **extra,
                        "hits": old.hits + new.hits + sum(h.record.hits for h in candidates[1:]),
                        "updated_at": utcnow(),
                    }
                )
                self.tier.upsert([merged], vector, delete_ids=stale)
                return ThoughtWrite("merged", merged, stale, self._enforce_cap(merged.id))
            if same_subject:
                replaced = tuple(h.record.id for h in candidates)
                # The subject's history of use carries over to its newer statement.
                new.hits += sum(h.record.hits for h in candidates)
                self.tier.upsert([new], vector, delete_ids=replaced)
                return ThoughtWrite("replaced", new, replaced, self._enforce_cap(new.id))
            self.tier.add([new], vector)
            return ThoughtWrite("inserted", new, (), self._enforce_cap(new.id))

    def restate(
        self, subject: str, doc_id: str, findings: Sequence[dict[str, Any]]
    ) -> list[ThoughtWrite]:
        """The current findings about `subject` in `doc_id`, in one commit: each finding
        (`insert`'s keyword arguments: text, chunk_id, question, extra fields) that is a
        near-duplicate of a stored thought of the subject merges into it, the others are
        inserted, and every stored thought of the subject that none merged into is
        replaced (deleted). So one answer with two citations keeps both, and a later
        answer to the same question that contradicts it replaces them, never piling up."""
        findings = [f for f in findings if str(f.get("text", "")).strip()]
        if not findings:
            return []
        vectors = self.tier.embed([f["text"] for f in findings])
        where = f"{self._doc_where(doc_id)} AND subject = {quote(subject)}"
        with self.tier.locked():
            old = {r.id: r for r in self.tier.scan(limit=10_000, where=where)}
            kept: dict[str, str] = {}  # stored id -> its new statement's id
            records: list[Thought] = []
            outcomes: list[Outcome] = []
            for finding, vector in zip(findings, vectors, strict=True):
                near = self.tier.nearest(vector, limit=1, where=where) if old else []
                match = near[0].record if near and near[0].score >= self.merge_threshold else None
                if match is not None and match.id in old and match.id not in kept:
                    kept[match.id] = match.id
                    records.append(
                        match.model_copy(
                            update={**finding, "hits": match.hits + 1, "updated_at": utcnow()}
                        )
                    )
                    outcomes.append("merged")
                else:
                    records.append(self._record(doc_id=doc_id, subject=subject, **finding))
                    outcomes.append("replaced" if old else "inserted")
            replaced = tuple(i for i in old if i not in kept)
            if replaced:  # the subject's history of use carries over to its newer statement
                records[0].hits += sum(old[i].hits for i in replaced)
            self.tier.upsert(records, vectors, delete_ids=replaced)
        return [
            ThoughtWrite(outcome, record, replaced if n == 0 else ())
            for n, (outcome, record) in enumerate(zip(outcomes, records, strict=True))
        ]

    def _record(self, **fields: Any) -> Thought:
        record = self.tier.spec.record(**fields)
        assert isinstance(record, Thought)
        return record

    @staticmethod
    def _doc_where(doc_id: str | None) -> str:
        return "doc_id IS NULL" if doc_id is None else f"doc_id = {quote(doc_id)}"

    def _enforce_cap(self, keep: str) -> tuple[str, ...]:
        if self.max_thoughts is None:
            return ()
        excess = self.tier.count() - self.max_thoughts
        if excess <= 0:
            return ()
        usage = (
            self.tier.table.search()
            .where(f"id != {quote(keep)}")
            .select(["id", "hits", "updated_at"])
            .limit(None)
            .to_arrow()
            .to_pylist()
        )
        usage.sort(key=lambda row: (row["hits"], row["updated_at"]))
        doomed = tuple(row["id"] for row in usage[:excess])
        self.tier.delete(doomed)
        return doomed

    def forget(self, ids: Sequence[str]) -> int:
        """Delete thoughts by id; returns how many existed."""
        return self.tier.delete(list(ids))

    def forget_document(self, doc_id: str) -> int:
        """Delete every thought about one document (when it changed or was removed)."""
        return self.tier.delete_where(document=doc_id)

    def search(
        self,
        query: str,
        *,
        limit: int = 5,
        offset: int = 0,
        mode: SearchMode = "hybrid",
        count_hits: bool = True,
        **filters: Unpack[FilterArgs],
    ) -> list[Hit[Thought]]:
        """Thoughts relevant to `query`. Each one returned counts as used (its hit count
        grows), which is what the size cap's "least used" means."""
        hits = self.tier.search(query, mode=mode, limit=limit, offset=offset, **filters)
        if count_hits and hits:
            self.tier.update_sql([h.record.id for h in hits], {"hits": "hits + 1"})
        return hits

    def get(self, ids: Sequence[str]) -> list[Thought]:
        return self.tier.get(list(ids))

    def all(self, *, document: str | None = None) -> list[Thought]:
        """Every thought (of one document), oldest first."""
        if document is None:
            return list(self.tier)
        return self.tier.scan(limit=1_000_000, document=document)

    def __len__(self) -> int:
        return len(self.tier)
