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
