"""The `longagent` command line.

Every command checks its options before importing anything heavy, and `run` turns every
error a user can cause (a bad option, a bad setting, a file it cannot write) into one line
on stderr and exit status 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer
from rich.console import Console
from rich.markup import escape
from typer._click import exceptions as clicks  # typer vendors click: its errors live here

from longagent.apps import (
    ask_cmd,
    chat_cmd,
    checks,
    extend_cmd,
    library_cmd,
    repair_cmd,
    web_cmd,
)
from longagent.apps.bench import bench_app
from longagent.errors import LongAgentError

app = typer.Typer(
    help="Answer questions over long documents and chat with persistent memory, locally.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(bench_app, name="bench")
app.add_typer(library_cmd.library_app, name="library")
err = Console(stderr=True)
out = Console()


@app.command("serve-model")
def serve_model(
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    host: str = typer.Option(
        "127.0.0.1", help="Interface to bind; loopback unless told otherwise."
    ),
    port: int = typer.Option(8000, help="TCP port."),
    max_batch: int = typer.Option(8, help="Most concurrent requests run as one batch."),
) -> None:
    """Serve a model over the OpenAI chat-completions API (/v1/models, /v1/chat/completions)."""
    checks.port("--port", port)
    checks.at_least("--max-batch", max_batch, 1)
    checks.model_spec(model)
    import uvicorn

    from longagent.apps.model_server import create_app
    from longagent.llm import load_model

    chat_model = load_model(model)
    err.print(f"serving [bold]{chat_model.name}[/] on http://{host}:{port}/v1")
    uvicorn.run(
        create_app(chat_model, max_batch=max_batch), host=host, port=port, log_level="warning"
    )


@app.command()
def models() -> None:
    """List the model specs `--model` accepts."""
    from longagent.llm.registry import REGISTRY, SPEC_HELP

    for name, entry in REGISTRY.items():
        out.print(f"[bold]{escape(name)}[/]  {escape(entry.description)}")
    out.print(SPEC_HELP, markup=False, highlight=False)


@app.command()
def generate(
    prompt: str = typer.Argument(..., help="The user message."),
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    max_tokens: int = typer.Option(128, help="Most tokens to generate."),
) -> None:
    """Stream one chat reply from a model."""
    checks.at_least("--max-tokens", max_tokens, 1)
    checks.model_spec(model)
    from longagent.llm import GenerationRequest, load_model

    chat_model = load_model(model)
    request = GenerationRequest.chat(prompt, max_new_tokens=max_tokens)
    stream = getattr(chat_model, "stream", None)
    pieces = stream(request) if stream else [chat_model.generate([request])[0].text]
    for piece in pieces:
        out.print(piece, end="", markup=False, highlight=False)
    out.print()


app.command()(ask_cmd.ask)
app.command()(ask_cmd.demo)
app.command(help="Chat with a memory agent (/core, /archival, /recall, /forget, /export, /quit).")(
    chat_cmd.chat
)
app.command("extend", help="Plan a context extension for a model; print vLLM settings.")(
    extend_cmd.main
)
app.command()(web_cmd.serve)
app.command()(repair_cmd.repair)
app.command()(library_cmd.add)


def _fail(message: str) -> int:
    err.print("[bold red]error:[/]", end=" ")
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    return 2


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; the exit status. User mistakes print one clear line, never
    a traceback: bad options and settings, files that cannot be read or written."""
    # The commands show their own progress; transformers' "Loading weights" bars (one per
    # model loaded) would interleave with it on stderr. Read when huggingface_hub loads.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        result = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except clicks.NoArgsIsHelpError as exc:  # bare `longagent`: the help, as asked
        err.print(exc.format_message(), markup=False, highlight=False)
        return 2
    except clicks.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        return _fail(exc.format_message().replace("\n", " ") + hint)
    except clicks.ClickException as exc:
        return _fail(exc.format_message().replace("\n", " "))
    except typer.Abort:
        return _fail("aborted")
    except LongAgentError as exc:
        return _fail(" ".join(str(exc).split("\n")))
    except OSError as exc:  # permission denied, read-only or full disk, ...
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")
    return result if isinstance(result, int) else 0


def main() -> None:
    """Entry point (`longagent`)."""
    sys.exit(run())


if __name__ == "__main__":
    main()
