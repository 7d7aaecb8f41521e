"""Seeded, download-free long-document QA samples (NIAH-PLUS style, passkey, key-value).

Haystacks are real English prose every Python install has: the standard library's
documentation rendered by `pydoc`. Needles are fictional facts, so the model cannot
answer from memory, placed at a chosen depth (0 = start, 1 = end) on a paragraph break.
"""

from __future__ import annotations

import functools
import pydoc
import random
import re
import uuid
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

Kind = Literal["single", "two_hop", "absent", "passkey", "kv"]
KINDS: tuple[Kind, ...] = ("single", "two_hop", "absent", "passkey", "kv")
NOT_FOUND = "not found"

_MODULES = (
    "json",
    "csv",
    "argparse",
    "logging",
    "pathlib",
    "collections",
    "itertools",
    "functools",
    "datetime",
    "re",
    "string",
    "textwrap",
    "os",
    "shutil",
    "subprocess",
    "threading",
    "queue",
    "socket",
    "http.client",
    "urllib.request",
    "email.message",
    "sqlite3",
    "zipfile",
    "tarfile",
    "unittest",
    "doctest",
    "typing",
    "dataclasses",
    "enum",
    "decimal",
    "fractions",
    "random",
    "statistics",
    "heapq",
    "bisect",
    "contextlib",
    "abc",
    "inspect",
    "pickle",
    "copy",
    "asyncio",
    "calendar",
    "codecs",
    "configparser",
    "difflib",
    "gettext",
    "gzip",
    "hashlib",
    "hmac",
    "imaplib",
    "io",
    "ipaddress",
    "locale",
    "mailbox",
    "math",
    "mimetypes",
    "operator",
    "optparse",
    "platform",
    "pprint",
    "sched",
    "selectors",
    "shlex",
    "smtplib",
    "ssl",
    "struct",
    "tempfile",
    "time",
    "timeit",
    "tokenize",
    "traceback",
    "types",
    "unicodedata",
    "uuid",
    "warnings",
    "weakref",
    "xml.dom.minidom",
    "zlib",
    "builtins",
    "array",
    "base64",
    "binascii",
)
_PARAGRAPH_WORDS = 120  # longer blocks are cut so one block cannot overshoot a target length
_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ren",
    "dar",
    "vel",
    "to",
    "sa",
    "ni",
    "bor",
    "el",
    "qu",
    "fen",
    "ya",
)
_THINGS = (
    "glass bells",
    "blue cheese",
    "paper lanterns",
    "copper kettles",
    "wild honey",
    "stone bridges",
    "silk scarves",
    "clockwork birds",
    "salt caves",
    "pear cider",
    "wooden masks",
    "green tea",
)


class QASample(BaseModel):
    id: str
    kind: Kind
    length: int  # target length in tokens
    depth: float  # where the (first) needle sits, as a fraction of the document
    document: str
    question: str
    answers: list[str]  # accepted answers; [NOT_FOUND] for absent questions
    needles: list[str]


@functools.cache
def _paragraphs() -> tuple[str, ...]:
    """Prose paragraphs from pydoc, with code-ish lines dropped so the text reads as prose."""
    paragraphs: list[str] = []
    for module in _MODULES:
        try:
            text = pydoc.render_doc(module, renderer=pydoc.plaintext)  # type: ignore[attr-defined]  # typeshed omits it
        except (ImportError, pydoc.ErrorDuringImport):
            continue
        for block in re.split(r"\n\s*\n", text):
            lines = [
                ln.strip()
                for ln in block.splitlines()
                if ln.strip() and not ln.strip().startswith(("|", "-", "="))
            ]
            prose = " ".join(lines)
            if len(prose) > 80 and prose.count(" ") > 10 and "(" not in prose[:20]:
                words = prose.split()
                for i in range(0, len(words), _PARAGRAPH_WORDS):
                    paragraphs.append(" ".join(words[i : i + _PARAGRAPH_WORDS]))
    return tuple(paragraphs)


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts + 1)).capitalize()


def _haystack(rng: random.Random, tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """Consecutive paragraphs from a random starting point until `tokens` is reached."""
    pool = _paragraphs()
    start = rng.randrange(len(pool))
    chosen: list[str] = []
    total = 0
    while total < tokens:
        paragraph = pool[(start + len(chosen)) % len(pool)]
        chosen.append(paragraph)
        total += count_tokens(paragraph) + 1
    return chosen


def _insert(paragraphs: list[str], needles: list[tuple[float, str]]) -> str:
    """Place each needle as its own paragraph at the break nearest its depth (by characters)."""
    breaks = [0]
    for paragraph in paragraphs:
        breaks.append(breaks[-1] + len(paragraph) + 2)
    placed = list(paragraphs)
    for depth, needle in sorted(needles, reverse=True):  # deepest first keeps indices valid
        target = depth * breaks[-1]
        placed.insert(min(range(len(breaks)), key=lambda i: abs(breaks[i] - target)), needle)
    return "\n\n".join(placed)


def make_sample(
    kind: Kind, length: int, depth: float, seed: int, count_tokens: Callable[[str], int]
) -> QASample:
    """One sample; the same arguments always give the same sample."""
    rng = random.Random(f"{kind}-{length}-{depth}-{seed}")
    person, town, other = _name(rng), _name(rng, 1), _name(rng)
    thing = rng.choice(_THINGS)
    born = f"{person} was born in the town of {town}."
    famous = f"The town of {town} is famous for its {thing}."
    if kind == "kv":
        return _kv_sample(rng, length, depth, seed, count_tokens)
    if kind == "single":
        needles, question, answers = [(depth, born)], f"In which town was {person} born?", [town]
    elif kind == "two_hop":
        second = (depth + 0.5) % 1.0  # the two facts sit far apart
        needles = [(depth, born), (second, famous)]
        question, answers = f"What is the town where {person} was born famous for?", [thing]
    elif kind == "absent":  # a similar fact about someone else is there; the asked one is not
        needles, question, answers = (
            [(depth, born)],
            f"In which town was {other} born?",
            [NOT_FOUND],
        )
    else:  # passkey
        key = str(rng.randrange(10_000, 100_000))
        needle = f"The pass key is {key}. Remember it. {key} is the pass key."
        needles, question, answers = [(depth, needle)], "What is the pass key?", [key]
    budget = length - sum(count_tokens(n) for _, n in needles)
    document = _insert(_haystack(rng, budget, count_tokens), needles)
    return QASample(
        id=f"{kind}-{length}-{depth:.2f}-{seed}",
        kind=kind,
        length=length,
        depth=depth,
        document=document,
        question=question,
        answers=answers,
        needles=[n for _, n in needles],
    )


def _kv_sample(
    rng: random.Random, length: int, depth: float, seed: int, count_tokens: Callable[[str], int]
) -> QASample:
    """A JSON object of random UUID pairs (as in the LongAgent and "lost in the middle" papers)."""

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    line_tokens = count_tokens(f'  "{uid()}": "{uid()}",')
    pairs = [(uid(), uid()) for _ in range(max(2, length // line_tokens))]
    target = min(len(pairs) - 1, round(depth * len(pairs)))
    key, value = pairs[target]
    body = ",\n".join(f'  "{k}": "{v}"' for k, v in pairs)
    return QASample(
        id=f"kv-{length}-{depth:.2f}-{seed}",
        kind="kv",
        length=length,
        depth=depth,
        document="{\n" + body + "\n}",
        question=f'What is the value associated with the key "{key}"?',
        answers=[value],
        needles=[f'"{key}": "{value}"'],
    )


def make_suite(
    kinds: list[Kind],
    lengths: list[int],
    depths: list[float],
    samples: int,
    count_tokens: Callable[[str], int],
) -> list[QASample]:
    return [
        make_sample(kind, length, depth, seed, count_tokens)
        for kind in kinds
        for length in lengths
        for depth in depths
        for seed in range(samples)
    ]


def is_correct(sample: QASample, text: str, found: bool | None) -> bool:
    """RULER-style: case-insensitive match of any accepted answer; absent questions are right
    only when the system says the answer is not in the document."""
    if sample.answers == [NOT_FOUND]:
        return found is False or (found is None and NOT_FOUND in text.lower())
    if found is False:
        return False
    return any(answer.lower() in text.lower() for answer in sample.answers)


def parse_length(text: str) -> int:
    """'4k' -> 4096, '1500' -> 1500."""
    text = text.strip().lower()
    return int(float(text[:-1]) * 1024) if text.endswith("k") else int(text)
