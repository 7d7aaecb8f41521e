"""Passage vectors: a library chunk is embedded passage by passage (MiniLM reads only its
first 256 word pieces), and vector search ranks a chunk by its best passage."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from longagent.memory import MiniLMEmbedder
from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library
from longagent.memory.library_types import PASSAGE_CHARS, passages

FILLER = [
    "The recipe needs two cups of flour, one egg and a pinch of salt.",
    "Rain is expected over the northern hills through the weekend.",
    "The orchestra tuned their violins before the evening concert.",
    "Our garden grows tomatoes, beans and a few pumpkins each summer.",
    "Trains to the coast leave every hour from the central station.",
    "A heron stood still in the shallow water near the old mill.",
    "She painted the kitchen a pale shade of yellow last spring.",
    "The library closes early on public holidays and Sundays.",
]
FACT = "Acme Corporation was founded by Ada Lovelace in 1843."


def words(text: str) -> int:
    return len(text.split())


def test_passages_cover_the_text_in_sentences_under_the_limit() -> None:
    text = " ".join(FILLER * 12)
    spans = passages(text)
    assert len(spans) > 1 and all(b - a <= PASSAGE_CHARS for a, b in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    # Consecutive, sentence-aligned: only the spaces between sentences are left out.
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert text[end:start] == " " and text[end - 1] == "."
    long_sentence = "word " * 400  # no full stop: cut at spaces
    cut = passages(long_sentence.strip())
    assert all(0 < b - a <= PASSAGE_CHARS for a, b in cut)
    assert " ".join(long_sentence.strip()[a:b] for a, b in cut) == long_sentence.strip()
    assert passages("   ") == [(0, 3)] and passages("One.") == [(0, 4)]


def test_each_chunk_stores_one_vector_per_passage(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text(" ".join(FILLER * 6) + "\n")
    library = Library(
        tmp_path / "home", embedder=HashEmbedder(), count_tokens=words, chunk_tokens=1000
    )
    library.add([tmp_path / "d.txt"])
    [row] = library.chunks_table.to_arrow().to_pylist()
    vectors = np.array(row["vector"], dtype=np.float32)
    expected = HashEmbedder().embed([row["text"][a:b] for a, b in passages(row["text"])])
    assert vectors.shape == expected.shape and vectors.shape[0] > 1
    assert np.allclose(vectors, expected, atol=1e-6)


def test_a_fact_at_the_end_of_a_long_chunk_is_found_by_meaning(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    # ~330 words of filler and the fact last, in one chunk: past MiniLM's 256 word pieces,
    # so one vector for the whole chunk never saw the fact.
    folder = tmp_path / "docs"
    folder.mkdir()
    body = " ".join(FILLER * 4) + " " + FACT
    (folder / "history.txt").write_text(body + "\n")
    assert words(body) > 300
    for i, line in enumerate(FILLER):
        (folder / f"other{i}.txt").write_text(" ".join([line] * 3) + "\n")
    library = Library(tmp_path / "home", embedder=embedder, count_tokens=words, chunk_tokens=1000)
    library.add([folder])
    assert library.info()["chunks"] == 1 + len(FILLER)
    hits = library.search("Who started the business?", k=3)
    assert hits[0].path.endswith("history.txt") and hits[0].bm25 is None
    assert hits[0].similarity is not None and hits[0].similarity > 0.3


def test_a_large_library_gets_a_vector_index_and_still_finds_its_chunks(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for d in range(3):  # 3 x 100 one-sentence paragraphs: 300 chunks, one passage each
        body = [f"Note {d}x{i} records item{d}x{i} and code{d}x{i}." for i in range(100)]
        (folder / f"d{d}.txt").write_text("\n\n".join(body) + "\n")
    library = Library(
        tmp_path / "home", embedder=HashEmbedder(), count_tokens=words, chunk_tokens=8
    )
    library.vector_index_rows = 250  # 100,000 by default
    library.add([folder / "d0.txt", folder / "d1.txt"])
    assert library.chunks_table.list_indices() and not any(
        i.columns == ["vector"] for i in library.chunks_table.list_indices()
    )
    library.add([folder / "d2.txt"])  # now 300 chunks: the add builds the index
    assert any(i.columns == ["vector"] for i in library.chunks_table.list_indices())
    hit = library.search("item2x42 code2x42", k=1)[0]
    assert hit.path.endswith("d2.txt") and "item2x42" in hit.text and hit.similarity
