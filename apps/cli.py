"""The `longagent` command line."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from longagent.apps.bench import bench_app
from longagent.errors import LongAgentError

app = typer.Typer(
    help="Answer questions over long documents and chat with persistent memory, locally.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(bench_app, name="bench")
err = Console(stderr=True)


def main() -> None:
    """Entry point: user mistakes print one clear line, never a traceback."""
    try:
        app()
    except LongAgentError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
