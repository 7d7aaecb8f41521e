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
# scripts/data/synthetic/variable_tracking.py and scripts/synthetic.yaml).
"""RULER's variable-tracking task (vt), generated as RULER generates it: see
ruler_data.py for what is shared and where the port differs."""

from __future__ import annotations

import string
from typing import Any

from longagent.apps.bench.ruler_data import (
    NOISE,
    TEMPLATES,
    CountTokens,
    Draws,
    Sample,
    fit,
    sized_samples,
    split_prefix,
)
from longagent.errors import ConfigError


def _chains(draws: Draws, num_chains: int, num_hops: int, is_icl: bool) -> tuple[Any, Any]:
    rng, k = draws.random, 3 if is_icl else 5
    num_hops = min(10, num_hops) if is_icl else num_hops
    names = [
        "".join(rng.choices(string.ascii_uppercase, k=k))
        for _ in range((num_hops + 1) * num_chains)
    ]
    while len(set(names)) < num_chains * (num_hops + 1):
        names.append("".join(rng.choices(string.ascii_uppercase, k=k)))
    variables, chains = [], []
    for i in range(0, len(names), num_hops + 1):
        these = names[i : i + num_hops + 1]
        variables.append(these)
        value = "12345" if is_icl else str(draws.numpy.randint(10000, 99999))
        chain = [f"VAR {these[0]} = {value}"]
        chain += [f"VAR {these[j + 1]} = VAR {these[j]} " for j in range(num_hops)]
        chains.append(chain)
    return variables, chains


def variable_tracking(
    draws: Draws,
    count_tokens: CountTokens,
    max_seq_length: int,
    num_samples: int,
    *,
    type_haystack: str,
    num_chains: int,
    num_hops: int,
) -> list[Sample]:
    """scripts/data/synthetic/variable_tracking.py, noise haystack (the config's), with its
    one in-context example: a 500-token sample of 3-letter names and the value 12345,
    answered, renamed at random and put before each input."""
    if type_haystack != "noise":
        raise ValueError("RULER's vt config uses the noise haystack; only that is ported")
    rng, spec = draws.random, TEMPLATES["variable_tracking"]
    template = spec["template"] + spec["answer_prefix"]

    def make(num_noises: int, is_icl: bool) -> tuple[str, list[str]]:
        variables, chains = _chains(draws, num_chains, num_hops, is_icl)
        value = chains[0][0].split("=")[-1].strip()
        lines = [NOISE] * num_noises
        for chain in chains:
            positions = sorted(rng.sample(range(len(lines)), len(chain)))
            for j, at in enumerate(positions):
                lines.insert(at + j, chain[j])
        context = "\n".join(lines).replace(". \n", ".\n")
        return template.format(context=context, query=value, num_v=num_hops + 1), variables[0]

    # The example: RULER's first call, 500 tokens, nothing to generate, increments of 5.
    def example(n: int) -> tuple[str, list[str]]:
        return make(n, True)

    size = fit(example, count_tokens, 500, 5, 0)
    ((text, answer, _),) = sized_samples(example, count_tokens, 500, size, 5, 0, 1)
    icl = text + " " + " ".join(answer) + "\n"

    def randomize(icl: str) -> str:
        for item in icl.strip().split()[-num_hops - 1 :]:
            icl = icl.replace(item, "".join(rng.choices(string.ascii_uppercase, k=len(item))))
        return icl.replace("12345", str(draws.numpy.randint(10000, 99999)))

    def main(n: int) -> tuple[str, list[str]]:
        return make(n, False)

    incremental = 5 if max_seq_length < 4096 else 10
    extra = spec["tokens_to_generate"]
    size = fit(main, count_tokens, max_seq_length, incremental, extra + count_tokens(icl))
    samples = []
    for _ in range(num_samples):
        used = size
        while True:
            text, answer = main(used)
            text = randomize(icl) + "\n" + text  # the base template starts the input
            length = count_tokens(text) + extra
            if length <= max_seq_length:
                break
            if used <= incremental:
                raise ConfigError("its smallest haystack step does not fit")
            used -= incremental
        samples.append(Sample(*split_prefix(text, spec["answer_prefix"]), answer, length))
    return samples
