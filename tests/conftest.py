"""Options of this test suite."""

from __future__ import annotations

import os

import pytest

DEFAULT_FUZZ_N = 300


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-n",
        type=int,
        default=None,
        help=f"mutants the scenario fuzzer tries (default {DEFAULT_FUZZ_N}, or $DAGSIM_FUZZ_N)",
    )


@pytest.fixture
def fuzz_n(request: pytest.FixtureRequest) -> int:
    """How many mutants the fuzz test tries: --fuzz-n, else $DAGSIM_FUZZ_N, else the default."""
    given = request.config.getoption("--fuzz-n")
    if given is None:
        given = int(os.environ.get("DAGSIM_FUZZ_N", DEFAULT_FUZZ_N))
    return given
