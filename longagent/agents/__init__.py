"""Behaviour: LongAgent's question pipeline (reading, members, verifier, leader, runner)
and the MemGPT-style chat agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from longagent import lazy

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

__getattr__ = lazy.exports(
    __name__,
    {
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
    },
)
