"""Behaviour: LongAgent's question pipeline (reading, members, verifier, leader, runner)
and the MemGPT-style chat agent."""

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
