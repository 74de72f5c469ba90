"""What operators and failures change about copies and servers, beyond the flow of logs.

One :class:`DagState` per run, made by the simulation and shared: Active Manager acts on it,
the timeline's actions change it (through Active Manager in fluid mode, directly in per_log
mode, which has no Active Manager), and the copy status table reads it. The replication
engine owns the log flow and which copy is active and mounted; the cluster owns hosts,
membership and quorum (docs/design.md#who-owns-what).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dagsim.config.schema import Scenario
from dagsim.model.copy_health import CopyHealth
from dagsim.model.layout import Layout

__all__ = ["DagState"]


@dataclass
class DagState:
    """Per-copy health, and per-server Information Store and Managed Availability state."""

    health: list[CopyHealth]
    store_down: set[str] = field(default_factory=set)  # servers whose Information Store is not running
    # Managed Availability's view of each server, as set from the timeline; a stopped Client
    # Access role makes its protocol health sets unhealthy as well.
    server_health: dict[str, str] = field(default_factory=dict)
    cas_unhealthy: set[str] = field(default_factory=set)
    operator_dismounted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # Dismount-Database

    @classmethod
    def from_scenario(cls, scenario: Scenario, layout: Layout) -> DagState:
        """Everything healthy; copies declared ``added: false`` absent until added."""
        health = [CopyHealth() for _ in range(layout.n_copies)]
        for row, (database, server) in enumerate(layout.copy_names):
            spec = next(c for c in scenario.database(database).copies if c.server == server)
            health[row].absent = not spec.added
        return cls(
            health=health,
            server_health={s.name: "healthy" for s in scenario.servers},
            operator_dismounted=np.zeros(layout.n_databases, dtype=bool),
        )
