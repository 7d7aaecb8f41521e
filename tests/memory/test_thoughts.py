"""Thought policy on the real store: merge near-duplicates, replace on contradiction,
forget on request and under the size cap."""

from __future__ import annotations

import pytest

from longagent.memory import MemoryStore, ThoughtMemory


@pytest.fixture
def thoughts(store: MemoryStore) -> ThoughtMemory:
    return ThoughtMemory(store.thoughts, merge_threshold=0.9, max_thoughts=None)


def test_insert_keeps_provenance(thoughts: ThoughtMemory) -> None:
    w = thoughts.insert(
        "Acme was founded in 1990.", doc_id="acme.pdf", chunk_id="c3", question="When?"
    )
    assert w.outcome == "inserted"
    [stored] = thoughts.all()
    assert (stored.text, stored.doc_id, stored.chunk_id, stored.question, stored.hits) == (
        "Acme was founded in 1990.",
        "acme.pdf",
        "c3",
        "When?",
        1,
    )


def test_near_duplicate_merges(thoughts: ThoughtMemory) -> None:
    first = thoughts.insert("The capital of France is Paris.", doc_id="geo", chunk_id="c1")
    # Cosine about 0.99 with MiniLM: a paraphrase, so it merges instead of piling up.
    second = thoughts.insert("Paris is the capital of France.", doc_id="geo", chunk_id="c9")
    assert second.outcome == "merged"
    assert second.thought.id == first.thought.id
    [stored] = thoughts.all()
    assert stored.hits == 2
    assert stored.text == "Paris is the capital of France."  # the fresher wording
    assert stored.chunk_id == "c9"
    assert stored.created_at == first.thought.created_at
    assert stored.updated_at > first.thought.updated_at


def test_no_merge_across_documents_or_below_threshold(thoughts: ThoughtMemory) -> None:
    thoughts.insert("The capital of France is Paris.", doc_id="geo")
    assert thoughts.insert("The capital of France is Paris.", doc_id="other").outcome == "inserted"
    assert thoughts.insert("Bananas are rich in potassium.", doc_id="geo").outcome == "inserted"
    assert len(thoughts) == 3


def test_contradiction_on_same_subject_replaces(thoughts: ThoughtMemory) -> None:
    old = thoughts.insert("Alice lives in Paris.", doc_id="bio", subject="alice.home")
    unrelated = thoughts.insert("Alice works as a nurse.", doc_id="bio", subject="alice.job")
    new = thoughts.insert(
        "Alice moved to Tokyo and lives there now.", doc_id="bio", subject="alice.home"
    )
    assert new.outcome == "replaced"
    assert new.replaced == (old.thought.id,)
    remaining = {t.text for t in thoughts.all()}
    assert remaining == {"Alice moved to Tokyo and lives there now.", "Alice works as a nurse."}
    assert thoughts.get([unrelated.thought.id])[0].subject == "alice.job"
    # The same subject in another document is another subject.
    assert thoughts.insert("Alice lives in Rome.", doc_id="x", subject="alice.home").outcome == (
        "inserted"
    )


def test_same_subject_near_duplicate_merges(thoughts: ThoughtMemory) -> None:
    a = thoughts.insert("The capital of France is Paris.", doc_id="geo", subject="fr.capital")
    b = thoughts.insert("Paris is the capital of France.", doc_id="geo", subject="fr.capital")
    assert b.outcome == "merged" and b.thought.id == a.thought.id
    # Close wording but keyed to another subject: never merged into it.
    c = thoughts.insert("The capital of France is Paris!", doc_id="geo", subject="other")
    assert c.outcome == "inserted"


def test_similarity_alone_never_replaces(thoughts: ThoughtMemory) -> None:
    thoughts.insert("The CEO of Acme is Bob.", doc_id="acme")
    assert thoughts.insert("The CFO of Acme is Carol.", doc_id="acme").outcome == "inserted"
    assert len(thoughts) == 2


def test_forget_explicitly_and_by_document(thoughts: ThoughtMemory) -> None:
    a = thoughts.insert("Fact one about ships.", doc_id="d1")
    thoughts.insert("Fact two about trains.", doc_id="d1")
    thoughts.insert("Fact three about planes.", doc_id="d2")
    assert thoughts.forget([a.thought.id, "missing"]) == 1
    assert thoughts.forget_document("d1") == 1
    assert [t.doc_id for t in thoughts.all()] == ["d2"]


def test_search_counts_use_and_cap_drops_least_used(store: MemoryStore) -> None:
    thoughts = ThoughtMemory(store.thoughts, max_thoughts=3)
    ids = {
        text: thoughts.insert(text, doc_id="d").thought.id
        for text in (
            "Whales are mammals.",
            "The Nile is a long river.",
            "Copper conducts electricity.",
        )
    }
    hits = thoughts.search("whales mammals", limit=1, document="d")
    assert hits[0].record.text == "Whales are mammals."
    thoughts.search("river Nile", limit=1)
    assert thoughts.get([ids["Whales are mammals."]])[0].hits == 2
    # A fourth thought: copper is the least used (1 hit), so the cap drops it.
    w = thoughts.insert("Mount Everest is the highest mountain.", doc_id="d")
    assert w.evicted == (ids["Copper conducts electricity."],)
    assert len(thoughts) == 3
    assert "Copper conducts electricity." not in {t.text for t in thoughts.all()}
