"""The one prompt loader: prompts are text files in `agents/prompts/`, read once."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def prompt(name: str) -> str:
    return resources.files("longagent.agents").joinpath("prompts", f"{name}.txt").read_text()
