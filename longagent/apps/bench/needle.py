"""gkamradt's needle in a haystack (github.com/gkamradt/LLMTest_NeedleInAHaystack, MIT).

Its haystack is Paul Graham's essays (data/needle/PaulGrahamEssays, with its LICENSE.txt),
its default needle and question are below, verbatim. As it does, we read the essays until
the length is reached, cut the haystack to the length minus a 200-token buffer minus the
needle, and insert the needle at the depth, moved back to the end of the sentence before
(a period); depth 100% appends it. It scores with a GPT judge; we score, as the brief of
this suite asks, by whether the answer contains the needle's key phrase.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from longagent.apps.bench.natural_data import NaturalQuestion

ESSAYS = Path(__file__).parent / "data" / "needle" / "PaulGrahamEssays"
NEEDLE = (
    "\nThe best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a "
    "sunny day.\n"
)
QUESTION = "What is the best thing to do in San Francisco?"
KEY_PHRASES = ["Dolores Park", "eat a sandwich"]
BUFFER = 200  # its final_context_length_buffer: room for the prompt and the answer
LENGTHS = (4096, 8192, 16384, 32768)
DEPTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _haystack(count_tokens: Callable[[str], int], tokens: int) -> str:
    """The essays (sorted by name, so every machine reads the same order) cut to `tokens`."""
    essays = "".join(p.read_text(encoding="utf-8") for p in sorted(ESSAYS.glob("*.txt")))
    text = essays[: tokens * 8]  # no tokenizer spends more than 8 characters a token
    while count_tokens(text) < tokens:
        text = (text + essays)[: tokens * 8]
    # The longest prefix within `tokens` (it cuts by tokens and decodes; we have no decoder).
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if count_tokens(text[:middle]) <= tokens else (low, middle - 1)
    end = low
    return text[:end]


def make_needle_context(
    count_tokens: Callable[[str], int], length: int, depth: float, haystack: str | None = None
) -> str:
    context = haystack or _haystack(count_tokens, length - BUFFER - count_tokens(NEEDLE))
    if depth >= 1.0:
        return context + NEEDLE
    at = int(len(context) * depth)
    at = context.rfind(".", 0, at) + 1  # after the last period before the point (0 if none)
    return context[:at] + NEEDLE + context[at:]


def make_needle_suite(
    count_tokens: Callable[[str], int],
    lengths: tuple[int, ...] = LENGTHS,
    depths: tuple[float, ...] = DEPTHS,
) -> list[tuple[NaturalQuestion, str, int, float]]:
    """(question, document, length, depth) for every length and depth."""
    suite = []
    for length in lengths:
        haystack = _haystack(count_tokens, length - BUFFER - count_tokens(NEEDLE))
        for depth in depths:
            question = NaturalQuestion(
                id=f"needle-{length}-{round(depth * 100)}",
                document=f"paul-graham-essays-{length}",
                question=QUESTION,
                kind="lookup",
                answers=KEY_PHRASES,
                split="dev",
                evidence=[NEEDLE.strip()],
            )
            suite.append(
                (
                    question,
                    make_needle_context(count_tokens, length, depth, haystack),
                    length,
                    depth,
                )
            )
    return suite
