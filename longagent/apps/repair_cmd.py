"""`longagent repair`: check agents' memory and rewrite what is damaged.

    longagent repair                          every agent under the home
    longagent repair --agent alice            one agent
    longagent repair ~/.longagent/agents/alice/memory     a store folder (or an agent folder)

Each damaged LanceDB table is rewritten from every row that can still be read, and the
damaged folder is set aside (never deleted); a damaged core.json or paging.json is
restored from its `.bak` copy, the last good write. Prints what was kept and lost.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from longagent.errors import LongAgentError

STATE_FILES = ("core.json", "paging.json")


def _is_store(path: Path) -> bool:
    return (path / "_meta.lance").is_dir() or any(path.glob("*.lance"))


def stores(path: Path | None, home: Path | None, agent: str | None) -> list[Path]:
    """The store folders to check: the one `path` names, the agent's, or every agent's."""
    from longagent.agents.chat_types import agent_dir
    from longagent.config import Settings

    if path is not None:
        path = path.expanduser()
        for candidate in (path, path / "memory"):
            if _is_store(candidate):
                return [candidate]
        raise LongAgentError(f"there is no memory store at {path} (nor at {path / 'memory'})")
    if agent is not None:
        store = agent_dir(home, agent) / "memory"
        if not _is_store(store):
            raise LongAgentError(f"agent {agent!r} has no memory store at {store}")
        return [store]
    base = (home.expanduser() if home is not None else Settings().home) / "agents"
    found = sorted(p / "memory" for p in base.glob("*") if _is_store(p / "memory"))
    if not found:
        raise LongAgentError(f"there are no agents with a memory store under {base}")
    return found


def check_state_file(path: Path) -> str | None:
    """What was wrong with a state file and what was done, or None when it is fine."""
    from longagent.memory._atomic import _parse, read_json

    try:
        _parse(path)
        return None
    except FileNotFoundError:
        return None
    except ValueError as exc:
        problem = str(exc)
    read_json(path)  # restores it from the .bak copy, or raises DamagedFileError
    return f"{path.name}: damaged ({problem}); restored from {path.name}.bak, kept as .damaged"


def repair(
    path: Path = typer.Argument(
        None, help="A memory store folder, or an agent folder holding memory/."
    ),
    home: Path = typer.Option(
        None, "--home", help="Where agents live (default: LONGAGENT_HOME or ~/.longagent)."
    ),
    agent: str = typer.Option(
        None, "--agent", "-a", help="Repair this agent only (default: every agent)."
    ),
) -> None:
    """Check memory stores; rewrite damaged tables from every readable row."""
    from longagent.memory.errors import DamagedFileError
    from longagent.memory.repair import repair_store

    out = Console()
    damaged = unresolved = 0
    for store in stores(path, home, agent):
        out.print(f"[bold]{escape(str(store))}[/]")
        for report in repair_store(store):
            damaged += report.repaired
            style = "yellow" if report.repaired else "dim"
            out.print(f"  [{style}]{escape(report.line())}[/]")
        for name in STATE_FILES:
            try:
                note = check_state_file(store.parent / name)
            except DamagedFileError as exc:
                unresolved += 1
                out.print(f"  [red]{escape(str(exc))}[/]")
                continue
            if note:
                damaged += 1
                out.print(f"  [yellow]{escape(note)}[/]")
    if unresolved:
        raise LongAgentError(f"{unresolved} state file(s) could not be restored: see above")
    out.print("repaired what was damaged" if damaged else "nothing was damaged")
