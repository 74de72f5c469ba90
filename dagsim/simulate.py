"""The one-call entry point: run a scenario (object or file) and get its result."""

from __future__ import annotations

from collections.abc import Iterable
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
    observe_at: Iterable[float] = (),
) -> RunResult:
    """Run ``scenario`` once; ``seed``, ``duration`` (seconds) and ``mode`` override its ``run``.

    ``observe_at``: moments (seconds) at which to take the copy status table during this one
    run, as ``Get-MailboxDatabaseCopyStatus`` would show it; they are in the result's
    ``copy_status``, by moment (clipped to the run).
    """
    from dagsim.model.simulation import Simulation  # the engine loads on first run, not on import
    from dagsim.status import status_table

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    simulation = Simulation(scenario, seed=seed, duration=duration, mode=mode)
    return simulation.run(progress=progress, observe_at=observe_at, observer=status_table)
