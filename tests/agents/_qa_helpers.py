"""Documents and facts shared by the scripted LongAgent tests."""

from __future__ import annotations

from collections.abc import Callable

from longagent.agents import Event, LongAgent
from longagent.agents.evidence import LexicalVerifier
from longagent.agents.member import MemberReply
from longagent.agents.question import Question
from longagent.agents.verifier import Check
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel

FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
BORN_RENDA = "Kalomi was born in the town of Renda."
BORN_TOSA = "Kalomi was born in the town of Tosa."
FAMOUS = "The town of Renda is famous for its glass bells."


def document(*facts: str) -> Document:
    """One paragraph per fact, each among filler, so each lands in its own chunk (at
    chunk_tokens=120)."""
    paragraphs = [FILLER]
    for fact in facts:
        paragraphs += [f"{FILLER}{fact} {FILLER}", FILLER]
    return Document.create("\n\n".join(paragraphs))


def chunk_of(request: GenerationRequest) -> str:
    """The text a member was given to read: its chunk, or the focused passage of it."""
    return request.task.get("passage", "")


def is_pair(request: GenerationRequest) -> bool:
    return request.task.get("kind") == "pair"


def reply(quote: str = "", answer: str = "") -> dict:
    return {"quote": quote, "answer": answer}


def by_fact(answers: dict[str, str]) -> Callable[[GenerationRequest], dict]:
    """A reader that quotes a fact of `answers` when its passage holds it and answers with
    that fact's value; elsewhere it refuses."""

    def respond(request: GenerationRequest) -> dict:
        text = chunk_of(request)
        fact = next((f for f in answers if f in text), None)
        return reply(fact, answers[fact]) if fact else reply()

    return respond


def agent(
    model: ScriptedModel, events: list[Event] | None = None, reading: str = "sweep"
) -> LongAgent:
    return LongAgent(
        model,
        chunk_tokens=120,
        reading=reading,  # type: ignore[arg-type]
        on_event=events.append if events is not None else None,
    )


def lexical_check(answer: str, quote: str, chunk: str, question: str, bridge: str = "") -> Check:
    """The lexical verifier's verdict on one reply (a follow-up hop's when `bridge` is set)."""
    asked = Question.parse(question).follow(bridge, "") if bridge else Question.parse(question)
    return LexicalVerifier().check(MemberReply(quote=quote, answer=answer), chunk, asked)
