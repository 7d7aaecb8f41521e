"""A hyphenated word of the asker's ("non-root", "curly-brace") is no name the document must
repeat: taken as one, it kept every reply from grounding over a document that says "regular
user" instead (issue #18; 11 of the natural suite's lookups ask so). A compound the
document does write stays a name: RULER names its needles "grubby-color"."""

from __future__ import annotations

from longagent.agents.question import Question
from longagent.agents.relevance import unsaid_compounds
from longagent.chunking import Document, split
from longagent.llm import ScriptedModel

from ._qa_helpers import FILLER, agent, by_fact, document

GROUP = "Members of the group adm can read the journal files of every user of the system."
QUESTION = "Which group can a non-root user join to read the journal files?"


def chunks_of(doc: Document) -> list:
    return split(doc, lambda t: len(t.split()), 120)


def test_a_compound_the_document_never_writes_is_words_not_a_name() -> None:
    question = Question.parse(QUESTION)
    assert "non-root" in question.entities
    unsaid = unsaid_compounds(question, chunks_of(document(GROUP)))
    assert unsaid == {"non-root"}
    worded = question.worded(unsaid)
    assert not worded.entities and {"non", "root"} <= worded.content_words
    assert "root" in worded.subject  # a focus round looks for its words, not the compound
    # Written in the document, it stays a name; so does one with a digit.
    assert not unsaid_compounds(question, chunks_of(document(GROUP, "Be a non-root user.")))
    key = Question.parse("What is the special magic number for grubby-color?")
    needle = "One of the special magic numbers for grubby-color is: 5318008."
    assert not unsaid_compounds(key, chunks_of(document(needle)))
    digest = Question.parse("Can it compute a sha-256 digest?")
    assert not unsaid_compounds(digest, chunks_of(document(GROUP)))
    quoted = Question.parse('What is the value of "shiny-river"?')  # a key, quoted
    assert not unsaid_compounds(quoted, chunks_of(document(GROUP)))


def test_a_reply_from_a_sentence_without_the_askers_compound_grounds() -> None:
    doc = document(GROUP)
    answer = agent(ScriptedModel(by_fact({GROUP: "adm"}))).ask(doc, QUESTION)
    assert answer.found and answer.text == "adm"
    assert GROUP in answer.citations[0].quote
    # Evidence must still be about the question: a sentence sharing only "user" is not.
    other = "Every user of the system has a home folder for the files of that user."
    answer = agent(ScriptedModel(by_fact({other: "home folder"}))).ask(document(other), QUESTION)
    assert not answer.found


def test_a_compound_the_document_writes_is_still_required_of_evidence() -> None:
    # The same reply, but the document says "non-root" elsewhere: evidence must name it.
    doc = document(GROUP, f"A non-root user sees only the journal of that user. {FILLER}")
    answer = agent(ScriptedModel(by_fact({GROUP: "adm"}))).ask(doc, QUESTION)
    assert not answer.found
