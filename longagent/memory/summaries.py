"""Guards on the recursive summary: a small model's summary is checked before it replaces
the old one.

Measured on the bundled 135M model: asked to fold small talk into a summary, it often
loops (`<remarks>` a dozen times) or writes a polite line that mentions nothing that was
said ("I'm ready to assist you"), or echoes its prompt (`</summary>`, "left memory now,
oldest first"). So the output is cut at its first tag, at the first line that quotes the
instructions, and where it starts repeating itself, and a summary that
is then empty or not about the conversation is replaced by an extractive one: the most
specific sentences of the old summary and the evicted messages, as they were written. Nothing is lost either way (every message stays
in recall), but the summary is the only part of the past the model always sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from longagent.text import names_and_numbers, sentence_texts

NGRAM = 6  # a run of this many words seen twice means the output loops
MIN_WORDS = 2  # content words a summary needs to say anything
MIN_SENTENCE = 3  # words an extracted sentence needs ("How nice!" says nothing)
GROUNDING = 0.4  # share of its content words that must come from what it summarises

_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_TAG = re.compile(r"</?[A-Za-z][\w-]*[^<>]*>")
_ROLE = re.compile(r"^(user|assistant|tool|system): ", re.MULTILINE)
_COMMON_WORDS = (  # words that say nothing about what was said
    "the and for that this with was were are has have had his her she they them their "
    "you your our not but from about into than then there what which who when where "
    "how also its him all any can could would should will just very some said says "
    "user assistant conversation summary"
)
_COMMON = frozenset(_COMMON_WORDS.split())


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _content(text: str) -> set[str]:
    words = _words(_TAG.sub(" ", text))
    return {w for w in words if (len(w) > 2 or w.isdigit()) and w not in _COMMON}


def cut_markup(text: str) -> str:
    """`text` up to its first tag, leading tags aside: a summary has no markup, and a
    small model that writes some is echoing its prompt (`</summary>`, `<messages>`)."""
    text = text.strip()
    while (lead := _TAG.match(text)) is not None:
        text = text[lead.end() :].lstrip()
    tag = _TAG.search(text)
    return (text[: tag.start()] if tag else text).strip()


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def cut_echo(text: str, instructions: str, source: str, n: int = 4) -> str:
    """`text` up to the first line that quotes `instructions` (a run of `n` of their words
    that `source` does not have): "The most recent message left memory now, oldest
    first:" is the prompt talking, not a summary."""
    echo = _grams(instructions, n) - _grams(source, n)
    kept: list[str] = []
    for line in text.splitlines():
        if _grams(line, n) & echo:
            break
        kept.append(line)
    return "\n".join(kept).strip()


def cut_repetition(text: str, n: int = NGRAM) -> str:
    """`text` up to where it starts repeating itself: a line it already wrote (case and
    spacing aside), or a run of `n` words it already wrote."""
    kept: list[str] = []
    seen_lines: set[str] = set()
    for line in text.splitlines():
        key = " ".join(_words(line)) or line.strip()
        if key and key in seen_lines:
            break
        seen_lines.add(key)
        kept.append(line)
    text = "\n".join(kept)
    spans = list(_WORD.finditer(text))
    seen: set[tuple[str, ...]] = set()
    for i in range(len(spans) - n + 1):
        gram = tuple(m.group().lower() for m in spans[i : i + n])
        if gram in seen:
            return text[: spans[i].start()].rstrip(" ,;:-\n")
        seen.add(gram)
    return text.strip()


def _names(sentence: str) -> set[str]:
    """Names and numbers in a sentence: what a later turn is most likely to ask about."""
    return names_and_numbers(sentence)


def _specific(text: str) -> set[str]:
    text = _ROLE.sub("", _TAG.sub(" ", text))  # "user: By the way" starts a sentence
    return {n for s in sentence_texts(text) for n in _names(s)}


def _specificity(sentence: str) -> int:
    return len(_names(sentence))


def degenerate(summary: str, source: str) -> bool:
    """True when `summary` says too little, keeps none of the names and numbers of
    `source` (the old summary and the evicted messages) while there are some, or too
    little of it comes from `source`."""
    words = _content(summary)
    if len(words) < MIN_WORDS:
        return True
    names = _specific(source)
    if names and not names & {w.lower() for w in _WORD.findall(summary)}:
        return True  # "This chat is about a new summary." (measured)
    said = _content(source)
    stems = {w.rstrip("s") for w in said}
    grounded = [w for w in words if w in said or w.rstrip("s") in stems]
    return len(grounded) < GROUNDING * len(words)


def extractive_summary(
    previous: str,
    messages: Sequence[tuple[str, str]],
    max_tokens: int,
    count_tokens: Callable[[str], int],
) -> str:
    """A summary made of sentences as they were written: the old summary's lines and the
    evicted messages' sentences (as `role: sentence`), the user's and the most specific
    first, newest first among equals, shown in their original order, within `max_tokens`."""
    candidates: list[tuple[int, str]] = []  # (priority, line)
    for line in previous.splitlines():
        if line.strip():
            candidates.append((2 + _specificity(line), line.strip()))
    for role, content in messages:
        for sentence in sentence_texts(content):
            if len(_words(sentence)) >= MIN_SENTENCE:
                bonus = 1 if role == "user" else 0
                candidates.append((bonus + _specificity(sentence), f"{role}: {sentence}"))
    unique = list(dict.fromkeys(line for _, line in candidates))
    priority = {line: p for p, line in candidates}
    order = sorted(range(len(unique)), key=lambda i: (-priority[unique[i]], -i))
    chosen: set[int] = set()
    for i in order:
        trial = "\n".join(unique[j] for j in sorted(chosen | {i}))
        if count_tokens(trial) <= max_tokens:
            chosen.add(i)
    return "\n".join(unique[j] for j in sorted(chosen))


def guard(
    output: str,
    previous: str,
    messages: Sequence[tuple[str, str]],
    max_tokens: int,
    count_tokens: Callable[[str], int],
    instructions: str = "",
) -> str:
    """The model's summary cut where it echoes markup or its `instructions` or loops, or
    an extractive one when what is left is degenerate (see the module docstring)."""
    source = "\n".join([previous, *(content for _, content in messages)])
    text = cut_repetition(cut_echo(cut_markup(output), instructions, source))
    if not degenerate(text, source):
        return text
    return extractive_summary(previous, messages, max_tokens, count_tokens) or previous
