"""The code quality gate: ruff's rules (pyproject.toml [tool.ruff]) hold everywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ruff_finds_nothing():
    """`ruff check` over the package, tests and benchmarks reports no problem."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "dagsim", "tests", "benchmarks"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
