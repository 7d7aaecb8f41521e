"""What the CLI subprocess tests share: how to run the CLI, and a clean environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "longagent.apps.cli"]


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGAGENT_")}
    env |= {"LONGAGENT_HOME": str(tmp / "home"), "LONGAGENT_THREADS": "1"}
    # Wide enough that no path is folded across lines (pytest-xdist makes them longer).
    env |= {"HF_HUB_OFFLINE": "1", "COLUMNS": "300"}
    return env
