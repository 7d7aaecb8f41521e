"""One question's rounds: the leader's decisions, each one batched model call.

- ask: every reader reads its chunk and answers the question, in one batched call (or in
  waves, most relevant first, when reading by relevance);
- focus: when no reply was grounded, the members re-read only the sentences of their
  chunk that mention the question's names (a small model misses facts in long input),
  each several ways (two prompts, greedy and sampled) with the evidence check as verifier;
- resolve: members whose grounded answers conflict re-read each other's chunks (pairs,
  one batched call) until one answer stands or the evidence is split;
- follow up: a finding names something new (a town, a number) and its evidence does not
  yet cover every word of the question; the members whose chunks mention it are asked
  again with the finding fed forward (and focus on it if none grounds), for multi-hop
  questions;
- answer: compose the result from the last grounded finding, or say it is not found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from longagent.agents import conflict, evidence, member
from longagent.agents.types import Answer, Citation, Event, MemberReport, Round
from longagent.llm.usage import MeteredModel

if TYPE_CHECKING:
    from longagent.agents.leader import PreparedDocument

NOT_FOUND_TEXT = "The document does not say."
EventHandler = Callable[[Event], None]


@dataclass
class Finding:
    """A grounded answer that stood, with the evidence behind it."""

    answer: str
    citations: list[Citation]
    bridge: set[str] = field(default_factory=set)  # new names/numbers it introduces
    member: int = -1


class QuestionRun:
    """The state of one question: rounds so far, usage, events."""

    def __init__(
        self,
        model: MeteredModel,
        prepared: PreparedDocument,
        question: str,
        on_event: EventHandler | None,
        max_rounds: int,
    ) -> None:
        self.model = model
        self.chunks = prepared.chunks
        self.document = prepared.document
        self.question = question
        self.on_event = on_event
        self.max_rounds = max_rounds
        self.rounds: list[Round] = []

    def emit(self, kind: str, message: str, **data: object) -> None:
        if self.on_event is not None:
            self.on_event(Event(kind=kind, round=len(self.rounds), message=message, data=data))

    def execute(self, readers: list[int], wave: int = 0) -> Answer:
        """Answer the question. The `readers` are asked in that order, `wave` at a time
        until a wave brings grounded evidence, or all at once when `wave` is 0."""
        reports = self.ask_in_waves(readers, wave or max(1, len(readers)))
        if not any(r.verdict == "grounded" for r in reports):
            reports = self.ask_focused(self.rounds[-1].members) or reports
        finding = self.settle(reports)
        findings = [finding] if finding else []
        while finding and finding.bridge and len(self.rounds) < self.max_rounds:
            if _covers(findings, self.question):
                self.rounds[-1].decision += "; its evidence covers every word of the question"
                break
            # The finding's own chunk is asked too: both hops may sit in one chunk.
            followers = [c.index for c in self.chunks if _mentions_any(c.text, finding.bridge)]
            if not followers:
                self.rounds[-1].decision += "; no other chunk mentions " + ", ".join(
                    sorted(finding.bridge)
                )
                break
            known = " ".join(c.quote for c in finding.citations[-1:])
            bridge = " ".join(sorted(finding.bridge))
            reports = self.ask_members(followers, kind="follow_up", known=known, bridge=bridge)
            if not any(r.verdict == "grounded" for r in reports):
                reports = self.ask_focused(followers, known=known, bridge=bridge) or reports
            finding = self.settle(reports, bridge=bridge, previous=finding)
            if finding:
                findings.append(finding)
        return self.answer(findings[-1] if findings else None)

    # -- rounds ----------------------------------------------------------------------------

    def ask_members(
        self, members: Iterable[int], *, kind: str, known: str = "", bridge: str = ""
    ) -> list[MemberReport]:
        members = list(members)
        instruction = self.question if not known else f"{self.question} (known: {known})"
        self.rounds.append(
            Round(index=len(self.rounds), kind=kind, instruction=instruction, members=members)
        )
        self.emit(
            "round_started",
            f"round {len(self.rounds)}: asking {len(members)} members",
            members=members,
        )
        return self.read(members, known, bridge)

    def ask_in_waves(self, readers: list[int], wave: int) -> list[MemberReport]:
        """The first round: members read in waves (one batched call each); it ends at the
        first wave with grounded evidence, or when every reader has read."""
        current = Round(index=0, kind="ask", instruction=self.question, members=[])
        self.rounds.append(current)
        how = f", {wave} at a time, most relevant first" if wave < len(readers) else ""
        self.emit(
            "round_started",
            f"round 1: asking {len(readers)} of {len(self.chunks)} members{how}",
            members=readers,
        )
        for start in range(0, len(readers), wave):
            members = readers[start : start + wave]
            current.members += members
            if any(r.verdict == "grounded" for r in self.read(members)):
                break
        current.skipped = [i for i in range(len(self.chunks)) if i not in set(current.members)]
        return current.reports

    def ask_focused(
        self, members: list[int], known: str = "", bridge: str = ""
    ) -> list[MemberReport]:
        """Members re-read only the passages of their chunk that name the question's
        entities (in a follow-up hop, the `bridge` it follows), several ways each in one
        batched call (`member.focus_readings`). The evidence check is the verifier; each member reports the answer most
        of its grounded readings agree on. Replies are still judged against the whole
        chunk, so citations keep their document offsets."""
        subject = bridge or self.question
        excerpts = {i: evidence.focus(self.chunks[i].text, subject) for i in members}
        excerpts = {i: t for i, t in excerpts.items() if t}
        if not excerpts or len(self.rounds) >= self.max_rounds:
            return []
        self.rounds.append(
            Round(
                index=len(self.rounds),
                kind="focus",
                instruction=self.question,
                members=list(excerpts),
            )
        )
        self.emit(
            "round_started",
            f"round {len(self.rounds)}: {len(excerpts)} members re-read the passages that "
            "name the question's subject",
            members=list(excerpts),
        )
        requests = [member.focus_readings(excerpts[i], self.question, known) for i in excerpts]
        replies = iter(member.run_batch(self.model, [r for rs in requests for r in rs]))
        judged = [
            [self.judge(i, next(replies), bridge) for _ in rs]
            for i, rs in zip(excerpts, requests, strict=True)
        ]
        return self.record([conflict.agreed_reading(r) for r in judged])

    def read(
        self,
        members: list[int],
        known: str = "",
        bridge: str = "",
    ) -> list[MemberReport]:
        """Members read their chunks in one batched call; their reports join the round."""
        replies = member.run_batch(
            self.model,
            [member.member_request(self.chunks[i].text, self.question, known) for i in members],
        )
        return self.record(
            [self.judge(i, reply, bridge) for i, reply in zip(members, replies, strict=True)]
        )

    def record(self, reports: list[MemberReport]) -> list[MemberReport]:
        self.rounds[-1].reports += reports
        grounded = sum(r.verdict == "grounded" for r in reports)
        self.emit(
            "member_reports",
            f"{grounded} of {len(reports)} members grounded",
            reports=[r.model_dump() for r in reports],
        )
        return reports

    def judge(
        self,
        index: int,
        reply: member.MemberReply | Exception,
        bridge: str,
        text: str | None = None,
    ) -> MemberReport:
        chunk = self.chunks[index]
        if isinstance(reply, Exception):
            return MemberReport(
                member=index,
                chunk_id=chunk.id,
                answer="",
                quote="",
                verdict="invalid",
                reason=str(reply),
            )
        result = evidence.check(
            reply.answer, reply.quote, text or chunk.text, self.question, bridge
        )
        report = MemberReport(
            member=index,
            chunk_id=chunk.id,
            answer=reply.answer.strip(),
            quote=reply.quote.strip(),
            verdict=result.verdict,
            reason=result.reason,
        )
        if result.verdict == "grounded" and result.span and text is None:
            start, end = result.span
            report.evidence = Citation(
                chunk_id=chunk.id,
                chunk_index=index,
                start=chunk.start + start,
                end=chunk.start + end,
                quote=chunk.text[start:end],
            )
        return report

    def settle(
        self, reports: list[MemberReport], bridge: str = "", previous: Finding | None = None
    ) -> Finding | None:
        """Resolve conflicts among grounded reports; the answer that stands becomes a finding."""
        grounded = [r for r in reports if r.verdict == "grounded"]
        clusters = conflict.cluster(grounded)
        current = self.rounds[-1]
        if len(clusters) > 1:
            current.conflict_graph = conflict.conflict_graph(clusters)
        while len(clusters) > 1 and len(self.rounds) < self.max_rounds:
            clusters, split_pairs = self.resolve(clusters, bridge)
            if split_pairs:
                break
        if not clusters:
            current.decision = (
                "answer: no grounded evidence"
                if previous is None
                else "answer: the follow-up found nothing new"
            )
            return None
        if len(clusters) > 1:
            self.rounds[-1].decision = "answer: the evidence is split"
            return _split_finding(clusters, previous)
        winner = clusters[0]
        citations = [r.evidence for r in winner.reports if r.evidence][:3]
        self.rounds[
            -1
        ].decision = f"finding: {winner.answer!r} from {len(winner.reports)} member(s)"
        quote_text = " ".join(c.quote for c in citations)
        bridge_terms = _bridge_terms(winner.answer, quote_text, self.question, bridge)
        return Finding(
            answer=winner.answer,
            citations=(previous.citations if previous else []) + citations,
            bridge=bridge_terms,
            member=winner.representative.member,
        )

    def resolve(
        self, clusters: list[conflict.Cluster], bridge: str
    ) -> tuple[list[conflict.Cluster], bool]:
        """One round of pairwise communication between conflicting clusters (one batch)."""
        pairs = [(clusters[i], clusters[i + 1]) for i in range(0, len(clusters) - 1, 2)]
        leftover = clusters[len(pairs) * 2 :]
        members = [m for a, b in pairs for m in (a.representative.member, b.representative.member)]
        self.rounds.append(
            Round(
                index=len(self.rounds), kind="resolve", instruction=self.question, members=members
            )
        )
        self.emit(
            "round_started",
            f"round {len(self.rounds)}: resolving {len(pairs)} conflict(s)",
            members=members,
        )
        requests = [
            member.pair_request(
                *self.pair_texts(a.representative.member, b.representative.member),
                self.question,
                a.answer,
                b.answer,
            )
            for a, b in pairs
        ]
        replies = member.run_batch(self.model, requests)
        survivors: list[conflict.Cluster] = []
        split_pairs = False
        for (a, b), reply in zip(pairs, replies, strict=True):
            both = (
                self.chunks[a.representative.member].text
                + "\n\n"
                + self.chunks[b.representative.member].text
            )
            report = self.judge(a.representative.member, reply, bridge, text=both)
            self.rounds[-1].reports.append(report)
            keeps_a = report.verdict == "grounded" and conflict.same_answer(report.answer, a.answer)
            keeps_b = report.verdict == "grounded" and conflict.same_answer(report.answer, b.answer)
            if keeps_a != keeps_b:
                winner, loser = (a, b) if keeps_a else (b, a)
                survivors.append(winner)
                self.emit(
                    "conflict_resolved",
                    f"{winner.answer!r} stands over {loser.answer!r}",
                    kept=winner.answer,
                    removed=loser.answer,
                )
            else:
                survivors.extend([a, b])
                split_pairs = True
        self.rounds[-1].decision = (
            "resolved" if not split_pairs else "a conflict could not be settled"
        )
        return survivors + leftover, split_pairs

    def pair_texts(self, a: int, b: int) -> tuple[str, str]:
        """The two chunks a conflicting pair re-reads, or, when both would not fit the
        window together (chunks beyond half the window), the passages of each that name
        the question's subject."""
        first, second = self.chunks[a].text, self.chunks[b].text
        room = member.REPLY_TOKENS + 200  # instructions, question and the two answers
        if self.model.count_tokens(first + second) + room <= self.model.context_window:
            return first, second
        focused = evidence.focus(first, self.question), evidence.focus(second, self.question)
        return focused[0] or first, focused[1] or second

    def answer(self, finding: Finding | None) -> Answer:
        if finding is None:
            text, found, citations = NOT_FOUND_TEXT, False, []
        else:
            text, found, citations = finding.answer, True, finding.citations
        result = Answer(
            question=self.question,
            text=text,
            found=found,
            citations=citations,
            trace=self.rounds,
            usage=self.model.usage,
            document_id=self.document.id,
            chunks=len(self.chunks),
        )
        self.emit("answered", text, found=found)
        return result


def _split_finding(clusters: list[conflict.Cluster], previous: Finding | None) -> Finding:
    answers = "; ".join(f"{c.answer!r}" for c in clusters)
    citations = [r.evidence for c in clusters for r in c.reports[:1] if r.evidence]
    return Finding(
        answer=f"The document gives conflicting answers: {answers}.",
        citations=(previous.citations if previous else []) + citations,
    )


def _bridge_terms(answer: str, evidence_text: str, question: str, bridge: str) -> set[str]:
    """Names and numbers the finding adds: capitalised mid-sentence or containing a digit
    in the evidence. Sentence-initial words are not names just for their capital."""
    asked = set(evidence.words(question)) | set(evidence.words(bridge))
    terms = set()
    for match in re.finditer(r"[\w'-]+", evidence_text):
        word = match.group()
        key = word.lower()
        if key in asked or key in evidence.STOPWORDS or key not in evidence.words(answer):
            continue
        starts_sentence = re.search(r"(^|[.!?]\s+)$", evidence_text[: match.start()]) is not None
        if any(ch.isdigit() for ch in word) or (word[0].isupper() and not starts_sentence):
            terms.add(key)
    return terms


def _covers(findings: list[Finding], question: str) -> bool:
    """Whether the findings' evidence names everything the question asks about (its
    content words and entities): then no further hop is needed."""
    held = {w for f in findings for c in f.citations for w in evidence.words(c.quote)}
    asked = evidence.content_words(question) | {
        w for e in evidence.entities(question) for w in e.split()
    }
    return asked <= held


def _mentions_any(text: str, terms: set[str]) -> bool:
    lowered = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", lowered) for t in terms)
