"""The one agent-name rule, shared by the chat agent, its command line and the web app. It
lives in the facade so a command line can check a name without importing the agents."""

from __future__ import annotations

import re
from typing import TypeGuard

# No dots: a name is a folder, never "..", never hidden. Check with `fullmatch`.
AGENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
NAME_RULE = "letters, digits, '_' and '-', at most 64, starting with a letter or digit"


def is_agent_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and AGENT_NAME.fullmatch(name) is not None
