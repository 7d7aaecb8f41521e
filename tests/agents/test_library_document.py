"""`LongAgent.ask(library, question, document=...)`: a question kept to one document of a
real LanceDB library: every chunk of that document is a member (as `ask FILE` reads a
file), no other document's chunk is, and the citation names that document."""

from __future__ import annotations

from pathlib import Path

import pytest

from longagent.agents import LongAgent
from longagent.agents.library_qa import document_hits
from longagent.errors import ConfigError, DocumentError
from longagent.llm import GenerationRequest, ScriptedModel

from .test_library_qa import make_library

FENNI = "Kalomi was born in the town of Fenni."
TOSA = "Kalomi was born in the town of Tosa."


def born(request: GenerationRequest) -> dict:
    passage = request.task.get("passage", "")
    for fact, town in ((FENNI, "Fenni"), (TOSA, "Tosa")):
        if fact in passage:
            return {"quote": fact, "answer": town}
    return {"quote": "", "answer": ""}


def test_a_question_over_one_document_reads_that_document_only(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {1: FENNI, 4: TOSA})
    agent = LongAgent(ScriptedModel(born), chunk_tokens=120)
    for index, town in ((1, "Fenni"), (4, "Tosa")):
        doc = library.find(str(paths[index]))
        prepared = agent.prepare_library(library, "Where was Kalomi born?", document=doc.id)
        assert {c.document_id for c in prepared.chunks} == {doc.id}
        assert len(prepared.chunks) == doc.chunk_count  # all of it, not the top k
        answer = agent.ask(library, "Where was Kalomi born?", document=doc.id[:10])
        assert answer.found and answer.text == town
        (citation,) = answer.citations
        assert citation.document_id == doc.id and citation.path == str(paths[index].resolve())
        text = paths[index].read_text()
        assert text[citation.start : citation.end] == citation.quote


def test_document_hits_rebuild_the_document_in_order(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {2: FENNI})
    hits = document_hits(library, str(paths[2]))
    text = paths[2].read_text()
    assert [h.index for h in hits] == list(range(len(hits))) and len(hits) > 1
    for hit in hits:
        assert text[hit.start : hit.end] == hit.text


def test_an_unknown_document_or_a_document_without_a_library_is_refused(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {})
    agent = LongAgent(ScriptedModel(born), chunk_tokens=120)
    with pytest.raises(DocumentError, match="no document"):
        agent.ask(library, "Where was Kalomi born?", document="0" * 64)
    with pytest.raises(ConfigError, match="Library"):
        agent.ask(paths[0], "Where was Kalomi born?", document="abc")
