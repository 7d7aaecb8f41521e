"""`longagent bench extend`: passkey accuracy and perplexity with each context-extension method.

For each length and method the model is extended with `plan_extension(config, length,
method)` and measured on:

- passkey retrieval (Mohtashami & Jaggi, 2023; the prompt used by the Self-Extend and
  LM-Infinite papers): a five-digit key hidden at evenly spaced depths in repeated filler;
  greedy decoding writes ten tokens, and a sample passes when the first number in them is
  the key, as in their `run_test.py`. A strict pass (the key's tokens right after the
  prompt, no lead-in like " a") is recorded too.
- perplexity over the last `ppl_tokens` tokens of a `length`-token slice of a long book
  (Newton's *Opticks*, the Project Gutenberg text that ships inside apache-tvm-ffi, a
  dependency of xgrammar; Python's own sources when it is missing), so it measures the far
  positions only.

Cost on a CPU is the prefill, and at 16K+ attention is two thirds of it (profiled). So a
cell runs one full pass (its deepest sample) and every other sample continues that pass's
KV cache from its needle on; only the last position reaches the lm head; a length inside
the native window, where every plan is the unchanged model, is measured once.

Writes bench-results/extend.json (after every cell, so `--resume` continues a long run),
extend.md (the table) and extend.png. A 32K pass takes ~10 CPU-minutes with one thread.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

BOOK = ("tvm_ffi", "3rdparty/libbacktrace/Isaac.Newton-Opticks.txt")
# The prompt of Mohtashami & Jaggi (2023), as the Self-Extend and LM-Infinite papers run it:
# lines joined by newlines, the filler repeated with spaces.
TASK = (
    "There is an important info hidden inside a lot of irrelevant text. Find it and "
    "memorize it. I will quiz you about the important information there."
)
FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
NEEDLE = "The pass key is {key}. Remember it. {key} is the pass key."
QUESTION = "What is the pass key? The pass key is"
# Tokens per forward call after the first: with a KV cache the causal mask is materialised
# (queries x keys), so this keeps it at 64 MiB even at 32K.
CHUNK_TOKENS = 2048
# Greedy tokens written after the question (max_new_tokens in Mohtashami & Jaggi's test).
ANSWER_TOKENS = 10


@dataclass(frozen=True)
class Passkey:
    """A passkey prompt, as token ids, and the key as the prompt should continue."""

    key: int
    ids: list[int]  # the prompt, ending with QUESTION
    prefix: int  # tokens before the needle: shared with every deeper sample of this length
    key_tokens: list[int]  # the key as the prompt should continue


def passkey_sample(tokenizer: Any, length: int, key: int, depth: float) -> Passkey:
    """About `length` tokens with the key at `depth` (0..1) of the filler. Each piece is
    tokenized on its own, so a sample's prefix is exactly a deeper sample's; with this
    newline-separated layout that is also how the whole text tokenizes."""

    def enc(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False)

    def filler(n: int) -> list[int]:
        return enc(FILLER) + enc(" " + FILLER) * (n - 1) if n else []

    newline = enc("\n")
    head, needle = enc(TASK) + newline, newline + enc(NEEDLE.format(key=key)) + newline
    tail, answer = newline + enc(QUESTION), enc(f" {key}")
    fixed = len(head) + len(needle) + len(tail) + len(answer)
    repeats = max(2, (length - fixed) // len(enc(" " + FILLER)))
    before = round(repeats * depth)
    prefix = head + filler(before)
    ids = prefix + needle + filler(repeats - before) + tail
    return Passkey(key=key, ids=ids, prefix=len(prefix), key_tokens=answer)


def forward(model: Any, ids: list[int], keep: int, cache: Any = None) -> torch.Tensor:
    """Logits (keep, vocab) of the last `keep` positions of `ids`, continuing `cache` (a
    DynamicCache, filled in place). Without a cache the ids pass in one piece: causal
    attention then needs no mask at all. After a cache, pieces are CHUNK_TOKENS long."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config) if cache is None else cache
    done = 0
    with torch.inference_mode():
        while True:
            rest = len(ids) - done
            step = (
                rest if cache.get_seq_length() == 0 or rest <= CHUNK_TOKENS + keep else CHUNK_TOKENS
            )
            piece = torch.tensor([ids[done : done + step]])
            done += step
            last = keep if done == len(ids) else 1  # the lm head only where it is read
            logits = model(piece, cache=cache, use_cache=True, logits_to_keep=last)
            if done == len(ids):
                return logits.logits[0].float()


def prefix_cache(model: Any, cache: Any, tokens: int) -> Any:
    """A new DynamicCache holding the first `tokens` entries of `cache` (which stays as is)."""
    from transformers import DynamicCache

    copy = DynamicCache(config=model.config)
    for i, layer in enumerate(cache.layers):
        copy.update(layer.keys[:, :, :tokens], layer.values[:, :, :tokens], i)
    return copy


def passkey_samples(tokenizer: Any, length: int, samples: int, seed: int) -> list[Passkey]:
    """`samples` random keys at evenly spaced depths, the shallowest first."""
    rng = random.Random(f"{seed}-{length}")
    return [
        passkey_sample(tokenizer, length, rng.randint(10000, 99999), (i + 0.5) / samples)
        for i in range(samples)
    ]


def passkey_accuracy(
    model: Any,
    tokenizer: Any,
    length: int,
    samples: int,
    seed: int,
    log: Callable[[str], Any] = lambda line: None,
) -> tuple[float, list[dict[str, Any]]]:
    """Share of samples where the first number in ANSWER_TOKENS greedy tokens is the key.

    Each row also says whether the answer was strict (the key's tokens first, no lead-in)
    and the log-probability of the key's first token. The deepest sample runs first and
    its KV cache serves every shallower sample up to its needle; all samples have the
    same length, so even dynamic NTK (which scales with the length of the pass) sees the
    cached prefix exactly as in a pass of its own.
    """
    from transformers import DynamicCache

    todo = passkey_samples(tokenizer, length, samples, seed)[::-1]
    shared = len({len(s.ids) for s in todo}) == 1
    base, results = None, []
    for sample in todo:
        if base is None or not shared:
            base = DynamicCache(config=model.config)
            cache, logits = base, forward(model, sample.ids, 1, base)
        else:
            cache = prefix_cache(model, base, sample.prefix)
            logits = forward(model, sample.ids[sample.prefix :], 1, cache)
        first_logprob = float(logits[-1].log_softmax(-1)[sample.key_tokens[0]])
        written = greedy(model, logits, cache, ANSWER_TOKENS)
        answer = tokenizer.decode(written)
        results.append(
            {
                "key": sample.key,
                "depth": round(sample.prefix / len(sample.ids), 3),
                "tokens": len(sample.ids),
                "answer": answer,
                "first_logprob": round(first_logprob, 3),
                "ok": first_number_is(answer, sample.key),
                "strict": written[: len(sample.key_tokens)] == sample.key_tokens,
            }
        )
        row = results[-1]
        verdict = "ok" if row["ok"] else "miss"
        log(
            f"  {length} tokens, key {sample.key} at depth {row['depth']:.2f}: {verdict} {answer!r}"
        )
    results.reverse()
    return sum(r["ok"] for r in results) / max(samples, 1), results


def first_number_is(answer: str, key: int) -> bool:
    """The reference's check: the first run of digits in the answer is the key."""
    number = re.search(r"\d+", answer)
    return number is not None and int(number.group()) == key


def greedy(model: Any, logits: torch.Tensor, cache: Any, count: int) -> list[int]:
    """`count` tokens of greedy decoding after `logits` (the prompt's last), continuing
    `cache`. Appending leaves the entries that shallower samples copy as they were."""
    written = [int(logits[-1].argmax())]
    while len(written) < count:
        written.append(int(forward(model, written[-1:], 1, cache)[-1].argmax()))
    return written


def book_tokens(tokenizer: Any) -> list[int]:
    """A long coherent text, tokenized (see the module docstring)."""
    import importlib.util

    spec = importlib.util.find_spec(BOOK[0])
    places = spec.submodule_search_locations if spec else None
    path = Path(next(iter(places))) / BOOK[1] if places else None
    if path is not None and path.exists():
        text = path.read_text(encoding="utf-8", errors="replace")
    else:  # pragma: no cover - only without xgrammar's dependency
        import argparse
        import inspect
        import typing

        text = "\n".join(inspect.getsource(m) for m in (typing, argparse, inspect))
    return tokenizer.encode(text, add_special_tokens=False)


def perplexity(model: Any, tokens: list[int], length: int, scored: int, samples: int) -> float:
    """exp(mean NLL) of the last `scored` tokens of `samples` slices of `length` tokens."""
    import torch

    if len(tokens) < length:
        raise ValueError(f"the text has {len(tokens)} tokens, fewer than {length}")
    starts = [round(i * (len(tokens) - length) / max(samples - 1, 1)) for i in range(samples)]
    nll = 0.0
    for start in starts:
        ids = tokens[start : start + length]
        logits = forward(model, ids, scored + 1)[:-1]
        targets = torch.tensor(ids[-scored:])
        nll += float(torch.nn.functional.cross_entropy(logits, targets, reduction="sum"))
    return math.exp(nll / (scored * len(starts)))


def load(model_spec: str) -> tuple[Any, Any]:
    """(transformers model, tokenizer): a Hugging Face directory, or a `load_model` spec."""
    if model_spec and Path(model_spec).expanduser().is_dir():
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model_spec).expanduser()
        hf = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        return hf, AutoTokenizer.from_pretrained(path)
    from longagent.errors import ConfigError
    from longagent.llm import load_model

    loaded: Any = load_model(model_spec or None)
    if not hasattr(loaded, "hf_model"):
        raise ConfigError("bench extend needs a transformers model (a local one, not a server)")
    return loaded.hf_model, loaded.tokenizer


def main(
    lengths: str = "4k,8k,16k,32k",
    samples: int = 3,
    methods: str = "none,linear,ntk,dynamic,yarn,self_extend,lm_infinite",
    ppl_tokens: int = 256,
    ppl_samples: int = 1,
    model: str = "",
    threads: int = 0,
    out: str = "bench-results",
    resume: bool = False,
    seed: int = 0,
) -> None:
    """Passkey accuracy and perplexity per length and method; a table, JSON and a plot."""
    from longagent.apps import checks
    from longagent.apps.extend_cmd import METHODS

    wanted = checks.names("--methods", methods, METHODS)
    sizes = sorted(checks.length_list("--lengths", lengths, low=32))  # a passkey prompt fits 32
    checks.at_least("--samples", samples, 1)
    checks.at_least("--ppl-tokens", ppl_tokens, 1)
    checks.at_least("--ppl-samples", ppl_samples, 0)
    checks.at_least("--threads", threads, 0)
    if model:
        checks.model_spec(model)
    checks.writable_dir(Path(out), "--out")  # last: it creates the folder
    import torch
    from rich.console import Console

    from longagent.kernels import plan_extension

    console = Console()
    if threads > 0:
        torch.set_num_threads(threads)

    hf, tokenizer = load(model)
    native = plan_extension(hf.config, 1).native_length
    book = book_tokens(tokenizer)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "extend.json"
    report: dict[str, Any] = {"native_length": native, "results": []}
    if resume and path.exists():
        report = json.loads(path.read_text())
    done = {(r["method"], r["length"]) for r in report["results"]}

    for length in sizes:
        for method in wanted:
            if (method, length) in done:
                continue
            plan = plan_extension(hf.config, length, method)  # type: ignore[arg-type]
            same = [r for r in report["results"] if r["length"] == length and r.get("identity")]
            if plan.is_identity and same:  # the unchanged model again: reuse its numbers
                row = same[0] | {
                    "method": method,
                    "plan": plan.describe(),
                    "same_as": same[0]["method"],
                }
            else:
                cell = (samples, ppl_tokens, ppl_samples, seed)
                row = measure(hf, tokenizer, book, plan, *cell, log=console.print)
            report["results"].append(row)
            path.write_text(json.dumps(report, indent=2))
            ppl = "-" if row["perplexity"] is None else f"{row['perplexity']:.2f}"
            console.print(
                f"{length:>6} {method:<12} passkey {row['passkey']:4.0%} ({len(row['samples'])})"
                f"  ppl {ppl:>8}  {row['seconds']:.0f}s"
            )
    plan_extension(hf.config, native, "none").apply(hf)  # leave the model as it was

    from longagent.apps.bench.extend_report import markdown_table, plot, results_table

    console.print(results_table(report))
    (folder / "extend.md").write_text(markdown_table(report))
    plot(report, folder / "extend.png")
    console.print(f"wrote {path}, {folder / 'extend.md'} and {folder / 'extend.png'}")


def measure(
    hf: Any,
    tokenizer: Any,
    book: list[int],
    plan: Any,
    samples: int,
    ppl_tokens: int,
    ppl_samples: int,
    seed: int,
    log: Callable[[str], Any],
) -> dict[str, Any]:
    """One cell: `plan` applied, then passkey accuracy and (if asked) perplexity."""
    plan.apply(hf)
    started, cpu = time.perf_counter(), time.process_time()
    length = plan.target_length
    accuracy, details = passkey_accuracy(hf, tokenizer, length, samples, seed, log)
    ppl = perplexity(hf, book, length, ppl_tokens, ppl_samples) if ppl_samples else None
    return {
        "method": plan.method,
        "length": length,
        "passkey": accuracy,
        "perplexity": ppl,
        "ppl_tokens": ppl_tokens * ppl_samples,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "identity": plan.is_identity,
        "plan": plan.describe(),
        "samples": details,
    }
