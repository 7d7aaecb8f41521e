"""`longagent bench chunking`: MB/s to split a large text with the real tokenizer.

The text is real English available offline: the pydoc pages of the standard library
(`pydoc.render_doc(module, renderer=pydoc.plaintext)  # type: ignore[attr-defined]  # typeshed omits it`), about 8-9 MB of unique text on
CPython 3.11, repeated to reach `--size-mb`. It is split four ways:

- `split` with the bundled model's tokenizer (SmolLM2, read from its GGUF file): the
  number that matters;
- the same tokenizer counting each of those chunks once: the floor for any splitter
  that checks its chunks against the budget;
- `split` with a whitespace word counter: the cost of the splitting itself;
- a plain whitespace splitter (every `max_tokens` words): the reference.

Prints a table and writes bench-results/chunking.json.
"""

from __future__ import annotations

import contextlib
import io
import json
import platform
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

# Modules whose import has effects (opens a browser, prints, needs a display) or whose
# pages are not prose.
_SKIP = {"antigravity", "this", "idlelib", "turtledemo", "tkinter", "turtle", "test",
         "lib2to3", "ensurepip", "venv", "pydoc_data", "tests"}  # fmt: skip


def _module_names() -> list[str]:
    import importlib
    import pkgutil

    names: list[str] = []
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in _SKIP:
            continue
        names.append(name)
        try:
            module = importlib.import_module(name)
        except BaseException:  # platform-specific modules fail in many ways
            continue
        if hasattr(module, "__path__"):
            for info in pkgutil.walk_packages(module.__path__, name + ".", onerror=lambda _: None):
                if not any(part.startswith("_") or part in _SKIP for part in info.name.split(".")):
                    names.append(info.name)
    return names


def build_corpus(size_bytes: int) -> str:
    """About `size_bytes` of pydoc text of the standard library, repeated if need be."""
    import importlib
    import pydoc

    pages: list[str] = []
    total = 0
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for name in _module_names():
            try:
                page = pydoc.render_doc(importlib.import_module(name), renderer=pydoc.plaintext)  # type: ignore[attr-defined]  # typeshed omits it
            except BaseException:
                continue
            pages.append(page)
            total += len(page.encode("utf-8"))
            if total >= size_bytes:
                break
    text = "\n\n".join(pages)
    while len(text.encode("utf-8")) < size_bytes:
        text += "\n\n" + text
    return text.encode("utf-8")[:size_bytes].decode("utf-8", errors="ignore")


def whitespace_spans(text: str, max_words: int) -> list[tuple[int, int]]:
    """The reference: every `max_words` whitespace-separated words make a chunk."""
    words = [m.span() for m in re.finditer(r"\S+", text)]
    return [
        (words[i][0], words[min(i + max_words, len(words)) - 1][1])
        for i in range(0, len(words), max_words)
    ]


def main(size_mb: float = 10.0, max_tokens: int = 512) -> None:
    """Split a SIZE_MB text into MAX_TOKENS-token chunks and report MB/s."""
    from longagent.apps import checks

    checks.at_least("--size-mb", size_mb, 0.001)
    checks.at_most("--size-mb", size_mb, 1000)
    checks.at_least("--max-tokens", max_tokens, 16)
    from rich.console import Console
    from rich.table import Table
    from transformers import AutoTokenizer

    from longagent.chunking import Document, split
    from longagent.llm.registry import REGISTRY

    console = Console()
    gguf = REGISTRY["smollm2-135m"].path()
    with console.status("loading the tokenizer and building the text"):
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        text = build_corpus(int(size_mb * 1_000_000))
    megabytes = len(text.encode("utf-8")) / 1_000_000
    doc = Document.create(text, source="pydoc of the standard library")

    def count_tokens(s: str) -> int:
        return len(tokenizer.encode(s, add_special_tokens=False))

    def words(s: str) -> int:
        return len(s.split())

    rows: list[dict[str, Any]] = []

    def timed(name: str, run: Any) -> Any:
        with console.status(name):
            start = time.perf_counter()
            result = run()
            seconds = time.perf_counter() - start
        row: dict[str, Any] = {"splitter": name, "seconds": round(seconds, 3),
                               "mb_per_s": round(megabytes / seconds, 3)}  # fmt: skip
        if isinstance(result, list) and result and hasattr(result[0], "token_count"):
            row["chunks"] = len(result)
            row["mean_tokens"] = round(sum(c.token_count for c in result) / len(result), 1)
            row["max_tokens_seen"] = max(c.token_count for c in result)
        elif isinstance(result, list):
            row["chunks"] = len(result)
        rows.append(row)
        return result

    chunks = timed("split, SmolLM2 tokenizer", lambda: split(doc, count_tokens, max_tokens))
    timed(
        "SmolLM2 tokenizer, each chunk once (floor)", lambda: [count_tokens(c.text) for c in chunks]
    )
    timed("split, whitespace word counter", lambda: split(doc, words, max_tokens))
    timed("plain whitespace splitter (reference)", lambda: whitespace_spans(text, max_tokens))

    table = Table(title=f"Splitting {megabytes:.1f} MB into chunks of at most {max_tokens} tokens")
    for column in ("splitter", "MB/s", "seconds", "chunks", "mean tokens", "max tokens"):
        table.add_column(column, justify="left" if column == "splitter" else "right")
    for row in rows:
        table.add_row(
            row["splitter"],
            f"{row['mb_per_s']:.2f}",
            f"{row['seconds']:.2f}",
            str(row.get("chunks", "-")),
            str(row.get("mean_tokens", "-")),
            str(row.get("max_tokens_seen", "-")),
        )
    console.print(table)

    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    result = {
        "benchmark": "chunking",
        "megabytes": round(megabytes, 3),
        "characters": len(text),
        "max_tokens": max_tokens,
        "tokenizer": f"{gguf.name} (transformers {tokenizer.__class__.__name__})",
        "python": platform.python_version(),
        "machine": platform.platform(),
        "rows": rows,
    }
    (out / "chunking.json").write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {out / 'chunking.json'}")


if __name__ == "__main__":
    main()
