"""What both replication engines share: their inputs and the roles of the copies."""

from __future__ import annotations

import numpy as np
import simpy

from dagsim.model.layout import Layout
from dagsim.model.recorder import Recorder
from dagsim.model.shipping import ShippingPaths
from dagsim.model.topology import Topology
from dagsim.model.workload import Workload

__all__ = ["ReplicationEngine"]


class ReplicationEngine:
    """Base of the fluid and per-log engines: which copy is active, which are mounted."""

    def __init__(
        self,
        env: simpy.Environment,
        layout: Layout,
        topology: Topology,
        workload: Workload,
        recorder: Recorder,
    ) -> None:
        self.env = env
        self.layout = layout
        self.topology = topology
        self.workload = workload
        self.recorder = recorder
        n, d = layout.n_copies, layout.n_databases
        self.db = layout.copy_db
        self.active = layout.initial_active.copy()
        self.is_active = np.zeros(n, dtype=bool)
        self.is_active[self.active] = True
        self.mounted = np.ones(d, dtype=bool)
        self.suspended = np.zeros(n, dtype=bool)  # holds truncation (docs/scenario-reference.md#databases)
        self.lagged = layout.replay_lag > 0
        self.paths = ShippingPaths(layout, topology, recorder)
        self.t = 0.0
        self.steps = 0
