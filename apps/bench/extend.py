"""`longagent bench extend`: passkey accuracy and perplexity with each context-extension method.

For each length and method the model is extended with `plan_extension(config, length,
method)` and measured on:

- passkey retrieval (Mohtashami & Jaggi, 2023; the prompt used by the Self-Extend and
  LM-Infinite papers): a five-digit key hidden at evenly spaced depths in repeated filler;
  a sample passes when greedy decoding writes the key.
- perplexity over the last `ppl_tokens` tokens of a `length`-token slice of a long book
  (Newton's *Opticks*, the Project Gutenberg text that ships inside apache-tvm-ffi, a
  dependency of xgrammar; Python's own sources when it is missing), so it measures the far
  positions only.

Writes bench-results/extend.json (after every cell, so `--resume` can continue a long run)
and bench-results/extend.png. The defaults are a short run; `--samples 10 --ppl-samples 3`
is closer to the papers' protocol, and 32K takes minutes per forward pass on a laptop CPU.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

BOOK = ("tvm_ffi", "3rdparty/libbacktrace/Isaac.Newton-Opticks.txt")
TASK = (
    "There is an important info hidden inside a lot of irrelevant text. Find it and "
    "memorize it. I will quiz you about the important information there.\n\n"
)
FILLER = (
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
)
NEEDLE = " The pass key is {key}. Remember it. {key} is the pass key. "
QUESTION = "\n\nWhat is the pass key? The pass key is"


def passkey_prompt(tokenizer: Any, length: int, key: int, depth: float) -> list[int]:
    """Token ids of a passkey prompt of about `length` tokens, the key at `depth` (0..1)."""
    needle = NEEDLE.format(key=key)
    filler_tokens = len(tokenizer.encode(FILLER, add_special_tokens=False))
    fixed = len(tokenizer.encode(TASK + needle + QUESTION, add_special_tokens=False))
    repeats = max(0, (length - fixed) // filler_tokens)
    before = round(repeats * depth)
    text = TASK + FILLER * before + needle + FILLER * (repeats - before) + QUESTION
    return tokenizer.encode(text, add_special_tokens=False)


def greedy(model: Any, ids: list[int], new_tokens: int) -> list[int]:
    """Greedy decoding with a KV cache, keeping only the last position's logits."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    step = torch.tensor([ids])
    out: list[int] = []
    with torch.inference_mode():
        for _ in range(new_tokens):
            logits = model(step, past_key_values=cache, use_cache=True, logits_to_keep=1).logits
            out.append(int(logits[0, -1].argmax()))
            step = torch.tensor([[out[-1]]])
    return out


def passkey_accuracy(
    model: Any, tokenizer: Any, length: int, samples: int, seed: int
) -> tuple[float, list[dict[str, Any]]]:
    rng = random.Random(f"{seed}-{length}")
    results = []
    for i in range(samples):
        key, depth = rng.randint(10000, 99999), (i + 0.5) / samples
        ids = passkey_prompt(tokenizer, length, key, depth)
        answer = tokenizer.decode(greedy(model, ids, 8))
        results.append(
            {"key": key, "depth": round(depth, 3), "answer": answer, "ok": str(key) in answer}
        )
    return sum(r["ok"] for r in results) / max(samples, 1), results


def book_tokens(tokenizer: Any) -> list[int]:
    """A long coherent text, tokenized (see the module docstring)."""
    import importlib.util

    spec = importlib.util.find_spec(BOOK[0])
    path = Path(next(iter(spec.submodule_search_locations))) / BOOK[1] if spec else None
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
    nll, count = 0.0, 0
    with torch.inference_mode():
        for start in starts:
            ids = torch.tensor([tokens[start : start + length]])
            logits = model(ids, logits_to_keep=scored + 1).logits[0, :-1].float()
            targets = ids[0, -scored:]
            nll += float(torch.nn.functional.cross_entropy(logits, targets, reduction="sum"))
            count += scored
    return float(torch.tensor(nll / count).exp())


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

    loaded = load_model(model_spec or None)
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
    import torch
    from rich.console import Console

    from longagent.errors import ConfigError
    from longagent.kernels import METHODS, parse_length, plan_extension

    console = Console()
    wanted = [m.strip() for m in methods.split(",") if m.strip()]
    if unknown := [m for m in wanted if m not in METHODS]:
        raise ConfigError(f"Unknown methods {unknown}; choose from {', '.join(METHODS)}")
    sizes = sorted(parse_length(x) for x in lengths.split(",") if x.strip())
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
            plan.apply(hf)
            started = time.perf_counter()
            accuracy, details = passkey_accuracy(hf, tokenizer, length, samples, seed)
            ppl = perplexity(hf, book, length, ppl_tokens, ppl_samples) if ppl_samples else None
            row = {
                "method": method,
                "length": length,
                "passkey": accuracy,
                "perplexity": ppl,
                "seconds": round(time.perf_counter() - started, 1),
                "plan": plan.describe(),
                "samples": details,
            }
            report["results"].append(row)
            path.write_text(json.dumps(report, indent=2))
            ppl_text = "-" if ppl is None else f"{ppl:.2f}"
            console.print(
                f"{length:>6} {method:<12} passkey {accuracy:4.0%}  ppl {ppl_text:>8}  "
                f"{row['seconds']:.0f}s"
            )
    plan_extension(hf.config, native, "none").apply(hf)  # leave the model as it was

    console.print(results_table(report, wanted, sizes))
    plot(report, wanted, sizes, folder / "extend.png")
    console.print(f"wrote {path} and {folder / 'extend.png'}")


def results_table(report: dict[str, Any], methods: list[str], sizes: list[int]) -> Any:
    from rich.table import Table

    table = Table(title=f"passkey accuracy / perplexity (native window {report['native_length']})")
    table.add_column("method")
    for size in sizes:
        table.add_column(f"{size // 1024}K" if size % 1024 == 0 else str(size), justify="right")
    cells = {(r["method"], r["length"]): r for r in report["results"]}
    for method in methods:
        row = [method]
        for size in sizes:
            r = cells.get((method, size))
            if r is None:
                row.append("")
                continue
            ppl = "-" if r["perplexity"] is None else f"{r['perplexity']:.1f}"
            row.append(f"{r['passkey']:.0%} / {ppl}")
        table.add_row(*row)
    return table


def plot(report: dict[str, Any], methods: list[str], sizes: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    cells = {(r["method"], r["length"]): r for r in report["results"]}
    for method in methods:
        xs = [s for s in sizes if (method, s) in cells]
        if not xs:
            continue
        left.plot(xs, [100 * cells[(method, s)]["passkey"] for s in xs], "o-", label=method)
        ppl = [(s, cells[(method, s)]["perplexity"]) for s in xs]
        ppl = [(s, p) for s, p in ppl if p is not None]
        if ppl:
            right.plot(*zip(*ppl, strict=True), "o-", label=method)
    for ax, title in ((left, "passkey accuracy (%)"), (right, "perplexity (far tokens)")):
        ax.axvline(report["native_length"], color="grey", linestyle="--", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [f"{s // 1024}K" for s in sizes])
        ax.set_xlabel("context length (tokens)")
        ax.set_title(title)
    right.set_yscale("log")
    left.set_ylim(-5, 105)
    left.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
