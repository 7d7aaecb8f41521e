# Copyright (c) 2024, NVIDIA CORPORATION.  All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
#
# Modified for longagent: the metrics are a port of RULER's scripts/eval/synthetic/
# constants.py (github.com/NVIDIA/RULER at c3f5e3b4f87f97e048793bb510a3a6b19a46bf3a).
"""`longagent bench qa --suite ruler`: RULER's synthetic tasks (Hsieh et al., 2024,
"RULER: What's the Real Context Size of Your Long-Context Language Models?").

The generators (ruler_data.py, ruler_extract.py) build RULER's inputs at each target
length, sized as RULER sizes them. Our systems take a document and a question: the
document is RULER's context (the haystack with its needles, chains or word lists), the
question is RULER's query line (the template's text after the context). RULER's
instruction line, the answered example it puts first for vt and cwe, and the answer prefix
it appends for base models are recorded, not sent: they prompt a bare model, and an
instruction in the document is a sentence a reader could quote as the answer ("A special
magic number is hidden within the following text" was, before this split).

Scored as RULER scores: string_match_all (the fraction of references found in the answer,
case-insensitive) for niah, vt, cwe and fwe; string_match_part for qa. Apart from that,
"wrong but found": the system claimed an answer and missed some reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longagent.apps.bench.qa import ask_each, run_systems, write_results
from longagent.apps.bench.qa_data import NOT_FOUND
from longagent.apps.bench.ruler_data import CONFIG, TEMPLATES, Draws, niah
from longagent.apps.bench.ruler_extract import common_words_extraction, freq_words_extraction
from longagent.apps.bench.ruler_vt import variable_tracking
from longagent.errors import ConfigError
from longagent.llm import ChatModel

TASKS: tuple[str, ...] = tuple(CONFIG)
LENGTHS: tuple[int, ...] = (4096, 8192, 16384, 32768)
SEED = 42  # RULER's --random_seed default
GENERATORS: dict[str, Any] = {
    "niah": niah,
    "variable_tracking": variable_tracking,
    "common_words_extraction": common_words_extraction,
    "freq_words_extraction": freq_words_extraction,
}


def string_match_part(prediction: str, references: list[str]) -> float:
    """1 if any reference is in the prediction (RULER's qa metric), per sample."""
    return max(1.0 if r.lower() in prediction.lower() else 0.0 for r in references)


def string_match_all(prediction: str, references: list[str]) -> float:
    """The fraction of references in the prediction (RULER's metric for the rest)."""
    return sum(1.0 if r.lower() in prediction.lower() else 0.0 for r in references) / len(
        references
    )


METRICS = {
    "niah": string_match_all,
    "variable_tracking": string_match_all,
    "common_words_extraction": string_match_all,
    "freq_words_extraction": string_match_all,
    "qa": string_match_part,
}


def score(task: str, prediction: str, references: list[str]) -> float:
    """RULER's per-sample score in [0, 1] for a task name (niah_single_1, vt, ...)."""
    return METRICS[CONFIG[task]["task"]](prediction, references)


def wrong_but_found(found: bool | None, text: str, value: float) -> bool:
    """The system claimed an answer and it misses a reference: the worst outcome. An
    unknown `found` counts as a claim unless the text says not found."""
    claimed = found if found is not None else NOT_FOUND not in text.lower()
    return bool(claimed) and value < 1.0


@dataclass(frozen=True)
class RulerItem:
    task: str
    length: int  # the target: RULER's max_seq_length
    index: int
    input: str  # RULER's input, answer prefix cut off
    answer_prefix: str
    outputs: list[str]
    tokens: int  # RULER's length: input and answer prefix plus the tokens to generate

    @property
    def id(self) -> str:
        return f"{self.task}-{self.length}-{self.index}"

    @property
    def instruction(self) -> str:
        """RULER's text before the context: its instruction line, and for vt and cwe an
        answered example (in-context learning for a bare model)."""
        return self.input[: _context_start(self.task, self.input)]

    @property
    def document(self) -> str:
        """The context as RULER's template places it: the haystack with its needles."""
        return self.input[_context_start(self.task, self.input) : self.input.rstrip().rfind("\n")]

    @property
    def question(self) -> str:
        return self.input.rstrip().rsplit("\n", 1)[1].strip()


def _context_start(task: str, text: str) -> int:
    # The template's text just before {context} (after its last other placeholder),
    # found from the end: an answered example before it repeats the same instruction.
    before = TEMPLATES[CONFIG[task]["task"]]["template"].split("{context}")[0]
    marker = re.split(r"\{\w+\}", before)[-1]
    return text.rfind(marker) + len(marker)


def make_ruler_items(
    count_tokens: Any,
    tasks: tuple[str, ...] | list[str] = TASKS,
    lengths: tuple[int, ...] | list[int] = LENGTHS,
    samples: int = 1,
    seed: int = SEED,
) -> list[RulerItem]:
    """`samples` items per task and length, each (task, length) drawn from a fresh seed
    as RULER runs one process per task and length."""
    items = []
    for task in tasks:
        config = CONFIG[task]
        for length in lengths:
            try:
                made = GENERATORS[config["task"]](
                    Draws(seed), count_tokens, length, samples, **config["args"]
                )
            except ConfigError as exc:  # a length the task's haystack steps cannot fit
                raise ConfigError(
                    f"--lengths: {length} tokens is too short for {task}: {exc}"
                ) from exc
            items += [
                RulerItem(task, length, i, s.input, s.answer_prefix, s.outputs, s.length)
                for i, s in enumerate(made)
            ]
    return items


def run_items(
    ask: Any, items: list[RulerItem], metered: Any, progress: Any = None, job: Any = None
) -> list[dict[str, Any]]:
    def read(item: RulerItem) -> tuple[str, str, dict[str, Any]]:
        fields = {
            "id": item.id,
            "task": item.task,
            "length": item.length,
            "tokens": item.tokens,
            "question": item.question,
            "answers": item.outputs,
        }
        return item.document, item.question, fields

    def judge(item: RulerItem, answer: dict[str, Any]) -> dict[str, Any]:
        value = score(item.task, answer["text"], item.outputs)
        return {
            "score": value,
            "wrong_but_found": wrong_but_found(answer["found"], answer["text"], value),
        }

    return ask_each(ask, metered, items, read, judge, progress, job)


def _group(records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    return {
        "n": n,
        "score": sum(r["score"] for r in records) / n,
        "wrong_but_found": sum(r["wrong_but_found"] for r in records),
        "seconds": sum(r["seconds"] for r in records) / n,
    }


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per task and length: samples, mean score (0-1), wrong-but-found count, s/question;
    per length, RULER's average: the mean of the task scores."""
    out: dict[str, Any] = {"tasks": {}, "average": {}}
    lengths = sorted({r["length"] for r in records})
    for task in dict.fromkeys(r["task"] for r in records):
        out["tasks"][task] = {
            str(length): _group(rows)
            for length in lengths
            if (rows := [r for r in records if r["task"] == task and r["length"] == length])
        }
    for length in lengths:
        scores = [t[str(length)]["score"] for t in out["tasks"].values() if str(length) in t]
        out["average"][str(length)] = sum(scores) / len(scores)
    return out


def summary_table(system: str, records: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=f"{system} on RULER")
    for name in ("task", "length", "samples", "RULER score", "wrong-but-found", "s/question"):
        table.add_column(name, justify="left" if name == "task" else "right")
    result = summary(records)
    for task, by_length in result["tasks"].items():
        for length, c in by_length.items():
            table.add_row(
                task,
                f"{int(length) // 1024}K",
                str(c["n"]),
                f"{100 * c['score']:.1f}%",
                str(c["wrong_but_found"]),
                f"{c['seconds']:.1f}",
            )
    for length, value in result["average"].items():
        table.add_row("average", f"{int(length) // 1024}K", "", f"{100 * value:.1f}%", "", "")
    return table


def run_ruler(
    model: ChatModel,
    systems: dict[str, Any],
    out_dir: Path,
    *,
    tasks: tuple[str, ...] | list[str] = TASKS,
    lengths: tuple[int, ...] | list[int] = LENGTHS,
    samples: int = 1,
    limit: int | None = None,
    seed: int = SEED,
    console: Any = None,
) -> dict[str, list[dict[str, Any]]]:
    """Ask every RULER item with every system (`name -> make(model) -> ask`) over the
    metered `model`; print a table per system; write OUT_DIR/qa-ruler.json."""
    from rich.console import Console

    from longagent.llm.usage import MeteredModel

    console = console or Console()
    metered = model if isinstance(model, MeteredModel) else MeteredModel(model)
    items = make_ruler_items(metered.count_tokens, tasks, lengths, samples, seed)
    items = items[:limit] if limit else items
    results = run_systems(systems, metered, items, run_items, console)
    for name, records in results.items():
        console.print(summary_table(name, records))
    header = {
        "suite": "ruler",
        "model": metered.name,
        "seed": seed,
        "tasks": list(tasks),
        "lengths": list(lengths),
        "samples": samples,
        "limit": limit,
        "summary": {name: summary(records) for name, records in results.items()},
    }
    write_results(out_dir / "qa-ruler.json", header, results, console)
    return results
