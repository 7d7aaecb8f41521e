"""What the library tests share: a library with the hash embedder and a word counter
(the settings `_library_child.py` uses too), generated documents, and a consistency check."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library
from longagent.memory.library_types import LibraryDocument


def words(text: str) -> int:
    return len(text.split())


def open_library(home: Path, name: str = "t", **kwargs: object) -> Library:
    """The same settings as _library_child.py: 40-word chunks, two per write."""
    options: dict[str, object] = {
        "embedder": HashEmbedder(),
        "count_tokens": words,
        "chunk_tokens": 40,
        "write_batch": 2,
    }
    return Library(home, name, **(options | kwargs))  # type: ignore[arg-type]


def write_doc(path: Path, topic: str, paragraphs: int = 10) -> Path:
    """A document of `paragraphs` paragraphs of 30 words: one 40-word chunk each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = [
        f"Paragraph {i} about {topic}: " + " ".join(f"{topic}{i}w{j}" for j in range(26))
        for i in range(paragraphs)
    ]
    path.write_text("\n\n".join(body) + "\n")
    return path


def consistent(library: Library) -> list[LibraryDocument]:
    """The visible documents, checking each has exactly its chunks and that search sees
    no chunk of a document that is not visible."""
    docs = library.documents()
    counts = Counter(library.chunks_table.to_arrow().column("document_id").to_pylist())
    for doc in docs:
        assert counts[doc.id] == doc.chunk_count, doc.path
    visible = {d.id for d in docs}
    for hit in library.search("Paragraph about", k=50):
        assert hit.document_id in visible
    return docs


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    for i, topic in enumerate(["alpha", "beta", "gamma"]):
        write_doc(folder / f"d{i}.txt", topic)
    return folder
