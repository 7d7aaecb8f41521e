"""`longagent add` and `longagent library ls|rm|info`: a document library kept in LanceDB
under `$LONGAGENT_HOME/libraries/NAME`.

    longagent add ~/papers notes/*.md --library work     files, folders, globs
    longagent library ls --library work
    longagent library rm 3f2a9c01 --library work         an id, an id prefix or a path
    longagent library info --library work

Chunks are sized with the bundled model's tokenizer (its GGUF file is read, the model is
not loaded) and embedded with MiniLM unless the library was made with `--no-vectors`.
"""

from __future__ import annotations

import functools
import glob
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from longagent.apps import checks
from longagent.errors import ConfigError, DocumentError
from longagent.names import NAME_RULE, is_agent_name

if TYPE_CHECKING:
    from longagent.config import Settings
    from longagent.memory.embedder import MiniLMEmbedder
    from longagent.memory.library import Library
    from longagent.memory.library_types import AddReport

library_app = typer.Typer(
    help="List, remove and describe the documents of a library (see `longagent add`).",
    no_args_is_help=True,
)
_GLOB = frozenset("*?[")
LIBRARY_HELP = (
    "Which library: a name (a folder under LONGAGENT_HOME/libraries) or an object store URI "
    "(s3://bucket/libraries/NAME; endpoint and keys from AWS_* variables)."
)


def _library_name(name: str) -> str:
    """A library name, or an object store URI (s3://bucket/libraries/NAME) checked now."""
    from longagent.memory.library_location import check_uri, is_remote

    if is_remote(name):
        return check_uri(name)
    if not is_agent_name(name):
        raise ConfigError(f"--library {name!r} is not allowed: use {NAME_RULE} or an s3:// URI")
    return name


@functools.cache
def _tokenizer(folder: str, gguf_file: str | None) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)


def _embedder(settings: Settings) -> MiniLMEmbedder:
    """One loaded MiniLM per process (commands run in-process in tests share it), on
    LONGAGENT_THREADS threads: torch's default (every core) spins its threads against
    each other on a busy machine (measured: 1 s instead of 50 ms for one query)."""
    import torch

    from longagent.memory.embedder import MiniLMEmbedder

    torch.set_num_threads(settings.threads)
    return MiniLMEmbedder()


def token_counter(settings: Settings) -> Callable[[str], int]:
    """The bundled model's token counter, from its converted folder when cached, else
    from the GGUF file (a few seconds; the weights are never loaded)."""
    from longagent.llm.gguf_cache import MARKER, cache_key
    from longagent.llm.registry import REGISTRY

    gguf = REGISTRY["smollm2-135m"].path()
    converted = settings.cache_dir / "models" / cache_key(gguf)
    if (converted / MARKER).is_file():
        tokenizer = _tokenizer(str(converted), None)
    else:
        tokenizer = _tokenizer(str(gguf.parent), gguf.name)

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    return count


def open_for_add(
    settings: Settings, name: str, *, vectors: bool, chunk_tokens: int | None
) -> Library:
    """The library to add to: an existing one with the embedder it was made with, or a new
    one with MiniLM vectors (none with `vectors=False`)."""
    from longagent.memory.embedder import MiniLMEmbedder
    from longagent.memory.library import DEFAULT_CHUNK_TOKENS, Library

    counter = token_counter(settings)
    if not Library.exists(settings.home, name):
        embedder = _embedder(settings) if vectors else None
        size = chunk_tokens or settings.chunk_tokens or DEFAULT_CHUNK_TOKENS
        library = Library(
            settings.home,
            name,
            embedder=embedder,
            count_tokens=counter,
            chunk_tokens=size,
            settings=settings,
        )
    else:
        library = Library(settings.home, name, count_tokens=counter, settings=settings)
        if chunk_tokens is not None and chunk_tokens != library.chunk_tokens:
            raise ConfigError(
                f"--chunk-tokens applies to a new library; {name!r} has chunks of "
                f"{library.chunk_tokens} tokens"
            )
    if library.dim and library.embedder is None:
        if not vectors:
            raise ConfigError(
                f"--no-vectors applies to a new library; {name!r} stores vectors already"
            )
        if library.meta.get("embedder") != MiniLMEmbedder.name:
            raise ConfigError(
                f"library {name!r} holds vectors from {library.meta.get('embedder')!r}, "
                f"which `longagent add` cannot make"
            )
        library.embedder = _embedder(settings)
    if library.embedder is not None:
        library.embedder.embed(["warm up"])  # load it now, not inside the timed add
    return library


def open_for_ask(settings: Settings, name: str) -> Library:
    """An existing library to ask, with MiniLM loaded when its chunks hold MiniLM vectors
    (hybrid search); one without vectors is searched by BM25 alone."""
    from longagent.memory.embedder import MiniLMEmbedder
    from longagent.memory.library import Library

    library = Library(settings.home, _library_name(name), create=False, settings=settings)
    if library.dim:
        if library.meta.get("embedder") != MiniLMEmbedder.name:
            raise ConfigError(
                f"library {name!r} holds vectors from {library.meta.get('embedder')!r}, "
                "which `longagent ask` cannot make"
            )
        library.embedder = _embedder(settings)
    return library


def add(
    paths: list[str] = typer.Argument(..., help="Files, folders (recursively) and globs."),
    library: str = typer.Option("default", "--library", "-l", help=LIBRARY_HELP),
    no_vectors: bool = typer.Option(
        False, "--no-vectors", help="A new library without embeddings (full-text search only)."
    ),
    chunk_tokens: int = typer.Option(
        None, help="Tokens per chunk of a new library (default: 512, the small profile's)."
    ),
) -> None:
    """Add documents to a library: .txt .md .html .pdf .docx. Unchanged files are skipped,
    changed ones re-indexed."""
    from longagent.config import get_settings

    name = _library_name(library)
    checks.at_least("--chunk-tokens", chunk_tokens, 16)
    for path in paths:  # a typo fails now, not after the tokenizer loads
        if not _GLOB & set(path) and not Path(path).expanduser().exists():
            raise DocumentError(f"{path}: no such file or folder")
        if _GLOB & set(path) and not glob.glob(str(Path(path).expanduser()), recursive=True):
            raise DocumentError(f"{path}: no file matches")
    settings = get_settings()
    if "://" not in name:
        checks.writable_dir(settings.home / "libraries", "the library folder (LONGAGENT_HOME)")
    err = Console(stderr=True)
    with err.status("loading the tokenizer and the embedder"):
        target = open_for_add(settings, name, vectors=not no_vectors, chunk_tokens=chunk_tokens)
    report = _add_with_progress(target, paths, err)
    for result in report.files:
        if result.outcome in ("failed", "skipped", "duplicate"):
            reason = (
                result.reason if result.path in result.reason else f"{result.path}: {result.reason}"
            )
            err.print(f"[yellow]{result.outcome}:[/] {escape(reason)}")
    if report.cleaned_chunks:
        err.print(f"[dim]removed {report.cleaned_chunks} chunks an interrupted add left[/]")
    if not report.count("added", "replaced", "unchanged", "duplicate") and report.files:
        first = next(f for f in report.files if f.outcome in ("failed", "skipped"))
        raise DocumentError(f"nothing was added to library {name!r}: {first.reason}")
    Console().print(f"library {escape(name)}: {report.summary()}")


def _add_with_progress(library: Library, paths: list[str], console: Console) -> AddReport:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from longagent.memory.library_types import AddProgress

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]} files  {task.fields[mb]} MB  {task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("adding", total=None, files="0/?", mb="0.0", rate="")

        def on_progress(event: AddProgress) -> None:
            elapsed = progress.tasks[task].elapsed or 0.0
            rate = f"{event.chunks_done / elapsed:.0f} chunks/s" if elapsed > 0 else ""
            progress.update(
                task,
                total=max(event.bytes_total, 1),
                completed=event.bytes_done,
                description=escape(Path(event.path).name[:30]),
                files=f"{event.files_done}/{event.files_total}",
                mb=f"{event.bytes_done / 1e6:.1f}/{event.bytes_total / 1e6:.1f}",
                rate=rate,
            )

        return library.add(paths, on_progress=on_progress)


def _open(name: str) -> Library:
    from longagent.config import get_settings
    from longagent.memory.library import Library

    return Library(get_settings().home, _library_name(name), create=False)


@library_app.command("ls")
def ls(library: str = typer.Option("default", "--library", "-l", help=LIBRARY_HELP)) -> None:
    """List the documents of a library."""
    from rich.table import Table

    documents = _open(library).documents()
    out = Console()
    if not documents:
        out.print(f"library {escape(library)} is empty")
        return
    table = Table("id", "title", "format", "KB", "chunks", "added", "path", box=None)
    for doc in documents:
        table.add_row(
            doc.id[:12],
            escape(doc.title[:30]),
            doc.format,
            f"{doc.size / 1024:.1f}",
            str(doc.chunk_count),
            f"{doc.added_at:%Y-%m-%d}",
            escape(doc.path),
        )
    out.print(table)


@library_app.command("rm")
def rm(
    doc: str = typer.Argument(..., help="The document: its id, an id prefix or its path."),
    library: str = typer.Option("default", "--library", "-l", help=LIBRARY_HELP),
) -> None:
    """Remove a document (its row and chunks) from a library."""
    removed = _open(library).remove(doc)
    Console().print(
        f"removed {escape(removed.title)} ({escape(removed.path)}, {removed.chunk_count} chunks)"
    )


@library_app.command("info")
def info(library: str = typer.Option("default", "--library", "-l", help=LIBRARY_HELP)) -> None:
    """Counts, sizes and settings of a library."""
    facts = _open(library).info()
    out = Console()
    out.print(f"[bold]{escape(facts['name'])}[/]  {escape(facts['path'])}")
    out.print(
        f"  {facts['documents']} documents, {facts['chunks']:,} chunks, "
        f"{facts['bytes'] / 1e6:.2f} MB of files ({facts['chars']:,} characters)"
    )
    out.print(f"  {facts['disk_bytes'] / 1e6:.2f} MB on disk")
    out.print(
        f"  chunks of {facts['chunk_tokens']} tokens; vectors: {escape(facts['embedder'])}; "
        f"created {escape(facts['created_at'][:19])}"
    )
    if facts["stray_chunks"]:
        out.print(
            f"  [yellow]{facts['stray_chunks']} chunks of unfinished adds (an add running now, "
            "or one that was killed: the next add removes them)[/]"
        )
