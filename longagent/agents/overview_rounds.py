"""The overview round of the question shapes (`agents/shapes.py`), run by the `Runner`.

Each chosen member summarises its chunk (one batch). A summary counts only when its quote
stands verbatim in the chunk; a summary whose words the chunk does not hold is replaced
by that quoted sentence (the model could not phrase one), and a reply with no usable
quote by the chunk's central passage. The small profile asks no model: every summary is
the document's opening or the chunk's central passage (profile `summaries`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from longagent import text
from longagent.agents import conflict, evidence_spans, member, ranking
from longagent.agents.actions import Hop, Overview
from longagent.agents.types import Citation, MemberReport

if TYPE_CHECKING:
    from longagent.agents.runner import Runner

# The passages at a document's start where an overview looks for its opening (a man
# page's first prose passage follows its header, NAME and SYNOPSIS lines).
LEAD_PASSAGES = 6
MIN_SUMMARY_WORDS = 3  # content words a summary needs, else its quoted sentence stands


def overview(runner: Runner, action: Overview) -> None:
    state = runner.state
    hop = Hop(state.question, "overview", sorted(action.members))
    state.hops.append(hop)
    topic = state.question.shape.topic
    index = state.plan.index
    centre = index.centre(topic) if index is not None else None
    # A document's opening says what it is about (a man page's NAME and DESCRIPTION, an
    # article's introduction): a whole-document overview cites it for its chunk.
    lead = index.opening(LEAD_PASSAGES) if index is not None and not topic else None
    if lead is not None and lead.chunk not in hop.members:
        hop.members = sorted([lead.chunk, *hop.members])
    extractive = runner.profile.summaries == "extractive"
    how = "cite their chunks' central passages" if extractive else "summarise their chunks"
    runner.open_round(
        "overview",
        hop.members,
        f"{len(hop.members)} members {how}",
        instruction=f"summarise: {topic}" if topic else "summarise the document",
    )
    if extractive:
        reports = [_central(runner, i, centre, lead) for i in hop.members]
    else:
        requests = [
            member.summary_request(i, runner.chunks[i].text, topic, runner.profile)
            for i in hop.members
        ]
        replies = member.run_batch(runner.model, requests)
        reports = [_judge_summary(runner, i, r) for i, r in zip(hop.members, replies, strict=True)]
        # When the model could not phrase a summary, the chunk's central passage stands.
        reports = [
            r if r.verdict == "grounded" else _central(runner, r.member, centre, lead, r.reason)
            for r in reports
        ]
    hop.reports = runner.record(reports)
    # One cluster per member, in document order: summaries are not conflicting answers.
    hop.clusters = [conflict.Cluster([r]) for r in hop.reports if r.verdict == "grounded"]


def _central(
    runner: Runner,
    index: int,
    centre: np.ndarray | None,
    lead: ranking.Passage | None,
    failed: str = "",
) -> MemberReport:
    """An extractive summary of chunk `index`, cited verbatim: the document's opening
    (`lead`) when it stands in this chunk, else the chunk's prose passage closest to the
    document's centre (or the topic). `failed` says why the model's summary did not stand,
    when there was one."""
    chunk = runner.chunks[index]
    passages = runner.state.plan.index
    opening = lead is not None and lead.chunk == index
    passage = lead if opening else None
    if passage is None and passages is not None and centre is not None:
        passage = passages.central(index, centre)
    why = f"{failed}: " if failed else ""
    report = MemberReport(member=index, chunk_id=chunk.id, answer="", quote="", verdict="invalid")
    if passage is None:
        report.reason = why + "the chunk has no prose passage to cite"
        return report
    cited = chunk.text[passage.start : passage.end]
    report.answer = report.quote = " ".join(cited.split())
    report.verdict = "grounded"
    where = "topic" if runner.state.question.shape.topic else "document's centre"
    said = "the document's opening" if opening else f"the passage closest to the {where}"
    report.reason = why + said
    report.evidence = Citation.of(chunk, index, passage.start, passage.end)
    return report


def _judge_summary(
    runner: Runner, index: int, reply: member.MemberReply | Exception
) -> MemberReport:
    chunk = runner.chunks[index]
    report = MemberReport(member=index, chunk_id=chunk.id, answer="", quote="", verdict="invalid")
    if isinstance(reply, Exception):
        report.reason = str(reply)
        return report
    report.quote = reply.quote.strip()
    summary = " ".join(reply.answer.split())
    said = text.content_words(summary)
    # A summary says something: a few words of substance, most of them the chunk's own
    # (the 135M model summarised a regex HOWTO chunk as "abcb").
    held = said & set(text.words(chunk.text))
    supported = len(said) >= MIN_SUMMARY_WORDS and len(held) * 2 >= len(said)
    span = evidence_spans.quoted_sentence(report.quote, chunk.text)
    if span is None and supported:  # a misquote: cite the sentence the summary draws on
        span = _closest_sentence(said, chunk.text)
    if span is None:
        report.verdict, report.reason = "hallucinated", "the quote is not in the chunk"
        return report
    sentence = " ".join(chunk.text[span[0] : span[1]].split())
    if not supported:
        summary, report.reason = sentence, "the summary strayed from the chunk: its quote instead"
    report.answer, report.verdict = summary, "grounded"
    report.evidence = Citation.of(chunk, index, *span)
    return report


def _closest_sentence(said: set[str], chunk: str) -> tuple[int, int] | None:
    """The sentence sharing the most content words with a summary (at least two)."""
    best = max(
        text.sentences(chunk),
        key=lambda span: len(said & set(text.words(chunk[span[0] : span[1]]))),
        default=None,
    )
    if best is None or len(said & set(text.words(chunk[best[0] : best[1]]))) < 2:
        return None
    return best


def overview_members(
    runner_chunks: int, index: ranking.PassageIndex | None, topic: str, k: int
) -> list[int]:
    """Which chunks an overview reads: for a topic, the `k` ranked likeliest to be about
    it; for the whole document, every chunk when there are at most `k`, else `k` spread
    evenly from first to last."""
    if topic and index is not None:
        return sorted(index.chunk_order(topic)[:k])
    if runner_chunks <= k:
        return list(range(runner_chunks))
    step = (runner_chunks - 1) / (k - 1)
    return sorted({round(i * step) for i in range(k)})
