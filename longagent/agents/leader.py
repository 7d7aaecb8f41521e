"""The `Leader` seam: given the state of a question, decide the next action.

- `RuleLeader` (the small-model profile's default): read the likeliest members; when none
  grounds an answer, focus them on the passages about the question's subject if its own
  names chose them, then search the document's ranked passages; resolve
  conflicts through the communication graph; follow a finding's new names hop by hop until
  the evidence covers the question; then answer.
- `ModelLeader` (the paper's leader, for capable served models): the model writes the next
  action as schema-constrained JSON. Whatever it writes, the answer stays grounded: it can
  only choose among verified findings, and an unusable decision falls back to the rules.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from longagent import text
from longagent.agents import relevance
from longagent.agents.actions import (
    Action,
    Collect,
    Conclude,
    Count,
    Finding,
    Focus,
    FollowUp,
    Overview,
    Read,
    Resolve,
    Search,
    State,
)
from longagent.agents.chat_types import prompt
from longagent.agents.overview_rounds import overview_members
from longagent.agents.question import Question
from longagent.agents.shapes import COLLECTING
from longagent.agents.verifier import Verifier
from longagent.errors import ConfigError, ModelResponseError
from longagent.llm import ChatModel, GenerationRequest, Message
from longagent.llm.constrained import generate_structured


@runtime_checkable
class Leader(Protocol):
    def next_action(self, state: State) -> Action: ...


class RuleLeader:
    """Today's policy as rules; deterministic, and safe for a 135M model."""

    def next_action(self, state: State) -> Action:
        shaped = shape_action(state)
        if shaped is not None:
            return shaped
        hop = state.hop
        if hop is None:
            plan = state.plan
            how = f", {plan.wave} at a time, most relevant first" if plan.wave else ""
            return Read(plan.readers, plan.wave, f"ask {len(plan.readers)} members{how}")
        plan = state.plan
        if not hop.grounded and not hop.searched:
            # Chunks chosen by a name are worth re-reading closely (the sentences naming
            # it, several ways); chunks chosen by topic words alone were guesses, and the
            # search ranks the whole document's passages by meaning instead.
            if not hop.focused and (hop.question.named or not state.may_search):
                why = "no reply was grounded: re-read the passages on the subject"
                return Focus(hop.members, why)
            if state.may_search:
                why = "the question's words grounded nothing: read the likeliest passages"
                return Search(plan.search_waves, why)
        if len(hop.clusters) > 1 and not hop.split:
            pairs = [(i, i + 1) for i in range(0, len(hop.clusters) - 1, 2)]
            return Resolve(pairs, f"{len(hop.clusters)} grounded answers conflict")
        findings = state.findings()
        if not hop.grounded:
            first = len(state.hops) == 1
            return Conclude("no grounded evidence" if first else "the follow-up found nothing new")
        finding = findings[-1]
        if finding.split:
            return Conclude("the evidence is split")
        reason = f"finding: {finding.answer!r}"
        if hop.extracted:
            # A sentence no reader phrased answers as a whole; following its other names
            # would read on from a claim that only its similarity supports.
            return Conclude(reason + "; the read sentence closest in meaning answers")
        own = [r.evidence for r in hop.clusters[0].reports if r.evidence][:3]
        bridge = bridge_terms(finding.answer, " ".join(c.quote for c in own), hop.question)
        # A name in most chunks (pathlib's "Path", in a cited sentence about
        # `Path.hardlink_to()`) leads nowhere: following it re-read the whole document, and
        # a junk reply grounded there replaced the right answer.
        common = relevance.everywhere(bridge, state.chunks)
        bridge -= common
        if common and not bridge:
            return Conclude(reason + "; its new names stand in most chunks")
        if not bridge:
            return Conclude(reason)
        if covers(findings, state.question):
            return Conclude(reason + "; its evidence covers every word of the question")
        # The finding's own chunk is asked too: both hops may sit in one chunk.
        followers = [c.index for c in state.chunks if text.mentions_any(c.text, bridge)]
        if not followers:
            return Conclude(reason + "; no other chunk mentions " + ", ".join(sorted(bridge)))
        known = " ".join(c.quote for c in finding.citations[-1:])
        return FollowUp(followers, "; ".join(sorted(bridge)), known, reason=reason + ": follow it")


def shape_action(state: State) -> Action | None:
    """The next action of a question that is not a lookup (None for a lookup): an
    overview summarises chosen chunks once; a collection reads ranked passages once; a
    chain collects again for each value it found and has not followed yet."""
    question, plan, hop = state.question, state.plan, state.hop
    shape = question.shape
    if shape.shape == "frequency":
        if hop is not None:
            return Conclude("the words that occur most, with their counts")
        return Count(shape.count, f"{shape.shape}: {shape.reason}")
    if shape.shape == "overview":
        if hop is not None:
            return Conclude("the summaries, in document order")
        members = overview_members(
            len(state.chunks), plan.index, shape.topic, plan.overview_members
        )
        return Overview(members, f"{shape.shape}: {shape.reason}")
    if shape.shape not in COLLECTING or plan.index is None or not plan.collect_waves:
        return None
    if hop is None:
        return Collect(plan.collect_waves, reason=f"{shape.shape}: {shape.reason}")
    finding = state.finding
    if shape.shape != "chain" or finding is None:
        return Conclude("every value the passages grounded" if finding else "no value grounded")
    followed = [shape.value] + [h.question.shape.value for h in state.hops]
    pending = [item for item in finding.items if item not in followed]
    if not pending:
        return Conclude("the chain added no new value")
    value = pending[0]
    follow = Question.parse(question.text.replace(shape.value, value), replace(shape, value=value))
    return Collect(plan.collect_waves, follow, f"follow the chain: {value!r}")


def bridge_terms(answer: str, evidence: str, question: Question) -> set[str]:
    """Names the finding adds: runs of words of the answer that are capitalised
    mid-sentence in the evidence ("small hours", a title, is one name), and that the
    question (and its bridge) did not already name. Sentence-initial words are not names
    just for their capital, nor is the rest of a name the question gives ("Okafor" beside
    "Saskia": following it read every chunk of her biography). A number is a value that
    answers, not a name that leads on: following "2338687" found a sentence that merely
    mentions it and replaced a right answer (RULER's niah_single_2)."""
    asked = question.words
    given = text.full_names({w for e in question.entities for w in e.split()}, evidence)
    answered = set(text.words(answer))
    names: list[list[str]] = []
    last_end = -1  # where the previous name word ended: a run continues across spaces
    for match in text.WORD.finditer(evidence):
        word = match.group()
        key = word.lower()
        if key in asked or key in given or key in text.STOPWORDS or key not in answered:
            continue
        starts_sentence = re.search(r"(^|[.!?]\s+)$", evidence[: match.start()]) is not None
        if word[0].isupper() and not starts_sentence and not any(ch.isdigit() for ch in word):
            if names and not evidence[last_end : match.start()].strip():
                names[-1].append(key)
            else:
                names.append([key])
            last_end = match.end()
    return {" ".join(name) for name in names}


def covers(findings: list[Finding], question: Question) -> bool:
    """Whether the findings' evidence names everything the question asks about (its
    content words and entities): then no further hop is needed."""
    held = {w for f in findings for c in f.citations for w in text.words(c.quote)}
    asked = question.content_words | {w for e in question.entities for w in e.split()}
    return asked <= held


class LeaderDecision(BaseModel):
    """The JSON a model leader writes (constrained by this schema)."""

    action: Literal["read", "focus", "resolve", "follow_up", "answer"]
    members: list[int] = Field(default_factory=list, max_length=64)
    instruction: str = Field(default="", max_length=200)
    answer: str = Field(default="", max_length=200)


class ModelLeader:
    """The paper's leader: the model reads a summary of the state (the question, how many
    members, their grounded answers and conflicts, the findings) and writes the next
    action. Guard rails keep it honest: members outside the document are dropped, an
    action that cannot run now (focus on a grounded hop, resolve without a conflict) and
    unusable JSON fall back to `RuleLeader`, and a final answer must name a verified
    finding, else the standing finding is answered."""

    def __init__(self, model: ChatModel, verifier: Verifier, fallback: Leader | None = None):
        self.model = model
        self.verifier = verifier
        self.fallback = fallback or RuleLeader()

    def next_action(self, state: State) -> Action:
        rule = self.fallback.next_action(state)
        if state.hop is None:  # nothing to lead yet: the reading decides the first members
            return rule
        if shape_action(state) is not None:  # a collection or overview runs by its rules
            return rule
        request = GenerationRequest(
            messages=[
                Message(role="system", content=prompt("leader_system").strip()),
                Message(role="user", content=prompt("leader").format(state=describe(state))),
            ],
            max_new_tokens=160,
            task={"kind": "leader", "hop": len(state.hops), "rounds": len(state.rounds)},
        )
        decision = generate_structured(self.model, [request], LeaderDecision)[0]
        if isinstance(decision, ModelResponseError):
            return rule
        return self._action(decision, state, rule)

    def _action(self, decision: LeaderDecision, state: State, rule: Action) -> Action:
        hop = state.hop
        assert hop is not None
        members = [m for m in decision.members if 0 <= m < len(state.chunks)]
        why = f"the model leader decided {decision.model_dump_json(exclude_defaults=True)}"
        if decision.action == "answer":
            if not decision.answer.strip():
                return Conclude(why)
            standing = [c.answer for c in hop.clusters]
            if any(self.verifier.same_answer(decision.answer, a) for a in standing):
                return Conclude(why, answer=decision.answer)
            return rule if not isinstance(rule, Conclude) else Conclude(why)
        if decision.action == "focus" and not hop.grounded and not hop.focused:
            return Focus(members or hop.members, why)
        if decision.action == "resolve" and len(hop.clusters) > 1 and not hop.split:
            pairs = [(i, i + 1) for i in range(0, len(hop.clusters) - 1, 2)]
            return Resolve(pairs, why)
        if decision.action in ("read", "follow_up") and members and state.finding is not None:
            finding = state.finding
            known = " ".join(c.quote for c in finding.citations[-1:])
            return FollowUp(members, finding.answer, known, decision.instruction.strip(), why)
        return rule


def describe(state: State) -> str:
    """The state as the model leader reads it: short, one line per fact."""
    lines = [
        f"Question: {state.question.text}",
        f"Members: {len(state.chunks)} (0 to {len(state.chunks) - 1})",
    ]
    for number, hop in enumerate(state.hops, 1):
        asked = hop.question.bridge or "the question"
        lines.append(f"Step {number}: asked {len(hop.members)} members about {asked}.")
        for index, group in enumerate(hop.clusters):
            members = ", ".join(str(r.member) for r in group.reports)
            quote = group.representative.evidence.quote if group.representative.evidence else ""
            lines.append(f"  answer {index}: {group.answer!r} from members {members}: {quote!r}")
        if not hop.clusters:
            lines.append(
                "  no member found grounded evidence" + (" after focusing" if hop.focused else "")
            )
    if (finding := state.finding) is not None:
        lines.append(f"Standing answer: {finding.answer!r}")
    lines.append(f"Rounds left: {state.rounds_left}")
    return "\n".join(lines)


LEADERS = {"rule", "model", "auto"}


def make_leader(leader: str | Leader, model: ChatModel, verifier: Verifier, auto: str) -> Leader:
    """A leader from its name: "rule", "model", or "auto" (the profile's choice, `auto`)."""
    if not isinstance(leader, str):
        return leader
    if leader not in LEADERS:
        raise ConfigError(f"Unknown leader {leader!r}; choose from {sorted(LEADERS)}.")
    if leader == "auto":
        leader = auto
    return ModelLeader(model, verifier) if leader == "model" else RuleLeader()
