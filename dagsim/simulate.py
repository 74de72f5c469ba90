"""The one-call entry point: run a scenario (object or file) and get its result."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dagsim.config.loader import load_scenario
from dagsim.config.schema import Scenario

if TYPE_CHECKING:
    from dagsim.model.simulation import ProgressCallback
    from dagsim.results import RunResult

__all__ = ["simulate"]


def simulate(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    duration: float | None = None,
    mode: str | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run ``scenario`` once; ``seed``, ``duration`` (seconds) and ``mode`` override its ``run``."""
    from dagsim.model.simulation import Simulation  # the engine loads on first run, not on import

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return Simulation(scenario, seed=seed, duration=duration, mode=mode).run(progress=progress)
