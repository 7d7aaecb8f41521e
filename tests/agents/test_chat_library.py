"""read_document goes through a document library (`home/libraries/chat`, real LanceDB):
a file is added on its first read and found there, unchanged, on the next (not split
again), re-indexed when it changes, and asked as one document of the library."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from longagent.agents.chat_functions import FunctionError
from longagent.llm import GenerationRequest
from longagent.memory.library import Library

from ._chat_helpers import EMBEDDER, agent
from ._qa_helpers import FILLER

RENDA = "Kalomi was born in the town of Renda."
TOSA = "Kalomi was born in the town of Tosa."
QUESTION = "In which town was Kalomi born?"


def member(request: GenerationRequest) -> dict:
    """Members answer from the passage they read; nothing else is asked here."""
    passage = request.task.get("passage", "")
    for fact, town in ((RENDA, "Renda"), (TOSA, "Tosa")):
        if fact in passage:
            return {"quote": fact, "answer": town}
    return {"quote": "", "answer": ""}


def library(home: Path) -> Library:
    return Library(home, "chat", embedder=EMBEDDER, create=False)


def test_a_document_is_added_once_and_its_chunks_come_from_the_library(tmp_path: Path) -> None:
    folder = tmp_path / "home" / "documents"
    folder.mkdir(parents=True)
    file = folder / "bio.txt"
    file.write_text("\n\n".join([FILLER * 2, f"{FILLER}{RENDA} {FILLER}", FILLER * 2]))
    chat, _ = agent(tmp_path, member)

    first = chat.documents.read(str(file), QUESTION)
    assert first.found and first.answer == "Renda" and first.quotes == [RENDA]
    assert first.document_id == hashlib.sha256(file.read_bytes()).hexdigest()
    (stored,) = library(tmp_path / "home").documents()
    assert stored.id == first.document_id and stored.chunk_count >= 1
    assert first.excerpt == ""  # too long to quote whole

    again = chat.documents.read("bio.txt", "Where was Kalomi born?")
    assert again.answer == "Renda"
    (same,) = library(tmp_path / "home").documents()
    assert same.added_at == stored.added_at  # found in the library, not added again

    file.write_text(f"{FILLER}{TOSA} {FILLER}")  # changed: re-indexed in place
    changed = chat.documents.read(str(file), QUESTION)
    assert changed.answer == "Tosa"
    (now,) = library(tmp_path / "home").documents()
    assert now.id == changed.document_id != stored.id


def test_a_short_document_comes_back_whole_and_a_bad_one_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "home" / "documents"
    folder.mkdir(parents=True)
    (folder / "note.txt").write_text(RENDA)
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 not a real pdf")
    chat, _ = agent(tmp_path, member)
    reading = chat.documents.read("note.txt", QUESTION)
    assert reading.excerpt == RENDA and reading.answer == "Renda"
    with pytest.raises(FunctionError, match=r"scan\.pdf"):
        chat.documents.read("scan.pdf", QUESTION)
    assert [d.title for d in library(tmp_path / "home").documents()] == ["note"]
