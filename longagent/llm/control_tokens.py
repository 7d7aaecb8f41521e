"""Chat-control tokens inside message text are broken so they tokenize as plain text.

Documents and user text are fenced as data by the chat template's control tokens; a
document that contains `<|im_end|>` would otherwise close its own fence and open a turn of
its choosing. A zero-width space after the token's first character keeps the visible text
the same while no tokenizer matches it as the special token any more.
"""

from __future__ import annotations

import re
from typing import Any

BREAK = "\u200b"  # zero-width space: invisible, and part of no special token


class ControlTokenGuard:
    """Neutralises every special token of one tokenizer in a piece of text."""

    def __init__(self, tokenizer: Any) -> None:
        tokens = set(getattr(tokenizer, "all_special_tokens", []))
        for added in getattr(tokenizer, "added_tokens_decoder", {}).values():
            if added.special:
                tokens.add(added.content)
        # Longest first, so a token that contains a shorter one is broken whole.
        usable = sorted((t for t in tokens if len(t) > 1 and BREAK not in t), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, usable))) if usable else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        # Each pass breaks every match it finds and creates none (BREAK is in no token);
        # a token overlapping a broken one is caught by the next pass, so this ends.
        while True:
            text, found = self._pattern.subn(lambda m: m[0][0] + BREAK + m[0][1:], text)
            if not found:
                return text
