"""`longagent chat`: a terminal chat with an agent whose memory persists.

Plain lines go to the agent; lines starting with "/" are commands (see HELP). The REPL
reads any iterable of lines, so it runs the same on a terminal, on piped stdin and in
tests.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from longagent.errors import LongAgentError
from longagent.names import NAME_RULE, is_agent_name

if TYPE_CHECKING:
    from longagent.agents.chat import ChatAgent, Reply


HELP = """commands:
  /core                    show core memory
  /archival QUERY          search archival memory
  /recall QUERY            search past messages (recall memory)
  /thoughts QUERY          search findings from documents
  /read PATH QUESTION      read a document and answer about it
  /forget ID               delete an archival entry or a thought (id or its first 8 characters)
  /export FILE             write the whole agent to one JSON file
  /help                    this help
  /quit                    leave (memory is saved as you go)"""


def chat(
    agent: str = typer.Option("default", "--agent", "-a", help="Which agent to talk to."),
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    home: Path = typer.Option(
        None, "--home", help="Where agents live (default: LONGAGENT_HOME or ~/.longagent)."
    ),
    budget: int = typer.Option(
        None, help="Token budget of the main context (default: sized to the model)."
    ),
) -> None:
    """Chat with an agent whose memory persists across sessions (MemGPT-style)."""
    from longagent.apps import checks
    from longagent.config import get_settings
    from longagent.errors import ConfigError

    checks.at_least("--budget", budget, 128)
    if not is_agent_name(agent):
        raise ConfigError(f"--agent {agent!r} is not allowed: use {NAME_RULE}")
    checks.model_spec(model)
    checks.writable_dir(  # last: it creates the folder
        home if home is not None else get_settings().home,
        "--home" if home is not None else "LONGAGENT_HOME",
    )
    from longagent.agents.chat import ChatAgent
    from longagent.llm import load_model

    console = Console()
    with Console(stderr=True).status("loading the model"):
        chat_model = load_model(model)
    with ChatAgent(chat_model, home, agent, budget=budget) as chat_agent:
        repl(chat_agent, _terminal_lines(console), console)


def _terminal_lines(console: Console) -> Iterator[str]:
    while True:
        try:
            yield console.input("[bold cyan]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return


def repl(agent: ChatAgent, lines: Iterable[str], console: Console | None = None) -> None:
    """Run the chat over `lines` until they end or /quit."""
    console = console or Console()
    console.print(
        f"[dim]agent {escape(agent.name)} in {escape(str(agent.dir))}; /help for commands[/]"
    )
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        try:
            if line.startswith("/"):
                if not command(agent, line, console):
                    return
                continue
            with console.status("thinking"):
                reply = agent.send(line)
            show_reply(reply, console)
        except LongAgentError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}")


def show_reply(reply: Reply, console: Console) -> None:
    for call in reply.function_calls:
        if call.name == "send_message":
            continue
        how = "auto " if call.auto else ""
        first = (call.result.splitlines() or [""])[0]
        outcome = f"error: {call.error}" if call.error else first
        console.print(f"[dim]  {how}{call.name}: {escape(outcome[:160])}[/]")
    if reply.evicted:
        console.print(
            f"[dim]  {len(reply.evicted)} old message(s) moved out of context into the summary[/]"
        )
    console.print(f"[bold green]agent>[/] {escape(reply.text)}")


def command(agent: ChatAgent, line: str, console: Console) -> bool:
    """Run one /command; False means quit."""
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    name = name.lower()
    if name in ("/quit", "/exit", "/q"):
        return False
    if name == "/help":
        console.print(HELP, markup=False)
    elif name == "/core":
        with agent.locked():  # loads what another process may have saved
            blocks, summary = list(agent.core), agent.pager.summary
        for block in blocks:
            console.print(f"[bold]{escape(block.label)}[/] ({len(block.value)}/{block.limit})")
            console.print(escape(block.value) or "[dim](empty)[/]")
        if summary:
            console.print("[bold]summary[/]")
            console.print(escape(summary))
    elif name in ("/archival", "/thoughts", "/recall"):
        if not rest:
            console.print(f"usage: {name} QUERY")
        else:
            _search(agent, name, rest, console)
    elif name == "/forget":
        tier = agent.forget(rest) if rest else None
        console.print(f"forgot {rest} ({tier})" if tier else f"nothing to forget with id {rest!r}")
    elif name == "/export":
        if not rest:
            console.print("usage: /export FILE")
        else:
            console.print(f"exported to {escape(str(agent.export(rest)))}")
    elif name == "/read":
        try:
            parts = shlex.split(rest)
        except ValueError as exc:  # an unclosed quote
            parts = []
            console.print(f"[bold red]error:[/] {escape(str(exc))}")
        if len(parts) < 2:
            console.print("usage: /read PATH QUESTION")
        else:
            with console.status("reading"):
                reply = agent.send(" ".join(parts[1:]), documents=(parts[0],))
            show_reply(reply, console)
    else:
        console.print(f"unknown command {escape(name)}; /help lists them")
    return True


def _search(agent: ChatAgent, name: str, query: str, console: Console) -> None:
    if name == "/recall":
        messages = agent.functions.search_messages(query, limit=5)
        for m in messages:
            console.print(
                f"[dim]{m.created_at:%Y-%m-%d %H:%M}[/] [bold]{m.role}[/] {escape(m.content)}"
            )
        if not messages:
            console.print("no past messages match")
        return
    tier = agent.store.archival if name == "/archival" else agent.store.thoughts
    hits = tier.search(query, limit=5)
    for hit in hits:
        console.print(f"[dim]{hit.record.id}[/] {escape(hit.record.text)}")
    if not hits:
        console.print(f"no {tier.name} entries match")


def main() -> None:
    """Run `chat` alone (`python -m longagent.apps.chat_cmd`), errors as one line."""
    import sys

    try:
        typer.run(chat)
    except LongAgentError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(2)


if __name__ == "__main__":
    main()
