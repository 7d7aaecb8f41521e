# Copyright (c) 2024, NVIDIA CORPORATION.  All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
# Modified for longagent: a port of RULER's synthetic task generators
# (github.com/NVIDIA/RULER at c3f5e3b4f87f97e048793bb510a3a6b19a46bf3a,
# scripts/data/synthetic/{niah,constants}.py; variable tracking is in ruler_vt.py,
# common and frequent words in ruler_extract.py and scripts/synthetic.yaml).
"""RULER's synthetic tasks, generated as RULER generates them.

Same templates, answer prefixes, needle and noise sentences, word lists (wonderwords'),
task parameters (synthetic.yaml), random draws in the same order from `random` and
numpy's legacy generator seeded alike, and the same sizing: binary search over the
haystack size (niah, vt, cwe) or incremental growth (fwe) until RULER's input plus the
task's tokens to generate fits the target length, counted with the model's own tokenizer.

Where we cannot be identical, and why:
- the essay haystack is the Paul Graham essays gkamradt's repository ships (RULER's json
  adds the essays it downloads from paulgraham.com; no downloads here), read the same way;
- sentences are split by the project's text toolkit, not nltk's punkt (not a dependency);
- cwe never needs RULER's fallback list (english_words.json, Git LFS) below ~8,700 words
  to draw, which covers 4K-32K; past that it stops with an error rather than invent one;
- sizing loops are bounded: RULER's retry loop spins forever if a sample cannot fit.
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from longagent.apps.bench.needle import ESSAYS
from longagent.errors import ConfigError
from longagent.text import sentence_texts

CountTokens = Callable[[str], int]
WORDS = Path(__file__).parent / "data" / "ruler"

# scripts/data/synthetic/constants.py (the 'base' model template: the task's own text).
TEMPLATES: dict[str, dict[str, Any]] = {
    "niah": {
        "tokens_to_generate": 128,
        "template": "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic {type_needle_v} for {query} mentioned in the provided text?",
        "answer_prefix": " The special magic {type_needle_v} for {query} mentioned in the provided text are",
    },
    "variable_tracking": {
        "tokens_to_generate": 30,
        "template": "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.",
        "answer_prefix": " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are assigned the value {query}, they are: ",
    },
    "common_words_extraction": {
        "tokens_to_generate": 120,
        "template": "Below is a numbered list of words. In these words, some appear more often than others. Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common words in the above list?",
        "answer_prefix": " Answer: The top 10 words that appear most often in the list are:",
    },
    "freq_words_extraction": {
        "tokens_to_generate": 50,
        "template": "Read the following coded text and track the frequency of each coded word. Find the three most frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore the dots '....'. What are the three most frequently appeared words in the above coded text?",
        "answer_prefix": " Answer: According to the coded text above, the three most frequently appeared words are:",
    },
}


def _niah(haystack: str, k: str, v: str, nk: int = 1, nv: int = 1, nq: int = 1) -> dict[str, Any]:
    return {
        "task": "niah",
        "args": {
            "type_haystack": haystack,
            "type_needle_k": k,
            "type_needle_v": v,
            "num_needle_k": nk,
            "num_needle_v": nv,
            "num_needle_q": nq,
        },
    }


# scripts/synthetic.yaml, without the two qa tasks (SQuAD and HotpotQA are downloads).
CONFIG: dict[str, dict[str, Any]] = {
    "niah_single_1": _niah("noise", "words", "numbers"),
    "niah_single_2": _niah("essay", "words", "numbers"),
    "niah_single_3": _niah("essay", "words", "uuids"),
    "niah_multikey_1": _niah("essay", "words", "numbers", nk=4),
    "niah_multikey_2": _niah("needle", "words", "numbers"),
    "niah_multikey_3": _niah("needle", "uuids", "uuids"),
    "niah_multivalue": _niah("essay", "words", "numbers", nv=4),
    "niah_multiquery": _niah("essay", "words", "numbers", nq=4),
    "vt": {
        "task": "variable_tracking",
        "args": {"type_haystack": "noise", "num_chains": 1, "num_hops": 4},
    },
    "cwe": {
        "task": "common_words_extraction",
        "args": {"freq_cw": 30, "freq_ucw": 3, "num_cw": 10},
    },
    "fwe": {"task": "freq_words_extraction", "args": {"alpha": 2.0}},
}

NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}."
NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
DEPTHS = [int(d) for d in np.round(np.linspace(0, 100, num=40, endpoint=True)).astype(int)]


@dataclass(frozen=True)
class Sample:
    """One RULER sample: `input` without its answer prefix, the references, and RULER's
    length (input and answer prefix tokens plus the task's tokens to generate)."""

    input: str
    answer_prefix: str
    outputs: list[str]
    length: int


class Draws:
    """RULER's random state: `random` and numpy's legacy generator, both seeded by `seed`
    at the start of a task (RULER runs one process per task and length)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self.numpy = np.random.RandomState(seed)


def wordlist(name: str) -> list[str]:
    # wonderwords' _get_words_from_text_file: one word a line, trailing whitespace dropped
    return [w.rstrip() for w in (WORDS / name).read_text(encoding="utf-8").splitlines()]


class PairWords(Sequence[str]):
    """`sorted(set(f"{adj}-{noun}"))` as RULER builds its keys, without its 6.2 million
    strings: adjectives sort into blocks of nouns; the few whose "adj-" prefixes one
    another (high, high-pitched) interleave, so those blocks are built in full."""

    def __init__(self, adjs: list[str], nouns: list[str]) -> None:
        self.nouns = sorted(set(nouns))
        keyed = sorted(set(adjs), key=lambda a: a + "-")
        self.starts: list[int] = []
        self.blocks: list[str | list[str]] = []  # an adjective, or a built cluster
        size, i = 0, 0
        while i < len(keyed):
            root, j = keyed[i] + "-", i + 1
            while j < len(keyed) and (keyed[j] + "-").startswith(root):
                j += 1
            block: str | list[str] = (
                keyed[i]
                if j == i + 1
                else sorted({f"{a}-{n}" for a in keyed[i:j] for n in self.nouns})
            )
            self.starts.append(size)
            self.blocks.append(block)
            size += len(self.nouns) if isinstance(block, str) else len(block)
            i = j
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> str:  # type: ignore[override]
        if not 0 <= index < self.size:
            raise IndexError(index)
        b = bisect_right(self.starts, index) - 1
        block, offset = self.blocks[b], index - self.starts[b]
        return f"{block}-{self.nouns[offset]}" if isinstance(block, str) else block[offset]


@functools.cache
def key_words() -> PairWords:
    return PairWords(wordlist("adjectivelist.txt"), wordlist("nounlist.txt"))


@functools.cache
def essay_words() -> list[str]:
    # download_paulgraham_essay.py concatenates the files as they are; niah.py squeezes
    essay = "".join(p.read_text(encoding="utf-8") for p in sorted(ESSAYS.glob("*.txt")))
    return re.sub(r"\s+", " ", essay).split(" ")


def search_size(
    make: Callable[[int], tuple[str, Any]],
    count_tokens: CountTokens,
    max_seq_length: int,
    lower: int,
    upper: int,
    extra_tokens: int,
) -> int:
    """RULER's binary search: the largest haystack size in [lower, upper] whose input plus
    `extra_tokens` fits `max_seq_length` (`lower` if none does)."""
    best = None
    low = lower
    while low <= upper:
        mid = (low + upper) // 2
        if count_tokens(make(mid)[0]) + extra_tokens <= max_seq_length:
            best, low = mid, mid + 1
        else:
            upper = mid - 1
    return best if best is not None else lower


def fit(
    make: Callable[[int], tuple[str, Any]],
    count_tokens: CountTokens,
    max_seq_length: int,
    incremental: int,
    extra_tokens: int,
) -> int:
    """niah's and vt's sizing: tokens per haystack unit from a probe of `incremental`
    units, then a binary search up to three times the estimate (RULER's slack)."""
    tokens_per_unit = count_tokens(make(incremental)[0]) / incremental
    upper = max(int(max_seq_length / tokens_per_unit * 3), incremental * 2)
    return search_size(make, count_tokens, max_seq_length, incremental, upper, extra_tokens)


def sized_samples(
    make: Callable[[int], tuple[str, Any]],
    count_tokens: CountTokens,
    max_seq_length: int,
    size: int,
    incremental: int,
    extra_tokens: int,
    num_samples: int,
) -> list[tuple[str, Any, int]]:
    """RULER's per-sample loop: draw a sample at `size`; if it overflows, shrink by
    `incremental` and draw again (bounded where RULER would spin)."""
    out = []
    for _ in range(num_samples):
        used = size
        while True:
            text, answer = make(used)
            length = count_tokens(text) + extra_tokens
            if length <= max_seq_length:
                break
            if used <= incremental:
                raise ConfigError("its smallest haystack step does not fit")
            used -= incremental
        out.append((text, answer, length))
    return out


def split_prefix(text: str, answer_prefix: str) -> tuple[str, str]:
    """Cut the answer prefix off the input, as RULER locates it (its first 10 characters)."""
    at = text.rfind(answer_prefix[:10])
    return text[:at], text[at:]


def _random_value(draws: Draws, kind: str) -> str:
    rng = draws.random
    if kind == "numbers":
        return str(rng.randint(10**6, 10**7 - 1))
    if kind == "words":
        return rng.choice(key_words())
    if kind == "uuids":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    raise ValueError(f"unknown needle type {kind!r}")


def niah(
    draws: Draws,
    count_tokens: CountTokens,
    max_seq_length: int,
    num_samples: int,
    *,
    type_haystack: str,
    type_needle_k: str,
    type_needle_v: str,
    num_needle_k: int,
    num_needle_v: int,
    num_needle_q: int,
) -> list[Sample]:
    """scripts/data/synthetic/niah.py."""
    rng, seed = draws.random, draws.seed
    spec = TEMPLATES["niah"]
    template = spec["template"] + spec["answer_prefix"]
    num_needle_k = max(num_needle_k, num_needle_q)
    essay = essay_words() if type_haystack == "essay" else []

    def make(num_haystack: int) -> tuple[str, list[str]]:
        keys, values, needles = [], [], []
        for _ in range(num_needle_k):
            keys.append(_random_value(draws, type_needle_k))
            value = []
            for _ in range(num_needle_v):
                value.append(_random_value(draws, type_needle_v))
                needles.append(
                    NEEDLE.format(type_needle_v=type_needle_v, key=keys[-1], value=value[-1])
                )
            values.append(value)
        random.Random(seed).shuffle(needles)
        if type_haystack == "essay":
            repeats = (num_haystack + len(essay) - 1) // len(essay)
            sents = sentence_texts(" ".join((essay * repeats)[:num_haystack]).strip())
            positions = [
                0,
                *sorted(int(len(sents) * (d / 100)) for d in rng.sample(DEPTHS, len(needles))),
                len(sents),
            ]
            parts = []
            for i in range(1, len(positions)):
                parts.append(" ".join(sents[positions[i - 1] : positions[i]]))
                if i - 1 < len(needles):
                    parts.append(needles[i - 1])
            context = " ".join(parts)
        else:
            if type_haystack == "noise":
                lines = [NOISE] * num_haystack
            else:  # needle: every haystack line is a needle with its own key and value
                lines = [
                    NEEDLE.format(
                        type_needle_v=type_needle_v,
                        key=_random_value(draws, type_needle_k),
                        value=_random_value(draws, type_needle_v),
                    )
                    for _ in range(num_haystack)
                ]
            for index, needle in zip(
                sorted(rng.sample(range(num_haystack), len(needles)), reverse=True),
                needles,
                strict=True,
            ):
                lines.insert(index, needle)
            context = "\n".join(lines)
        indices = rng.sample(range(num_needle_k), num_needle_q)
        queries = [keys[i] for i in indices]
        answers = [a for i in indices for a in values[i]]
        query = ", ".join(queries[:-1]) + ", and " + queries[-1] if len(queries) > 1 else queries[0]
        text, kind = template, type_needle_v
        if num_needle_q * num_needle_v == 1:  # one answer: the singular question
            text = text.replace("Some", "A").replace("are all", "is").replace("are", "is")
            text, kind = text.replace("answers", "answer"), kind[:-1]
        return text.format(type_needle_v=kind, context=context, query=query), answers

    incremental = 500 if type_haystack == "essay" else 25
    if type_haystack != "essay" and max_seq_length < 4096:
        incremental = 5
    extra = spec["tokens_to_generate"]
    size = fit(make, count_tokens, max_seq_length, incremental, extra)
    return [
        Sample(*split_prefix(text, spec["answer_prefix"]), answer, length)
        for text, answer, length in sized_samples(
            make, count_tokens, max_seq_length, size, incremental, extra, num_samples
        )
    ]
