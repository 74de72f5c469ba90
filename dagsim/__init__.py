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

import dagsim.availability  # callable: dagsim.availability(scenario, years=...) runs a study
from dagsim.availability import AvailabilityResult
from dagsim.config import Problem, Scenario, ScenarioError, load_scenario, load_scenario_text
from dagsim.model.simulation import Simulation
from dagsim.records import (
    ClientOutageRecord,
    CopyStats,
    DatabaseStats,
    DecisionRecord,
    EventRecord,
    FailoverRecord,
)
from dagsim.results import RunResult
from dagsim.simulate import simulate
from dagsim.status import copy_status

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
