"""DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 is
"same-origin" with the server, token or not; only the Host header gives it away. The real
server refuses such requests on every route before any handler runs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from longagent.apps.cli import app as cli
from longagent.apps.web_cmd import _allowed_hosts

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py


@pytest.fixture
def server(make_app: Callable[..., Any], tmp_path: Path) -> Iterator[Any]:
    # As `longagent serve` makes it on 127.0.0.1, with one more name allowed.
    app = make_app(allowed_hosts=_allowed_hosts("127.0.0.1", ["mybox.lan"]))
    with h.LiveServer(app) as live:
        yield live


def test_a_rebound_host_name_is_refused_on_every_route(server: Any, tmp_path: Path) -> None:
    url, port = server.url, server.port
    data = tmp_path / "data"
    text = h.document_text(h.BORN_RENDA)
    doc_id = httpx.post(url + "/api/documents", data={"text": text}).json()["id"]
    # What the attacker's page sends once evil.example resolves to 127.0.0.1.
    evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    for host in (f"evil.example:{port}", f"EVIL.example.:{port}", "evil.example", "", "a b"):
        headers = {**evil, "Host": host}
        assert httpx.get(url + "/api/documents", headers=headers).status_code == 400, host
    assert httpx.get(url + "/", headers=evil).status_code == 400
    assert httpx.get(url + "/health", headers=evil).status_code == 400
    before = sorted(p.name for p in (data / "documents").iterdir())
    other = {"text": "Another document, never stored."}
    assert httpx.post(url + "/api/documents", data=other, headers=evil).status_code == 400
    assert httpx.post(url + "/documents", data=other, headers=evil).status_code == 400
    assert sorted(p.name for p in (data / "documents").iterdir()) == before
    asked = httpx.post(
        f"{url}/documents/{doc_id}/questions", data={"question": "Where?"}, headers=evil
    )
    assert asked.status_code == 400 and "--allowed-host" in asked.text
    assert httpx.get(f"{url}/api/jobs", headers={"Host": "localhost"}).json() == []
    assert httpx.post(url + "/chat", data={"name": "eve"}, headers=evil).status_code == 400
    assert not (data / "agents" / "eve").exists()
    assert httpx.delete(f"{url}/api/jobs/{'0' * 32}", headers=evil).status_code == 400

    # Loopback names, with or without a port, and the configured name are served.
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST"):
        response = httpx.get(url + "/api/documents", headers={"Host": host})
        assert response.status_code == 200 and response.json()[0]["id"] == doc_id, host
    mine = {"Host": f"mybox.lan:{port}", "Origin": f"http://mybox.lan:{port}"}
    created = httpx.post(url + "/chat", data={"name": "ana"}, headers=mine)
    assert created.status_code == 303 and (data / "agents" / "ana").is_dir()


def test_serve_allows_loopback_the_bound_address_and_named_hosts() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--allowed-host" in result.output
    assert _allowed_hosts("127.0.0.1", []) == ["127.0.0.1"]
    assert _allowed_hosts("127.0.0.1", ["a.lan", "b.lan"]) == ["127.0.0.1", "a.lan", "b.lan"]
    assert _allowed_hosts("192.168.1.4", []) == ["192.168.1.4"]
    # On every interface the names are unknown: any, unless the user lists them.
    assert _allowed_hosts("0.0.0.0", []) == ["*"]
    assert _allowed_hosts("0.0.0.0", ["mybox.lan"]) == ["0.0.0.0", "mybox.lan"]
