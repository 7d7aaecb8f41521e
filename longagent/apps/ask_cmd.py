"""`longagent ask` and `longagent demo`: a cited answer over a long document, in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from longagent.apps import checks
from longagent.apps.answer_view import show, show_library

if TYPE_CHECKING:  # the agents import torch and LanceDB: only once options are checked
    from longagent.agents import Answer, Event, LongAgent, PreparedDocument
    from longagent.agents.library_qa import PreparedLibrary
    from longagent.chunking import Document
    from longagent.llm import ChatModel
    from longagent.memory.embedder import Embedder
    from longagent.memory.library import Library

READINGS = ("sweep", "relevance", "all")


def ask(
    file: str = typer.Argument(
        None, metavar="FILE", help="The document: .txt .md .html .pdf .docx (not with --library)."
    ),
    question: str = typer.Argument(None, metavar="QUESTION", help="What to ask about it."),
    library: str = typer.Option(
        None,
        "--library",
        "-l",
        help="Ask over every document of this library (see `longagent add`) instead of a FILE.",
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    chunk_tokens: int = typer.Option(
        None, help="Tokens per member chunk (default: sized to the model)."
    ),
    max_rounds: int = typer.Option(
        None, help="Most rounds for one question (default: the profile's, 4 for small)."
    ),
    reading: str = typer.Option(
        None,
        help="'sweep' (default): every member whose chunk could ground an answer reads at "
        "once; 'relevance': likeliest chunks first, stopping at the first grounded evidence; "
        "'all': every member.",
    ),
    profile: str = typer.Option(None, help="'small' or 'large' (default: chosen from the model)."),
    leader: str = typer.Option(
        None, help="'auto' (default: the profile's), 'rule', or 'model' (the paper's leader)."
    ),
    verifier: str = typer.Option(
        None,
        help="How replies are checked: 'lexical' (default), 'semantic', or "
        "'judged' (semantic, then the model confirms: for served models).",
    ),
    extract: bool = typer.Option(
        None,
        "--extract/--no-extract",
        help="When no reader's reply grounds, let the searched sentence closest in meaning "
        "answer (default: LONGAGENT_EXTRACT, off): more answers, and more wrong ones.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the whole Answer as JSON."),
    trace: bool = typer.Option(False, "--trace", help="Print every round and member report."),
    reuse: bool = typer.Option(
        True,
        "--reuse/--no-reuse",
        help="Keep the FILE's split, passage vectors and answers in an implicit library "
        "(LONGAGENT_HOME/libraries/files-KEY), so the next question about it starts there.",
    ),
) -> None:
    """Answer a question over a document longer than the model's window, or over every
    document of a library (`--library NAME "question"`), with citations."""
    from longagent.chunking import load
    from longagent.errors import ConfigError

    if library is not None:
        if question is not None:
            raise ConfigError("give a FILE or --library, not both")
        question = file  # `ask --library NAME QUESTION`: the one argument is the question
    elif file is None or question is None:
        raise ConfigError("give a FILE and a QUESTION, or --library NAME and a QUESTION")
    if question is None:
        raise ConfigError("the question is missing")
    checks.at_least("--max-rounds", max_rounds, 1)
    checks.at_least("--chunk-tokens", chunk_tokens, 1)
    if reading is not None:
        checks.one_of("--reading", reading, READINGS)
    if not question.strip():
        raise ConfigError("the question is empty")
    checks.model_spec(model)
    stages = {"profile": profile, "leader": leader, "verifier": verifier}
    if library is not None:
        from longagent.apps.library_cmd import open_for_ask
        from longagent.config import get_settings

        books = open_for_ask(get_settings(), library)  # before the model: fails in a second
        _check_stages(**stages)
        answer, prepared = run_library_question(
            books,
            question,
            _load(model),
            chunk_tokens,
            max_rounds,
            reading,
            extract=extract,
            **stages,
        )
        show_library(answer, prepared, as_json=as_json, trace=trace)
        return
    document = load(Path(file))  # before the model: a bad file fails in a second
    _check_stages(**stages)
    answer = run_question(
        document,
        question,
        _load(model),
        chunk_tokens,
        max_rounds,
        reading,
        path=Path(file) if reuse else None,
        extract=extract,
        **stages,
    )
    show(answer, document, as_json=as_json, trace=trace)


def _check_stages(profile: str | None, leader: str | None, verifier: str | None) -> None:
    """The stage names (or their LONGAGENT_* settings) against the agents' registries, before
    the model loads."""
    from longagent.agents.profiles import get_profile
    from longagent.agents.verifier import get_verifier
    from longagent.config import get_settings

    settings = get_settings()
    if (name := profile or settings.profile) is not None:
        get_profile(name)
    get_verifier(verifier or settings.verifier)
    from longagent.agents.leader import LEADERS  # imports the reading stack (LanceDB): last

    checks.one_of("--leader", leader or settings.leader, sorted(LEADERS))


def _warm_embedder() -> Embedder:
    """MiniLM, loading on a background thread while the members read (seconds: the
    thoughts and the passage search of `ask FILE` need it). Only once the model is loaded:
    two threads importing transformers at once break its lazy imports ("cannot import
    name AutoModelForCausalLM")."""
    import threading

    from longagent.memory.embedder import MiniLMEmbedder

    embedder = MiniLMEmbedder()

    def warm() -> None:
        embedder.embed(["warm up"])

    threading.Thread(target=warm, name="warm-embedder", daemon=True).start()
    return embedder


def _load(spec: str | None) -> ChatModel:
    from longagent.llm import load_model

    with Console(stderr=True).status("loading the model"):
        return load_model(spec)


def _agent(
    chat_model: ChatModel,
    chunk_tokens: int | None,
    max_rounds: int | None,
    reading: str | None,
    stages: dict[str, str | None],
    embedder: Embedder | None = None,
    extract: bool | None = None,
) -> LongAgent:
    from longagent.agents import LongAgent

    return LongAgent(
        chat_model,
        embedder=embedder,
        chunk_tokens=chunk_tokens,
        max_rounds=max_rounds,
        reading=reading,
        profile=stages.get("profile"),
        leader=stages.get("leader"),
        verifier=stages.get("verifier"),
        extract=extract,
    )


def _with_progress(
    agent: LongAgent, prepared: PreparedDocument, question: str, console: Console
) -> Answer:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{len(prepared.chunks)} members reading", total=None)

        def on_event(event: Event) -> None:
            progress.update(task, description=escape(event.message))

        return agent.ask(prepared, question, on_event=on_event)


def run_question(
    document: Document,
    question: str,
    chat_model: ChatModel,
    chunk_tokens: int | None,
    max_rounds: int | None,
    reading: str | None = None,
    *,
    path: Path | None = None,
    embedder: Embedder | None = None,
    extract: bool | None = None,
    **stages: str | None,
) -> Answer:
    """`stages`: `profile`, `leader` and `verifier` by name (None: the default); `extract`
    None: the setting. `path`
    (the file `document` was loaded from): ask through the implicit library
    (`FileLibrary`), reusing what earlier questions about the file stored."""
    console = Console(stderr=True)
    if path is None:
        agent = _agent(chat_model, chunk_tokens, max_rounds, reading, stages, extract=extract)
        with console.status("splitting the document"):
            prepared = agent.prepare(document)
        return _with_progress(agent, prepared, question, console)
    from longagent.agents.file_library import FileLibrary
    from longagent.config import get_settings
    from longagent.memory.errors import StoreError

    # One embedder for the library's thoughts and passages and the agent's rankings.
    embedder = embedder or _warm_embedder()
    agent = _agent(chat_model, chunk_tokens, max_rounds, reading, stages, embedder, extract)
    try:
        files = FileLibrary(get_settings().home, chat_model, agent.chunk_tokens, embedder=embedder)
        with console.status("splitting the document"):
            prepared = files.prepare(document, path)
    except StoreError as exc:  # the message names the folder; say how to do without it
        raise StoreError(
            f"{exc} This is the implicit library of `ask FILE`: --no-reuse asks without it."
        ) from exc
    reuse = files.reuse
    if reuse.chunks:
        kept = [f"{len(prepared.chunks)} chunks"]
        kept += ["passage vectors"] if reuse.vectors else []
        kept += [f"{reuse.thoughts} thoughts"] if reuse.thoughts else []
        console.print(f"[dim]reused from {files.library.root}: {', '.join(kept)}[/]")
    answer = _with_progress(agent, prepared, question, console)
    files.keep(prepared)
    return answer


def run_library_question(
    library: Library,
    question: str,
    chat_model: ChatModel,
    chunk_tokens: int | None,
    max_rounds: int | None,
    reading: str | None = None,
    *,
    extract: bool | None = None,
    **stages: str | None,
) -> tuple[Answer, PreparedLibrary]:
    """The question over the library's best chunks for it; the answer and those chunks."""
    console = Console(stderr=True)
    agent = _agent(chat_model, chunk_tokens, max_rounds, reading, stages, extract=extract)
    with console.status("searching the library"):
        prepared = agent.prepare_library(library, question)
    return _with_progress(agent, prepared, question, console), prepared


def demo(
    tokens: int = typer.Option(20000, help="Length of the generated sample document."),
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
) -> None:
    """The main job on the bundled model: a long generated document with one fact planted
    deep inside, asked about, answered with a citation."""
    from longagent.apps.bench.qa_data import make_sample
    from longagent.chunking import load
    from longagent.config import get_settings

    checks.at_least("--tokens", tokens, 256)
    checks.at_most("--tokens", tokens, 2**20)
    checks.model_spec(model)
    folder = checks.writable_dir(get_settings().home / "demo", "the demo folder (LONGAGENT_HOME)")
    chat_model = _load(model)
    sample = make_sample("single", tokens, 0.7, 0, chat_model.count_tokens)
    path = folder / "sample.txt"
    path.write_text(sample.document)
    Console(stderr=True).print(
        f"sample document: {path} ({len(sample.document):,} characters, ~{tokens:,} tokens); "
        f"the fact sits at 70% depth.\nquestion: {sample.question}  (expected: {sample.answers[0]})"
    )
    document = load(path)
    show(run_question(document, sample.question, chat_model, None, 4), document)
