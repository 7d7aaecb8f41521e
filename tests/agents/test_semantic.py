"""The semantic verifier with the real MiniLM embedder: paraphrased questions are grounded
by evidence about them; a near-miss that shares the topic is still refused."""

from __future__ import annotations

import pytest

from longagent.agents import LongAgent, Question
from longagent.agents.evidence import LexicalVerifier
from longagent.agents.member import MemberReply
from longagent.agents.semantic import SemanticVerifier
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel

NETRC = "The file ~/.netrc holds the login names and passwords used to reach remote machines."
COMPRESS = "-z, --compress: compress file data during the transfer."
FILLER = "The program prints the number of bytes copied when it finishes. " * 8


@pytest.fixture(scope="module")
def semantic() -> SemanticVerifier:
    return SemanticVerifier()


def judge(verifier, question: str, quote: str, answer: str, chunk: str) -> str:
    reply = MemberReply(quote=quote, answer=answer)
    return verifier.check(reply, chunk, Question.parse(question)).verdict


def test_a_paraphrase_is_grounded_by_meaning(semantic: SemanticVerifier) -> None:
    question = "Where are my saved logins for other servers kept?"
    chunk = f"{FILLER}{NETRC} {FILLER}"
    assert judge(LexicalVerifier(), question, NETRC, "~/.netrc", chunk) == "unsupported"
    assert judge(semantic, question, NETRC, "~/.netrc", chunk) == "grounded"
    assert semantic.could_ground(chunk, Question.parse(question))
    assert not LexicalVerifier().could_ground(chunk, Question.parse(question))


def test_a_near_miss_on_the_same_topic_is_refused(semantic: SemanticVerifier) -> None:
    question = "Which option encrypts data during transfer?"
    assert judge(semantic, question, COMPRESS, "-z", f"{FILLER}{COMPRESS}") != "grounded"
    # The same evidence grounds the question it answers.
    asked = "Which option compresses data during transfer?"
    assert judge(semantic, asked, COMPRESS, "-z", f"{FILLER}{COMPRESS}") == "grounded"


def test_longagent_answers_a_paraphrase_with_the_semantic_verifier(
    semantic: SemanticVerifier,
) -> None:
    doc = Document.create(f"{FILLER}\n\n{FILLER}{NETRC} {FILLER}\n\n{FILLER}")

    def respond(request: GenerationRequest) -> dict:
        if NETRC in request.task.get("passage", ""):
            return {"quote": NETRC, "answer": "~/.netrc"}
        return {"quote": "", "answer": ""}

    question = "Where are my saved logins for other servers kept?"
    lexical_model = ScriptedModel(respond)
    lexical = LongAgent(lexical_model, chunk_tokens=120).ask(doc, question)
    # The search read the passage, but the lexical verifier refuses a paraphrase.
    assert not lexical.found
    assert any(NETRC in r.task["passage"] for r in lexical_model.requests)
    model = ScriptedModel(respond)
    answer = LongAgent(model, chunk_tokens=120, verifier=semantic).ask(doc, question)
    assert answer.found and answer.text == "~/.netrc"
    assert all(NETRC in r.task["passage"] for r in model.batches[0])  # only that chunk read
