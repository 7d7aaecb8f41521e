"""How `longagent ask` prints an answer: the text, each citation in its context, under a
"not found" the passages the search read first, then the trace and the usage line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from longagent.agents import Answer, Citation
    from longagent.agents.library_qa import PreparedLibrary
    from longagent.agents.types import PassageRead
    from longagent.chunking import Document

CONTEXT_CHARS = 90  # shown around each citation
EXCERPT_CHARS = 300  # of each passage read, under a "not found"

# Where a span's text is: a text, the offset it starts at in its document, and the
# document's path ("" for the one document asked about).
Source = tuple[str, int, str]


def show(answer: Answer, document: Document, *, as_json: bool = False, trace: bool = False) -> None:
    whole: Source = (document.text, 0, "")
    _show(answer, lambda _: whole, lambda _: whole, as_json=as_json, trace=trace)


def show_library(
    answer: Answer, prepared: PreparedLibrary, *, as_json: bool = False, trace: bool = False
) -> None:
    """Like `show`, each citation and passage with its document's path (and a citation's
    page, for a PDF); the context comes from the chunk it was read in."""
    chunks = {c.id: c for c in prepared.chunks}

    def cited(citation: Citation) -> Source:
        chunk = chunks.get(citation.chunk_id)
        return (chunk.text, chunk.start, citation.path) if chunk else ("", 0, citation.path)

    def read(passage: PassageRead) -> Source:
        chunk = prepared.chunks[passage.chunk]
        return chunk.text, chunk.start, prepared.sources[passage.chunk].path

    _show(answer, cited, read, as_json=as_json, trace=trace)


def _show(
    answer: Answer,
    cited: Callable[[Citation], Source],
    read: Callable[[PassageRead], Source],
    *,
    as_json: bool,
    trace: bool,
) -> None:
    out = Console()
    if as_json:
        out.print_json(answer.model_dump_json())
        return
    style = "bold green" if answer.found else "bold yellow"
    out.print(f"[{style}]{escape(answer.text)}[/]")
    for number, citation in enumerate(answer.citations, 1):
        text, offset, path = cited(citation)
        start, end = citation.start - offset, citation.end - offset
        before = text[max(0, start - CONTEXT_CHARS) : start].replace("\n", " ")
        after = text[end : end + CONTEXT_CHARS].replace("\n", " ")
        page = f", page {citation.page}" if citation.page is not None else ""
        out.print(
            f"  [{number}] {_named(path)}chars {citation.start}-{citation.end}{page} "
            f"(chunk {citation.chunk_index}): "
            f"[dim]…{escape(before)}[/][bold]{escape(citation.quote)}[/][dim]{escape(after)}…[/]"
        )
    if not answer.found and (passages := answer.passages_read()):
        out.print("[dim]Not an answer: the passages read first (likeliest first) grounded none.[/]")
        for passage in passages:
            text, offset, path = read(passage)
            said = _excerpt(text[passage.start - offset : passage.end - offset])
            out.print(
                f"  {_named(path)}chars {passage.start}-{passage.end}: [dim]{escape(said)}[/]"
            )
    if answer.remembered:
        out.print(
            "[dim]Given again: this question was asked before with the same model and "
            "settings over the same text, so nothing was read again.[/]"
        )
    if trace:
        _print_trace(out, answer)
    usage = answer.usage
    out.print(
        f"[dim]{answer.chunks} chunks, {len(answer.trace)} rounds, {usage.model_calls} model calls, "
        f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens, {usage.seconds:.1f} s in the model[/]"
    )


def _named(path: str) -> str:
    return f"{escape(path)} " if path else ""


def _excerpt(passage: str) -> str:
    said = " ".join(passage.split())
    return said if len(said) <= EXCERPT_CHARS else said[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"


def _print_trace(out: Console, answer: Answer) -> None:
    for round_ in answer.trace:
        took = f" ({round_.seconds:.1f} s)" if round_.seconds else ""
        out.print(
            f"[bold]round {round_.index + 1}[/] {round_.kind}{took}: {escape(round_.instruction)}"
        )
        for report in round_.reports:
            if report.verdict != "refused":
                out.print(
                    f"   member {report.member}: {report.verdict} {escape(repr(report.answer))} {escape(report.reason)}"
                )
        if round_.skipped:
            out.print(
                f"   read {len(round_.members)} chunks, most relevant first; "
                f"{len(round_.skipped)} left unread"
            )
        out.print(f"   → {escape(round_.decision)}")
