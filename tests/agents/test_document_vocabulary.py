"""A word standing in most of a document's chunks (a man page's "shell") says nothing
about what a question asks: evidence sharing only such words with the question is not
about it. Over bash(1), "Where does the shell look for the programs I type?" got an echo
of the question plus a heading sharing "shell" and "type", marked found (issue #18)."""

from __future__ import annotations

from longagent.agents import LongAgent
from longagent.agents.question import Question
from longagent.agents.relevance import common_words
from longagent.chunking import Document, split
from longagent.llm import GenerationRequest, ScriptedModel

from ._qa_helpers import chunk_of, reply

QUESTION = "Where does the shell look for the programs I type?"
FEATURES = [
    "The shell expands braces before any other expansion.",
    "The shell keeps a history list of the commands entered.",
    "The shell treats a hash sign as the start of a comment.",
    "The shell runs each command of a pipeline in its own subshell.",
    "The shell reads its startup files when it starts as a login shell.",
    "The shell waits for a foreground job before it prints the next prompt.",
    "The shell splits the results of expansions into fields.",
    "The shell sets the exit status of a pipeline from its last command.",
    "The shell ignores the quit signal when it is interactive.",
    "The shell defines positional parameters from its arguments.",
]
HEADING = (
    "Here Documents: this type of redirection instructs the shell to read input from the "
    "current source until a line holding only the delimiter is seen."
)
ANSWER = "The shell searches the directories listed in PATH for the programs you type."
CHUNK_TOKENS = 30
ECHO = "The shell looks for the programs I type. Here Documents, this type of redir-"


def manual(*extra: str) -> Document:
    """One paragraph per shell feature (each its own chunk at CHUNK_TOKENS), then `extra`
    paragraphs: every chunk says "shell"."""
    features = [f"{f} It does so for every line of input that it reads." for f in FEATURES]
    return Document.create("\n\n".join([*features, *extra]))


def reader(request: GenerationRequest) -> dict:
    """The 135M model's reply over bash(1): given the heading it echoes the question and
    copies the heading; given the answer's sentence it answers from it."""
    passage = " ".join(chunk_of(request).split())
    if ANSWER in passage:
        return reply(ANSWER, "the directories listed in PATH")
    if "Here Documents" in passage:
        return reply(HEADING, ECHO)
    return reply()


def test_words_in_most_chunks_are_the_documents_own() -> None:
    question = Question.parse(QUESTION)
    chunks = split(manual(HEADING, ANSWER), lambda t: len(t.split()), CHUNK_TOKENS)
    assert len(chunks) == len(FEATURES) + 2
    assert common_words(question, chunks) == {"shell"}
    assert not common_words(question, chunks[:4])  # a short document is swept whole


def test_evidence_sharing_only_the_documents_words_is_no_answer() -> None:
    agent = LongAgent(ScriptedModel(reader), chunk_tokens=CHUNK_TOKENS)
    answer = agent.ask(manual(HEADING), QUESTION)
    assert not answer.found
    refused = [m for r in answer.trace for m in r.reports if "Here Documents" in m.quote]
    assert refused and all(m.verdict != "grounded" for m in refused)  # read, and refused

    answer = LongAgent(ScriptedModel(reader), chunk_tokens=CHUNK_TOKENS).ask(
        manual(HEADING, ANSWER), QUESTION
    )
    assert answer.found and answer.text == "the directories listed in PATH"
    assert ANSWER in answer.citations[0].quote
