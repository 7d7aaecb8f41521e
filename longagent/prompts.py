"""The one prompt loader: prompts are text files in a `prompts/` folder beside the code
that uses them (`longagent/agents/prompts/`, `longagent/memory/prompts/`), read once."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_prompt(package: str, name: str) -> str:
    """The prompt `name` (without .txt) of `package`, e.g. ("longagent.agents", "member")."""
    return resources.files(package).joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8")
