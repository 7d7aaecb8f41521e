"""The Resolve round, run by the `Runner`: each pair of conflicting clusters re-reads both
chunks together (the LongAgent paper's Eq. 4, communication through the conflict graph),
all pairs in one batch; the cluster the joint reading confirms stays, and a pair the
reading cannot settle leaves the hop split."""

from __future__ import annotations

from typing import TYPE_CHECKING

from longagent.agents import conflict, member
from longagent.agents.actions import Resolve
from longagent.agents.question import Question

if TYPE_CHECKING:
    from longagent.agents.runner import Runner


def resolve(runner: Runner, action: Resolve) -> None:
    """One round of pairwise communication between conflicting clusters (one batch)."""
    hop = runner.state.hop
    assert hop is not None
    clusters = hop.clusters
    pairs = [(clusters[a], clusters[b]) for a, b in action.pairs]
    paired = {i for pair in action.pairs for i in pair}
    leftover = [c for i, c in enumerate(clusters) if i not in paired]
    members = [m for a, b in pairs for m in (a.representative.member, b.representative.member)]
    runner.open_round("resolve", members, f"resolving {len(pairs)} conflict(s)")
    requests = []
    for a, b in pairs:
        chunks = a.representative.member, b.representative.member
        passages = pair_texts(runner, *chunks, hop.question)
        requests.append(
            member.pair_request(
                chunks, passages, hop.question, (a.answer, b.answer), runner.profile
            )
        )
    replies = member.run_batch(runner.model, requests)
    survivors: list[conflict.Cluster] = []
    same = runner.verifier.same_answer
    for (a, b), reply in zip(pairs, replies, strict=True):
        first, second = a.representative.member, b.representative.member
        both = runner.chunks[first].text + "\n\n" + runner.chunks[second].text
        report = runner.judge(first, reply, hop.question, text=both)
        runner.state.rounds[-1].reports.append(report)
        keeps_a = report.verdict == "grounded" and same(report.answer, a.answer)
        keeps_b = report.verdict == "grounded" and same(report.answer, b.answer)
        if keeps_a != keeps_b:
            winner, loser = (a, b) if keeps_a else (b, a)
            survivors.append(winner)
            runner.emit(
                "conflict_resolved",
                f"{winner.answer!r} stands over {loser.answer!r}",
                kept=winner.answer,
                removed=loser.answer,
            )
        else:
            survivors.extend([a, b])
            hop.split = True
    runner.state.rounds[-1].decision = (
        "a conflict could not be settled" if hop.split else "resolved"
    )
    hop.clusters = survivors + leftover


def pair_texts(runner: Runner, a: int, b: int, question: Question) -> tuple[str, str]:
    """The two chunks a conflicting pair re-reads, or, when both would not fit the
    window together (chunks beyond half the window), the passages of each about the
    question's subject."""
    first, second = runner.chunks[a].text, runner.chunks[b].text
    room = runner.profile.reply_tokens + runner.profile.prompt_room
    if runner.model.count_tokens(first + second) + room <= runner.model.context_window:
        return first, second
    focused = runner.verifier.focus(first, question), runner.verifier.focus(second, question)
    return focused[0] or first, focused[1] or second
