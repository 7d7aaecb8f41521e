"""The rounds of the question shapes beyond one fact (`agents/shapes.py`), run by the
`Runner`: a collection (multi-value, list, each link of a chain) and a count.

- collect: readers read the sentences that name the question's keys or values, each
  alone (a small model finds a value in one sentence that it misses in four), else the
  passages ranked for the question, wave after wave, until a wave grounds no value that
  was not grounded already. Every grounded value is kept with
  its own citation; values are not conflicts, so nothing is resolved. A chain's values
  already followed are echoes, not new values. A sentence naming the key that no reader
  gave a value from gives the one value standing right after the key, if one does.
- count: the words that occur most in the chunks, counted by the runner (no reader can
  count across chunks); each cites its first occurrence.

The overview's round lives in `overview_rounds`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from longagent import text
from longagent.agents import (
    chain_links,
    conflict,
    entry_lists,
    evidence,
    member,
    passage_rounds,
    ranking,
    relevance,
    repairs,
)
from longagent.agents.actions import Collect, Count, Hop
from longagent.agents.question import Question
from longagent.agents.types import Answer, Citation, MemberReport
from longagent.errors import ModelResponseError
from longagent.llm.usage import Usage

if TYPE_CHECKING:
    from longagent.agents.runner import Judge, Runner


def collect(runner: Runner, action: Collect) -> None:
    state = runner.state
    index = state.plan.index
    assert index is not None
    question = action.question or state.question
    same = runner.verifier.same_answer
    followed = [h.question.shape.value for h in state.hops] + [state.question.shape.value]
    followed = [v for v in followed if v]
    earlier = state.finding.items if state.finding else []
    keyed = state.question.shape.shape != "list"
    chain = state.question.shape.shape == "chain"
    hop = Hop(question, "collect")
    state.hops.append(hop)
    # "What keywords are defined for Rules-Requires-Root?": a key's own list may answer.
    keys = question.entities if state.question.shape.shape == "multi_value" else frozenset()
    if (not keyed or keys) and _list_entries(runner, hop, index, keys):
        return
    named = index.naming(sorted(question.entities)) if question.entities else []
    passages = (named or ranking.readings(index, question.text))[: sum(action.waves)]
    current = runner.open_round(
        "collect",
        [],
        f"collecting every value from the {len(passages)} passages likeliest to hold one",
        instruction=question.text,
    )
    reports: list[MemberReport] = []
    start = 0
    for size in action.waves:
        wave, start = passages[start : start + size], start + size
        if not wave:
            break
        had = list(earlier) + [r.answer for r in reports if r.verdict == "grounded"]
        judge = _item_judge(runner, keyed, chain)
        styles = runner.profile.focus_styles
        new = passage_rounds.read_passages(runner, wave, question, current, styles, judge)
        if chain:
            chain_links.assignments(runner, wave, new, question.shape.value, followed)
        missed = [p for p, r in zip(wave, new, strict=True) if r.verdict != "grounded"]
        if named and missed and runner.profile.collect_samples:
            # A sentence that names the key holds a value: read the missed ones again,
            # sampled (the 135M model's greedy reading often echoes the key).
            seeds = tuple(range(1, 1 + runner.profile.collect_samples))
            again = passage_rounds.read_passages(
                runner, missed, question, current, styles, judge, seeds
            )
            if chain:
                chain_links.assignments(runner, missed, again, question.shape.value, followed)
            new += again
            missed = [p for p, r in zip(missed, again, strict=True) if r.verdict != "grounded"]
        if named and missed and keyed and not chain:
            new += _lone_values(runner, missed, question)
        reports += new
        fresh = [
            r
            for r in new
            if r.verdict == "grounded" and not any(same(r.answer, v) for v in had + followed)
        ]
        if had and not fresh:
            current.decision = "a wave added no new value"
            break
    hop.members = list(current.members)
    hop.reports = reports
    grounded = [
        r
        for r in reports
        if r.verdict == "grounded" and not any(same(r.answer, v) for v in followed)
    ]
    hop.clusters = conflict.cluster(grounded, same)


RECORD_WORDS = 4  # a record's value stands this close after its key ("X is: 7100362")


def _lone_values(
    runner: Runner, passages: list[ranking.Passage], question: Question
) -> list[MemberReport]:
    """For the sentences naming the key from which no reader gave a value: the one value
    standing within RECORD_WORDS words after the key (a word with a digit the question
    lacks, `repairs.record_value`), judged by the same rules with the sentence as its
    quote. RULER glues a needle to an essay's cut-off sentence ("... release software the
    minute One of the special magic numbers for silky-attack is: 7100362."); given that
    long sentence, the 135M reader wrote JSON cut off at its limit and an invented number,
    so the fourth value was missed."""
    index = runner.state.plan.index
    assert index is not None
    keys = [k.lower() for k in text.record_keys(question.text)]
    reports = []
    for passage in passages:
        said = index.text(passage)
        lowered = said.lower()
        ends = [lowered.rfind(k) + len(k) for k in keys if k in lowered]
        if not ends:
            continue
        value = repairs.record_value(" ".join(said[max(ends) :].split()[:RECORD_WORDS]), question)
        if value is None:
            continue
        reply = member.MemberReply.model_construct(quote=said, answer=value)
        report = runner.judge(passage.chunk, reply, question)
        if report.verdict == "grounded":
            report.reason = "no reader gave a value: the key's sentence holds this one alone"
            reports.append(report)
    return runner.record(reports)


def _list_entries(
    runner: Runner, hop: Hop, index: ranking.PassageIndex, keys: frozenset[str]
) -> bool:
    """A list question over a document with lists of its own (a manual's options, an
    announced list): the items that answer, each cited (`agents/entry_lists.py`). False
    when it has none of the asked kind or none of its items answers: then passages are
    read as for any collection. `keys`: a multi-value question's keys, whose lists only
    may answer."""
    question = hop.question
    if not entry_lists.kind_of(question.text):  # no plural noun: no list is asked for
        return False
    common = relevance.common_words(question, runner.chunks)
    found = entry_lists.listing(runner.document.text, question.text, index.model(), common, keys)
    if found is None:
        return False
    reports = [r for pick in found.picks if (r := _entry_report(runner, pick)) is not None]
    where = ", ".join(repr(s) for s in found.sections)
    current = runner.open_round(
        "collect",
        sorted({r.member for r in reports}),
        f"listing the items of {where} ({found.items} entries): {found.why}",
    )
    if not reports:
        current.decision = f"no entry of {where} answers: reading passages instead"
        return False
    hop.members = list(current.members)
    hop.reports = runner.record(reports)
    hop.clusters = [conflict.Cluster([r]) for r in hop.reports]
    return True


def _entry_report(runner: Runner, pick: entry_lists.Pick) -> MemberReport | None:
    """A picked entry as a grounded report of the member whose chunk holds its term; the
    citation stops at that chunk's end."""
    start, end = pick.cited
    chunk = next((c for c in runner.chunks if c.start <= start < c.end), None)
    if chunk is None:
        return None
    citation = Citation.of(
        chunk, chunk.index, start - chunk.start, min(end, chunk.end) - chunk.start
    )
    return MemberReport(
        member=chunk.index,
        chunk_id=chunk.id,
        answer=pick.term,
        quote=" ".join(citation.quote.split()),
        verdict="grounded",
        reason=f"an entry of the list: {pick.why}",
        evidence=citation,
    )


def _item_judge(runner: Runner, keyed: bool, chain: bool) -> Judge:
    """The runner's judge, for one item of a collection. A reader that quotes the value
    verbatim but answers nonsense (the 135M model quoted "5017343" and answered
    "1000000000000") has the value in its quote: the quote is judged as the answer, by the
    same rules. An item of a keyed collection is the one name or number it adds, when it
    adds exactly one ("The 6159230 is a special magic number for X" is "6159230"), and
    a whole sentence that adds none is no item. A reply cut off while writing its answer
    keeps its whole quote, judged the same way."""

    def judge(
        index: int, reply: member.MemberReply | ModelResponseError, question: Question
    ) -> MemberReport:
        report = runner.judge(index, reply, question)
        if keyed and report.verdict == "grounded" and _no_value(report.answer, question):
            # A value is a word or a short phrase: an essay's sentence beside the key's
            # line ("They don't know how many of the companies...") is none.
            report.verdict = "unsupported"
            report.reason = "a sentence that adds no name or number is not a value"
        if isinstance(reply, ModelResponseError) and isinstance(reply.partial.get("quote"), str):
            # Cut off at the token limit while writing its answer: the quote is whole.
            reply = member.MemberReply(quote=str(reply.partial["quote"])[:200], answer="")
        if report.verdict != "grounded" and isinstance(reply, member.MemberReply):
            quoted = reply.quote.strip()
            if quoted and _added_values(quoted, question):
                retry = runner.judge(
                    index, member.MemberReply.model_construct(quote=quoted, answer=quoted), question
                )
                if retry.verdict == "grounded":
                    retry.reason = f"its answer was {reply.answer[:40]!r}: the quote's value stands"
                    report = retry
        if not keyed and report.verdict == "grounded" and _sentence(report.answer):
            # A list's item is a name or a short phrase, whether answered or quoted. The
            # 135M model answered "Which options take a file name?" with "This is the
            # default when there is more than one file to search.": cited, but no item.
            report.verdict = "unsupported"
            report.reason = "a whole sentence is not an item of a list"
        if report.verdict == "grounded" and keyed:
            values = _added_values(report.answer, question)
            if len(values) > 1 and chain:
                # A link is one name: the rarest the answer adds ("VAR KUYAW" is KUYAW;
                # VAR stands on every line).
                values = [
                    min(values, key=lambda v: chain_links.occurrences(v, runner.document.text))
                ]
            if len(values) == 1:
                report.answer = values[0]
            if chain and chain_links.structural(
                report.answer, question.shape.value, runner.document.text
            ):
                report.verdict = "unsupported"
                report.reason = f"{report.answer!r} stands on too many lines to be one link"
        return report

    return judge


def _sentence(answer: str) -> bool:
    """Whether `answer` is a whole sentence: LONG_ANSWER words of substance or more, or
    twice as many words of any kind."""
    long = len(text.content_words(answer)) >= evidence.LONG_ANSWER
    return long or len(text.words(answer)) >= 2 * evidence.LONG_ANSWER


def _no_value(answer: str, question: Question) -> bool:
    """A whole sentence (LONG_ANSWER words of substance or more) without a name or number
    the question lacks."""
    return _sentence(answer) and not _added_values(answer, question)


def _added_values(answer: str, question: Question) -> list[str]:
    """The names and numbers (capitalised or with a digit) of `answer` that the question
    does not hold, each once."""
    asked = question.words
    return list(
        dict.fromkeys(
            w
            for w in text.WORD.findall(answer)
            if (w[0].isupper() or any(ch.isdigit() for ch in w))
            and w.lower() not in asked
            and w.lower() not in text.STOPWORDS
        )
    )


def count(runner: Runner, action: Count) -> None:
    """The `action.count` words (stopwords and words under three letters aside: "if",
    "of") that occur most in the chunks, each a
    grounded report citing its first occurrence; ties go to the word seen first. A
    document's chunks do not overlap (no reading splits with overlap), so each word is
    counted once."""
    state = runner.state
    hop = Hop(state.question, "count")
    state.hops.append(hop)
    runner.open_round("count", [], f"counting the words of {len(runner.chunks)} chunks")
    tally: dict[str, int] = {}
    first: dict[str, tuple[int, int, int]] = {}  # word -> (chunk index, start, end) in chunk
    for chunk in runner.chunks:
        for match in text.WORD.finditer(chunk.text):
            word = match.group().lower().strip("'-")
            if len(word) < 3 or word in text.STOPWORDS or any(ch.isdigit() for ch in word):
                continue
            tally[word] = tally.get(word, 0) + 1
            first.setdefault(word, (chunk.index, match.start(), match.end()))
    order = sorted(tally, key=lambda w: (-tally[w], first[w][0], first[w][1]))
    reports = []
    for word in order[: action.count]:
        index, start, end = first[word]
        chunk = runner.chunks[index]
        reports.append(
            MemberReport(
                member=index,
                chunk_id=chunk.id,
                answer=f"{word} ({tally[word]})",
                quote=chunk.text[start:end],
                verdict="grounded",
                reason=f"stands {tally[word]} times; cited where it first stands",
                evidence=Citation.of(chunk, index, start, end),
            )
        )
    hop.reports = runner.record(reports)
    hop.clusters = [conflict.Cluster([r]) for r in reports]


def compose(question: Question, parts: list[Answer]) -> Answer:
    """A multi-query's answer from its sub-questions' answers: each key's answer in turn
    ("A: 1; B: not found"), their citations and rounds one after another."""
    lines = [
        f"{key}: {part.text if part.found else 'not found'}"
        for key, part in zip(question.shape.keys, parts, strict=True)
    ]
    rounds = [
        r.model_copy(update={"index": i}) for i, r in enumerate(r for p in parts for r in p.trace)
    ]
    usage = Usage(
        **{name: sum(getattr(p.usage, name) for p in parts) for name in Usage.model_fields}
    )
    return Answer(
        question=question.text,
        text="; ".join(lines),
        found=any(p.found for p in parts),
        citations=[c for p in parts for c in p.citations],
        trace=rounds,
        shape=question.shape.shape,
        shape_reason=question.shape.reason,
        usage=usage,
        document_id=parts[0].document_id if parts else "",
        chunks=parts[0].chunks if parts else 0,
    )
