"""What the chat agent returns and where it lives: `Reply`, `FunctionCall`, the agent
folder, and its prompt files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from longagent.config import Settings
from longagent.errors import LongAgentError
from longagent.llm import Message
from longagent.llm.usage import Usage

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NO_REPLY = "(no reply: the model did not produce a valid function call)"


@cache
def prompt(name: str) -> str:
    return resources.files("longagent.agents").joinpath("prompts", f"{name}.txt").read_text()


class FunctionCall(BaseModel):
    """One function call of a turn and what came of it."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: str = ""
    error: str | None = None
    heartbeat: bool = False
    auto: bool = Field(
        default=False, description="Run by the agent itself (a pre-fetch or an attachment)."
    )


class Reply(BaseModel):
    """What one `send` did: the text for the user and the steps behind it."""

    text: str
    function_calls: list[FunctionCall] = Field(default_factory=list)
    steps: int = 0
    invalid_outputs: int = 0  # model outputs that were not a valid call (then retried)
    memory_pressure: float = 0.0  # fraction of the token budget in use after the turn
    warning: bool = False  # the memory-pressure warning was shown during the turn
    evicted: list[str] = Field(default_factory=list)  # recall ids moved out of context
    usage: Usage = Field(default_factory=Usage)

    @property
    def called(self) -> list[str]:
        return [c.name for c in self.function_calls]


@dataclass
class TurnState:
    question: str = ""  # the user's message this turn answers
    sent: list[str] = field(default_factory=list)
    calls: list[FunctionCall] = field(default_factory=list)
    steps: int = 0
    errors: int = 0  # invalid outputs and failed calls, against max_retries
    invalid: int = 0
    tainted: bool = False  # document text has entered this turn
    warning: bool = False
    evicted: list[str] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)  # transient: never persisted
    failed: list[str] = field(default_factory=list)  # recall ids of failed calls and results


def agent_dir(home: str | Path | None, name: str, settings: Settings | None = None) -> Path:
    if not NAME_PATTERN.match(name):
        raise LongAgentError(
            f"agent name {name!r} is not allowed: use letters, digits, '.', '_' and '-' "
            "(at most 64, starting with a letter or digit)"
        )
    base = Path(home).expanduser() if home is not None else (settings or Settings()).home
    return base / "agents" / name
