"""`longagent serve`: the web app (QA over long documents, chat with memory agents).

Kept apart from `longagent.apps.web` so that the CLI starts without importing the web
stack; everything heavy is imported when the command runs.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import typer
from rich.console import Console


def serve(
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    host: str = typer.Option(
        "127.0.0.1", help="Interface to bind; loopback unless told otherwise."
    ),
    port: int = typer.Option(8765, help="TCP port."),
    token: str = typer.Option(
        None,
        envvar="LONGAGENT_WEB_TOKEN",
        help="Require this token (bearer header, or log in once in the browser).",
        show_default=False,
    ),
    data_dir: Path = typer.Option(
        None, help="Where documents, questions and agents are kept (default: LONGAGENT_HOME/web)."
    ),
    max_upload_mb: float = typer.Option(10.0, help="Largest document accepted, in MB."),
    chunk_tokens: int = typer.Option(None, help="Member chunk size (default: sized to the model)."),
    allowed_host: list[str] = typer.Option(
        None,
        "--allowed-host",
        envvar="LONGAGENT_WEB_ALLOWED_HOSTS",
        help="Another name clients may use to reach the server (the Host header; repeat the "
        "option for more). Loopback names are always allowed, and so is the --host address; "
        "on 0.0.0.0 or :: any name is, unless this option narrows it.",
        show_default=False,
    ),
) -> None:
    """Serve the web app: ask long documents with cited answers, chat with memory agents."""
    from longagent.apps import checks
    from longagent.config import get_settings

    checks.port("--port", port)
    checks.at_least("--max-upload-mb", max_upload_mb, 0.001)
    checks.at_most("--max-upload-mb", max_upload_mb, 100_000)  # inf would overflow int()
    checks.at_least("--chunk-tokens", chunk_tokens, 1)
    checks.model_spec(model)
    folder = checks.writable_dir(
        data_dir or get_settings().home / "web",
        "--data-dir" if data_dir else "the web app's folder (LONGAGENT_HOME/web)",
    )
    import uvicorn

    from longagent.apps.web import create_app
    from longagent.llm import load_model

    err = Console(stderr=True)
    if not token and not _loopback(host):
        err.print(
            f"[bold yellow]warning:[/] serving on {host} without a token: anyone who can reach "
            "this port can read your documents. Pass --token or set LONGAGENT_WEB_TOKEN."
        )
    with err.status("loading the model"):
        chat_model = load_model(model)
    app = create_app(
        chat_model,
        folder,
        token,
        max_upload_bytes=int(max_upload_mb * 2**20),
        chunk_tokens=chunk_tokens,
        allowed_hosts=_allowed_hosts(host, allowed_host or []),
    )
    err.print(
        f"longagent web app on [bold]http://{host}:{port}/[/] ({chat_model.name}; data in "
        f"{Path(folder).expanduser()}){'; log in with your token' if token else ''}"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _allowed_hosts(host: str, extra: list[str]) -> list[str]:
    """The Host names to answer besides loopback ones: the bound address and `extra`;
    any name when bound to every interface and none are given (no DNS-rebinding check
    then: such a server is reachable from the network, and the token protects it)."""
    if host in ("0.0.0.0", "::", "") and not extra:
        return ["*"]
    return [host, *extra]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
