"""`LongAgent.ask(library, question)`: a question over every document of a real LanceDB
library (a temporary folder), with a scripted model answering by the passage it reads and
hashed word vectors: the citation names the document holding the fact and its exact span."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from longagent.agents import LongAgent
from longagent.agents.library_qa import PreparedLibrary
from longagent.agents.profiles import get_profile
from longagent.chunking import load
from longagent.errors import ConfigError, DocumentError
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library

from ._qa_helpers import FILLER

BORN = "Kalomi was born in the town of Fenni."
NETRC = "The file ~/.netrc holds the user names and passwords used for remote machines."
TOPICS = [
    "The harbour cranes were painted orange before the winter storms arrived.",
    "Bread in the northern valley is baked with rye and caraway seeds.",
    "The observatory tracks comets with a mirror two metres across.",
    "Glass bells ring in the square on every market day of the year.",
    "The orchard keeps eleven kinds of pears and three of quince.",
    "Trains to the coast leave every hour from the second platform.",
]


def words_count(text: str) -> int:
    return len(text.split())


def write_documents(folder: Path, planted: dict[int, str]) -> list[Path]:
    """Six documents of a few 120-word chunks each; `planted[i]` goes in the middle of
    document i."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, topic in enumerate(TOPICS):
        middle = f"{FILLER}{planted[i]} {FILLER}" if i in planted else FILLER
        body = "\n\n".join([f"{topic} {FILLER}", middle, f"{FILLER}{topic}"])
        path = folder / f"doc{i}.txt"
        path.write_text(body)
        paths.append(path)
    return paths


def make_library(tmp_path: Path, planted: dict[int, str]) -> tuple[Library, list[Path]]:
    paths = write_documents(tmp_path / "docs", planted)
    library = Library(
        tmp_path / "home",
        "work",
        embedder=HashEmbedder(),
        count_tokens=words_count,
        chunk_tokens=120,
    )
    report = library.add(paths)
    assert report.count("added") == len(TOPICS)
    return library, paths


def born_in_fenni(request: GenerationRequest) -> dict:
    if BORN in request.task.get("passage", ""):
        return {"quote": BORN, "answer": "Fenni"}
    return {"quote": "", "answer": ""}


def test_a_fact_in_one_of_six_documents_is_cited_in_that_document(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {4: BORN})
    answer = LongAgent(ScriptedModel(born_in_fenni)).ask(library, "Where was Kalomi born?")
    assert answer.found and answer.text == "Fenni"
    assert answer.document_id == "library:work"
    citation = answer.citations[0]
    planted = paths[4].resolve()
    assert citation.path == str(planted) and citation.title
    assert citation.document_id == next(d.id for d in library.documents() if d.path == str(planted))
    assert load(planted).text[citation.start : citation.end] == citation.quote == BORN
    assert citation.page is None  # a text file has no pages
    # chunk_index and chunk_id are the chunk's own in that document, as stored.
    stored = [h for h in library.search(BORN, 20) if h.document_id == citation.document_id]
    held = next(h for h in stored if h.start <= citation.start and citation.end <= h.end)
    assert citation.chunk_index == held.index
    # The trace's evidence names the document too (the thoughts key on chunk ids).
    evidence = [r.evidence for r in answer.trace[0].reports if r.evidence is not None]
    assert evidence and all(e.path == str(planted) for e in evidence)


def test_members_read_only_the_best_chunks_with_their_exact_offsets(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {2: BORN})
    agent = LongAgent(ScriptedModel(born_in_fenni))
    prepared = agent.prepare_library(library, "Where was Kalomi born?", k=3)
    assert isinstance(prepared, PreparedLibrary) and len(prepared.chunks) == 3
    assert [c.index for c in prepared.chunks] == [0, 1, 2]  # members by position
    assert BORN in prepared.chunks[0].text  # the planted chunk ranks first
    for chunk, hit in zip(prepared.chunks, prepared.sources, strict=True):
        assert load(Path(hit.path)).text[chunk.start : chunk.end] == chunk.text
    with pytest.raises(ConfigError):
        agent.prepare_library(library, "Where was Kalomi born?", k=0)


def test_a_chunk_over_the_members_budget_is_cut_keeping_its_offsets(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {1: BORN})
    agent = LongAgent(ScriptedModel(born_in_fenni), chunk_tokens=40)  # library: 120
    prepared = agent.prepare_library(library, "Where was Kalomi born?", k=2)
    assert len(prepared.chunks) > 2 and all(c.token_count <= 40 for c in prepared.chunks)
    for chunk, hit in zip(prepared.chunks, prepared.sources, strict=True):
        assert load(Path(hit.path)).text[chunk.start : chunk.end] == chunk.text
    answer = agent.ask(library, "Where was Kalomi born?")
    citation = answer.citations[0]
    assert load(Path(citation.path)).text[citation.start : citation.end] == BORN


def test_a_fact_in_no_document_is_not_found(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {})
    model = ScriptedModel(born_in_fenni)
    answer = LongAgent(model).ask(library, "Where was Kalomi born?")
    assert not answer.found and answer.citations == [] and model.calls >= 1


def test_the_search_fallback_reads_passages_of_the_library_chunks(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {3: NETRC})

    def answers_netrc(request: GenerationRequest) -> dict:
        passage = request.task.get("passage", "")
        if NETRC in passage and len(passage) < 600:  # a passage, not a whole chunk
            return {"quote": NETRC, "answer": "~/.netrc"}
        return {"quote": "", "answer": ""}

    profile = replace(get_profile("small"), search_waves=(4, 8))
    agent = LongAgent(ScriptedModel(answers_netrc), profile=profile, verifier="semantic")
    answer = agent.ask(library, "Where are my saved logins for servers kept?")
    assert answer.found and answer.trace[-1].kind == "search"
    citation = answer.citations[0]
    assert citation.path == str(paths[3].resolve())
    assert load(paths[3]).text[citation.start : citation.end] == NETRC


def test_an_empty_library_is_a_clear_error(tmp_path: Path) -> None:
    library = Library(tmp_path / "home", "empty", embedder=HashEmbedder())
    with pytest.raises(DocumentError, match="no documents"):
        LongAgent(ScriptedModel(born_in_fenni)).ask(library, "Where was Kalomi born?")


def test_a_single_document_answer_keeps_its_citation_unchanged(tmp_path: Path) -> None:
    paths = write_documents(tmp_path / "docs", {0: BORN})
    answer = LongAgent(ScriptedModel(born_in_fenni), chunk_tokens=120).ask(
        load(paths[0]), "Where was Kalomi born?"
    )
    citation = answer.citations[0]
    named = (citation.document_id, citation.path, citation.title, citation.page)
    assert named == ("", "", "", None)


def test_a_pdf_citation_names_the_page_of_its_span(tmp_path: Path, make_pdf) -> None:
    pages = [["The harbour cranes were painted orange."], [BORN], ["Ferries leave twice a day."]]
    path = tmp_path / "docs" / "report.pdf"
    path.parent.mkdir()
    path.write_bytes(make_pdf(pages))
    library = Library(tmp_path / "home", "pdfs", embedder=HashEmbedder(), count_tokens=words_count)
    library.add([path])
    (hit,) = library.search(BORN, 5)
    assert hit.pages == [1, 2, 3]  # one chunk across three pages: the file says which
    agent = LongAgent(ScriptedModel(born_in_fenni))
    citation = agent.ask(library, "Where was Kalomi born?").citations[0]
    assert citation.page == 2 and citation.path == str(path.resolve())
    path.write_bytes(make_pdf([*pages, ["A page added since."]]))  # offsets may differ now
    assert agent.ask(library, "Where was Kalomi born?").citations[0].page is None


def test_a_chunk_naming_the_asked_name_is_read_even_when_decoys_outrank_it(
    tmp_path: Path,
) -> None:
    """Every document says where someone was born; only one names Renvello. The fused
    ranking votes up the decoys (alike in words and vectors); the literal leg reads the
    chunk that names the subject first."""
    decoys = {
        i: " ".join(f"{n} was born in the town of {t}." for n, t in zip(names, towns, strict=True))
        for i, (names, towns) in enumerate(
            [
                (["Ulo", "Pem", "Asta"], ["Tosa", "Kir", "Vel"]),
                (["Oda", "Lin", "Sef"], ["Mora", "Dun", "Hal"]),
                (["Ira", "Bo", "Nell"], ["Pira", "Sol", "Teg"]),
                (["Ana", "Rik", "Oso"], ["Lum", "Fae", "Gor"]),
                (["Tam", "Ula", "Ved"], ["Rin", "Kes", "Bay"]),
            ]
        )
    }
    fact = "Renvello, a weaver, was born in the town of Ello."
    library, paths = make_library(tmp_path, {**decoys, 5: fact})
    agent = LongAgent(ScriptedModel(born_in_fenni))
    question = "In which town was Renvello born?"
    planted = str(paths[5].resolve())
    prepared = agent.prepare_library(library, question, k=2)
    assert prepared.sources[0].path == planted and fact in prepared.chunks[0].text
    assert len(prepared.chunks) == 2  # the literal chunk, then the best of the ranking
