"""Fixtures for the web app tests: apps on temporary data directories, a live server,
and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from longagent.apps.web import create_app
from longagent.memory.embedder import HashEmbedder


def load_helpers() -> ModuleType:
    """`_helpers.py`, imported once by path (with --import-mode=importlib a test folder is
    not on sys.path)."""
    name = "longagent_web_test_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("_helpers.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


h = load_helpers()


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("embedder", HashEmbedder())
        kwargs.setdefault("chunk_tokens", 120)
        kwargs.setdefault("allowed_hosts", ["testserver"])  # the Host that TestClient sends
        kwargs.setdefault("library_home", tmp_path / "home")  # never the user's libraries
        return create_app(kwargs.pop("model", h.scripted_model()), tmp_path / "data", **kwargs)

    return make


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("web")
    app = create_app(
        h.scripted_model(pace=0.5),
        folder / "data",
        embedder=HashEmbedder(),
        chunk_tokens=120,
        library_home=folder / "home",
    )
    with h.LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: playwright's sync API keeps an event loop running in the
    # thread while it is open, and a later test's `asyncio.run` in the same worker (the
    # model server's) then fails; closed after each browser module, it leaks no loop.
    if not os.path.exists(h.CHROMIUM):
        pytest.skip(f"no Chromium at {h.CHROMIUM}: install Debian's chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=h.CHROMIUM, args=h.CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # checked by tests: the app's own scripts must not fail
    yield page
    context.close()
