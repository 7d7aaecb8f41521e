"""longagent: long-document QA and persistent-memory chat on a local model.

The public names live here; everything else is reachable through the subpackages.
"""

from __future__ import annotations

from longagent.config import Settings, get_settings
from longagent.errors import (
    ConfigError,
    ContextOverflowError,
    DocumentError,
    LongAgentError,
    ModelLoadError,
    ModelResponseError,
    ModelUnavailableError,
)
from longagent.llm import ChatModel, Generation, GenerationRequest, Message, load_model

__all__ = [
    "ChatModel",
    "ConfigError",
    "ContextOverflowError",
    "DocumentError",
    "Generation",
    "GenerationRequest",
    "LongAgentError",
    "Message",
    "ModelLoadError",
    "ModelResponseError",
    "ModelUnavailableError",
    "Settings",
    "get_settings",
    "load_model",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`longagent.LongAgent` and `longagent.ChatAgent`, imported on first use (they load
    the agents, chunking and LanceDB stacks, which plain model use does not need)."""
    if name in {"LongAgent", "ChatAgent"}:
        from longagent import agents

        return getattr(agents, name)
    raise AttributeError(f"module 'longagent' has no attribute {name!r}")
