"""`longagent bench reuse`: the first and the second `longagent ask FILE` over the same
document, each in its own process, with and without the implicit library.

Runs, in order (each a fresh `longagent ask` subprocess on the bundled model):
1. `--no-reuse`, question A, and 2. `--no-reuse`, question B: what every question cost
   before (split, read, forget);
3. question A in a fresh LONGAGENT_HOME: the first question, storing the split;
4. question A again: (a) the same question, with its stored chunks and thought;
5. question B: (b) a different question about the same document.
Each process reports the seconds spent loading the model; "end to end" is the process's
wall time without them (so it still counts Python's start, imports, loading and
splitting the document, the reading, and writing to the library). Prints a table and
writes bench-results/reuse.json. The document defaults to `man tar` rendered as text.
Set LONGAGENT_THREADS=1 on a shared machine.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from longagent.errors import DocumentError

QUESTION_A = "Which option makes tar filter the archive through gzip?"
QUESTION_B = "Which option lists the contents of an archive?"
_REPORT = "bench-reuse: "  # the child's line on stderr


def child() -> None:
    """`python -c 'from longagent.apps.bench.reuse import child; child()' ask ...`: the CLI,
    timing the model's load and reporting it on stderr."""
    from longagent.apps import ask_cmd, cli

    load = ask_cmd._load
    spent: list[float] = []

    def timed(spec: str | None) -> Any:
        started = time.perf_counter()
        try:
            return load(spec)
        finally:
            spent.append(time.perf_counter() - started)

    ask_cmd._load = timed  # type: ignore[assignment]
    code = cli.run(sys.argv[1:])
    print(_REPORT + json.dumps({"load_s": sum(spent)}), file=sys.stderr, flush=True)
    sys.exit(code)


def _render_man(page: str, folder: Path) -> Path:
    man = shutil.which("man")
    if man is None:
        raise typer.BadParameter("no `man` here: give --document PATH")
    text = subprocess.run(
        [man, "-P", "cat", page],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "0"},
    ).stdout
    text = "".join(ch for ch in text if ch != "\b")  # overstrike bold leftovers
    if not text.strip():
        raise typer.BadParameter(f"`man {page}` printed nothing: give --document PATH")
    path = folder / f"man-{page}.txt"
    path.write_text(text)
    return path


def _ask(
    home: Path, document: Path, question: str, model: str | None, reuse: bool
) -> dict[str, Any]:
    env = {**os.environ, "LONGAGENT_HOME": str(home), "COLUMNS": "200"}
    args = ["ask", str(document), question, "--json"]
    args += ["--model", model] if model else []
    args += [] if reuse else ["--no-reuse"]
    code = "from longagent.apps.bench.reuse import child; child()"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=3600
    )
    wall = time.perf_counter() - started
    report = next(
        (json.loads(line[len(_REPORT) :]) for line in done.stderr.splitlines()
         if line.startswith(_REPORT)),
        None,
    )  # fmt: skip
    said_error = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    if done.returncode == 2 and said_error:  # a bad document or option: ask's own line
        raise DocumentError(said_error[-1].removeprefix("error: "))
    if done.returncode != 0 or report is None:
        raise RuntimeError(f"`longagent ask` failed ({done.returncode}): {done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    said = " ".join(done.stderr.split())
    first = answer["trace"][0] if answer["trace"] else {}
    return {
        "question": question,
        "reuse": reuse,
        "wall_s": wall,
        "load_s": report["load_s"],
        "end_to_end_s": wall - report["load_s"],
        "model_s": answer["usage"]["seconds"],
        "model_calls": answer["usage"]["model_calls"],
        "first_read": len(first.get("members", [])),
        "thought_first": bool(first.get("recalled")),
        "reused": _reused(said),
        "answer": answer["text"],
        "found": answer["found"],
    }


def _reused(said: str) -> str:
    """What the CLI's "reused from FOLDER: ..." line lists ("" when nothing)."""
    if "reused from " not in said:
        return ""
    listed = said.split("reused from ", 1)[1].split(": ", 1)[-1]
    return listed.split(_REPORT.strip())[0].split("⠋")[0].strip()[:80]


def main(
    document: Path = typer.Option(None, help="The document (default: `man tar` as text)."),
    man_page: str = typer.Option("tar", help="The man page rendered when no --document."),
    question_a: str = typer.Option(QUESTION_A, help="The question asked first and again."),
    question_b: str = typer.Option(QUESTION_B, help="A different question, asked third."),
    model: str = typer.Option(None, "--model", "-m", help="Model spec (default: bundled)."),
    before: bool = typer.Option(True, help="Also run both questions with --no-reuse first."),
    out: Path = typer.Option(Path("bench-results/reuse.json"), help="Where the JSON goes."),
) -> None:
    from longagent.apps import checks

    checks.model_spec(model)
    checks.writable_file(out, "--out")
    from rich.console import Console
    from rich.table import Table

    console = Console()
    load_before = os.getloadavg()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-reuse-") as tmp:
        folder = Path(tmp)
        path = document if document is not None else _render_man(man_page, folder)
        if not path.is_file():
            raise typer.BadParameter(f"{path}: no such file")
        plan = [
            ("before: question A", folder / "plain", question_a, False),
            ("before: question B", folder / "plain", question_b, False),
            ("1st: question A", folder / "home", question_a, True),
            ("2nd: (a) A again", folder / "home", question_a, True),
            ("3rd: (b) question B", folder / "home", question_b, True),
        ]
        if not before:
            plan = plan[2:]
        for label, home, question, reuse in plan:
            with console.status(f"{label}: {question}"):
                row = {"run": label, **_ask(home, path, question, model, reuse)}
            rows.append(row)
            console.print(
                f"[dim]{label:22} {row['end_to_end_s']:6.1f} s (+{row['load_s']:.1f} s load) "
                f"{row['model_calls']} calls, first read {row['first_read']} chunks "
                f"-> {row['answer']!r}[/]"
            )
        size = path.stat().st_size
    first = next(r["end_to_end_s"] for r in rows if r["run"].startswith("1st"))
    table = Table(
        "run", "end to end s", "model load s", "in the model s", "outside it s",
        "model calls", "first read", "thought first", "reused", "vs 1st", "answer",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            row["run"], f"{row['end_to_end_s']:.1f}", f"{row['load_s']:.1f}",
            f"{row['model_s']:.1f}", f"{row['end_to_end_s'] - row['model_s']:.1f}",
            str(row["model_calls"]), str(row["first_read"]),
            "yes" if row["thought_first"] else "", row["reused"] or "-",
            f"{first / row['end_to_end_s']:.1f}x", row["answer"][:40],
        )  # fmt: skip
    console.print(table)
    load_after = os.getloadavg()
    meta = {
        "document": str(document or f"man {man_page}"),
        "bytes": size,
        "threads": os.environ.get("LONGAGENT_THREADS"),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine": platform.machine(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    console.print(
        f"[dim]{meta['document']} ({size:,} bytes); LONGAGENT_THREADS={meta['threads']}, "
        f"load {load_before[0]:.1f} -> {load_after[0]:.1f}; wrote {out}[/]"
    )
