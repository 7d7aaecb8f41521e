"""`longagent bench model`: raw prefill/decode throughput at several batch sizes, and how
much `generate()` gains from batching over one-by-one calls."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import typer


def _prose(words: int) -> str:
    import pydoc

    text = pydoc.render_doc("json", renderer=pydoc.plaintext)  # type: ignore[attr-defined]  # typeshed omits it * 20
    return " ".join(text.split()[:words])


def main(
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    batch_sizes: str = typer.Option("1,4,8", help="Comma-separated batch sizes."),
    prompt_tokens: int = typer.Option(512, help="Prompt length for the prefill measurement."),
    decode_steps: int = typer.Option(32, help="Decode steps timed per batch size."),
    out_dir: Path = typer.Option("bench-results", help="Where model.json is written."),
) -> None:
    from longagent.apps import checks

    sizes = checks.int_list("--batch-sizes", batch_sizes, low=1)
    checks.at_least("--prompt-tokens", prompt_tokens, 1)
    checks.at_least("--decode-steps", decode_steps, 1)
    checks.model_spec(model)
    checks.writable_dir(out_dir, "--out-dir")  # last: it creates the folder
    import torch
    from rich.console import Console
    from rich.table import Table
    from transformers import DynamicCache

    from longagent.llm import GenerationRequest, load_model

    console = Console()
    chat_model = load_model(model)
    hf = getattr(chat_model, "hf_model", None)
    rows: list[dict[str, float]] = []
    if hf is not None:
        tokenizer = cast(Any, chat_model).tokenizer  # an embedded model: hf_model is set
        ids = tokenizer(_prose(prompt_tokens * 2), add_special_tokens=False)["input_ids"]
        ids = torch.tensor(ids[:prompt_tokens])
        with torch.inference_mode():
            hf(input_ids=ids[None, :64], logits_to_keep=1)  # warm-up
            for size in sizes:
                batch = ids.repeat(size, 1)
                cache = DynamicCache(config=hf.config)
                start = time.perf_counter()
                out = hf(input_ids=batch, cache=cache, use_cache=True, logits_to_keep=1)
                prefill_s = time.perf_counter() - start
                token = out.logits[:, -1].argmax(-1, keepdim=True)
                start = time.perf_counter()
                for _ in range(decode_steps):
                    out = hf(input_ids=token, cache=cache, use_cache=True, logits_to_keep=1)
                    token = out.logits[:, -1].argmax(-1, keepdim=True)
                decode_s = time.perf_counter() - start
                rows.append(
                    {
                        "batch": size,
                        "prefill_tok_s": size * prompt_tokens / prefill_s,
                        "decode_tok_s": size * decode_steps / decode_s,
                    }
                )
    # End to end through generate(): the same requests batched and one by one.
    topics = ["rivers", "bread", "stars", "bicycles", "libraries", "volcanoes", "chess", "owls"]
    requests = [
        GenerationRequest.chat(f"Write three sentences about {t}.", max_new_tokens=48)
        for t in topics[: max(sizes)]
    ]
    chat_model.generate(requests[:1])  # warm-up
    start = time.perf_counter()
    batched = chat_model.generate(requests)
    batched_s = time.perf_counter() - start
    start = time.perf_counter()
    sequential = [chat_model.generate([r])[0] for r in requests]
    sequential_s = time.perf_counter() - start
    tokens = sum(g.completion_tokens for g in batched)
    same = sum(a.text == b.text for a, b in zip(batched, sequential, strict=True))

    table = Table(
        title=f"{chat_model.name}: raw forward throughput ({torch.get_num_threads()} threads)"
    )
    for column in ("batch", "prefill tok/s", "decode tok/s"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["batch"]), f"{row['prefill_tok_s']:.0f}", f"{row['decode_tok_s']:.1f}"
        )
    console.print(table)
    ratio = sequential_s / batched_s
    console.print(
        f"generate(): {len(requests)} requests, {tokens} tokens: batched {batched_s:.1f} s "
        f"({tokens / batched_s:.1f} tok/s), sequential {sequential_s:.1f} s "
        f"({tokens / sequential_s:.1f} tok/s); batched/sequential throughput ratio {ratio:.2f}x; "
        f"identical outputs {same}/{len(requests)}"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.json").write_text(
        json.dumps(
            {
                "model": chat_model.name,
                "prompt_tokens": prompt_tokens,
                "raw": rows,
                "generate": {
                    "requests": len(requests),
                    "tokens": tokens,
                    "batched_s": batched_s,
                    "sequential_s": sequential_s,
                    "ratio": ratio,
                    "identical": same,
                },
            },
            indent=2,
        )
    )
