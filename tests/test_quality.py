"""The code quality gate: ruff's rules hold everywhere, and mypy passes where pyproject.toml says."""

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


def test_mypy_finds_nothing_in_the_checked_packages(tmp_path):
    """`mypy` over the whole package ([tool.mypy] in pyproject.toml) reports no error."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
