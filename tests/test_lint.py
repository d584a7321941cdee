"""The code passes ruff's lint rules configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys

from geo.settings import PROJECT_ROOT


def test_ruff_check_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
