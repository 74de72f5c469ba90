"""dagsim: a simulator of Exchange Server 2013 database availability groups.

Typical use::

    import dagsim
    scenario = dagsim.load_scenario("scenarios/quickstart.yaml")
    result = dagsim.simulate(scenario)
    result.copies          # queue statistics per database copy (DataFrame)
    result.failovers       # every failover, phase by phase
    result.client_outages  # what users felt, per database and protocol
    dagsim.copy_status(scenario, at=10 * 3600)   # Get-MailboxDatabaseCopyStatus at 10:00
    study = dagsim.availability("scenarios/availability-two-copies.yaml", years=100)
    study.table            # availability per database and metric, with intervals
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dagsim.config import Problem, Scenario, ScenarioError, load_scenario, load_scenario_text
from dagsim.records import (
    ClientOutageRecord,
    CopyStats,
    DatabaseStats,
    DecisionRecord,
    EventRecord,
    FailoverRecord,
)

# Bound here, after the module of the same name was imported, so that `dagsim.simulate` is the
# function however the submodule is reached later.
from dagsim.simulate import simulate

if TYPE_CHECKING:
    import dagsim.availability as availability
    from dagsim.availability import AvailabilityResult
    from dagsim.model.simulation import Simulation
    from dagsim.results import RunResult
    from dagsim.status import copy_status

# The engine, pandas and scipy load on first use, so `dagsim validate` starts quickly.
_LAZY = {
    "AvailabilityResult": "dagsim.availability",
    "RunResult": "dagsim.results",
    "Simulation": "dagsim.model.simulation",
    "copy_status": "dagsim.status",
}


def __getattr__(name: str) -> Any:
    if name == "availability":  # the callable package: dagsim.availability(scenario, years=...)
        return importlib.import_module("dagsim.availability")
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dagsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "AvailabilityResult",
    "ClientOutageRecord",
    "CopyStats",
    "DatabaseStats",
    "DecisionRecord",
    "EventRecord",
    "FailoverRecord",
    "Problem",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "__version__",
    "availability",
    "copy_status",
    "load_scenario",
    "load_scenario_text",
    "simulate",
]
