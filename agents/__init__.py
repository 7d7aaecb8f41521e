"""Behaviour: the LongAgent leader, its members and their communication graph."""

from longagent.agents.leader import LongAgent, PreparedDocument
from longagent.agents.types import Answer, Citation, ConflictGraph, Event, MemberReport, Round

__all__ = [
    "Answer",
    "Citation",
    "ConflictGraph",
    "Event",
    "LongAgent",
    "MemberReport",
    "PreparedDocument",
    "Round",
]
