"""Packaging: the wheel installs one top-level module, `longagent`, and the CLI fails politely."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_has_only_the_longagent_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("longagent-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {
        "longagent",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
    for subpackage in ("llm", "kernels", "chunking", "memory", "agents", "apps", "apps/bench"):
        assert f"longagent/{subpackage}/__init__.py" in names
    for prompt in ("agents/prompts/member.txt", "memory/prompts/summarize.txt"):
        assert f"longagent/{prompt}" in names  # prompts ship with the code that uses them


def test_cli_user_mistake_is_one_line_not_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "longagent.apps.cli", "generate", "hi", "--model", "no-such-model"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Unknown model spec 'no-such-model'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_a_config_error_naming_the_variable(monkeypatch) -> None:
    import pytest

    from longagent.config import Settings, get_settings
    from longagent.errors import ConfigError

    monkeypatch.setenv("LONGAGENT_THREADS", "abc")
    with pytest.raises(ConfigError, match="LONGAGENT_THREADS='abc'"):
        get_settings()
    monkeypatch.setenv("LONGAGENT_THREADS", "2")
    for name, value in [("MAX_DOCUMENT_BYTES", "-5"), ("THREADS", "0"), ("PREFIX_CACHE_MB", "-1")]:
        monkeypatch.setenv(f"LONGAGENT_{name}", value)
        with pytest.raises(ConfigError, match=f"LONGAGENT_{name}"):
            Settings()
        monkeypatch.delenv(f"LONGAGENT_{name}")
    with pytest.raises(ConfigError, match="max_document_bytes=0"):
        get_settings(max_document_bytes=0)


def test_names_checked_before_heavy_imports_match_their_sources() -> None:
    from longagent.apps.extend_cmd import METHODS
    from longagent.kernels import METHODS as KERNEL_METHODS

    assert tuple(METHODS) == tuple(KERNEL_METHODS)


def test_a_bad_command_line_does_not_import_torch() -> None:
    code = (
        "import sys; from longagent.apps.cli import run; "
        "rc = run(['ask', 'x.txt', 'q', '--max-rounds', '0']); "
        "print(rc, 'torch' in sys.modules, 'lancedb' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.stdout.split() == ["2", "False", "False"], shown.stderr


def test_chat_read_with_an_unclosed_quote_is_an_error_line_not_a_crash() -> None:
    import io

    from rich.console import Console

    from longagent.apps.chat_cmd import command

    out = io.StringIO()
    # The agent is not reached: the line fails to parse first.
    assert command(None, "/read 'notes.txt what is it", Console(file=out))  # type: ignore[arg-type]
    assert "No closing quotation" in out.getvalue()


def test_a_checkout_shadows_no_installed_module() -> None:
    # `python -m ...` from a checkout puts its root first on sys.path: a package there named
    # like a distribution (our old top-level `kernels/`) hides it from everything installed.
    importable = {
        path.stem
        for path in ROOT.iterdir()
        if (path / "__init__.py").is_file() or path.suffix == ".py"
    }
    assert importable <= {"longagent", "tests"}
    # transformers >= 5.25 imports the `kernels` distribution as it loads a model
    subprocess.run([sys.executable, "-c", "import transformers.activations"], cwd=ROOT, check=True)


def test_every_public_name_resolves_and_checking_an_option_imports_no_heavy_stack() -> None:
    import longagent
    from longagent import agents, memory

    for package in (longagent, agents, memory):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
    # A fresh interpreter checking a verifier name or a library path needs neither torch
    # nor LanceDB: a bad option fails in well under a second.
    probe = (
        "import sys; from longagent.agents.verifier import verifier_names; verifier_names(); "
        "import longagent.memory.library_location; "
        "print(sorted({'torch', 'lancedb'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
