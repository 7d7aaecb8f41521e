"""Core memory (MemGPT): a few labelled text blocks that always sit in the main context,
each with a character limit, edited only through checked `append` and `replace`.

The blocks live in one JSON file, rewritten atomically on every edit. Each edit re-reads
the file under a file lock first, so two processes editing one agent's blocks never lose
each other's changes, and an edit that is refused leaves memory and disk untouched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from filelock import FileLock
from pydantic import BaseModel, Field, ValidationError, model_validator

from longagent.memory._atomic import read_json, write_json_atomic
from longagent.memory.errors import CoreMemoryError

DEFAULT_LIMIT = 2000  # characters, MemGPT's default per block

DEFAULT_BLOCKS: dict[str, str] = {
    "persona": "",
    "human": "",
}


class Block(BaseModel):
    """One labelled block; `value` never exceeds `limit` characters."""

    label: str
    value: str = ""
    limit: int = Field(default=DEFAULT_LIMIT, ge=1)

    @model_validator(mode="after")
    def _within_limit(self) -> Block:
        if len(self.value) > self.limit:
            raise ValueError(
                f"block {self.label!r} holds {len(self.value)} characters, over its limit of "
                f"{self.limit}"
            )
        return self


class _File(BaseModel):
    version: int = 1
    blocks: list[Block]


class CoreMemory:
    """Labelled blocks persisted at `path` (a JSON file).

    >>> core = CoreMemory(home / "core.json")       # persona and human, empty
    >>> core.append("human", "Her sister is called Ines.")
    >>> core.replace("human", "Ines", "Inès")
    >>> core.render()                                # the text that enters the prompt
    """

    def __init__(
        self,
        path: str | Path,
        *,
        defaults: Mapping[str, str] | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.path.with_name(self.path.name + ".lock"))
        self._blocks: dict[str, Block] = {}
        with self._lock:
            if self.path.exists():
                self._load()
            else:
                initial = DEFAULT_BLOCKS if defaults is None else defaults
                self._blocks = {
                    label: Block(label=label, value=value, limit=limit)
                    for label, value in initial.items()
                }
                self._save()

    # -- reading -------------------------------------------------------------------------

    def _load(self) -> None:
        data = read_json(
            self.path,
            advice="Move it aside to start with the default blocks (recall, archival and "
            "thought memory are kept apart and not affected).",
        )
        try:
            parsed = _File.model_validate(data)
        except ValidationError as exc:
            raise CoreMemoryError(f"core memory file {self.path} is not valid: {exc}") from exc
        if parsed.version != 1:
            raise CoreMemoryError(
                f"core memory file {self.path} has version {parsed.version}; this longagent "
                "reads version 1"
            )
        self._blocks = {b.label: b for b in parsed.blocks}

    def _save(self) -> None:
        data = _File(blocks=list(self._blocks.values())).model_dump()
        write_json_atomic(self.path, data, backup=True)

    def reload(self) -> None:
        """Pick up edits made by other processes."""
        with self._lock:
            self._load()

    @property
    def labels(self) -> list[str]:
        return list(self._blocks)

    def block(self, label: str) -> Block:
        try:
            return self._blocks[label].model_copy()
        except KeyError:
            raise CoreMemoryError(
                f"no core memory block {label!r}; blocks are: {', '.join(self._blocks) or 'none'}"
            ) from None

    def get(self, label: str) -> str:
        return self.block(label).value

    def __getitem__(self, label: str) -> str:
        return self.get(label)

    def __iter__(self) -> Iterator[Block]:
        return iter([b.model_copy() for b in self._blocks.values()])

    def render(self) -> str:
        """The blocks as they enter the main context, one tagged section per block."""
        parts = []
        for b in self._blocks.values():
            parts.append(
                f'<{b.label} characters="{len(b.value)}/{b.limit}">\n{b.value}\n</{b.label}>'
            )
        return "\n".join(parts)

    # -- editing -------------------------------------------------------------------------

    def _edit(self, label: str, new_value: str, *, what: str) -> Block:
        """Check and apply one edit against the newest state on disk; on refusal nothing
        changes, in memory or on disk."""
        block = self._blocks[label]  # callers have checked that it exists
        if len(new_value) > block.limit:
            raise CoreMemoryError(
                f"refused to {what} block {label!r}: the result would be {len(new_value)} "
                f"characters, over its limit of {block.limit}. Shorten it or move details "
                "to archival memory."
            )
        updated = block.model_copy(update={"value": new_value})
        blocks = dict(self._blocks)
        blocks[label] = updated
        previous, self._blocks = self._blocks, blocks
        try:
            self._save()
        except BaseException:
            self._blocks = previous
            raise
        return updated.model_copy()

    def append(self, label: str, text: str, *, separator: str = "\n") -> Block:
        """Add `text` at the end of block `label` (after `separator` if it is not empty)."""
        with self._lock:
            self._load()
            current = self.get(label)
            new_value = f"{current}{separator}{text}" if current else text
            return self._edit(label, new_value, what="append to")

    def replace(self, label: str, old: str, new: str) -> Block:
        """Replace every occurrence of `old` in block `label` with `new` (an empty `new`
        deletes). Refused when `old` is empty or absent, or the result exceeds the limit."""
        with self._lock:
            self._load()
            current = self.get(label)
            if not old:
                raise CoreMemoryError(f"refused to edit block {label!r}: the old text is empty")
            if old not in current:
                raise CoreMemoryError(
                    f"refused to edit block {label!r}: the old text {old!r} is not in it"
                )
            return self._edit(label, current.replace(old, new), what="edit")

    def add_block(self, label: str, value: str = "", *, limit: int = DEFAULT_LIMIT) -> Block:
        """Create a new block; refused if `label` exists or `value` exceeds `limit`."""
        with self._lock:
            self._load()
            if label in self._blocks:
                raise CoreMemoryError(f"core memory block {label!r} already exists")
            if len(value) > limit:
                raise CoreMemoryError(
                    f"refused to create block {label!r}: {len(value)} characters is over its "
                    f"limit of {limit}"
                )
            previous = self._blocks
            self._blocks = {**previous, label: Block(label=label, value=value, limit=limit)}
            try:
                self._save()
            except BaseException:
                self._blocks = previous
                raise
            return self.block(label)
