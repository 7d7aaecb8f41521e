"""longagent: long-document QA and persistent-memory chat on a local model.

The public names live here; everything else is reachable through the subpackages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from longagent import lazy
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

if TYPE_CHECKING:  # imported lazily below; a type checker sees the real classes
    from longagent.agents import ChatAgent, LongAgent

__all__ = [
    "ChatAgent",
    "ChatModel",
    "ConfigError",
    "ContextOverflowError",
    "DocumentError",
    "Generation",
    "GenerationRequest",
    "LongAgent",
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


# `longagent.LongAgent` and `longagent.ChatAgent` load the agents, chunking and LanceDB
# stacks, which plain model use does not need.
__getattr__ = lazy.exports(__name__, {"LongAgent": "agents", "ChatAgent": "agents"})
