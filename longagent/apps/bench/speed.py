"""`longagent bench speed`: what a second question over the same document costs.

For each length, one document (two planted facts far apart in pydoc prose, as in the
two-hop QA samples) gets two different questions of the same shape through one LongAgent:
where someone was born, then what that town is famous for. The table shows both
questions' seconds, their ratio, the orchestration overhead (time outside the model as a
share of the whole), and the model's prompt tokens/s against its raw forward rate.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import typer


def raw_prefill_rate(model: Any, tokens: int = 512, batch: int = 4) -> float:
    """Tokens/s of one bare forward pass over `batch` prompts of `tokens` (as bench model)."""
    import torch

    from longagent.apps.bench.model import _prose

    ids = model.tokenizer(_prose(tokens * 2), add_special_tokens=False)["input_ids"][:tokens]
    with torch.inference_mode():
        model.hf_model(input_ids=torch.tensor([ids[:64]]), logits_to_keep=1)  # warm-up
        start = time.perf_counter()
        model.hf_model(input_ids=torch.tensor([ids] * batch), logits_to_keep=1)
    return batch * tokens / (time.perf_counter() - start)


class ForwardClock:
    """Adds up the seconds spent in the network's forward passes, to tell the decode loop's
    own Python work (grammar masks, stop checks, batching) from the model's."""

    def __init__(self, hf_model: Any) -> None:
        self.seconds = 0.0
        inner = hf_model.forward

        def forward(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        hf_model.forward = forward


def timed_ask(
    agent: Any, prepared: Any, question: str, metered: Any, clock: ForwardClock | None
) -> dict[str, Any]:
    cache = getattr(metered.inner, "prefix_cache", None)
    forward = clock.seconds if clock else float("nan")
    hits = cache.hits if cache is not None else 0
    before = metered.usage.model_copy()
    start = time.perf_counter()
    answer = agent.ask(prepared, question)
    seconds = time.perf_counter() - start
    used = metered.usage - before
    cached = (cache.hits - hits) * cache.block_tokens if cache is not None else 0
    return {
        "question": question,
        "answer": answer.text,
        "found": answer.found,
        "seconds": seconds,
        "model_seconds": used.seconds,
        "forward_seconds": (clock.seconds - forward) if clock else float("nan"),
        "model_calls": used.model_calls,
        "prompt_tokens": used.prompt_tokens,
        "cached_prompt_tokens": cached,
        "completion_tokens": used.completion_tokens,
    }


def main(
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    lengths: str = typer.Option("32k", help="Comma-separated document lengths in tokens."),
    prefix_cache: bool = typer.Option(
        True, help="Reuse chunk KV states across questions (--no-prefix-cache: the baseline)."
    ),
    chunk_tokens: int = typer.Option(None, help="LongAgent member chunk size (default: its own)."),
    reading: str = typer.Option("sweep", help="LongAgent reading: 'sweep' or 'relevance'."),
    seed: int = typer.Option(0, help="Which generated document to use."),
    out_dir: Path = typer.Option("bench-results", help="Where speed.json is written."),
) -> None:
    from longagent.apps import checks

    length_list = checks.length_list("--lengths", lengths, low=256)
    checks.at_least("--chunk-tokens", chunk_tokens, 1)
    checks.one_of("--reading", reading, ("sweep", "relevance", "all"))
    checks.model_spec(model)
    checks.writable_dir(out_dir, "--out-dir")  # last: it creates the folder
    import torch
    from rich.console import Console
    from rich.table import Table

    from longagent.agents import LongAgent
    from longagent.apps.bench.qa_data import make_sample
    from longagent.llm import load_model
    from longagent.llm.usage import MeteredModel

    console = Console()
    chat_model = load_model(model)
    cache = getattr(chat_model, "prefix_cache", None)
    if not prefix_cache:
        cast(Any, chat_model).prefix_cache = None  # the embedded model's; None turns it off
    raw = raw_prefill_rate(chat_model) if hasattr(chat_model, "hf_model") else float("nan")
    clock = ForwardClock(chat_model.hf_model) if hasattr(chat_model, "hf_model") else None
    metered = MeteredModel(chat_model)
    agent = LongAgent(metered, reading=reading, chunk_tokens=chunk_tokens or None)
    records: list[dict[str, Any]] = []
    for length in length_list:
        if cache is not None and prefix_cache:
            cache.clear()  # the first question must read the document cold
        sample = make_sample("two_hop", length, 0.25, seed, metered.count_tokens)
        born = sample.needles[0]  # "P was born in the town of T."
        person, town = born.removesuffix(".").split(" was born in the town of ")
        questions = [
            (f"In which town was {person} born?", town),
            (f"What is the town of {town} famous for?", sample.answers[0]),
        ]
        start = time.perf_counter()
        prepared = agent.prepare(sample.document)
        split_s = time.perf_counter() - start
        asked = []
        for n, (question, expected) in enumerate(questions, 1):
            with console.status(f"{length // 1024}K: question {n} ({len(prepared.chunks)} chunks)"):
                result = timed_ask(agent, prepared, question, metered, clock)
            result["correct"] = expected.lower() in result["answer"].lower()
            asked.append(result)
        first, second = asked
        records.append(
            {
                "length": length,
                "chunks": len(prepared.chunks),
                "split_s": split_s,
                "first": first,
                "second": second,
            }
        )

    table = Table(
        title=(
            f"{chat_model.name}: two questions over one document, prefix cache "
            f"{'on' if prefix_cache and cache is not None else 'off'}, {reading} reading "
            f"({torch.get_num_threads()} threads)"
        )
    )
    for column in (
        "length",
        "chunks",
        "1st s",
        "2nd s",
        "1st/2nd",
        "overhead",
        "loop",
        "2nd cached",
        "1st prompt tok/s",
        "raw tok/s",
        "correct",
    ):
        table.add_column(column, justify="right")
    for r in records:
        first, second = r["first"], r["second"]
        wall = first["seconds"] + second["seconds"]
        inside = first["model_seconds"] + second["model_seconds"]
        table.add_row(
            f"{r['length'] // 1024}K",
            str(r["chunks"]),
            f"{first['seconds']:.1f}",
            f"{second['seconds']:.1f}",
            f"{first['seconds'] / second['seconds']:.1f}x",
            f"{100 * (wall - inside) / wall:.1f}%",
            f"{100 * (inside - first['forward_seconds'] - second['forward_seconds']) / inside:.1f}%",
            f"{100 * second['cached_prompt_tokens'] / max(1, second['prompt_tokens']):.0f}%",
            f"{first['prompt_tokens'] / first['model_seconds']:.0f}",
            f"{raw:.0f}",
            f"{int(first['correct'])}/1, {int(second['correct'])}/1",
        )
    console.print(table)
    console.print(
        "overhead: time outside model calls (splitting excluded) over the questions' wall time; "
        "loop: time inside model calls but outside forward passes (the decode loop's Python); "
        "2nd cached: share of the 2nd question's prompt tokens read from the prefix cache; "
        "prompt tok/s counts every prompt token, cached or not."
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"speed-{reading}{'' if prefix_cache else '-no-cache'}.json"
    (out_dir / name).write_text(
        json.dumps(
            {
                "model": chat_model.name,
                "prefix_cache": prefix_cache,
                "reading": reading,
                "max_batch_size": getattr(chat_model, "max_batch_size", None),
                "raw_prefill_tok_s": raw,
                "threads": torch.get_num_threads(),
                "results": records,
            },
            indent=1,
        )
    )
    console.print(f"results: {out_dir / name}")
