"""Thoughts first: a chunk where an earlier answer about this document (or library) was
grounded is read first, alone, when that answer matches the question well.

The recalled thoughts are scored against the question as the relevance reading scores
them (the share of the question's words a thought holds and its MiniLM similarity,
`relevance.thought_scores`). The chunks of those scoring at least FIRST_MATCH, that the
plan would read anyway, are read first in a reading of their own (no passage search).
If it grounds an answer, that is the answer: a question asked again costs one chunk's
reading instead of the sweep. If not, the planned reading runs as it would have without
thoughts, and the answer's trace holds both readings. Either way the first round's
decision says which chunks a thought put first and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from longagent.agents import relevance
from longagent.agents.prepared import PreparedDocument
from longagent.agents.question import Question
from longagent.agents.reading import ReadPlan
from longagent.agents.thoughts import Thought, ThoughtStore
from longagent.agents.types import Answer
from longagent.memory.embedder import Embedder, MiniLMEmbedder

# A thought must hold much of the question (or say the same thing) to skip the sweep: at
# 0.5 an earlier question about the same name but another attribute ("Who did Kalomi
# marry?" after "Where was Kalomi born?") scores ~0.4 with MiniLM and reads as usual.
FIRST_MATCH = 0.5


@dataclass(frozen=True)
class FirstRead:
    """The chunks to read first (indices into the prepared chunks), best first, and for
    each the thought that put it there."""

    readers: list[int]
    thoughts: list[Thought]

    def note(self, prepared: PreparedDocument) -> str:
        said = "; ".join(
            f"chunk {i} (chars {prepared.chunks[i].start}-{prepared.chunks[i].end}), where "
            f"{t.question!r} was answered before"
            for i, t in zip(self.readers, self.thoughts, strict=True)
        )
        return f"read first, from recalled thoughts: {said}"


def first_read(
    prepared: PreparedDocument,
    question: Question,
    plan: ReadPlan,
    recalled: Sequence[Thought],
    embedder: Embedder,
) -> FirstRead | None:
    """The chunks recalled thoughts put first, or None when no thought matches enough."""
    if not recalled or not prepared.chunks:
        return None
    scores = relevance.thought_scores(question, recalled, prepared.chunks, embedder)
    planned = set(plan.readers)
    readers = [
        i
        for i in sorted(range(len(scores)), key=lambda i: -scores[i])
        if scores[i] >= FIRST_MATCH and i in planned
    ]
    if not readers:
        return None
    by_chunk = {prepared.chunks[i].id: i for i in readers}
    best: dict[int, Thought] = {}
    for thought in recalled:  # recall order is best first: keep each chunk's first
        index = by_chunk.get(thought.chunk_id)
        if index is not None:
            best.setdefault(index, thought)
    return FirstRead(readers, [best[i] for i in readers])


def run(
    prepared: PreparedDocument,
    question: Question,
    plan: ReadPlan,
    thoughts: ThoughtStore,
    embedder: Embedder | None,
    execute: Callable[[ReadPlan], Answer],
) -> Answer:
    """The answer to `question`: by `execute(plan)`, preceded by a reading of the chunks
    recalled thoughts put first (see the module's docstring). `execute` runs one reading
    on one metered model, so the answer's usage counts both."""
    recalled = thoughts.recall(prepared.document.id, question.text)
    first = first_read(prepared, question, plan, recalled, embedder or MiniLMEmbedder())
    if first is None:
        return execute(plan)
    early = execute(ReadPlan(first.readers))
    note = first.note(prepared)
    if early.trace:
        head = early.trace[0]
        head.decision = f"{note}; {head.decision}" if head.decision else note
    if early.found:
        return early
    answer = execute(plan)
    head_note = "the recalled chunks grounded nothing: the planned reading follows"
    if early.trace:
        early.trace[-1].decision += f"; {head_note}"
    for round_ in answer.trace:
        round_.index += len(early.trace)
    answer.trace = early.trace + answer.trace
    return answer
