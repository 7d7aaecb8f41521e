"""Behaviour: the LongAgent leader, its members and their communication graph."""

from longagent.agents.chat import ChatAgent
from longagent.agents.chat_types import FunctionCall, Reply
from longagent.agents.leader import LongAgent, PreparedDocument
from longagent.agents.types import Answer, Citation, ConflictGraph, Event, MemberReport, Round

__all__ = [
    "Answer",
    "ChatAgent",
    "Citation",
    "ConflictGraph",
    "Event",
    "FunctionCall",
    "LongAgent",
    "MemberReport",
    "PreparedDocument",
    "Reply",
    "Round",
]
