"""What the chat agent returns and where it lives: `Reply`, `FunctionCall`, the agent
folder, and its prompt files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from longagent.config import Settings
from longagent.errors import LongAgentError
from longagent.llm import ChatModel, Message
from longagent.llm.usage import Usage
from longagent.names import NAME_RULE, is_agent_name
from longagent.prompts import load_prompt

# The one rule for agent names (the CLI, the library and the web app): a folder name that
# is never "..", never hidden and never holds a path separator or a line break. Check it
# with fullmatch: "$" in a pattern would also match before a trailing newline.
# Above this a message is refused: a paste this long belongs in a document. Below it, a
# message longer than its share of the context budget enters the context as an excerpt.
MAX_MESSAGE_CHARS = 1_000_000
NO_REPLY = "(no reply: the model did not produce a valid function call)"


def prompt(name: str) -> str:
    """An agent prompt from `agents/prompts/`."""
    return load_prompt("longagent.agents", name)


def failure(name: str) -> str:
    """How the transcript's result of a failed call to `name` begins."""
    return f"{name} failed: "


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

    @property
    def outcome(self) -> str:
        """What the model is told of the call."""
        if self.error is not None:
            return failure(self.name) + self.error
        return f"{self.name} returned: {self.result}"


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
    appended: list[str] = field(default_factory=list)  # recall ids of this turn's messages

    def refuse(self, error: str) -> None:
        """Count an output that was not a valid function call, and say so next step."""
        self.errors += 1
        self.invalid += 1
        self.notes = [
            Message(
                role="system",
                content=f"Error: that was not a valid function call ({error}). "
                "Write one JSON function call.",
            )
        ]


class ArgumentError(LongAgentError, ValueError):
    """An argument given to the chat agent is wrong; the message says which and why."""


def check_name(name: object) -> str:
    if not is_agent_name(name):
        raise ArgumentError(f"agent name {name!r} is not allowed: use {NAME_RULE}")
    return name


def check_model(model: object) -> None:
    if not isinstance(model, ChatModel):
        raise ArgumentError(
            "model must be a chat model (name, context_window, generate, count_tokens), "
            f"got {type(model).__name__}"
        )


def check_message(text: object) -> str:
    if not isinstance(text, str):
        raise ArgumentError(f"the message must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ArgumentError("The message is empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ArgumentError(
            f"The message is {len(text):,} characters; one message may hold at most "
            f"{MAX_MESSAGE_CHARS:,}. Save the text to a file and attach it as a document."
        )
    return text


def check_options(
    positive: dict[str, object],
    non_negative: dict[str, object],
    *,
    budget: object,
    auto_search: object,
    settings: object,
    message_mode: object,
    lock_timeout: object,
) -> None:
    """The ChatAgent constructor's options, each checked with a message naming it."""
    for what, value in positive.items():
        check_int(what, value, 1)
    for what, value in non_negative.items():
        check_int(what, value, 0)
    if budget is not None:
        check_int("budget", budget, 1)
    if not isinstance(auto_search, bool):
        raise ArgumentError(f"auto_search must be True or False, got {auto_search!r}")
    if settings is not None and not isinstance(settings, Settings):
        raise ArgumentError(f"settings must be a Settings, got {type(settings).__name__}")
    if message_mode not in ("free", "json"):
        raise ArgumentError(f"message_mode must be 'free' or 'json', got {message_mode!r}")
    if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, int | float):
        raise ArgumentError(f"lock_timeout must be seconds, got {lock_timeout!r}")


def check_int(what: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArgumentError(f"{what} must be a whole number of at least {minimum}, got {value!r}")
    return value


def check_path(what: str, value: object) -> Path:
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise ArgumentError(f"{what} must be a path (str or Path), got {value!r}")
    return Path(value).expanduser()


def check_paths(what: str, value: object) -> list[Path]:
    """Paths from an iterable of paths; one path alone counts as one (a str is not split
    into characters)."""
    if isinstance(value, str | os.PathLike):
        return [check_path(what, value)]
    if not isinstance(value, Iterable):
        raise ArgumentError(f"{what} must be paths (a list of str or Path), got {value!r}")
    return [check_path(what, v) for v in value]


def agent_dir(home: str | Path | None, name: str, settings: Settings | None = None) -> Path:
    check_name(name)
    if home is not None:
        return check_path("home", home) / "agents" / name
    return (settings or Settings()).home / "agents" / name
