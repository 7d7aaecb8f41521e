"""Members: each reads one chunk and answers with a verbatim quote, all in one batch."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, Field

from longagent.errors import ModelResponseError
from longagent.llm import ChatModel, GenerationRequest, Message
from longagent.llm.constrained import generate_structured

Style = Literal["instructed", "plain"]
# A focus round reads each passage in both prompt styles, greedy and FOCUS_SAMPLES more
# times sampled. Measured on the 8 single-fact questions whose first reading failed: the
# plain style alone rescued 5-6, sampling the instructed style 5; wrong answers rarely
# pass the evidence check, so more readings mostly add recall.
FOCUS_STYLES: tuple[Style, ...] = ("plain", "instructed")
FOCUS_SAMPLES = 3
FOCUS_TEMPERATURE = 0.8
REPLY_TOKENS = 110  # quote (<= 200 chars) + answer (<= 80 chars) as compact JSON


class MemberReply(BaseModel):
    """The schema a member's output is constrained to (quote first: evidence, then answer)."""

    quote: str = Field(max_length=200)
    answer: str = Field(max_length=80)


@cache
def prompt(name: str) -> str:
    return resources.files("longagent.agents").joinpath("prompts", f"{name}.txt").read_text()


def _request(user: str) -> GenerationRequest:
    return GenerationRequest(
        messages=[
            Message(role="system", content=prompt("member_system").strip()),
            Message(role="user", content=user),
        ],
        max_new_tokens=REPLY_TOKENS,
    )


def member_request(
    chunk: str,
    question: str,
    known: str = "",
    *,
    style: Style = "instructed",
    temperature: float = 0.0,
    seed: int | None = None,
) -> GenerationRequest:
    """Chunk first and instruction last, so a prefix cache can reuse the chunk's KV.
    `style` "instructed" spells out the reply (quote, then answer); "plain" only asks the
    question: the 135M model often copies the instructions instead of answering, and the
    two styles fail on different inputs (measured: 8/20 each on whole chunks, 12/20
    together), so a focus round asks both."""
    known_line = f"Known from other parts of the document: {known}\n" if known else ""
    name = "member" if style == "instructed" else "member_plain"
    user = prompt(name).format(chunk=chunk, question=question, known=known_line)
    return _request(user).model_copy(update={"temperature": temperature, "seed": seed})


def focus_readings(text: str, question: str, known: str = "") -> list[GenerationRequest]:
    """The several readings of one focused passage: each style, greedy then sampled."""
    return [
        member_request(
            text,
            question,
            known,
            style=style,
            temperature=FOCUS_TEMPERATURE if sample else 0.0,
            seed=sample or None,
        )
        for style in FOCUS_STYLES
        for sample in range(1 + FOCUS_SAMPLES)
    ]


def pair_request(
    first: str, second: str, question: str, answer_a: str, answer_b: str
) -> GenerationRequest:
    """Two conflicting members re-read both chunks (or passages) together (the paper's
    Eq. 4)."""
    user = prompt("pair").format(
        first=first,
        second=second,
        question=question,
        answer_a=answer_a,
        answer_b=answer_b,
    )
    return _request(user)


def run_batch(
    model: ChatModel, requests: list[GenerationRequest]
) -> list[MemberReply | ModelResponseError]:
    """One batched model call for all members of a round."""
    if not requests:
        return []
    return generate_structured(model, requests, MemberReply)
