"""Chunk ranking for relevance-first reading: rare words, embeddings, and their fusion."""

from __future__ import annotations

from longagent import text
from longagent.agents import relevance
from longagent.agents import thoughts as thought_store
from longagent.agents.question import Question
from longagent.agents.thoughts import InMemoryThoughts, Thought, thoughts_of
from longagent.agents.types import Answer, Citation, MemberReport, Round
from longagent.chunking import Chunk, Document, split
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
    scores = relevance.lexical_scores(Question.parse("Where was Oskar Lindqvist born?"), chunks)
    best = max(range(len(chunks)), key=lambda i: scores[i])
    assert "Lindqvist" in chunks[best].text
    # Words every chunk shares weigh less than rare ones.
    assert scores[best] > 2 * max(s for i, s in enumerate(scores) if i != best)


def test_fusion_rewards_agreement_and_keeps_every_chunk() -> None:
    order = text.rrf([0.1, 0.9, 0.5], [0.2, 0.8, 0.9])
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
    scores = relevance.embedding_scores(
        Question.parse("How often does the boat sail?"), vectors, embedder
    )
    best = max(range(len(chunks)), key=lambda i: scores[i])
    assert "ferry" in chunks[best].text


def test_hash_embedder_vectors_have_one_row_per_window() -> None:
    chunks = chunks_with("A fact.", "Another fact.")
    vectors = relevance.chunk_vectors(chunks, HashEmbedder())
    assert [len(v) for v in vectors] == [len(relevance.windows(c.text)) for c in chunks]


# -- recalled thoughts -------------------------------------------------------------------

BORN = "Kalomi was born in the town of Fenni."


def thought(chunk: int, question: str, answer: str, quote: str) -> Thought:
    return Thought(f"c{chunk}", question, f"{question} {answer}. {quote}")


def placeholders(count: int) -> list[Chunk]:
    """Chunks with the ids `thought` gives (their text does not matter here)."""
    return [
        Chunk(id=f"c{i}", document_id="d", index=i, start=i, end=i + 1, text="x", token_count=1)
        for i in range(count)
    ]


def test_a_chunk_with_a_matching_thought_outranks_chunks_without() -> None:
    thoughts = [thought(1, "Where was Kalomi born?", "Fenni", BORN)]
    scores = relevance.thought_scores(
        Question.parse("What do you know about the birthplace of Kalomi?"),
        thoughts,
        placeholders(3),
        HashEmbedder(),
    )
    assert scores[1] > 0 and scores[0] == scores[2] == 0
    assert thoughts[0].vector is not None  # embedded once, kept for the next question


def test_without_thoughts_every_chunk_scores_zero() -> None:
    question = Question.parse("Where was Kalomi born?")
    assert relevance.thought_scores(question, [], placeholders(3), HashEmbedder()) == [0.0] * 3


def test_thoughts_vote_for_only_the_best_matching_chunks() -> None:
    thoughts = [
        thought(0, "What was Kalomi's job?", "a baker", "Kalomi worked as a baker."),
        thought(1, "Where was Kalomi born?", "Fenni", BORN),
        thought(2, "Who did Kalomi marry?", "Ines", "Kalomi married Ines."),
        thought(3, "Where was Kalomi born?", "Fenni", BORN),  # a second chunk saying so
    ]
    question = Question.parse("Where was Kalomi born?")
    scores = relevance.thought_scores(question, thoughts, placeholders(5), HashEmbedder())
    assert (
        [i for i, s in enumerate(scores) if s > 0]
        == [1, 3]
        == sorted(range(5), key=lambda i: -scores[i])[: relevance.RECALLED_CHUNKS]
    )


def test_fusion_ignores_zero_scores_instead_of_ranking_them_by_position() -> None:
    # The zeros are no vote: chunk 0 must not gain on chunk 2 by coming first.
    assert text.rrf([0.0, 0.0, 0.0], [0.1, 0.9, 0.5]) == [1, 2, 0]


def test_a_recalled_thought_moves_its_chunk_up_the_fused_rank() -> None:
    lexical, embedding = [3.0, 2.0, 1.0, 0.5], [0.9, 0.8, 0.7, 0.6]
    thoughts = [0.0, 0.0, 0.7, 0.0]
    assert text.rrf(lexical, embedding)[0] == 0
    assert text.rrf(lexical, embedding, thoughts)[0] == 2


def answered(question: str, *reports: tuple[int, str, str, str]) -> Answer:
    """An answer whose ask round holds (member, answer, quote, verdict) reports."""
    made = [
        MemberReport(
            member=i,
            chunk_id=f"c{i}",
            answer=text,
            quote=quote,
            verdict=verdict,  # type: ignore[arg-type]
            evidence=Citation(chunk_id=f"c{i}", chunk_index=i, start=0, end=1, quote=quote)
            if verdict == "grounded"
            else None,
        )
        for i, text, quote, verdict in reports
    ]
    ask = Round(index=0, kind="ask", instruction=question, members=[], reports=made)
    return Answer(question=question, text="", found=True, trace=[ask, ask.model_copy()])


def test_only_grounded_reports_are_remembered_each_once_and_bounded(monkeypatch) -> None:
    first = answered(
        "Where was Kalomi born?",
        (1, "Fenni", BORN, "grounded"),
        (2, "Paris", "Kalomi was born in Paris.", "hallucinated"),
        (3, "", "", "refused"),
    )
    store = InMemoryThoughts()
    store.remember("d", thoughts_of(first))  # the round is in the trace twice
    (kept,) = store.recall("d", "anything")
    assert kept == thought(1, "Where was Kalomi born?", "Fenni", BORN)
    kept.vector = HashEmbedder().embed([kept.text])[0]
    monkeypatch.setattr(thought_store, "MAX_THOUGHTS", 2)
    second = answered("Who did Kalomi marry?", (4, "Ines", "Kalomi married Ines.", "grounded"))
    store.remember("d", thoughts_of(second))
    store.remember("d", thoughts_of(first))  # recalled again: moves to the end
    recalled = store.recall("d", "anything")
    assert [t.chunk_id for t in recalled] == ["c4", "c1"] and recalled[1].vector is not None
    third = answered("What was Kalomi's job?", (5, "a baker", "Kalomi baked.", "grounded"))
    store.remember("d", thoughts_of(third))
    assert [t.chunk_id for t in store.recall("d", "x")] == ["c1", "c5"]  # oldest out
    assert store.recall("another document", "x") == []


def test_a_thought_ranks_its_chunk_first_for_a_paraphrase_with_the_real_embedder() -> None:
    birth = "Kalomi first saw daylight in Fenni, a fishing town on the coast."
    ferry = "The ferry to the island leaves the pier every hour in summer."
    chunks = chunks_with(
        "Kalomi visited the birthplace of her grandmother in Ulo every spring.",
        birth,
        "Kalomi knew the birthplace of every famous painter by heart.",
        ferry,
    )
    (born,) = [i for i, c in enumerate(chunks) if "daylight" in c.text]
    (sails,) = [i for i, c in enumerate(chunks) if "ferry" in c.text]
    embedder = MiniLMEmbedder()
    question = Question.parse("What do you know about the birthplace of Kalomi?")
    lexical = relevance.lexical_scores(question, chunks)
    embedding = relevance.embedding_scores(
        question, relevance.chunk_vectors(chunks, embedder), embedder
    )
    assert text.rrf(lexical, embedding)[0] != born  # its words say "daylight"
    thoughts = [
        Thought(
            chunks[born].id, "Where was Kalomi born?", f"Where was Kalomi born? Fenni. {birth}"
        ),
        Thought(chunks[sails].id, "How often?", f"How often does the ferry leave? Hourly. {ferry}"),
    ]
    recalled = relevance.thought_scores(question, thoughts, chunks, embedder)
    assert recalled[born] > 0 and recalled[sails] == 0  # an unrelated thought has no vote
    assert text.rrf(lexical, embedding, recalled)[0] == born
