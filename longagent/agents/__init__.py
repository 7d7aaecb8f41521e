"""Behaviour: LongAgent's question pipeline (reading, members, verifier, leader, runner)
and the MemGPT-style chat agent."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first use below; a type checker sees the real names
    from longagent.agents.chat import ChatAgent
    from longagent.agents.chat_types import FunctionCall, Reply
    from longagent.agents.leader import Leader, ModelLeader, RuleLeader
    from longagent.agents.long_agent import LongAgent
    from longagent.agents.prepared import PreparedDocument
    from longagent.agents.question import Question
    from longagent.agents.reading import All, Reading, Relevance, Sweep
    from longagent.agents.thoughts import InMemoryThoughts, LanceThoughts, ThoughtStore
    from longagent.agents.types import Answer, Citation, ConflictGraph, Event, MemberReport, Round
    from longagent.agents.verifier import Check, Verifier, register_verifier

__all__ = [
    "All",
    "Answer",
    "ChatAgent",
    "Check",
    "Citation",
    "ConflictGraph",
    "Event",
    "FunctionCall",
    "InMemoryThoughts",
    "LanceThoughts",
    "Leader",
    "LongAgent",
    "MemberReport",
    "ModelLeader",
    "PreparedDocument",
    "Question",
    "Reading",
    "Relevance",
    "Reply",
    "Round",
    "RuleLeader",
    "Sweep",
    "ThoughtStore",
    "Verifier",
    "register_verifier",
]

# Where each public name lives: importing one submodule (a CLI checking an option)
# must not import them all (torch, LanceDB: seconds).
_HOMES = {
    "All": "reading",
    "Answer": "types",
    "ChatAgent": "chat",
    "Check": "verifier",
    "Citation": "types",
    "ConflictGraph": "types",
    "Event": "types",
    "FunctionCall": "chat_types",
    "InMemoryThoughts": "thoughts",
    "LanceThoughts": "thoughts",
    "Leader": "leader",
    "LongAgent": "long_agent",
    "MemberReport": "types",
    "ModelLeader": "leader",
    "PreparedDocument": "prepared",
    "Question": "question",
    "Reading": "reading",
    "Relevance": "reading",
    "Reply": "chat_types",
    "Round": "types",
    "RuleLeader": "leader",
    "Sweep": "reading",
    "ThoughtStore": "thoughts",
    "Verifier": "verifier",
    "register_verifier": "verifier",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'longagent.agents' has no attribute {name!r}")
    return getattr(importlib.import_module(f"longagent.agents.{home}"), name)
