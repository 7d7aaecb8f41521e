"""What outlives a prompt: the LanceDB store (archival, recall, thoughts), core-memory
blocks, and the MemGPT paging controller.

    store = MemoryStore(home)                      # bundled MiniLM embedder, loaded lazily
    store.archival.add([ArchivalEntry(text="...", tags=["family"])])
    store.archival.search("sister", tags=["family"], limit=5)   # hybrid, RRF-fused
    thoughts = ThoughtMemory(store.thoughts)       # merge / contradiction / size cap
    core = CoreMemory(home / "core.json")          # persona and human blocks
    library = Library(home, "papers", embedder=MiniLMEmbedder(), count_tokens=count)
    library.add(["~/papers"]); library.search("who founded Acme", k=5)   # documents
    pager = PagingController(store, model, agent="alice", core=core)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from longagent import lazy

if TYPE_CHECKING:  # imported on first use below; a type checker sees the real names
    from longagent.memory.core import Block, CoreMemory
    from longagent.memory.embedder import Embedder, MiniLMEmbedder
    from longagent.memory.errors import (
        CoreMemoryError,
        DamagedFileError,
        SchemaVersionError,
        StoreDamagedError,
        StoreError,
    )
    from longagent.memory.filters import FilterArgs
    from longagent.memory.library import Library
    from longagent.memory.library_types import AddReport, ChunkHit, LibraryDocument
    from longagent.memory.paging import PagingController, PagingReport, PagingState
    from longagent.memory.records import ArchivalEntry, Hit, RecallMessage, Thought
    from longagent.memory.repair import TableReport, repair_store
    from longagent.memory.store import SCHEMA_VERSION, MemoryStore
    from longagent.memory.thoughts import ThoughtMemory, ThoughtWrite
    from longagent.memory.tier import SearchMode, Tier

__all__ = [
    "SCHEMA_VERSION",
    "AddReport",
    "ArchivalEntry",
    "Block",
    "ChunkHit",
    "CoreMemory",
    "CoreMemoryError",
    "DamagedFileError",
    "Embedder",
    "FilterArgs",
    "Hit",
    "Library",
    "LibraryDocument",
    "MemoryStore",
    "MiniLMEmbedder",
    "PagingController",
    "PagingReport",
    "PagingState",
    "RecallMessage",
    "SchemaVersionError",
    "SearchMode",
    "StoreDamagedError",
    "StoreError",
    "TableReport",
    "Thought",
    "ThoughtMemory",
    "ThoughtWrite",
    "Tier",
    "repair_store",
]

__getattr__ = lazy.exports(
    __name__,
    {
        "AddReport": "library_types",
        "ArchivalEntry": "records",
        "Block": "core",
        "ChunkHit": "library_types",
        "CoreMemory": "core",
        "CoreMemoryError": "errors",
        "DamagedFileError": "errors",
        "Embedder": "embedder",
        "FilterArgs": "filters",
        "Hit": "records",
        "Library": "library",
        "LibraryDocument": "library_types",
        "MemoryStore": "store",
        "MiniLMEmbedder": "embedder",
        "PagingController": "paging",
        "PagingReport": "paging",
        "PagingState": "paging",
        "RecallMessage": "records",
        "SCHEMA_VERSION": "store",
        "SchemaVersionError": "errors",
        "SearchMode": "tier",
        "StoreDamagedError": "errors",
        "StoreError": "errors",
        "TableReport": "repair",
        "Thought": "records",
        "ThoughtMemory": "thoughts",
        "ThoughtWrite": "thoughts",
        "Tier": "tier",
        "repair_store": "repair",
    },
)
