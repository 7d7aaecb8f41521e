"""How `longagent bench extend` shows its results: a terminal table, a markdown table for
the README, and a plot of passkey accuracy and perplexity per method and length."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cell_text(row: dict[str, Any]) -> str:
    """'4/5 (strict 2) · ppl 12.3 · 840 s': passed/samples, in brackets how many of them
    wrote the key with no lead-in token (' the', ' a') when that is fewer, and the cell's
    CPU seconds (wall time on a shared machine says little)."""
    samples = row["samples"]
    ok = sum(r["ok"] for r in samples)
    strict = sum(r["strict"] for r in samples)
    text = f"{ok}/{len(samples)}" + (f" (strict {strict})" if strict < ok else "")
    text += "" if row["perplexity"] is None else f" · ppl {row['perplexity']:.1f}"
    if "same_as" in row:
        return f"{text} (= {row['same_as']})"
    return f"{text} · {row.get('cpu_seconds', row['seconds']):.0f} s"


def grid(report: dict[str, Any]) -> tuple[list[str], list[int], dict[tuple[str, int], Any]]:
    """(methods, lengths, cells) over every result in the report, methods in METHODS order."""
    from longagent.kernels import METHODS

    cells = {(r["method"], r["length"]): r for r in report["results"]}
    methods = [m for m in METHODS if any(m == c[0] for c in cells)]
    return methods, sorted({c[1] for c in cells}), cells


def size_name(size: int) -> str:
    return f"{size // 1024}K" if size % 1024 == 0 else str(size)


def results_table(report: dict[str, Any]) -> Any:
    from rich.table import Table

    native = report["native_length"]
    table = Table(title=f"passkey passed/samples · perplexity · time (native window {native})")
    methods, sizes, cells = grid(report)
    table.add_column("method")
    for size in sizes:
        table.add_column(size_name(size), justify="right")
    for method in methods:
        row = [cells.get((method, s)) for s in sizes]
        table.add_row(method, *("" if r is None else cell_text(r) for r in row))
    return table


def markdown_table(report: dict[str, Any]) -> str:
    methods, sizes, cells = grid(report)
    lines = [
        "| method | " + " | ".join(size_name(s) for s in sizes) + " |",
        "|---" * (len(sizes) + 1) + "|",
    ]
    for method in methods:
        row = [cells.get((method, s)) for s in sizes]
        texts = ("" if r is None else cell_text(r) for r in row)
        lines.append(f"| {method} | " + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    methods, sizes, cells = grid(report)
    for method in methods:
        xs = [s for s in sizes if (method, s) in cells]
        if not xs:
            continue
        left.plot(xs, [100 * cells[(method, s)]["passkey"] for s in xs], "o-", label=method)
        ppl = [(s, cells[(method, s)]["perplexity"]) for s in xs]
        ppl = [(s, p) for s, p in ppl if p is not None]
        if ppl:
            right.plot(*zip(*ppl, strict=True), "o-", label=method)
    for ax, title in (
        (left, "passkey accuracy (%)"),
        (right, "perplexity (far tokens, log scale)"),
    ):
        ax.axvline(report["native_length"], color="grey", linestyle="--", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [size_name(s) for s in sizes])
        ax.set_xlabel("context length (tokens)")
        ax.set_title(title)
    left.set_ylim(-5, 105)
    right.set_yscale("log")  # no extension past the window reaches the thousands
    left.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
