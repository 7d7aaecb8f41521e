"""Members: each reads one chunk and answers with a verbatim quote, all in one batch."""

from __future__ import annotations

from functools import cache
from importlib import resources

from pydantic import BaseModel, Field

from longagent.chunking import Chunk
from longagent.errors import ModelResponseError
from longagent.llm import ChatModel, GenerationRequest, Message
from longagent.llm.constrained import generate_structured

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


def member_request(chunk: str, question: str, known: str = "") -> GenerationRequest:
    """Chunk first and instruction last, so a prefix cache can reuse the chunk's KV."""
    known_line = f"Known from other parts of the document: {known}\n" if known else ""
    user = prompt("member").format(chunk=chunk, question=question, known=known_line)
    return _request(user)


def pair_request(
    first: Chunk, second: Chunk, question: str, answer_a: str, answer_b: str
) -> GenerationRequest:
    """Two conflicting members re-read both chunks together (the paper's Eq. 4)."""
    user = prompt("pair").format(
        first=first.text,
        second=second.text,
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
