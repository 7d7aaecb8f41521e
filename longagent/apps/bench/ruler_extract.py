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
# Modified for longagent: a port of RULER's aggregation tasks (github.com/NVIDIA/RULER at
# c3f5e3b4f87f97e048793bb510a3a6b19a46bf3a, scripts/data/synthetic/
# common_words_extraction.py and freq_words_extraction.py).
"""RULER's two aggregation tasks: common-words extraction (cwe: ten words repeated 30
times among words repeated 3 times, numbered, after one answered example) and
frequent-words extraction (fwe: coded six-letter words drawn from a zeta distribution,
the most frequent one replaced by '...' as noise)."""

from __future__ import annotations

import functools
import random
import string

import numpy as np

from longagent.apps.bench.ruler_data import (
    TEMPLATES,
    CountTokens,
    Draws,
    Sample,
    search_size,
    sized_samples,
    split_prefix,
    wordlist,
)
from longagent.errors import ConfigError


@functools.cache
def common_words() -> list[str]:
    """nouns + adjectives + verbs, deduplicated and sorted (RULER then shuffles them)."""
    words = wordlist("nounlist.txt") + wordlist("adjectivelist.txt") + wordlist("verblist.txt")
    return sorted(set(words))


def common_words_extraction(
    draws: Draws,
    count_tokens: CountTokens,
    max_seq_length: int,
    num_samples: int,
    *,
    freq_cw: int,
    freq_ucw: int,
    num_cw: int,
    num_fewshot: int = 1,
) -> list[Sample]:
    """scripts/data/synthetic/common_words_extraction.py."""
    rng, seed, spec = draws.random, draws.seed, TEMPLATES["common_words_extraction"]
    template = spec["template"] + spec["answer_prefix"]
    words = list(common_words())
    random.Random(seed).shuffle(words)

    def example(num_words: int, common: int, uncommon: int) -> tuple[str, list[str]]:
        if num_words > len(words):
            raise ConfigError(
                f"cwe would draw {num_words} words; the shipped lists hold {len(words)}"
            )
        full = rng.sample(words, num_words)
        top, rest = full[:num_cw], full[num_cw:]
        listed = top * common + rest * uncommon
        random.Random(seed).shuffle(listed)
        return " ".join(f"{i + 1}. {w}" for i, w in enumerate(listed)), top

    def make(num_words: int) -> tuple[str, list[str]]:
        shots = []
        small = max_seq_length < 4096
        for _ in range(num_fewshot):
            shots.append(example(20, 3, 1) if small else example(40, 10, 3))
        context, answer = (
            example(num_words, 6, 1) if small else example(num_words, freq_cw, freq_ucw)
        )
        done = [
            template.format(num_cw=num_cw, context=c, query="")
            + " "
            + " ".join(f"{i + 1}. {w}" for i, w in enumerate(a))
            for c, a in shots
        ]
        text = template.format(num_cw=num_cw, context=context, query="")
        return "\n".join(done) + "\n" + text, answer

    incremental, extra = 10, spec["tokens_to_generate"]
    # RULER probes 4096 words and allows twice its estimate (not three times).
    per_word = count_tokens(make(4096)[0]) / 4096
    upper = min(max(int(max_seq_length // per_word) * 2, incremental * 2), len(words))
    size = search_size(make, count_tokens, max_seq_length, incremental, upper, extra)
    return [
        Sample(*split_prefix(text, spec["answer_prefix"]), answer, length)
        for text, answer, length in sized_samples(
            make, count_tokens, max_seq_length, size, incremental, extra, num_samples
        )
    ]


def freq_words_extraction(
    draws: Draws,
    count_tokens: CountTokens,
    max_seq_length: int,
    num_samples: int,
    *,
    alpha: float,
    coded_wordlen: int = 6,
    vocab_size: int = -1,
) -> list[Sample]:
    """scripts/data/synthetic/freq_words_extraction.py: grows the text by 1/32 of the
    length until it passes, then steps back once; samples reuse that word count."""
    from scipy.special import zeta

    rng, seed, spec = draws.random, draws.seed, TEMPLATES["freq_words_extraction"]
    template = spec["template"] + spec["answer_prefix"]
    extra = spec["tokens_to_generate"]
    max_len = max_seq_length - extra
    vocab_size = max_len // 50 if vocab_size == -1 else vocab_size
    incremental = max_len // 32

    def generate(num_words: int = -1) -> tuple[str, list[str], int]:
        vocab = [
            "".join(rng.choices(string.ascii_lowercase, k=coded_wordlen)) for _ in range(vocab_size)
        ]
        while len(set(vocab)) < vocab_size:
            vocab.append("".join(rng.choices(string.ascii_lowercase, k=coded_wordlen)))
        vocab = sorted(set(vocab))
        random.Random(seed).shuffle(vocab)
        vocab[0] = "..."  # the top-ranked word is noise

        def text_of(n: int) -> tuple[str, list[str]]:
            k = np.arange(1, len(vocab) + 1)
            counts = (n * (k**-alpha) / zeta(alpha)).astype(int)
            sampled = [w for w, c in zip(vocab, counts, strict=True) for _ in range(c)]
            random.Random(seed).shuffle(sampled)
            return template.format(context=" ".join(sampled), query=""), vocab[1:4]

        if num_words > 0:
            text, _ = text_of(num_words)
            for _ in range(10_000):  # RULER shrinks without bound
                if count_tokens(text) <= max_len:
                    break
                num_words -= incremental
                text, _ = text_of(num_words)
        else:
            num_words = max_len // coded_wordlen
            text, _ = text_of(num_words)
            for _ in range(10_000):
                if count_tokens(text) >= max_len:
                    break
                num_words += incremental
                text, _ = text_of(num_words)
            num_words -= incremental
        text, answer = text_of(num_words)
        return text, answer, num_words

    _, _, num_words = generate()
    samples = []
    for _ in range(num_samples):
        text, answer, _ = generate(num_words)
        length = count_tokens(text) + extra
        samples.append(Sample(*split_prefix(text, spec["answer_prefix"]), answer, length))
    return samples
