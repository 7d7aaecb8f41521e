"""The `Verifier` seam: is a member's reply grounded in its own chunk?

A verifier judges every reply (`check`), tells the reading which chunks could never
ground an answer (`could_ground`, so they need not be read), picks the passages of a
chunk a focused re-reading should see (`focus`), and says when two answers are the same
(`same_answer`, which clusters members into agreeing groups). Verifiers register by name,
as LanceDB's embedding functions do: `@register_verifier("mine")`, then
`LongAgent(model, verifier="mine")`.

The contract every verifier keeps (tested against each registered one): when
`could_ground(chunk, question)` is False, `check` never returns "grounded" for that chunk,
so skipping the chunk can never change an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from longagent.agents.types import Verdict
from longagent.errors import ConfigError

if TYPE_CHECKING:
    from longagent.agents.member import MemberReply
    from longagent.agents.question import Question


@dataclass(frozen=True)
class Check:
    """A verifier's judgement of one reply."""

    verdict: Verdict
    reason: str = ""
    span: tuple[int, int] | None = None  # the evidence, as a character span of the chunk


@runtime_checkable
class Verifier(Protocol):
    def check(self, reply: MemberReply, chunk: str, question: Question) -> Check: ...

    def could_ground(self, chunk: str, question: Question) -> bool: ...

    def focus(self, chunk: str, question: Question) -> str: ...

    def same_answer(self, a: str, b: str) -> bool: ...


VERIFIERS: dict[str, Callable[[], Verifier]] = {}


def register_verifier(name: str) -> Callable[[Callable[[], Verifier]], Callable[[], Verifier]]:
    """Class decorator: make a verifier available by `name`."""

    def add(factory: Callable[[], Verifier]) -> Callable[[], Verifier]:
        VERIFIERS[name] = factory
        return factory

    return add


def verifier_names() -> list[str]:
    """Every registered verifier's name, the built-in ones included."""
    # Importing the built-in verifiers registers them.
    from longagent.agents import evidence, judged, semantic  # noqa: F401

    return sorted(VERIFIERS)


def get_verifier(verifier: str | Verifier) -> Verifier:
    """A verifier instance from its registered name, or the instance itself."""
    if not isinstance(verifier, str):
        return verifier
    if verifier not in verifier_names():
        raise ConfigError(f"Unknown verifier {verifier!r}; choose from {sorted(VERIFIERS)}.")
    return VERIFIERS[verifier]()
