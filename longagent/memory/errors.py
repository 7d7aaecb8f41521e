"""Errors of the memory layer: each message says what went wrong and what to do about it."""

from __future__ import annotations

from longagent.errors import LongAgentError


class StoreError(LongAgentError):
    """The memory store cannot be opened, read or written."""


class SchemaVersionError(StoreError):
    """The store on disk was written by a schema version this code cannot use or migrate."""


class CoreMemoryError(LongAgentError):
    """A core-memory edit was refused (limit exceeded, old text absent, unknown block).

    A refused edit is never applied: the block keeps the value it had before the call.
    """


class DamagedFileError(StoreError):
    """A state file (core.json, paging.json) is damaged and has no readable backup copy."""


class StoreDamagedError(StoreError):
    """A table of the memory store has unreadable data files; `longagent repair` keeps
    every readable row."""
