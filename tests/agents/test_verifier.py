"""The Verifier seam: a registry by name, and the contract every registered verifier keeps
(a chunk that could not ground an answer never does, so skipping it loses nothing)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longagent.agents import Check, LongAgent, Question, register_verifier
from longagent.agents.member import MemberReply
from longagent.agents.verifier import get_verifier, verifier_names
from longagent.chunking import Document
from longagent.errors import ConfigError
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.text import words


@register_verifier("verbatim")
class VerbatimVerifier:
    """A second verifier, as a user would add one: the quote must stand verbatim in the
    chunk and contain the answer; nothing else is asked."""

    def check(self, reply: MemberReply, chunk: str, question: Question) -> Check:
        if not reply.answer.strip():
            return Check("refused", "no answer")
        start = chunk.find(reply.quote.strip()) if reply.quote.strip() else -1
        span = (start, start + len(reply.quote.strip())) if start >= 0 else None
        if span is None:
            return Check("hallucinated", "the quote is not in the chunk")
        if not set(words(reply.answer)) <= set(words(chunk[span[0] : span[1]])):
            return Check("hallucinated", "the answer is not in the quote", span)
        return Check("grounded", "", span)

    def could_ground(self, chunk: str, question: Question) -> bool:
        return True

    def focus(self, chunk: str, question: Question) -> str:
        return chunk

    def same_answer(self, a: str, b: str) -> bool:
        return a.strip().lower() == b.strip().lower()


SENTENCES = [
    "Kalomi was born in the town of Renda.",
    "The town of Renda is famous for its glass bells.",
    "Ferries leave the pier at 7 every morning.",
    "Modules provide functions and classes for ordinary tasks.",
    "The pass key is 48213.",
    '"k-222": "v-bbb",',
]
QUESTIONS = [
    "In which town was Kalomi born?",
    "What is Renda famous for?",
    "When do ferries leave the pier?",
    "What is the pass key?",
    "Where was Zorbu Tam born?",
    'What is the value of the key "k-222"?',
]


@pytest.mark.parametrize("name", verifier_names())
@settings(max_examples=40, deadline=None)
@given(
    chunk_sentences=st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4),
    question=st.sampled_from(QUESTIONS),
    bridge=st.sampled_from(["", "renda", "velto"]),
    data=st.data(),
)
def test_a_chunk_that_could_not_ground_never_does(
    name: str, chunk_sentences: list[str], question: str, bridge: str, data: st.DataObject
) -> None:
    """Whatever a member of such a chunk quotes or answers from it, no registered verifier
    grounds it: skipping the chunk can never change an answer."""
    verifier = get_verifier(name)
    chunk = " ".join(chunk_sentences)
    asked = Question.parse(question).follow(bridge, "") if bridge else Question.parse(question)
    quote = data.draw(st.sampled_from([*chunk_sentences, ""]))
    answer = data.draw(st.sampled_from(words(chunk)))
    if not verifier.could_ground(chunk, asked):
        reply = MemberReply(quote=quote, answer=answer)
        assert verifier.check(reply, chunk, asked).verdict != "grounded"


def test_verifiers_are_found_by_name_and_an_unknown_one_is_a_clear_error() -> None:
    assert {"lexical", "semantic", "verbatim"} <= set(verifier_names())
    assert isinstance(get_verifier("verbatim"), VerbatimVerifier)
    with pytest.raises(ConfigError, match="lexical"):
        LongAgent(ScriptedModel([]), verifier="semantic-typo")


FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
BORN = "Kalomi was born in the town of Renda."


def test_a_new_verifier_is_one_class_plus_one_argument() -> None:
    """The lexical verifier refuses an answer that the verbatim one accepts (the answer is
    in the quote, but the evidence never names Kalomi); swapping is one argument."""
    doc = Document.create(f"{FILLER}\n\n{FILLER}The town of Renda lies by the sea. {FILLER}")

    def respond(request: GenerationRequest) -> dict:
        if "Renda" in request.task.get("passage", ""):
            return {"quote": "The town of Renda lies by the sea.", "answer": "Renda"}
        return {"quote": "", "answer": ""}

    question = "In which town was Kalomi born?"
    lexical = LongAgent(ScriptedModel(respond), chunk_tokens=120, reading="all").ask(doc, question)
    verbatim = LongAgent(
        ScriptedModel(respond), chunk_tokens=120, reading="all", verifier="verbatim"
    ).ask(doc, question)
    assert not lexical.found
    assert verbatim.found and verbatim.text == "Renda"
    assert verbatim.citations and all(
        doc.text[c.start : c.end] == c.quote == "The town of Renda lies by the sea."
        for c in verbatim.citations
    )
