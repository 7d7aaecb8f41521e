"""The store on real LanceDB with the real embedder: tiers, hybrid search, filters,
pagination, index upkeep, persistence and schema versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from longagent.memory import (
    SCHEMA_VERSION,
    ArchivalEntry,
    MemoryStore,
    MiniLMEmbedder,
    RecallMessage,
    SchemaVersionError,
    StoreError,
)
from longagent.memory.store import META_TABLE

NOW = datetime.now(UTC)

FACTS = [
    ArchivalEntry(text="My sister is called Ines.", tags=["family"], source="chat"),
    ArchivalEntry(text="Ines climbs every weekend.", tags=["family", "hobby"], source="chat"),
    ArchivalEntry(
        text="The Eiffel tower is in Paris.",
        tags=["travel"],
        source="guide.md",
        created_at=NOW - timedelta(days=10),
    ),
    ArchivalEntry(
        text="Lisbon has steep hills and yellow trams.",
        tags=["travel"],
        source="guide.md",
        created_at=NOW - timedelta(days=5),
    ),
    ArchivalEntry(text="The quarterly report is due on Friday.", tags=["work"], source="email"),
    ArchivalEntry(text="Bananas are rich in potassium.", tags=[], source="wiki"),
]


@pytest.fixture
def filled(store: MemoryStore) -> MemoryStore:
    store.archival.add(FACTS)
    return store


def texts(hits) -> list[str]:
    return [h.record.text for h in hits]


def test_archival_round_trip_and_search_modes(filled: MemoryStore) -> None:
    assert len(filled.archival) == len(FACTS)
    got = filled.archival.get([FACTS[2].id, "missing", FACTS[0].id])
    assert [g.id for g in got] == [FACTS[2].id, FACTS[0].id]
    assert got[0] == FACTS[2]  # tags, source and time survive the round trip

    hybrid = filled.archival.search("what is my sister's name", limit=3)
    assert hybrid[0].record.text == "My sister is called Ines."
    assert hybrid[0].score >= hybrid[-1].score
    vector = filled.archival.search("sibling", mode="vector", limit=2)
    assert vector[0].record.text == "My sister is called Ines."
    assert 0 < vector[0].score <= 1  # cosine similarity
    fts = filled.archival.search("potassium", mode="fts")
    assert texts(fts) == ["Bananas are rich in potassium."]
    # Semantic-only match: no shared word, hybrid still finds it through the vector leg.
    assert filled.archival.search("fruit nutrition", limit=1)[0].record.source == "wiki"


def test_filters(filled: MemoryStore) -> None:
    a = filled.archival
    assert set(texts(a.search("Ines", tags=["hobby"]))) == {"Ines climbs every weekend."}
    assert len(a.search("anything at all", tags=["family", "travel"], limit=10)) == 4
    assert texts(a.search("Ines", tags=["family", "hobby"], all_tags=True)) == [
        "Ines climbs every weekend."
    ]
    recent = a.search("travel city", since=NOW - timedelta(days=7), tags=["travel"])
    assert texts(recent) == ["Lisbon has steep hills and yellow trams."]
    old = a.search("travel city", until=NOW - timedelta(days=7))
    assert texts(old) == ["The Eiffel tower is in Paris."]
    naive = (NOW - timedelta(days=7)).replace(tzinfo=None)  # naive means UTC
    assert texts(a.search("travel city", until=naive)) == ["The Eiffel tower is in Paris."]
    assert {h.record.source for h in a.search("city", document="guide.md")} == {"guide.md"}
    assert a.count(tags=["travel"]) == 2
    assert a.count(where="source = 'chat'") == 2
    # A quote in a filter value stays inside the literal.
    assert a.search("Ines", document="x' OR '1'='1") == []
    with pytest.raises(ValueError, match="no 'agent' filter"):
        a.search("Ines", agent="alice")
    with pytest.raises(ValueError, match="unknown filter"):
        a.search("Ines", colour="red")  # type: ignore[call-arg]


def test_pagination_is_consistent(filled: MemoryStore) -> None:
    for mode in ("hybrid", "vector"):
        whole = filled.archival.search("places and people", mode=mode, limit=4)
        first = filled.archival.search("places and people", mode=mode, limit=2)
        second = filled.archival.search("places and people", mode=mode, limit=2, offset=2)
        assert [h.record.id for h in first + second] == [h.record.id for h in whole]
    scanned = filled.archival.scan(limit=2, offset=1)
    assert [s.id for s in scanned] == [e.id for e in sorted(FACTS, key=lambda e: e.created_at)][1:3]


def test_fts_queries_with_odd_characters(filled: MemoryStore) -> None:
    for query in ['"unbalanced', "a:b AND (", "*?+-", "the"]:
        filled.archival.search(query, mode="fts")
        filled.archival.search(query)  # hybrid falls back on its vector leg
    with pytest.raises(ValueError, match="non-empty"):
        filled.archival.search("   ")


def test_recall_filters_by_agent_and_role(store: MemoryStore) -> None:
    store.recall.add(
        [
            RecallMessage(agent="alice", role="user", content="I adopted a cat named Miso."),
            RecallMessage(agent="alice", role="assistant", content="Miso is a lovely name."),
            RecallMessage(agent="bob", role="user", content="My cat is called Tom."),
        ]
    )
    hits = store.recall.search("cat name", agent="alice", role="user")
    assert [h.record.content for h in hits] == ["I adopted a cat named Miso."]
    assert store.recall.count(agent="bob") == 1


def test_index_kept_current(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    store = MemoryStore(tmp_path / "s", embedder, optimize_every=3)
    store.archival.add(FACTS[:2])
    store.archival.add(FACTS[2:4])
    # Written after the index was built and not folded in yet: still found.
    assert store.archival.index_status() == {"indexed": 0, "unindexed": 4}
    assert texts(store.archival.search("Lisbon", mode="fts")) == [FACTS[3].text]
    store.archival.add(FACTS[4:])  # third write: optimize folds rows into the index
    assert store.archival.index_status() == {"indexed": 6, "unindexed": 0}
    assert texts(store.archival.search("potassium", mode="fts")) == [FACTS[5].text]
    store.archival.delete([FACTS[5].id])
    assert store.archival.search("potassium", mode="fts") == []


def test_delete_and_reopen(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    home = tmp_path / "s"
    store = MemoryStore(home, embedder)
    store.archival.add(FACTS)
    assert store.archival.delete([FACTS[0].id, "nope"]) == 1
    assert store.archival.delete_where(tags=["travel"]) == 2
    store.close()
    again = MemoryStore(home, embedder)
    assert again.schema_version == SCHEMA_VERSION
    assert {e.id for e in again.archival} == {FACTS[i].id for i in (1, 4, 5)}
    assert again.meta()["embedder"] == embedder.name


def _set_version(home: Path, embedder: MiniLMEmbedder, version: int) -> None:
    store = MemoryStore(home, embedder)
    store._write_meta({"schema_version": str(version)})


def test_newer_schema_version_is_refused(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    _set_version(tmp_path / "s", embedder, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaVersionError, match=rf"version {SCHEMA_VERSION + 1}.*upgrade"):
        MemoryStore(tmp_path / "s", embedder)


def test_older_schema_version_without_migration(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    _set_version(tmp_path / "s", embedder, 0)
    with pytest.raises(SchemaVersionError, match="no migration from version 0"):
        MemoryStore(tmp_path / "s", embedder)


def test_older_schema_version_migrates(
    tmp_path: Path, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from longagent.memory import store as store_module

    _set_version(tmp_path / "s", embedder, SCHEMA_VERSION - 1)
    ran: list[int] = []
    monkeypatch.setitem(store_module.MIGRATIONS, SCHEMA_VERSION - 1, lambda s: ran.append(1))
    reopened = MemoryStore(tmp_path / "s", embedder)
    assert ran == [1]
    assert reopened.schema_version == SCHEMA_VERSION


def test_unversioned_or_damaged_store_is_refused(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    home = tmp_path / "s"
    store = MemoryStore(home, embedder)
    store.db.drop_table(META_TABLE)
    # Empty tables and no version: a creation that was cut short; it is completed.
    assert MemoryStore(home, embedder).schema_version == SCHEMA_VERSION
    store = MemoryStore(home, embedder)
    store.archival.add(FACTS[:1])
    store.db.drop_table(META_TABLE)
    with pytest.raises(SchemaVersionError, match="no schema version"):
        MemoryStore(home, embedder)

    other = tmp_path / "t"
    store = MemoryStore(other, embedder)
    store.thoughts.table.drop_columns(["hits"])
    with pytest.raises(SchemaVersionError, match=r"missing columns: \['hits'\]"):
        MemoryStore(other, embedder)


def test_store_from_settings(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    from longagent.config import Settings

    store = MemoryStore.from_settings(Settings(home=tmp_path), "alice", embedder)
    assert store.home == tmp_path / "agents" / "alice" / "memory"
    assert (store.home / ".locks").is_dir()


def test_write_lock_timeout_is_a_clear_error(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    from filelock import FileLock

    store = MemoryStore(tmp_path / "s", embedder, lock_timeout=0.2)
    other_writer = FileLock(tmp_path / "s" / ".locks" / "archival.lock")
    with other_writer, pytest.raises(StoreError, match="write lock on 'archival'"):
        store.archival.add(FACTS[:1])
    assert store.archival.add(FACTS[:1]) == [FACTS[0].id]  # free again


def test_wrong_record_type_is_refused(store: MemoryStore) -> None:
    with pytest.raises(TypeError, match="stores ArchivalEntry, not RecallMessage"):
        store.archival.add([RecallMessage(agent="a", role="user", content="hi")])


def test_embedder_dimension_mismatch(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    MemoryStore(tmp_path / "s", embedder)

    class Wider(MiniLMEmbedder):
        dim = 512

    with pytest.raises(StoreError, match="384-dimensional"):
        MemoryStore(tmp_path / "s", Wider())
