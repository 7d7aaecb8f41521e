"""The `Runner`: executes a leader's actions, each as one batched model call, and is the one
writer of the trace and the one place the round budget is checked.

- Read: the readers read their chunks, in waves (most relevant first) or all at once; the
  round ends at the first wave with grounded evidence;
- Focus: members re-read only the passages of their chunk about the subject, several ways
  each (the profile's prompt styles, greedy and sampled); the verifier judges every
  reading and each member reports the answer most of its grounded readings agree on;
- Resolve: each pair of conflicting clusters re-reads both chunks together (the paper's
  Eq. 4); the cluster that joint reading confirms stays (`conflict_rounds`);
- FollowUp: members whose chunks name a finding's new names are asked again with the
  finding fed forward (a new hop);
- Conclude: the answer, from the finding that stands.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from longagent.agents import (
    conflict,
    conflict_rounds,
    member,
    overview_rounds,
    passage_rounds,
    repairs,
    shape_rounds,
)
from longagent.agents.actions import (
    Collect,
    Conclude,
    Count,
    Focus,
    FollowUp,
    Hop,
    Overview,
    Read,
    Resolve,
    Search,
    State,
)
from longagent.agents.leader import Leader
from longagent.agents.prepared import PreparedDocument
from longagent.agents.profiles import Profile
from longagent.agents.question import Question
from longagent.agents.reading import ReadPlan
from longagent.agents.types import (
    Answer,
    Citation,
    Event,
    EventKind,
    MemberReport,
    Round,
    RoundKind,
)
from longagent.agents.verifier import Verifier
from longagent.errors import ModelResponseError
from longagent.llm.usage import MeteredModel

NOT_FOUND_TEXT = "The document does not say."
EventHandler = Callable[[Event], None]
Judge = Callable[[int, "member.MemberReply | ModelResponseError", Question], MemberReport]


class Runner:
    def __init__(
        self,
        model: MeteredModel,
        prepared: PreparedDocument,
        question: Question,
        plan: ReadPlan,
        *,
        leader: Leader,
        verifier: Verifier,
        profile: Profile,
        max_rounds: int,
        on_event: EventHandler | None = None,
    ) -> None:
        self.model = model
        self.document = prepared.document
        self.chunks = prepared.chunks
        self.leader = leader
        self.verifier = verifier
        self.profile = profile
        self.max_rounds = max_rounds
        self.on_event = on_event
        self.state = State(question, prepared.chunks, plan, rounds_left=max_rounds)
        self.opened: float | None = None  # when the last round opened, until it is timed

    def run(self) -> Answer:
        while True:
            self.close_round()
            action = self.leader.next_action(self.state)
            if not isinstance(action, Conclude) and self.state.rounds_left <= 0:
                action = Conclude("no rounds left")
            if self.state.rounds and action.reason:
                last = self.state.rounds[-1]
                last.decision = (
                    f"{last.decision}; {action.reason}" if last.decision else action.reason
                )
            match action:
                case Read():
                    self.read(action)
                case Focus():
                    self.focus(action)
                case Search():
                    passage_rounds.search(self, action)
                case Collect():
                    shape_rounds.collect(self, action)
                case Overview():
                    overview_rounds.overview(self, action)
                case Count():
                    shape_rounds.count(self, action)
                case Resolve():
                    conflict_rounds.resolve(self, action)
                case FollowUp():
                    self.follow_up(action)
                case Conclude():
                    return self.conclude(action)

    # -- the trace and events ------------------------------------------------------------

    def emit(self, kind: EventKind, message: str, **data: object) -> None:
        if self.on_event is not None:
            event = Event(kind=kind, round=len(self.state.rounds), message=message, data=data)
            self.on_event(event)

    def open_round(
        self, kind: RoundKind, members: list[int], message: str, instruction: str = ""
    ) -> Round:
        current = Round(
            index=len(self.state.rounds),
            kind=kind,
            instruction=instruction or self.state.question.text,
            members=list(members),
        )
        self.state.rounds.append(current)
        self.state.rounds_left -= 1
        self.opened = time.perf_counter()
        self.emit("round_started", f"round {len(self.state.rounds)}: {message}", members=members)
        return current

    def close_round(self) -> None:
        """Time the last round (once): from its opening to the leader's next decision, which
        is not counted (a model leader's call is its own)."""
        if self.opened is not None and self.state.rounds:
            self.state.rounds[-1].seconds = time.perf_counter() - self.opened
        self.opened = None

    def record(self, reports: list[MemberReport]) -> list[MemberReport]:
        self.state.rounds[-1].reports += reports
        grounded = sum(r.verdict == "grounded" for r in reports)
        self.emit(
            "member_reports",
            f"{grounded} of {len(reports)} members grounded",
            reports=[r.model_dump() for r in reports],
        )
        return reports

    def settle(self, hop: Hop) -> None:
        """Cluster the hop's grounded reports; a conflict is drawn on the round."""
        grounded = [r for r in hop.reports if r.verdict == "grounded"]
        hop.clusters = conflict.cluster(grounded, self.verifier.same_answer)
        if len(hop.clusters) > 1:
            self.state.rounds[-1].conflict_graph = conflict.conflict_graph(hop.clusters)

    # -- actions ---------------------------------------------------------------------------

    def read(self, action: Read) -> None:
        """The first hop: members read in waves (one batched call each) until a wave
        brings grounded evidence, or all at once."""
        question = self.state.question
        hop = Hop(question, "ask")
        self.state.hops.append(hop)
        wave = action.wave or max(1, len(action.members))
        how = f", {wave} at a time, most relevant first" if wave < len(action.members) else ""
        current = self.open_round(
            "ask", [], f"asking {len(action.members)} of {len(self.chunks)} members{how}"
        )
        for start in range(0, len(action.members), wave):
            members = action.members[start : start + wave]
            current.members += members
            if any(r.verdict == "grounded" for r in self.ask(members, question)):
                break
        read = set(current.members)
        current.skipped = [i for i in range(len(self.chunks)) if i not in read]
        hop.members, hop.reports = list(current.members), list(current.reports)
        self.settle(hop)

    def follow_up(self, action: FollowUp) -> None:
        question = self.state.question
        if action.instruction:
            question = Question.parse(action.instruction)
        question = question.follow(action.bridge, action.known)
        hop = Hop(question, "follow_up", list(action.members))
        self.state.hops.append(hop)
        self.open_round(
            "follow_up",
            hop.members,
            f"asking {len(hop.members)} members",
            instruction=f"{question.text} (known: {question.known})",
        )
        hop.reports = self.ask(hop.members, question)
        self.settle(hop)

    def ask(self, members: list[int], question: Question) -> list[MemberReport]:
        """Members read their chunks in one batched call; their reports join the round."""
        requests = [
            member.member_request(i, self.chunks[i].text, question, self.profile) for i in members
        ]
        replies = member.run_batch(self.model, requests)
        return self.record(
            [self.judge(i, r, question) for i, r in zip(members, replies, strict=True)]
        )

    def focus(self, action: Focus) -> None:
        """Members re-read only the passages of their chunk about the hop's subject, several
        ways each in one batched call. Replies are still judged against the whole chunk, so
        citations keep their document offsets."""
        hop = self.state.hop
        assert hop is not None
        hop.focused = True
        question = hop.question
        excerpts = {i: self.verifier.focus(self.chunks[i].text, question) for i in action.members}
        excerpts = {i: t for i, t in excerpts.items() if t}
        if not excerpts:
            return
        self.open_round(
            "focus",
            list(excerpts),
            f"{len(excerpts)} members re-read the passages that name the question's subject",
        )
        search_follows = self.state.may_search and not question.names_a_record
        requests = [
            member.focus_readings(
                i, excerpt, question, self.profile, len(excerpts), search_follows=search_follows
            )
            for i, excerpt in excerpts.items()
        ]
        replies = iter(member.run_batch(self.model, [r for rs in requests for r in rs]))
        judged = [
            [self.judge(i, next(replies), question) for _ in rs]
            for i, rs in zip(excerpts, requests, strict=True)
        ]
        same = self.verifier.same_answer
        hop.reports = self.record([conflict.agreed_reading(r, same) for r in judged])
        self.settle(hop)

    def judge(
        self,
        index: int,
        reply: member.MemberReply | ModelResponseError,
        question: Question,
        text: str | None = None,
    ) -> MemberReport:
        """The verifier's verdict on one reply, read against the member's chunk (or
        `text`, a pair's two chunks, when given; then no citation is made). A refused
        reply whose quote holds a record's one value, or whose answer miscopies the one value
        on the record key's lines, is judged again with that value as its answer
        (`repairs.record_value`, `repairs.copied_value`); for a question about the
        document's subject, with the sentence it quotes (`repairs.cited_sentence`); for
        a number, unit or version, with the one the sentence it quotes states
        (`repairs.quoted_value`)."""
        report = self._verdict(index, reply, question, text)
        if report.verdict == "grounded" or text is not None or isinstance(reply, Exception):
            return report
        said = reply.answer.strip().lower()
        value = repairs.record_value(reply.quote, question)
        copied = repairs.copied_value(reply.answer, self.chunks[index].text, question)
        cited = repairs.cited_sentence(reply.quote, self.chunks[index].text, question)
        stated = repairs.quoted_value(reply.quote, self.chunks[index].text, question)
        retries = [
            (reply.quote, value, "the quote's value stands") if value else None,
            (copied[1], copied[0], "it miscopies the key's value, which stands")
            if copied
            else None,
            (cited, cited, "the sentence it cites answers") if cited else None,
            (stated[1], stated[0], "the sentence it quotes states it") if stated else None,
        ]
        for quote, answer, why in filter(None, retries):
            if answer.lower() == said:
                continue
            retry = member.MemberReply.model_construct(quote=quote, answer=answer)
            rescued = self._verdict(index, retry, question, None)
            if rescued.verdict == "grounded":
                rescued.reason = f"its answer was {reply.answer[:40]!r}: {why}"
                return rescued
        return report

    def _verdict(
        self,
        index: int,
        reply: member.MemberReply | ModelResponseError,
        question: Question,
        text: str | None,
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
        result = self.verifier.check(reply, text or chunk.text, question)
        report = MemberReport(
            member=index,
            chunk_id=chunk.id,
            answer=reply.answer.strip(),
            quote=reply.quote.strip(),
            verdict=result.verdict,
            reason=result.reason,
        )
        if result.verdict == "grounded" and result.span and text is None:
            report.evidence = Citation.of(chunk, index, *result.span)
        return report

    def conclude(self, action: Conclude) -> Answer:
        finding = self.state.finding
        if finding is not None and action.answer and self.state.hop is not None:
            # A leader's pick among the standing answers: that cluster's evidence.
            hop = self.state.hop
            for group in hop.clusters:
                if self.verifier.same_answer(action.answer, group.answer):
                    hop.clusters = [group]
                    finding = self.state.finding
                    break
        if finding is None:
            text, found, citations = NOT_FOUND_TEXT, False, []
        else:
            text, found, citations = finding.answer, True, finding.citations
            whole = " ".join(citations[-1].quote.split())
            if self.state.question.shape.shape == "explain" and not finding.split:
                # A why/how answer is a reason or a way: the cited sentence says it whole.
                text = whole
            elif repairs.clipped(text, whole, opening=not self.state.question.document_subject):
                # "Saskia Okafor published her first book" cut its sentence short of the
                # title it was asked for, "The status of the task which can be one of: D"
                # short of what D means (blind5's top-03): the sentence says it whole.
                text = whole
        self.emit("answered", text, found=found)
        return Answer(
            question=self.state.question.text,
            text=text,
            found=found,
            citations=citations,
            trace=self.state.rounds,
            shape=self.state.question.shape.shape,
            shape_reason=self.state.question.shape.reason,
            usage=self.model.usage,
            document_id=self.document.id,
            chunks=len(self.chunks),
        )
