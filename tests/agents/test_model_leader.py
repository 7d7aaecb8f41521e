"""The Leader seam: the paper's model leader (scripted), its guard rails, and how a leader
is chosen (by name, by profile, by setting)."""

from __future__ import annotations

import pytest

from longagent.agents import LongAgent, ModelLeader, RuleLeader
from longagent.agents.leader import make_leader
from longagent.agents.verifier import get_verifier
from longagent.errors import ConfigError
from longagent.llm import GenerationRequest, ScriptedModel

from ._qa_helpers import BORN_RENDA, BORN_TOSA, FAMOUS, document

QUESTION = "In which town was Kalomi born?"


def members(request: GenerationRequest) -> dict:
    """Members answer from what they read; a pair re-reading cannot decide."""
    passage = request.task.get("passage", "")
    for fact, town in ((BORN_RENDA, "Renda"), (BORN_TOSA, "Tosa")):
        if fact in passage:
            return {"quote": fact, "answer": town}
    if FAMOUS in passage:
        return {"quote": FAMOUS, "answer": "glass bells"}
    return {"quote": "", "answer": ""}


def led_by(*decisions: dict | str):
    """Members as above; the leader's requests get `decisions` in turn (then "answer")."""
    queue = list(decisions)

    def respond(request: GenerationRequest) -> dict | str:
        if request.task.get("kind") == "leader":
            return queue.pop(0) if queue else {"action": "answer"}
        return members(request)

    return respond


def agent(model: ScriptedModel, **options: object) -> LongAgent:
    return LongAgent(model, chunk_tokens=120, leader="model", **options)  # type: ignore[arg-type]


def test_the_model_leader_picks_among_verified_answers() -> None:
    model = ScriptedModel(led_by({"action": "answer", "answer": "Tosa"}))
    answer = agent(model).ask(document(BORN_RENDA, BORN_TOSA), QUESTION)
    assert answer.found and answer.text == "Tosa"
    assert [c.quote for c in answer.citations] == [BORN_TOSA]
    assert sum(r.task.get("kind") == "leader" for r in model.requests) == 1


def test_an_answer_no_member_grounded_is_never_given() -> None:
    # The model leader names a town no evidence supports: the rules decide instead, and
    # they let the conflicting members re-read each other's chunks.
    model = ScriptedModel(led_by({"action": "answer", "answer": "Paris"}))
    answer = agent(model).ask(document(BORN_RENDA, BORN_TOSA), QUESTION)
    assert "Paris" not in answer.text
    assert [r.kind for r in answer.trace][:2] == ["ask", "resolve"]


def test_the_model_leader_can_resolve_a_conflict() -> None:
    model = ScriptedModel(led_by({"action": "resolve"}))
    answer = agent(model).ask(document(BORN_RENDA, BORN_TOSA), QUESTION)
    assert [r.kind for r in answer.trace][:2] == ["ask", "resolve"]
    assert answer.found and "conflicting" in answer.text  # the pair could not decide


def test_unusable_leader_output_falls_back_to_the_rules() -> None:
    doc = document(BORN_RENDA, BORN_TOSA)
    ruled = LongAgent(ScriptedModel(members), chunk_tokens=120, leader="rule").ask(doc, QUESTION)
    garbled = agent(ScriptedModel(led_by("not json", "{}", "[1, 2"))).ask(doc, QUESTION)
    assert garbled.text == ruled.text
    assert [r.kind for r in garbled.trace] == [r.kind for r in ruled.trace]


def test_the_model_leader_can_send_members_a_follow_up_instruction() -> None:
    doc = document(BORN_RENDA, FAMOUS)
    chunks = LongAgent(ScriptedModel([]), chunk_tokens=120).prepare(doc).chunks
    (famous,) = [c.index for c in chunks if FAMOUS in c.text]
    follow = {
        "action": "follow_up",
        "members": [famous, 999],
        "instruction": "What is Renda famous for?",
    }
    model = ScriptedModel(led_by(follow, {"action": "answer", "answer": "glass bells"}))
    answer = agent(model).ask(doc, "What is the town where Kalomi was born famous for?")
    assert [r.kind for r in answer.trace] == ["ask", "follow_up"]
    assert answer.trace[1].members == [famous]  # a member outside the document is dropped
    assert answer.text == "glass bells"
    assert [c.quote for c in answer.citations] == [BORN_RENDA, FAMOUS]


def test_leaders_by_name_and_by_profile() -> None:
    model = ScriptedModel([])
    verifier = get_verifier("lexical")
    assert isinstance(make_leader("rule", model, verifier, "model"), RuleLeader)
    assert isinstance(make_leader("auto", model, verifier, "model"), ModelLeader)
    assert isinstance(make_leader("auto", model, verifier, "rule"), RuleLeader)
    with pytest.raises(ConfigError):
        LongAgent(model, leader="boss")
    # A served model with a large window gets the large profile and the model leader.
    served = ScriptedModel(led_by({"action": "answer", "answer": "Renda"}), context_window=32_768)
    answer = LongAgent(served, chunk_tokens=120).ask(document(BORN_RENDA, BORN_TOSA), QUESTION)
    assert answer.text == "Renda" and any(r.task.get("kind") == "leader" for r in served.requests)
