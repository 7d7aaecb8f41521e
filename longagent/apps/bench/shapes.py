"""`longagent bench shapes`: list and overview questions over five real documents (a
man page each for grep, find and wget, Python's regex HOWTO in HTML, less's manual as a
PDF), answered by LongAgent and by DOS-RAG side by side.

The overviews have no gold to score against: the table shows each answer, its shape,
how many citations back it and whether each cited span is verbatim in the document, so a
reader can judge whether it is on topic. The list questions have gold items (read off the
documents by hand): each answer is scored by recall (gold items it names) and, for the
man pages, precision (of the options it names, those in the gold). `--split dev` asks
other list questions over the same pages instead: the ones `agents/entry_lists.py` was
tuned on, never the five reported. Writes bench-results/shapes.json and a Markdown table
(shapes.md) that the README quotes.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import typer

DOCUMENTS = ("grep.txt", "find.txt", "wget.txt", "regex-howto.html", "less.pdf")
# One list question per document, as a user of each would ask it, and one overview.
LIST_QUESTIONS = {
    "grep.txt": "Which options take a file name?",
    "find.txt": "Which tests compare file times?",
    "wget.txt": "Which options take a file name?",
    "regex-howto.html": "Which metacharacters are there?",
    "less.pdf": "Which commands move forward in the file?",
}
OVERVIEW = "What is this document about?"
# Gold items, each as the names it goes by (an option's short and long form), read off the
# documents by hand.
LIST_GOLD: dict[str, list[str] | None] = {
    "grep.txt": ["-f --file", "--exclude-from"],
    "find.txt": [
        "-amin",
        "-anewer",
        "-atime",
        "-cmin",
        "-cnewer",
        "-ctime",
        "-mmin",
        "-mtime",
        "-newer",
        "-newerXY",
        "-used",
    ],
    "wget.txt": [
        "-o --output-file",
        "-a --append-output",
        "-i --input-file",
        "-O --output-document",
        "--config",
        "--rejected-log",
        "--load-cookies",
        "--save-cookies",
        "--post-file",
        "--body-file",
        "--certificate",
        "--private-key",
        "--ca-certificate",
        "--crl-file",
        "--pinnedpubkey",
        "--random-file",
        "--egd-file",
        "--hsts-file",
        "--warc-file",
        "--warc-dedup",
        "--input-metalink",
        "--default-page",
    ],
    # The metacharacters are punctuation: "." or "(" stands in any sentence, so a
    # name-based score would count noise; the answers are shown to judge by reading.
    "regex-howto.html": None,
    "less.pdf": ["SPACE", "ENTER RETURN", "d ^D", "z", "ESC-SPACE", "J", "F"],
}
# The questions entry_lists.py was tuned on: other questions over the same man pages.
LIST_DEV: list[tuple[str, str, list[str]]] = [
    (
        "grep.txt",
        "Which options control how many lines of context are shown?",
        ["-A --after-context", "-B --before-context", "-C --context"],
    ),
    (
        "find.txt",
        "Which tests look at who owns a file?",
        ["-user", "-group", "-uid", "-gid", "-nouser", "-nogroup"],
    ),
    (
        "find.txt",
        "Which actions run a command on the files found?",
        ["-exec", "-execdir", "-ok", "-okdir"],
    ),
    (
        "wget.txt",
        "Which options deal with cookies?",
        ["--no-cookies", "--load-cookies", "--save-cookies", "--keep-session-cookies"],
    ),
    (
        "wget.txt",
        "Which options set a timeout?",
        ["-T --timeout", "--dns-timeout", "--connect-timeout", "--read-timeout"],
    ),
    ("grep.txt", "Which options need a pattern as their argument?", ["-e --regexp"]),
    (
        "debian-policy-control-fields.html",
        "Which fields does a .changes file have?",
        [
            "Format",
            "Date",
            "Source",
            "Binary",
            "Architecture",
            "Version",
            "Distribution",
            "Urgency",
            "Maintainer",
            "Changed-By",
            "Description",
            "Closes",
            "Changes",
            "Checksums-Sha1",
            "Checksums-Sha256",
            "Files",
        ],
    ),
    (
        "debian-policy-control-fields.html",
        "Which fields go in the binary package stanzas of debian/control?",
        [
            "Package",
            "Architecture",
            "Section",
            "Priority",
            "Essential",
            "Depends",
            "Description",
            "Homepage",
            "Built-Using",
            "Package-Type",
        ],
    ),
    (
        "debian-policy-control-fields.html",
        "What keywords are defined for Rules-Requires-Root?",
        ["dpkg/target-subcommand", "dpkg/target/foo"],
    ),
    (
        "regex-howto.html",
        "Which flags can I pass when compiling a regex?",
        ["ASCII", "DOTALL", "IGNORECASE", "LOCALE", "MULTILINE", "VERBOSE"],
    ),
    # less's PDF (its commands became entries when PDFs kept their layout).
    (
        "less.pdf",
        "Which commands scroll the view sideways?",
        ["ESC-) RIGHTARROW", "ESC-( LEFTARROW", "ESC-} ˆRIGHTARROW", "ESC-{ ˆLEFTARROW"],
    ),
    ("less.pdf", "Which commands switch to a different file?", [":e", "E", ":n", ":p", ":x"]),
    ("less.pdf", "Which commands search backward?", ["?pattern", "ESC-?pattern"]),
    (
        "less.pdf",
        "Which options affect how searches treat upper and lower case?",
        ["-i --ignore-case", "-I --IGNORE-CASE"],
    ),
    (
        "less.pdf",
        "Which options make less exit automatically?",
        ["-e --quit-at-eof", "-E --QUIT-AT-EOF", "-F --quit-if-one-screen"],
    ),
]
_OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")


def _names(item: str, name: str) -> bool:
    """Whether `item` names `name` as a whole token ("-f FILE" names "-f", not "-fprint";
    ":d" is less's own command, not "d")."""
    return re.search(rf"(?<![\w:-]){re.escape(name)}(?![\w-])", item) is not None


def score_list(answer: str, gold: list[str]) -> dict[str, Any]:
    """Recall: the gold items the answer names. Precision, over man pages: of the options
    the answer names ("-x", "--xx"), those that are a gold item's; None where the answer
    names no option (or the gold items are not options)."""
    named = sum(any(_names(answer, n) for n in item.split()) for item in gold)
    options = list(dict.fromkeys(_OPTION.findall(answer)))
    names = {n for item in gold for n in item.split()}
    if not options or not all(_OPTION.fullmatch(n) for n in names):
        precision = None
    else:
        right = sum(o in names for o in options)
        precision = round(right / len(options), 2)
    return {"recall": f"{named}/{len(gold)}", "precision": precision, "options": len(options)}


def main(
    documents: str = typer.Option(
        "", help="Comma-separated documents (default: all of the split's)."
    ),
    kinds: str = typer.Option("list,overview", help="Which questions: list, overview."),
    systems: str = typer.Option("longagent,dos-rag", help="longagent, dos-rag."),
    out_dir: Path = typer.Option(Path("bench-results"), help="Where shapes.json/.md go."),
    split: str = typer.Option(
        "test", help="test: the five questions reported; dev: the list questions tuned on."
    ),
) -> None:
    from rich.console import Console
    from rich.table import Table

    from longagent.agents import LongAgent
    from longagent.apps import checks
    from longagent.apps.bench.natural_data import document_text
    from longagent.apps.bench.systems import dos_rag
    from longagent.llm import load_model

    asked = checks.names("--kinds", kinds, ("list", "overview"))
    chosen = checks.names("--systems", systems, ("longagent", "dos-rag"))
    (split,) = checks.names("--split", split, ("test", "dev"))
    offered = DOCUMENTS if split == "test" else tuple(dict.fromkeys(d for d, _, _ in LIST_DEV))
    names = checks.names("--documents", documents or ",".join(offered), offered)
    questions: list[tuple[str, str, str, list[str] | None]] = []  # document, kind, question, gold
    for name in names:
        if split == "dev":
            questions += [
                (d, "list", q, g) for d, q, g in LIST_DEV if d == name and "list" in asked
            ]
            continue
        for kind in asked:
            if kind == "list":
                questions.append((name, kind, LIST_QUESTIONS[name], LIST_GOLD[name]))
            else:
                questions.append((name, kind, OVERVIEW, None))
    checks.writable_dir(out_dir, "--out-dir")
    console = Console()
    model = load_model(None)
    agent = LongAgent(model)
    baseline = dos_rag(model)
    records: list[dict[str, Any]] = []
    out = out_dir / "shapes.json"
    for name, kind, question, gold in questions:
        text = document_text(name)
        record: dict[str, Any] = {"document": name, "kind": kind, "question": question}
        if "longagent" in chosen:
            start = time.perf_counter()
            answer = agent.ask(text, question)
            record["longagent"] = {
                "text": answer.text,
                "found": answer.found,
                "shape": answer.shape,
                "citations": len(answer.citations),
                "verbatim": sum(
                    " ".join(c.quote.split()) in " ".join(text.split()) for c in answer.citations
                ),
                "seconds": round(time.perf_counter() - start, 1),
            }
            if gold is not None:
                shown = answer.text if answer.found else ""
                record["longagent"]["score"] = score_list(shown, gold)
        if "dos-rag" in chosen:
            start = time.perf_counter()
            reply, found = baseline(text, question)
            record["dos-rag"] = {
                "text": reply,
                "found": found,
                "seconds": round(time.perf_counter() - start, 1),
            }
            if gold is not None:
                record["dos-rag"]["score"] = score_list(reply if found else "", gold)
        records.append(record)
        # Written after every answer: a long run stopped early keeps what it measured.
        out.write_text(json.dumps({"model": model.name, "results": records}, indent=1))
        console.print(f"{name} {kind}: done")
    table = Table(title="list and overview questions: LongAgent and DOS-RAG side by side")
    columns = ("document", "question", "LongAgent", "cited", "recall", "precision", "s")
    for column in (*columns, "DOS-RAG", "recall ", "precision ", "s "):
        table.add_column(column)
    lines = [
        "| document | question | LongAgent (shape) | cited (verbatim) | recall | precision | s "
        "| DOS-RAG | recall | precision | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        la, dr = r.get("longagent", {}), r.get("dos-rag", {})
        cited = f"{la.get('citations', '')} ({la.get('verbatim', '')})" if la else ""
        la_score, dr_score = la.get("score", {}), dr.get("score", {})
        row = [
            r["document"],
            r["question"],
            f"{la.get('text', '')} ({la.get('shape', '')})" if la else "",
            cited,
            str(la_score.get("recall", "")),
            _shown(la_score.get("precision")),
            str(la.get("seconds", "")),
            dr.get("text", ""),
            str(dr_score.get("recall", "")),
            _shown(dr_score.get("precision")),
            str(dr.get("seconds", "")),
        ]
        table.add_row(*row)
        lines.append(
            "| " + " | ".join(c.replace("\n", " <br> ").replace("|", "\\|") for c in row) + " |"
        )
    console.print(table)
    (out_dir / "shapes.md").write_text("\n".join(lines) + "\n")
    console.print(f"answers: {out}")


def _shown(precision: float | None) -> str:
    return "" if precision is None else f"{precision:.2f}"
