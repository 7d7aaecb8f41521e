"""A chat agent in one file: export everything it remembers, import it under a new name
or home. The file is JSON (no embeddings: they are recomputed on import, so a file
outlives the embedder that wrote it)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, Field, ValidationError

from longagent.errors import LongAgentError
from longagent.memory import (
    ArchivalEntry,
    Block,
    MemoryStore,
    PagingState,
    RecallMessage,
    Thought,
)
from longagent.memory._atomic import write_json_atomic
from longagent.memory.records import utcnow

if TYPE_CHECKING:
    from longagent.agents.chat import ChatAgent
    from longagent.llm import ChatModel

FORMAT: Final = "longagent-chat-agent"
VERSION = 1


class AgentExport(BaseModel):
    """The export file's content."""

    format: Literal["longagent-chat-agent"] = FORMAT
    version: int = VERSION
    name: str
    exported_at: datetime = Field(default_factory=utcnow)
    core: list[Block]
    paging: PagingState
    recall: list[RecallMessage]
    archival: list[ArchivalEntry]
    thoughts: list[Thought]


def export_agent(agent: ChatAgent, path: str | Path) -> Path:
    """Write `agent` to `path` atomically; returns the path."""
    path = Path(path).expanduser()
    agent.core.reload()
    data = AgentExport(
        name=agent.name,
        core=list(agent.core),
        paging=agent.pager.state.model_copy(
            update={"in_context": [m.id for m in agent.pager.messages]}
        ),
        recall=agent.store.recall.scan(limit=10_000_000, agent=agent.name),
        archival=list(agent.store.archival),
        thoughts=list(agent.store.thoughts),
    )
    try:
        write_json_atomic(path, data.model_dump(mode="json"))
    except OSError as exc:
        raise LongAgentError(f"cannot write the agent file {path}: {exc}") from exc
    return path


def read_export(path: str | Path) -> AgentExport:
    path = Path(path).expanduser()
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LongAgentError(f"cannot read the agent file {path}: {exc}") from exc
    try:
        data = AgentExport.model_validate_json(raw)
    except ValidationError as exc:
        raise LongAgentError(f"{path} is not a longagent chat-agent export: {exc}") from exc
    if data.version != VERSION:
        raise LongAgentError(f"{path} has export version {data.version}; this reads {VERSION}")
    return data


def import_agent(
    path: str | Path,
    model: ChatModel,
    *,
    home: str | Path | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> ChatAgent:
    """Create the agent in the file under `home` as `name` (default: its exported name).
    Refused when an agent of that name already exists there."""
    from longagent.agents.chat import ChatAgent, agent_dir

    data = read_export(path)
    name = name or data.name
    target = agent_dir(home, name, kwargs.get("settings"))
    if target.exists() and any(target.iterdir()):
        raise LongAgentError(
            f"an agent named {name!r} already exists in {target.parent}; import it under "
            "another name or remove that folder first"
        )
    store = MemoryStore(target / "memory", kwargs.get("embedder"))
    try:
        store.archival.add(data.archival)
        store.thoughts.add(data.thoughts)
        store.recall.add([m.model_copy(update={"agent": name}) for m in data.recall])
    finally:
        store.close()
    write_json_atomic(
        target / "core.json",
        {"version": 1, "blocks": [b.model_dump() for b in data.core]},
        backup=True,
    )
    write_json_atomic(
        target / "paging.json",
        data.paging.model_copy(update={"agent": name}).model_dump(mode="json"),
        backup=True,
    )
    return ChatAgent(model, home, name, **kwargs)
