"""`ask FILE` through the implicit library, in one process (a real LanceDB in a temporary
folder, a scripted model, hashed word vectors): the stored split is the split, answers do
not change, passage vectors computed by a search are kept and reused, thoughts recalled."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from longagent.agents import LongAgent
from longagent.agents.file_library import FileLibrary
from longagent.chunking import load, split
from longagent.llm import ScriptedModel
from longagent.memory.embedder import HashEmbedder

from ._qa_helpers import FILLER
from .test_library_thoughts import DECOYS, WHERE, answering

BORN = "Kalomi was born in the town of Fenni."


def write_file(path: Path, *facts: str) -> Path:
    paragraphs = [FILLER]
    for fact in facts:
        paragraphs += [f"{FILLER}{fact} {FILLER}", FILLER]
    path.write_text("\n\n".join(paragraphs))
    return path


def files_of(home: Path, model: ScriptedModel) -> FileLibrary:
    return FileLibrary(home, model, 120, embedder=HashEmbedder())


def agent(model: ScriptedModel) -> LongAgent:
    return LongAgent(model, chunk_tokens=120, embedder=HashEmbedder())


def test_the_stored_split_is_the_split_and_answers_do_not_change(tmp_path: Path) -> None:
    path = write_file(tmp_path / "doc.txt", DECOYS[1], BORN, DECOYS[2])
    document = load(path)
    model = ScriptedModel(answering((BORN, "Fenni")))
    plain = agent(model).ask(document, WHERE)
    files = files_of(tmp_path / "home", model)
    stored = files.prepare(document, path)
    assert not files.reuse.chunks
    assert stored.chunks == split(document, model.count_tokens, 120)
    through = agent(model).ask(stored, WHERE)
    timing = {"usage": True, "trace": {"__all__": {"seconds"}}}  # not part of the answer
    assert through.model_dump(exclude=timing) == plain.model_dump(exclude=timing)

    again = files_of(tmp_path / "home", ScriptedModel([]))  # as a new process: new objects
    reused = again.prepare(load(path), path)
    assert again.reuse.chunks and again.reuse.thoughts == 1
    assert reused.chunks == stored.chunks
    assert again.library.root.name.startswith("files-")


def test_a_paraphrase_reads_the_remembered_chunk_first(tmp_path: Path) -> None:
    path = write_file(tmp_path / "doc.txt", DECOYS[1], BORN, DECOYS[2])
    first = ScriptedModel(answering((BORN, "Fenni")))
    files = files_of(tmp_path / "home", first)
    agent(first).ask(files.prepare(load(path), path), WHERE)

    second = ScriptedModel(answering((BORN, "Fenni")))
    files = files_of(tmp_path / "home", second)
    paraphrase = "In which town was Kalomi born?"
    answer = agent(second).ask(files.prepare(load(path), path), paraphrase)
    assert answer.text == "Fenni" and answer.trace[0].recalled == [WHERE]
    assert all(BORN in r.task["passage"] for r in second.batches[0])
    assert len(second.requests) < len(first.requests)


def test_passage_vectors_are_kept_once_computed_and_reused(tmp_path: Path) -> None:
    path = write_file(tmp_path / "doc.txt", BORN)
    model = ScriptedModel([])
    files = files_of(tmp_path / "home", model)
    prepared = files.prepare(load(path), path)
    assert not files.keep(prepared)  # no search ran: nothing computed, nothing stored
    assert prepared.passages is not None
    computed = prepared.passages.vectors  # what a search does on first need
    assert files.keep(prepared) and not files.keep(prepared)  # written once

    again = files_of(tmp_path / "home", model)
    reused = again.prepare(load(path), path)
    assert again.reuse.vectors and reused.passages is not None
    assert np.array_equal(vars(reused.passages)["vectors"], computed)


def test_a_changed_file_replaces_its_old_version(tmp_path: Path) -> None:
    path = write_file(tmp_path / "doc.txt", BORN)
    model = ScriptedModel(answering((BORN, "Fenni")))
    files = files_of(tmp_path / "home", model)
    old = files.prepare(load(path), path)
    agent(model).ask(old, WHERE)
    write_file(path, DECOYS[1])
    files = files_of(tmp_path / "home", model)
    new = files.prepare(load(path), path)
    assert not files.reuse.chunks and files.reuse.thoughts == 0
    (row,) = files.library.documents()
    assert row.id == new.document.id != old.document.id
    assert files.library.info()["stray_chunks"] == 0
    assert files.thoughts.memory.tier.count() == 0


# A question the document names Kalomi for but never answers: every member reads and refuses.
MARRIED = "Who did Kalomi marry?"


def refusing() -> ScriptedModel:
    return ScriptedModel(answering())


def test_a_refusal_is_given_again_without_reading_and_names_what_was_read(
    tmp_path: Path,
) -> None:
    path = write_file(tmp_path / "doc.txt", DECOYS[1], BORN, DECOYS[2])
    first = refusing()
    refused = agent(first).ask(
        files_of(tmp_path / "home", first).prepare(load(path), path), MARRIED
    )
    assert not refused.found and first.requests and not refused.remembered

    second = ScriptedModel([])  # as a new process; a model call would fail the test
    files = files_of(tmp_path / "home", second)
    again = agent(second).ask(files.prepare(load(path), path), "who did kalomi marry")
    assert not again.found and again.remembered and not second.requests
    assert again.text == refused.text
    assert again.passages_read() == refused.passages_read()
    assert again.trace[0].kind == "recall" and again.usage.requests == 0


def test_a_refusal_is_read_again_under_other_settings_or_other_thoughts(tmp_path: Path) -> None:
    path = write_file(tmp_path / "doc.txt", DECOYS[1], BORN, DECOYS[2])
    first = refusing()
    agent(first).ask(files_of(tmp_path / "home", first).prepare(load(path), path), MARRIED)

    other = refusing()
    files = files_of(tmp_path / "home", other)
    extracting = LongAgent(other, chunk_tokens=120, embedder=HashEmbedder(), extract=True)
    assert not extracting.ask(files.prepare(load(path), path), MARRIED).remembered
    assert other.requests

    answered = ScriptedModel(answering((BORN, "Fenni")))  # a new thought about the file
    files = files_of(tmp_path / "home", answered)
    assert agent(answered).ask(files.prepare(load(path), path), WHERE).found

    after = refusing()
    files = files_of(tmp_path / "home", after)
    assert not agent(after).ask(files.prepare(load(path), path), MARRIED).remembered
    assert after.requests


def test_a_changed_file_forgets_its_refusals(tmp_path: Path) -> None:
    path = write_file(tmp_path / "doc.txt", DECOYS[1], BORN)
    model = refusing()
    files = files_of(tmp_path / "home", model)
    agent(model).ask(files.prepare(load(path), path), MARRIED)
    refusals = files.library.db.open_table("refusals")
    assert refusals.count_rows() == 1
    write_file(path, DECOYS[2], "Kalomi married Ostra in the spring.")
    files = files_of(tmp_path / "home", model)
    files.prepare(load(path), path)
    assert refusals.count_rows() == 0
