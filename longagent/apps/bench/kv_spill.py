"""`longagent bench kv-spill`: does keeping prefix KV blocks on disk pay across processes?

Two parts, on the embedded model (set LONGAGENT_THREADS to fix the CPU threads):

1. Raw: one 512-token chunk of FILE prefilled cold (its blocks written to disk as they are
   computed), against the same blocks read back by a new cache, from the page cache and
   from disk (the files' cached pages dropped first), and the second prefill served that way.
2. End to end: `longagent ask FILE Q` as separate processes, one per question, each loading
   the model (timed apart) and asking, as the command does: first with the disk tier on a
   fresh folder, then the later questions again with the prefix cache in memory only (a
   new process starts cold). Per process: question seconds, seconds in prefill, prompt tokens and how
   many came from the cache, disk seconds and the folder's size.

Prints two tables and writes bench-results/kv_spill.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

DISK_MB = 8192  # room for everything one run writes
DEFAULT_QUESTIONS = ["What does the -i option do?", "What does the -v option do?"]


def main(
    file: Path = typer.Option(
        ..., "--file", "-f", help="The document asked about (e.g. `man -P cat grep > grep.txt`)."
    ),
    question: list[str] = typer.Option(
        None,
        "--question",
        "-q",
        help="A question, one process each, in order (repeatable; default: two about options).",
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    chunk_tokens: int = typer.Option(512, help="Tokens in the raw-prefill chunk."),
    out_dir: Path = typer.Option("bench-results", help="Where kv_spill.json is written."),
) -> None:
    from longagent.apps import checks
    from longagent.chunking import load

    checks.at_least("--chunk-tokens", chunk_tokens, 32)
    checks.model_spec(model)
    document = load(file)  # a bad file fails before the model loads
    questions = question or DEFAULT_QUESTIONS
    out = checks.writable_dir(out_dir, "--out-dir")  # last: it creates the folder
    from rich.console import Console

    console = Console()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kv-spill-") as scratch:
        with console.status("raw: prefill vs blocks from disk"):
            raw = raw_numbers(model, document.text, chunk_tokens, Path(scratch) / "raw")
        show_raw(console, raw)
        # With the cache in memory only, every process starts cold: its first question costs
        # what the disk run's first one does, less the writes (timed there), so only the
        # later questions are asked again without the disk.
        plan = [("disk", q) for q in questions] + [("memory", q) for q in questions[1:]]
        runs: dict[str, list[dict[str, Any]]] = {"disk": [], "memory": []}
        for n, (mode, q) in enumerate(plan, 1):
            with console.status(f"process {n} of {len(plan)} ({mode}): {q}"):
                run = ask_in_process(file, q, model, mode, Path(scratch) / "kv", scratch)
            runs[mode].append(run)
            console.print(f"[dim]{mode}: {json.dumps(run)}[/]")
    load_after = os.getloadavg()
    results = {
        "file": str(file),
        "questions": questions,
        "raw": raw,
        "runs": runs,
        "loadavg": [load_before, load_after],
    }
    show(console, results)
    (out / "kv_spill.json").write_text(json.dumps(results, indent=2))
    console.print(f"[dim]wrote {out / 'kv_spill.json'}[/]")


def raw_numbers(spec: str | None, text: str, tokens: int, folder: Path) -> dict[str, Any]:
    """Seconds to prefill one chunk cold, and to read its blocks back from disk."""
    from longagent.config import Settings
    from longagent.llm import GenerationRequest, load_model
    from longagent.llm.prefix_cache import PrefixCache

    settings = Settings(prefix_cache_dir=folder, prefix_cache_disk_mb=DISK_MB)
    model: Any = load_model(spec, settings=settings)
    cache = model.prefix_cache
    ids = model.tokenizer(text, add_special_tokens=False)["input_ids"][:tokens]
    chunk = model.tokenizer.decode(ids)
    request = GenerationRequest.chat(chunk, max_new_tokens=1)
    model.generate([GenerationRequest.chat("warm up", max_new_tokens=1)])
    cache.clear()
    start = time.perf_counter()
    model.generate([request])
    cold = time.perf_counter() - start
    prompt = model.encode_chat(request)
    fingerprint = cache.disk.folder.name

    def fresh() -> PrefixCache:  # what a new process opens
        return PrefixCache(spill_dir=folder, fingerprint=fingerprint)

    reread = {}
    for where in ("page cache", "disk"):
        if where == "disk":
            drop_cached_pages(cache.disk.folder)
        new = fresh()
        start = time.perf_counter()
        served, _ = new.lookup(prompt)
        reread[where] = time.perf_counter() - start
    model.prefix_cache = fresh()
    start = time.perf_counter()
    model.generate([request])
    warm = time.perf_counter() - start
    return {
        "prompt_tokens": len(prompt),
        "served_tokens": served,
        "cold_generate_s": cold,
        "write_s": cache.disk.write_s,
        "read_page_cache_s": reread["page cache"],
        "read_disk_s": reread["disk"],
        "warm_generate_s": warm,
        "disk_bytes": cache.disk_bytes,
    }


def drop_cached_pages(folder: Path) -> None:
    """Ask the kernel to forget the files' cached pages, so the next read comes from disk."""
    for path in folder.glob("*.kv"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def ask_in_process(
    file: Path, question: str, spec: str | None, mode: str, folder: Path, scratch: str
) -> dict[str, Any]:
    """One `ask` in a new Python process; what `worker` measured."""
    env = dict(os.environ)
    env["LONGAGENT_PREFIX_CACHE_DIR"] = str(folder)
    env["LONGAGENT_PREFIX_CACHE_DISK_MB"] = "0" if mode == "memory" else str(DISK_MB)
    args = json.dumps({"file": str(file.resolve()), "question": question, "model": spec})
    done = subprocess.run(
        [sys.executable, "-m", __name__, args],
        env=env,
        cwd=scratch,  # not a repository root, whose `kernels` folder would shadow ours
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {mode} process failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(args: dict[str, Any]) -> dict[str, Any]:
    """Load the model, ask as `longagent ask` does, and time the parts."""
    from longagent.apps.ask_cmd import run_question
    from longagent.chunking import load
    from longagent.llm import load_model
    from longagent.llm.usage import MeteredModel

    start = time.perf_counter()
    chat_model: Any = load_model(args["model"])
    load_s = time.perf_counter() - start
    prefill = {"s": 0.0}
    inner = chat_model._prefill

    def timed_prefill(*a: Any, **k: Any) -> Any:
        begin = time.perf_counter()
        try:
            return inner(*a, **k)
        finally:
            prefill["s"] += time.perf_counter() - begin

    chat_model._prefill = timed_prefill
    metered = MeteredModel(chat_model)
    start = time.perf_counter()
    document = load(Path(args["file"]))
    answer = run_question(document, args["question"], metered, None, None)
    question_s = time.perf_counter() - start
    cache = chat_model.prefix_cache
    disk = cache.disk if cache is not None else None
    return {
        "question": args["question"],
        "answer": answer.text,
        "found": answer.found,
        "load_s": load_s,
        "question_s": question_s,
        "prefill_s": prefill["s"],
        "prompt_tokens": metered.usage.prompt_tokens,
        "cached_tokens": cache.hits * cache.block_tokens if cache is not None else 0,
        "disk_tokens": cache.disk_hits * cache.block_tokens if cache is not None else 0,
        "disk_read_s": disk.read_s if disk else 0.0,
        "disk_write_s": disk.write_s if disk else 0.0,
        "disk_mb": (disk.bytes / 2**20) if disk else 0.0,
    }


def show_raw(console: Any, raw: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"one chunk ({raw['prompt_tokens']} prompt tokens): prefill vs disk")
    for column in ("cold generate (1 token)", "of which writing blocks", "read blocks: page cache",
                   "read blocks: disk", "generate from disk blocks", "on disk"):  # fmt: skip
        table.add_column(column, justify="right")
    table.add_row(
        f"{raw['cold_generate_s']:.2f} s",
        f"{raw['write_s'] * 1000:.0f} ms",
        f"{raw['read_page_cache_s'] * 1000:.0f} ms",
        f"{raw['read_disk_s'] * 1000:.0f} ms",
        f"{raw['warm_generate_s']:.2f} s ({raw['served_tokens']} tokens served)",
        f"{raw['disk_bytes'] / 2**20:.1f} MB",
    )
    console.print(table)


def show(console: Any, results: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"`ask {Path(results['file']).name}`, one process per question")
    for column in ("prefix cache", "process", "model load", "question", "in prefill",
                   "prompt tokens", "from cache (disk)", "disk read / write", "disk used",
                   "answer"):  # fmt: skip
        table.add_column(column, justify="right")
    for mode, runs in results["runs"].items():
        first = len(results["questions"]) - len(runs) + 1
        for n, run in enumerate(runs, first):
            table.add_row(
                mode,
                f"{n}: {run['question']}",
                f"{run['load_s']:.1f} s",
                f"{run['question_s']:.1f} s",
                f"{run['prefill_s']:.1f} s",
                str(run["prompt_tokens"]),
                f"{run['cached_tokens']} ({run['disk_tokens']})",
                f"{run['disk_read_s']:.2f} / {run['disk_write_s']:.2f} s",
                f"{run['disk_mb']:.0f} MB",
                run["answer"][:40],
            )
    console.print(table)
    before, after = results["loadavg"]
    console.print(f"load average before {before[0]:.2f}, after {after[0]:.2f} (1 min)")


if __name__ == "__main__":  # the measured process
    print(json.dumps(worker(json.loads(sys.argv[1]))))
