"""Rounds that read a document's ranked passages instead of whole chunks, run by the
`Runner`: the search (when the question's words ground nothing) and each wave of a
collection (`shape_rounds.collect`). Each reader sees one passage; replies are judged
against the whole chunk, so citations keep their document offsets."""

from __future__ import annotations

from itertools import accumulate, pairwise
from typing import TYPE_CHECKING

from longagent.agents import conflict, extraction, member, ranking
from longagent.agents.actions import Search
from longagent.agents.member import MemberReply
from longagent.agents.profiles import Style
from longagent.agents.question import Question
from longagent.agents.types import MemberReport, Round
from longagent.errors import ModelResponseError

if TYPE_CHECKING:
    from longagent.agents.runner import Judge, Runner


def search(runner: Runner, action: Search) -> None:
    """The hop's question over the document's ranked passages: each reader sees one
    passage (with a sentence of context on each side) in the profile's search styles (its
    key search styles for a question naming a record by an identifier),
    wave by wave until a wave grounds an answer: one batched call per wave, or one for
    them all with the profile's `search_ahead` (a later wave's replies are then dropped
    unjudged). Replies are judged against the whole chunk, so citations keep their
    document offsets. When none grounds, the first wave's sentence closest in meaning may
    answer (`agents/extraction.py`); with the profile's `extract_first`, it is looked for
    before anything is read."""
    hop, index = runner.state.hop, runner.state.plan.index
    assert hop is not None and index is not None
    hop.searched = True
    question = hop.question
    # A question about the document's subject reads each passage alone: its neighbours
    # name her too, and the 135M model quoted them instead.
    query = f"{question.text} {question.bridge}".strip()
    passages = ranking.readings(index, query, context=not question.document_subject)
    passages = passages[: sum(action.waves)]
    current = runner.open_round(
        "search", [], f"reading the {len(passages)} passages likeliest to answer"
    )
    first = passages[: action.waves[0]]
    reports = _extracted(runner, first, question) if runner.profile.extract_first else []
    if reports:
        current.decision = "the sentence closest in meaning answers before any reader read"
    profile = runner.profile
    styles = profile.key_search_styles if question.names_a_record else profile.search_styles
    readings = [(s, 0) for s in styles]
    edges = pairwise(accumulate(action.waves, initial=0))
    waves = [w for a, b in edges if (w := passages[a:b])] if not reports else []
    pending: list[list[MemberReply | ModelResponseError]] = []  # replies read ahead
    for i, wave in enumerate(waves):
        if not pending:
            ahead = waves[i:] if profile.search_ahead else [wave]
            pending = _read(runner, [p for w in ahead for p in w], question, readings)
        replies, pending = pending[: len(wave)], pending[len(wave) :]
        reports += _judged(runner, wave, replies, question, current, readings)
        if any(r.verdict == "grounded" for r in reports):
            break
    if not any(r.verdict == "grounded" for r in reports) and not runner.profile.extract_first:
        reports += _extracted(runner, first, question)
    hop.members = list(dict.fromkeys(hop.members + current.members))
    hop.reports = reports
    runner.settle(hop)


def _extracted(
    runner: Runner, passages: list[ranking.Passage], question: Question
) -> list[MemberReport]:
    """The report of the sentence that answers for the readers (recorded on the round),
    or none: when the profile extracts and the plan allows it (`agents/extraction.py`)."""
    profile, plan = runner.profile, runner.state.plan
    if not (profile.extract and plan.extract and passages):
        return []
    assert plan.index is not None
    bar = profile.extract_threshold
    if question.document_subject:
        bar = profile.extract_subject_threshold
    found = extraction.best_window(plan.index, passages, question, bar)
    if found is None:
        return []
    current = runner.state.rounds[-1]
    current.members += [found.chunk] if found.chunk not in current.members else []
    read = not profile.extract_first
    return runner.record([extraction.report(found, runner.chunks[found.chunk], read=read)])


def read_passages(
    runner: Runner,
    wave: list[ranking.Passage],
    question: Question,
    current: Round,
    styles: tuple[Style, ...],
    judge: Judge | None = None,
    samples: tuple[int, ...] = (0,),
) -> list[MemberReport]:
    """One batched call: each reader reads one passage in each of `styles`, greedy
    (sample 0) or sampled with each seed of `samples`, and reports the answer its grounded
    readings agree on. Replies are judged (by `judge`, default `runner.judge`) against the
    whole chunk, so citations keep their document offsets."""
    readings = [(s, n) for s in styles for n in samples]
    replies = _read(runner, wave, question, readings)
    return _judged(runner, wave, replies, question, current, readings, judge)


def _read(
    runner: Runner,
    passages: list[ranking.Passage],
    question: Question,
    readings: list[tuple[Style, int]],
) -> list[list[MemberReply | ModelResponseError]]:
    """One batched call reading each passage in each (style, sample): its replies, by passage."""
    index = runner.state.plan.index
    assert index is not None
    requests = [
        member.member_request(p.chunk, index.text(p), question, runner.profile, style=s, sample=n)
        for p in passages
        for s, n in readings
    ]
    replies = member.run_batch(runner.model, requests)
    step = len(readings)
    return [replies[i : i + step] for i in range(0, len(replies), step)]


def _judged(
    runner: Runner,
    wave: list[ranking.Passage],
    replies: list[list[MemberReply | ModelResponseError]],
    question: Question,
    current: Round,
    readings: list[tuple[Style, int]],
    judge: Judge | None = None,
) -> list[MemberReport]:
    """The wave's passages recorded on the round as read, and each passage's replies judged
    into the one report its grounded readings agree on."""
    judge = judge or runner.judge
    for p in wave:
        offset = runner.chunks[p.chunk].start
        span = (offset + p.start, offset + p.end)
        if (p.chunk, span) not in zip(current.passage_chunks, current.passages, strict=True):
            current.passages.append(span)
            current.passage_chunks.append(p.chunk)
    current.members += [p.chunk for p in wave if p.chunk not in current.members]
    judged = [
        [judge(p.chunk, reply, question) for reply in passage_replies]
        for p, passage_replies in zip(wave, replies, strict=True)
    ]
    for reports in judged:
        for (style, _), report in zip(readings, reports, strict=True):
            # A free reading's own sentence (its quote is its answer: not a JSON reply) is
            # the reader's words, often garbled; the sentence cited for it is the document's.
            if style == "free" and report.evidence and report.quote == report.answer:
                chunk = runner.chunks[report.member]
                report.answer = extraction.cited_answer(chunk, report.evidence)
    same = runner.verifier.same_answer
    return runner.record([conflict.agreed_reading(r, same) for r in judged])
