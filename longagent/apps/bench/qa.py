"""`longagent bench qa`: long-document QA accuracy per system, kind, length and depth.

Prints a table per system (accuracy by kind and length, seconds, model calls and tokens
per question), writes every answer to bench-results/qa.json and NIAH-style heatmaps
(length x depth) to bench-results/qa-heatmap-SYSTEM.png.
"""

from __future__ import annotations

import json
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, get_args

import typer

from longagent.errors import ConfigError


def timed_ask(ask: Any, metered: Any, document: str, question: str) -> dict[str, Any]:
    """One question to one system: its answer, seconds and model usage, as record fields."""
    before = metered.usage.model_copy()
    start = time.perf_counter()
    text, found = ask(document, question)
    seconds = time.perf_counter() - start
    used = metered.usage - before
    return {
        "text": text,
        "found": found,
        "seconds": seconds,
        "model_calls": used.model_calls,
        "prompt_tokens": used.prompt_tokens,
        "completion_tokens": used.completion_tokens,
    }


def ask_each(
    ask: Any,
    metered: Any,
    items: list[Any],
    read: Any,
    judge: Any,
    progress: Any = None,
    job: Any = None,
) -> list[dict[str, Any]]:
    """Ask every item with one system. `read(item)` gives (document, question, the record's
    leading fields); `judge(item, answer)` the fields that score the answer."""
    records = []
    for item in items:
        document, question, fields = read(item)
        answer = timed_ask(ask, metered, document, question)
        records.append({**fields, **answer, **judge(item, answer)})
        if progress is not None:
            # One line per answer as it lands: a long run that is stopped still shows
            # what it measured (the JSON is written at the end).
            record = records[-1]
            verdict = record.get("correct", record.get("score"))
            progress.console.print(
                f"{record['id']}: {verdict}, found={answer['found']}, {answer['seconds']:.1f} s"
            )
            progress.advance(job)
    return records


def run_systems(
    systems: dict[str, Any], metered: Any, items: list[Any], run_one: Any, console: Any
) -> dict[str, list[dict[str, Any]]]:
    """Every system over every item (`run_one(ask, items, metered, progress, job)`), with
    a progress bar per system."""
    from rich.progress import Progress

    results: dict[str, list[dict[str, Any]]] = {}
    with Progress(console=console, transient=True) as progress:
        for name, make in systems.items():
            job = progress.add_task(name, total=len(items))
            results[name] = run_one(make(metered), items, metered, progress, job)
    return results


def write_results(path: Path, header: dict[str, Any], results: Any, console: Any) -> None:
    """Every answer, under the run's settings, as JSON at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**header, "results": results}, indent=1))
    console.print(f"answers: {path}")


def run(
    ask: Any, samples: list[Any], metered: Any, progress: Any = None, task: Any = None
) -> list[dict[str, Any]]:
    """Ask every sample; one record per answer with correctness, time and usage."""
    from longagent.apps.bench.qa_data import is_correct

    def read(sample: Any) -> tuple[str, str, dict[str, Any]]:
        fields = {
            "id": sample.id,
            "kind": sample.kind,
            "length": sample.length,
            "depth": sample.depth,
            "question": sample.question,
            "answers": sample.answers,
        }
        return sample.document, sample.question, fields

    def judge(sample: Any, answer: dict[str, Any]) -> dict[str, Any]:
        return {"correct": is_correct(sample, answer["text"], answer["found"])}

    return ask_each(ask, metered, samples, read, judge, progress, task)


def summary_table(system: str, records: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    lengths = sorted({r["length"] for r in records})
    kinds = list(dict.fromkeys(r["kind"] for r in records))
    table = Table(title=f"{system}: accuracy by kind and length")
    table.add_column("kind")
    for length in lengths:
        table.add_column(
            f"{length // 1024}K" if length % 1024 == 0 else str(length), justify="right"
        )
    table.add_column("wrong-but-found", justify="right")
    table.add_column("s/question", justify="right")
    table.add_column("calls/q", justify="right")
    table.add_column("tokens/q", justify="right")
    for kind in kinds:
        rows = [r for r in records if r["kind"] == kind]
        cells = []
        for length in lengths:
            group = [r for r in rows if r["length"] == length]
            cells.append(
                f"{100 * sum(r['correct'] for r in group) / len(group):.0f}%" if group else "-"
            )
        n = len(rows)
        table.add_row(
            kind,
            *cells,
            # A system that claims an answer and is wrong: the worst outcome, counted apart.
            f"{100 * sum(bool(r['found']) and not r['correct'] for r in rows) / n:.0f}%",
            f"{sum(r['seconds'] for r in rows) / n:.1f}",
            f"{sum(r['model_calls'] for r in rows) / n:.1f}",
            f"{sum(r['prompt_tokens'] + r['completion_tokens'] for r in rows) / n:.0f}",
        )
    return table


def heatmap(system: str, records: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    kinds = list(dict.fromkeys(r["kind"] for r in records))
    lengths = sorted({r["length"] for r in records})
    depths = sorted({r["depth"] for r in records})
    fig, axes = plt.subplots(1, len(kinds), figsize=(3.2 * len(kinds), 3.2), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        grid = np.full((len(depths), len(lengths)), np.nan)
        cells: dict[tuple[int, int], list[bool]] = defaultdict(list)
        for r in records:
            if r["kind"] == kind:
                cells[(depths.index(r["depth"]), lengths.index(r["length"]))].append(r["correct"])
        for (i, j), values in cells.items():
            grid[i, j] = sum(values) / len(values)
        ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        ax.set_title(kind)
        ax.set_xticks(range(len(lengths)), [f"{n // 1024}K" for n in lengths])
        ax.set_yticks(range(len(depths)), [f"{d:.0%}" for d in depths])
        ax.set_xlabel("length (tokens)")
        ax.set_ylabel("depth")
    fig.suptitle(f"{system}: accuracy by length and needle depth")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    systems: str = typer.Option(
        "truncate,retrieval,longagent",
        help="Comma-separated systems: truncate, retrieval, dos-rag, longagent.",
    ),
    kinds: str = typer.Option(
        "single,two_hop,absent,passkey,kv", help="Comma-separated sample kinds."
    ),
    lengths: str = typer.Option(
        None,
        help="Comma-separated document lengths in tokens (1k..128k); default 2k,4k "
        "(needle suite: 4k,8k,16k,32k).",
    ),
    depths: str = typer.Option(
        None,
        help="Comma-separated needle depths (0 = start, 1 = end); default 0.25,0.75 "
        "(needle suite: 0,0.25,0.5,0.75,1).",
    ),
    samples: int = typer.Option(
        1, help="Samples per kind, length and depth (ruler: per task and length)."
    ),
    chunk_tokens: int = typer.Option(None, help="LongAgent member chunk size (default: its own)."),
    reading: str = typer.Option("sweep", help="LongAgent reading: 'sweep', 'relevance' or 'all'."),
    verifier: str = typer.Option(
        "lexical",
        help="LongAgent verifier: 'lexical', 'semantic' or 'judged' (semantic, then the "
        "model confirms).",
    ),
    extract: bool = typer.Option(
        False,
        "--extract",
        help="LongAgent: when no reply grounds, the searched sentence closest in meaning "
        "answers (see `longagent ask --extract`).",
    ),
    held_quote: bool = typer.Option(
        False,
        "--held-quote",
        help="LongAgent: each reader's quote held to its passage's own sentences "
        "(opt-in profile knob `quote_held`).",
    ),
    gold: bool = typer.Option(
        False,
        "--gold",
        help="natural/person: each system reads only the chunk holding the answer's "
        "evidence (an absent question: the chunk most like it), the reading ceiling with "
        "retrieval left out; answers go to qa-SUITE-gold.json.",
    ),
    extend_to: str = typer.Option(
        None,
        help="Extend the model's window to this many tokens (e.g. 16k; the planner picks "
        "the method), so --chunk-tokens may exceed the native window.",
    ),
    out_dir: Path = typer.Option("bench-results", help="Where qa.json and the heatmaps go."),
    suite: str = typer.Option(
        "synthetic",
        help="'synthetic' (generated NIAH-PLUS samples), 'natural' (people's questions over "
        "real manuals), 'person' (one name in every chunk), 'needle' (gkamradt's NIAH) or "
        "'ruler' (RULER's synthetic tasks).",
    ),
    split: str = typer.Option(
        "dev",
        help="natural/person: 'dev' (tune on it), 'test' (report only) or 'all'; natural "
        "also 'blind' to 'blind13' (other documents, questions by people who never "
        "saw the code).",
    ),
    limit: int = typer.Option(
        None, help="natural/person/needle/ruler: only the first N questions."
    ),
    tasks: str = typer.Option(
        None,
        help="ruler: comma-separated RULER tasks (default all: niah_single_1-3, "
        "niah_multikey_1-3, niah_multivalue, niah_multiquery, vt, cwe, fwe); --samples "
        "per task and length; --lengths default 4k,8k,16k,32k.",
    ),
    seed: int = typer.Option(
        None,
        help="ruler: the generators' seed (default RULER's 42); another seed draws items "
        "never tuned on. person: the story's seed (default 0).",
    ),
) -> None:
    from rich.console import Console

    from longagent.apps import checks
    from longagent.apps.bench.qa_data import KINDS, make_suite
    from longagent.apps.bench.systems import SYSTEMS

    chosen = checks.names("--systems", systems, SYSTEMS)
    kind_list = checks.names("--kinds", kinds, KINDS)
    length_list = checks.length_list("--lengths", lengths, low=256) if lengths else None
    depth_list = checks.float_list("--depths", depths, 0.0, 1.0) if depths else None
    checks.at_least("--samples", samples, 1)
    checks.at_least("--chunk-tokens", chunk_tokens, 1)
    checks.at_least("--limit", limit, 1)
    checks.one_of("--reading", reading, ("sweep", "relevance", "all"))
    from longagent.agents.verifier import verifier_names

    checks.one_of("--verifier", verifier, tuple(verifier_names()))
    checks.at_least("--seed", seed, 0)
    if seed is not None and suite not in ("ruler", "person"):
        raise ConfigError(
            "--seed draws RULER's items or the person story: it needs --suite ruler or person"
        )
    checks.one_of("--suite", suite, ("synthetic", "natural", "person", "needle", "ruler"))
    if suite == "ruler":
        from longagent.apps.bench import ruler

        ruler_tasks = checks.names("--tasks", tasks or ",".join(ruler.TASKS), ruler.TASKS)
    from longagent.apps.bench.natural_data import Split

    checks.one_of("--split", split, (*get_args(Split), "all"))
    if split.startswith("blind") and suite != "natural":
        raise ConfigError(f"--split {split}: only the natural suite has it")
    if gold and suite not in ("natural", "person"):
        raise ConfigError("--gold needs questions with evidence: --suite natural or person")
    extension: dict[str, Any] = (
        {"extend_to": checks.length("--extend-to", extend_to)} if extend_to else {}
    )
    checks.model_spec(model)
    checks.writable_dir(out_dir, "--out-dir")  # last: it creates the folder
    from longagent.agents.profiles import profile_for
    from longagent.llm import load_model
    from longagent.llm.usage import MeteredModel

    console = Console()
    metered = MeteredModel(load_model(model, **extension))
    longagent_options: dict[str, Any] = {
        "reading": reading,
        "verifier": verifier,
        "extract": extract,
        "held_quote": held_quote,
    } | ({"chunk_tokens": chunk_tokens} if chunk_tokens else {})
    from functools import partial

    factories = {
        s: partial(SYSTEMS[s], **(longagent_options if s == "longagent" else {})) for s in chosen
    }
    if suite == "ruler":
        ruler.run_ruler(
            metered,
            factories,
            out_dir,
            tasks=ruler_tasks,
            lengths=length_list or ruler.LENGTHS,
            samples=samples,
            limit=limit,
            seed=ruler.SEED if seed is None else seed,
            console=console,
        )
        return
    if suite != "synthetic":
        from longagent.apps.bench.suites import run_suite

        run_suite(
            metered,
            suite,  # type: ignore[arg-type]
            factories,
            out_dir,
            split=None if split == "all" else split,  # type: ignore[arg-type]
            limit=limit,
            lengths=tuple(length_list) if length_list else None,
            depths=tuple(depth_list) if depth_list else None,
            seed=seed or 0,
            gold_chunk_tokens=(chunk_tokens or profile_for(metered).chunk_tokens) if gold else None,
            console=console,
        )
        return
    samples_list = make_suite(
        kind_list,  # type: ignore[arg-type]
        length_list or [2048, 4096],
        depth_list or [0.25, 0.75],
        samples,
        metered.count_tokens,
    )
    results = run_systems(factories, metered, samples_list, run, console)
    out_dir.mkdir(parents=True, exist_ok=True)
    for system, records in results.items():
        console.print(summary_table(system, records))
        heatmap(system, records, out_dir / f"qa-heatmap-{system}.png")
    machine = f"{platform.machine()}, {platform.processor() or 'cpu'}, torch threads {__import__('torch').get_num_threads()}"
    header = {
        "model": metered.name,
        "machine": machine,
        "kinds": kinds,
        "lengths": lengths,
        "depths": depths,
        "samples": samples,
        "reading": reading,
        "chunk_tokens": chunk_tokens,
        "extend_to": extend_to,
    }
    write_results(out_dir / "qa.json", header, results, console)
    console.print(f"heatmaps: {out_dir}/qa-heatmap-*.png")
