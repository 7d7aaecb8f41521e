"""The judged verifier: the base verifier's checks first, then the model confirms the
evidence gives the answer. A scripted model plays members and judge (by `task["kind"]`);
one test runs the bundled model as both."""

from __future__ import annotations

import pytest

from longagent.agents import LongAgent, Question
from longagent.agents.judged import JudgedVerifier
from longagent.agents.member import MemberReply
from longagent.agents.semantic import SemanticVerifier
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel

FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
BORN = "Kalomi was born in the town of Fenni."
WHERE = "Where was Kalomi born?"


def document() -> Document:
    return Document.create(f"{FILLER}\n\n{FILLER}{BORN} {FILLER}\n\n{FILLER}")


def scripted(judge: str, quote: str = BORN, answer: str = "Fenni") -> ScriptedModel:
    def respond(request: GenerationRequest) -> dict:
        if request.task.get("kind") == "judge":
            return {"supported": judge}
        if BORN in request.task.get("passage", ""):
            return {"quote": quote, "answer": answer}
        return {"quote": "", "answer": ""}

    return ScriptedModel(respond)


def judged(model: ScriptedModel) -> list[GenerationRequest]:
    return [r for r in model.requests if r.task.get("kind") == "judge"]


def test_an_answer_the_judge_confirms_stands_and_its_call_is_counted() -> None:
    model = scripted("yes")
    answer = LongAgent(model, verifier="judged", chunk_tokens=120).ask(document(), WHERE)
    assert answer.found and answer.text == "Fenni"
    asked = judged(model)
    assert asked and all(r.task["evidence"] == BORN for r in asked)
    assert answer.usage.requests == len(model.requests)  # the judge is in the usage


def test_an_answer_the_judge_rejects_is_not_found() -> None:
    model = scripted("no")
    answer = LongAgent(model, verifier="judged", chunk_tokens=120).ask(document(), WHERE)
    assert not answer.found and judged(model)
    verdicts = {r.verdict for round_ in answer.trace for r in round_.reports if r.answer}
    assert verdicts == {"unsupported"}


def test_the_judge_never_sees_what_the_base_refused() -> None:
    model = scripted("yes", quote="Kalomi was born in Tosa.", answer="Tosa")  # not in the text
    answer = LongAgent(model, verifier="judged", chunk_tokens=120).ask(document(), WHERE)
    assert not answer.found and judged(model) == []


def test_unbound_it_is_its_base_verifier() -> None:
    chunk, question = document().text, Question.parse(WHERE)
    for reply in (MemberReply(quote=BORN, answer="Fenni"), MemberReply(quote="", answer="")):
        assert JudgedVerifier().check(reply, chunk, question) == SemanticVerifier().check(
            reply, chunk, question
        )
    # An instance given to LongAgent is bound to each question's model: it judges.
    model = scripted("no")
    answer = LongAgent(model, verifier=JudgedVerifier(), chunk_tokens=120).ask(document(), WHERE)
    assert not answer.found and judged(model)


@pytest.mark.slow
def test_the_bundled_model_judges_its_own_members(bundled_model) -> None:
    """End to end on the real model: the judge's constrained JSON is read, its calls are
    counted, and it can only take answers away: never a town the text does not give."""
    doc = Document.create(f"{FILLER}\n\n{FILLER}{BORN} {FILLER}\n\n{FILLER}")
    plain = LongAgent(bundled_model, verifier="semantic").ask(doc, WHERE)
    checked = LongAgent(bundled_model, verifier="judged").ask(doc, WHERE)
    grounded = sum(r.verdict == "grounded" for round_ in plain.trace for r in round_.reports)
    assert checked.usage.requests >= plain.usage.requests + min(grounded, 1)
    assert not checked.found or "fenni" in checked.text.lower()
    assert not (checked.found and not plain.found)  # the judge never grounds more
