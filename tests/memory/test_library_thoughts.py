"""A library's thoughts table and the implicit library's stored passage vectors, on a real
LanceDB in a temporary folder (hashed word vectors): restating a question's findings
merges, keeps or replaces them; opening survives an interrupted creation and refuses a
foreign embedder with one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from longagent.memory import library_files
from longagent.memory.embedder import HashEmbedder
from longagent.memory.errors import StoreError
from longagent.memory.library import Library
from longagent.memory.library_thoughts import THOUGHTS_TABLE, library_thoughts
from longagent.memory.thoughts import ThoughtMemory

SUBJECT, SCOPE = "where was kalomi born", "library:t"
FENNI = {"text": "Where was Kalomi born? Fenni. Kalomi was born in Fenni.", "chunk_id": "c1"}
FENNI_TOO = {
    "text": "Where was Kalomi born? Fenni. Fenni is where Kalomi was born.",
    "chunk_id": "c7",
}
TOSA = {"text": "Where was Kalomi born? Tosa. The records name Tosa as the town.", "chunk_id": "c3"}


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return Library(tmp_path / "home", "t", embedder=HashEmbedder(), count_tokens=len)


def memory_of(library: Library) -> ThoughtMemory:
    return library_thoughts(library, HashEmbedder())


def test_restating_keeps_merges_and_replaces(library: Library) -> None:
    memory = memory_of(library)
    spans = {"document_id": "d1", "start": 10, "end": 40, "question": "Where was Kalomi born?"}
    first = memory.restate(SUBJECT, SCOPE, [FENNI | spans, FENNI_TOO | spans])
    assert [w.outcome for w in first] == ["inserted", "inserted"]  # one answer, two citations
    stored = {t.chunk_id: t for t in memory.all()}
    assert set(stored) == {"c1", "c7"} and stored["c1"].start == 10  # type: ignore[attr-defined]

    again = memory.restate(SUBJECT, SCOPE, [FENNI | spans])  # asked again, same answer
    assert again[0].outcome == "merged" and again[0].thought.id == stored["c1"].id
    assert again[0].replaced == (stored["c7"].id,)  # no longer cited: not current
    assert [t.hits for t in memory.all()] == [2 + 1]

    other = memory.restate(SUBJECT, SCOPE, [TOSA])  # a contradicting answer
    assert other[0].outcome == "replaced"
    (left,) = memory.all()
    assert left.chunk_id == "c3" and "Tosa" in left.text
    memory.restate("something else", SCOPE, [FENNI])  # another subject: kept beside
    assert len(memory) == 2
    assert len(memory_of(library)) == 2  # in the library's folder, for the next process


def test_an_interrupted_creation_is_finished_and_a_foreign_embedder_refused(
    library: Library,
) -> None:
    from longagent.memory.library_thoughts import LIBRARY_THOUGHTS

    # Killed between creating the table and its full-text index: the next open makes it.
    library.db.create_table(THOUGHTS_TABLE, schema=LIBRARY_THOUGHTS.schema(HashEmbedder.dim))
    memory = memory_of(library)
    memory.restate(SUBJECT, SCOPE, [FENNI])
    assert memory.search("Kalomi", mode="fts")

    class Wider(HashEmbedder):
        dim = 128

    with pytest.raises(StoreError, match="another embedder"):
        library_thoughts(library, Wider())


def test_passage_vectors_are_used_only_for_their_passages(library: Library) -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    spans = [("c1", 0, 10), ("c1", 5, 20), ("c2", 0, 8)]
    print_ = library_files.fingerprint(spans)
    library_files.store_vectors(library, "d1", "minilm", print_, vectors)
    library_files.store_vectors(library, "d1", "minilm", print_, vectors)  # replaces itself
    assert library.db.open_table(library_files.PASSAGES_TABLE).count_rows() == 1
    found = library_files.stored_vectors(library, "d1", "minilm", print_)
    assert found is not None and np.array_equal(found, vectors)
    moved = library_files.fingerprint([("c1", 0, 10), ("c1", 5, 21), ("c2", 0, 8)])
    assert library_files.stored_vectors(library, "d1", "minilm", moved) is None
    assert library_files.stored_vectors(library, "d1", "other-embedder", print_) is None
    assert library_files.stored_vectors(library, "d2", "minilm", print_) is None
