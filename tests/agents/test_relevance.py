"""Chunk ranking for relevance-first reading: rare words, embeddings, and their fusion."""

from __future__ import annotations

from longagent.agents import relevance
from longagent.chunking import Document, split
from longagent.memory.embedder import HashEmbedder, MiniLMEmbedder

FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 5


def chunks_with(*facts: str):
    text = "\n\n".join(f"{FILLER}{fact} {FILLER}" for fact in facts)
    return split(Document.create(text), lambda t: len(t.split()), 80)


def test_rare_question_words_rank_their_chunk_first() -> None:
    chunks = chunks_with(
        "The harbour opens at dawn.",
        "Oskar Lindqvist was born in the town of Varde.",
        "The library closes at night.",
    )
    scores = relevance.lexical_scores("Where was Oskar Lindqvist born?", chunks)
    best = max(range(len(chunks)), key=lambda i: scores[i])
    assert "Lindqvist" in chunks[best].text
    # Words every chunk shares weigh less than rare ones.
    assert scores[best] > 2 * max(s for i, s in enumerate(scores) if i != best)


def test_fusion_rewards_agreement_and_keeps_every_chunk() -> None:
    order = relevance.rank([0.1, 0.9, 0.5], [0.2, 0.8, 0.9])
    assert order[0] == 1 and sorted(order) == [0, 1, 2]


def test_long_chunks_are_embedded_in_overlapping_windows() -> None:
    words = [f"w{i}" for i in range(400)]
    parts = relevance.windows(" ".join(words))
    assert parts[0].split()[0] == "w0" and parts[-1].split()[-1] == "w399"
    assert all(len(p.split()) <= relevance.WINDOW_WORDS for p in parts)


def test_embedding_ranks_a_paraphrase_with_the_real_embedder() -> None:
    chunks = chunks_with(
        "The recipe needs flour, butter and two eggs, baked for twenty minutes.",
        "The ferry to the island leaves the pier every hour in summer.",
        "Her violin was made in Cremona two centuries ago.",
    )
    embedder = MiniLMEmbedder()
    vectors = relevance.chunk_vectors(chunks, embedder)
    scores = relevance.embedding_scores("How often does the boat sail?", vectors, embedder)
    best = max(range(len(chunks)), key=lambda i: scores[i])
    assert "ferry" in chunks[best].text


def test_hash_embedder_vectors_have_one_row_per_window() -> None:
    chunks = chunks_with("A fact.", "Another fact.")
    vectors = relevance.chunk_vectors(chunks, HashEmbedder())
    assert [len(v) for v in vectors] == [len(relevance.windows(c.text)) for c in chunks]
