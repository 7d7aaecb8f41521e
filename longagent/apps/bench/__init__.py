"""Benchmarks: programs that print a table (and write a plot), run as `longagent bench NAME`.

Each benchmark is a module here with a `main` function whose typed parameters typer
turns into options. Modules import heavy libraries inside `main`, so the CLI starts fast.
"""

from __future__ import annotations

import importlib
import importlib.util

import typer

BENCHMARKS = {
    "model": "prefill and decode tokens/s of a model at several batch sizes",
    "chunking": "MB/s to split a large text with the real tokenizer",
    "qa": "long-document QA accuracy per system (synthetic NIAH-PLUS; --suite natural, person, needle, ruler)",
    "memory": "memory store insert rate and search latency",
    "extend": "passkey accuracy and perplexity with each context-extension method",
    "chat": "deep-memory-retrieval accuracy of the chat agent",
    "speed": "first/second question seconds and orchestration overhead",
    "ingest": "peak memory and seconds to load and split a document, by size",
    "library": "library ingest MB/s and chunks/s (100, 1,000 docs), search p50/p95 at 1K-1M chunks",
    "library_qa": "questions over a whole library vs over their own document: right, wrong, s/q",
    "reuse": "first vs second `ask FILE` over one document in two processes (implicit library)",
    "ranking": "whether the search's ranked passages hold the answer (natural suite, no model)",
    "grounding": "what the evidence check grounds: perfect replies, restated sentences (no reader)",
    "shapes": "list and overview questions over five real documents, LongAgent beside DOS-RAG",
    "serve-memory": "the web server's RSS idle, at peak and after questions and chat turns",
    "kv-spill": "prefix KV blocks on disk: a chunk's prefill vs its blocks read back; `ask` in new processes",
}

bench_app = typer.Typer(
    help="Benchmarks that print a table and write results under ./bench-results."
)

for _name, _help in BENCHMARKS.items():
    _module = f"{__name__}.{_name.replace('-', '_')}"
    if importlib.util.find_spec(_module) is not None:
        bench_app.command(_name, help=_help)(importlib.import_module(_module).main)
