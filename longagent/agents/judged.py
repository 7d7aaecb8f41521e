"""`JudgedVerifier`: the model itself confirms that the evidence supports the answer
(issue #18, the third verifier, for capable served models).

Every check the base verifier makes still comes first: the quote must be verbatim in the
chunk, the answer's names and numbers must stand in it, and the evidence must be about
the question (`SemanticVerifier` by default). Only a reply the base grounds is then
judged: the model reads the question, the verified evidence and the answer, and says
"yes" or "no" under a constrained JSON schema. A "no" makes the reply unsupported. So the
judge can only refuse, never ground what the base refused: precision first.

The judge needs the model that reads: `LongAgent(model, verifier="judged")` binds it (each
question's metered model, so its calls count in the answer's usage). Unbound, it is its
base verifier. On the bundled 135M model the judge's yes/no is weak (it says "yes" to
nearly anything); it is meant for models served by vLLM, where a call costs little.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from longagent.agents.chat_types import prompt
from longagent.agents.member import MemberReply
from longagent.agents.question import Question
from longagent.agents.semantic import SemanticVerifier
from longagent.agents.verifier import Check, Verifier, register_verifier
from longagent.errors import ModelResponseError
from longagent.llm import ChatModel, GenerationRequest, Message
from longagent.llm.constrained import generate_structured


class Judgement(BaseModel):
    """The JSON the judge writes."""

    supported: Literal["yes", "no"]


@register_verifier("judged")
class JudgedVerifier:
    def __init__(self, model: ChatModel | None = None, base: Verifier | None = None) -> None:
        self.model = model
        self.base = base if base is not None else SemanticVerifier()

    def bind(self, model: ChatModel) -> JudgedVerifier:
        """This verifier, judging with `model`."""
        return JudgedVerifier(model, self.base)

    def check(self, reply: MemberReply, chunk: str, question: Question) -> Check:
        result = self.base.check(reply, chunk, question)
        if result.verdict != "grounded" or result.span is None or self.model is None:
            return result
        start, end = result.span
        request = GenerationRequest(
            messages=[
                Message(role="system", content=prompt("judge_system").strip()),
                Message(
                    role="user",
                    content=prompt("judge").format(
                        question=question.text, evidence=chunk[start:end], answer=reply.answer
                    ),
                ),
            ],
            max_new_tokens=16,
            task={"kind": "judge", "answer": reply.answer, "evidence": chunk[start:end]},
        )
        (judged,) = generate_structured(self.model, [request], Judgement)
        if isinstance(judged, ModelResponseError):  # no judgement: the base's stands
            return Check(result.verdict, f"{result.reason}; the judge gave no verdict", result.span)
        if judged.supported == "no":
            return Check("unsupported", "the model judged that the evidence does not give it")
        return result

    def could_ground(self, chunk: str, question: Question) -> bool:
        return self.base.could_ground(chunk, question)

    def focus(self, chunk: str, question: Question) -> str:
        return self.base.focus(chunk, question)

    def same_answer(self, a: str, b: str) -> bool:
        return self.base.same_answer(a, b)


def bound(verifier: Verifier, model: ChatModel) -> Verifier:
    """`verifier` with `model` to judge by, when it judges with one (it has `bind`)."""
    bind = getattr(verifier, "bind", None)
    return bind(model) if callable(bind) else verifier
