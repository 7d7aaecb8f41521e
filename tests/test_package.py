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
