"""Thoughts first: where an earlier answer about this document (or library) was grounded
is read first, alone, when that answer matches the question well; the very same question
asked again gets its remembered answer, when that is sure (`repeated`).

The recalled thoughts are scored against the question as the relevance reading scores
them (the share of the question's words a thought holds and its MiniLM similarity,
`relevance.thought_scores`). For the chunks of those scoring at least FIRST_MATCH, the
passage holding each thought's verified quote (with a sentence of context on each side)
is read first, as the passage search reads (one batched call, the profile's prompt
styles). The passage, not the whole chunk: the quote may have been found by the search,
and a small model that grounded it in two sentences need not find it again in 512
tokens (measured on `man tar`: it did not). If that reading grounds an answer, that is
the answer: a question asked again costs one passage's reading instead of the sweep. If
not, the planned reading runs as it would have without thoughts, and the answer's trace
holds both readings. Either way the first round's `recalled` names the questions whose
thoughts put chunks first, and its decision says which chunks and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from longagent import text
from longagent.agents import relevance
from longagent.agents.prepared import PreparedDocument
from longagent.agents.question import Question
from longagent.agents.ranking import CONTEXT_SENTENCES, Passage, PassageIndex
from longagent.agents.reading import ReadPlan
from longagent.agents.thoughts import Thought, ThoughtStore, answer_in
from longagent.agents.types import Answer, Citation, MemberReport, Round
from longagent.memory.embedder import Embedder, MiniLMEmbedder

# A thought must say nearly what is asked to skip the sweep. Read alone, a recalled
# passage has no rival answer to be resolved against, so a question that only shares a
# name with it must not stop there. MiniLM scores against the thought "Where was Kalomi
# born? Fenni. Kalomi was born in the town of Fenni.": the same question 0.88, "In which
# town was Kalomi born?" 0.89, "What is the birthplace of Kalomi?" 0.70, "Who did Kalomi
# marry?" 0.60; against a `man tar` thought on the gzip option, "How do I compress an
# archive with gzip?" 0.69, "Which option lists the contents of an archive?" 0.51.
FIRST_MATCH = 0.75


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

    def plan(self, prepared: PreparedDocument) -> ReadPlan:
        """No member reads a whole chunk; the search reads the recalled passages, all in
        one wave."""
        index = RecalledPassages(prepared, self)
        waves = (max(1, len(index.passages)),)
        return ReadPlan([], index=index, search_waves=waves, extract=False)


class RecalledPassages(PassageIndex):
    """The passages holding recalled thoughts' quotes, in the order recalled, as the
    runner's search reads a document's ranked passages."""

    def __init__(self, prepared: PreparedDocument, first: FirstRead) -> None:
        self.chunks = list(prepared.chunks)
        self.embedder = None
        self.passages = []
        self._sentences = {}
        for index, thought in zip(first.readers, first.thoughts, strict=True):
            chunk = self.chunks[index]
            spans = text.sentences(chunk.text)
            self._sentences[index] = spans
            if thought.start is None or thought.end is None or not spans:
                self.passages.append(Passage(index, 0, len(chunk.text)))
                continue
            start, end = thought.start - chunk.start, thought.end - chunk.start
            held = [n for n, (a, b) in enumerate(spans) if a < end and b > start] or [0]
            first_ = max(0, held[0] - CONTEXT_SENTENCES)
            last = min(len(spans) - 1, held[-1] + CONTEXT_SENTENCES)
            self.passages.append(Passage(index, spans[first_][0], spans[last][1]))

    def rank(self, query: str) -> list[Passage]:
        return list(self.passages)

    def context(self, passage: Passage) -> Passage:
        return passage  # the context is in already


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
    if not readers or len(planned) <= len(readers):
        return None  # the plan reads no more than the recalled chunks: nothing to skip
    by_chunk = {prepared.chunks[i].id: i for i in readers}
    best: dict[int, Thought] = {}
    for thought in recalled:  # recall order is best first: keep each chunk's first
        index = by_chunk.get(thought.chunk_id)
        if index is not None:
            best.setdefault(index, thought)
    return FirstRead(readers, [best[i] for i in readers])


def repeated(
    prepared: PreparedDocument, question: Question, recalled: Sequence[Thought], model: str
) -> Answer | None:
    """The same question asked again over the same text: the answer it was given, with
    its citation, without reading; None unless that is sure.

    Sure means: a one-fact question; exactly one thought answered it, by this model (a
    question whose findings were several is read again, and so is one another model
    answered, or one answered before thoughts named their model); the thought's chunk is
    one of this document's (a document's chunk ids come from its content, so a changed file has
    other ids); and its quote still stands verbatim at the cited span. The members would
    read the same text with the same prompts and greedy decoding, so reading again would
    only repeat the answer, at the cost of the sweep."""
    if question.shape.shape != "lookup":
        return None
    asked = text.normalize(question.text)
    mine = [t for t in recalled if text.normalize(t.question) == asked]
    if len(mine) != 1 or mine[0].model != model:
        return None
    thought = mine[0]
    if thought.start is None or thought.end is None:
        return None
    cited_start, cited_end = thought.start, thought.end
    index = next((i for i, c in enumerate(prepared.chunks) if c.id == thought.chunk_id), None)
    if index is None:
        return None
    chunk = prepared.chunks[index]
    start, end = cited_start - chunk.start, cited_end - chunk.start
    if not 0 <= start < end <= len(chunk.text):
        return None
    quote = chunk.text[start:end]
    said = answer_in(thought, quote)  # "" unless it states an answer with this very quote
    if not said:
        return None
    citation = Citation.of(chunk, index, start, end)
    report = MemberReport(
        member=index,
        chunk_id=chunk.id,
        answer=said,
        quote=quote,
        verdict="grounded",
        reason="remembered: its quote stands verbatim at the cited span",
        evidence=citation,
    )
    recall = Round(
        index=0,
        kind="recall",
        instruction=question.text,
        members=[],
        reports=[report],
        recalled=[thought.question],
        decision=(
            f"asked before and answered from chunk {index} (chars {chunk.start}-{chunk.end}), "
            "whose quote still stands there verbatim: nothing read again"
        ),
    )
    return Answer(
        question=question.text,
        text=said,
        found=True,
        citations=[citation],
        trace=[recall],
        shape=question.shape.shape,
        shape_reason=question.shape.reason,
        document_id=prepared.document.id,
        chunks=len(prepared.chunks),
        remembered=True,
    )


def run(
    prepared: PreparedDocument,
    question: Question,
    plan: ReadPlan,
    thoughts: ThoughtStore,
    embedder: Embedder | None,
    execute: Callable[[ReadPlan], Answer],
    model: str = "",
) -> Answer:
    """The answer to `question`: by `execute(plan)`, preceded by a reading of the chunks
    recalled thoughts put first (see the module's docstring), or the answer `model` gave
    this very question before (`repeated`). `execute` runs one reading on one metered
    model, so the answer's usage counts both."""
    asked_by = getattr(thoughts, "asked", None)  # a store written before `asked` has none
    if model and callable(asked_by):  # before `recall`, which embeds the question
        asked = asked_by(prepared.document.id, question.text)
        again = repeated(prepared, question, asked, model)
        if again is not None:
            return again
    recalled = thoughts.recall(prepared.document.id, question.text)
    first = first_read(prepared, question, plan, recalled, embedder or MiniLMEmbedder())
    if first is None:
        return execute(plan)
    early = execute(first.plan(prepared))
    note = first.note(prepared)
    if early.trace:
        head = early.trace[0]
        head.recalled = [thought.question for thought in first.thoughts]
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
