"""Talking to a model: the `ChatModel` protocol and its backends."""

from longagent.llm.base import ChatModel, Generation, GenerationRequest, Message
from longagent.llm.fake import ScriptedModel
from longagent.llm.registry import load_model

__all__ = [
    "ChatModel",
    "Generation",
    "GenerationRequest",
    "Message",
    "ScriptedModel",
    "load_model",
]
