"""What both replication engines share: their inputs, the roles of the copies, and the
contract the rest of the model holds them to.

:class:`LogFlow` is what every engine gives the simulation, the copy status table and the
statistics; :class:`ControllableEngine` adds what Active Manager, reseeding and mailbox moves
drive. The fluid engine implements both; the per-log engine only :class:`LogFlow`, which is
why ``resolve_run`` refuses failure actions, moves and added copies in per_log mode.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

import numpy as np
import simpy

from dagsim.model.layout import Layout
from dagsim.model.queue_stats import QueueStats
from dagsim.model.recorder import Recorder
from dagsim.model.shipping import ShippingPaths
from dagsim.model.state import DagState
from dagsim.model.topology import Topology
from dagsim.model.workload import Workload

__all__ = ["ControllableEngine", "LogFlow", "ReplicationEngine"]


@runtime_checkable
class LogFlow(Protocol):
    """Log positions and queues of every copy, as the simulation and its readers see them."""

    t: float
    steps: int
    active: np.ndarray
    is_active: np.ndarray
    mounted: np.ndarray
    suspended: np.ndarray
    copy_volume_peak: np.ndarray
    active_volume_peak: np.ndarray

    @property
    def generated(self) -> np.ndarray: ...

    @property
    def written(self) -> np.ndarray: ...

    @property
    def stats_copy(self) -> QueueStats: ...

    @property
    def stats_replay(self) -> QueueStats: ...

    @property
    def has_route(self) -> np.ndarray: ...

    def start(self) -> object: ...

    def advance(self, now: float) -> None: ...

    def queues(self) -> tuple[np.ndarray, np.ndarray]: ...

    def active_log_volume(self) -> np.ndarray: ...

    def log_position_time(self, database: int, logs: float) -> float: ...

    def suspend(self, row: int) -> None: ...

    def resume(self, row: int) -> None: ...

    def topology_changed(self) -> None: ...


@runtime_checkable
class ControllableEngine(LogFlow, Protocol):
    """What Active Manager, reseeding and mailbox moves change: roles, running copies, mounts."""

    halted: np.ndarray
    absent: np.ndarray
    source_blocked: np.ndarray
    paths: ShippingPaths  # each copy's shipping route, and the network it prefers
    link_edge: np.ndarray
    link_peak: np.ndarray
    link_peak_at: np.ndarray
    link_peak_rows: dict[int, np.ndarray]

    def queues_of(self, row: int) -> tuple[float, float]: ...

    def activate(self, database: int, row: int, *, last_logs_copied: float) -> float: ...

    def set_copy_running(self, row: int, running: bool, *, freeze_truncation: bool = False) -> None: ...

    def deferred(self) -> AbstractContextManager[None]: ...

    def set_mounted(self, database: int, mounted: bool) -> None: ...

    def set_source_blocked(self, database: int, blocked: bool) -> None: ...

    def set_absent(self, row: int, absent: bool) -> None: ...

    def reposition(self, row: int, copy_queue: float = 0.0, replay_queue: float = 0.0) -> None: ...

    def start_seeding(self, row: int, size: float, rate: float) -> simpy.Event: ...

    def seeding_left(self, row: int) -> float: ...

    def workload_changed(self) -> None: ...

    def logs_generated_since(self, database: int, start: float, end: float) -> float: ...


class ReplicationEngine:
    """Base of the fluid and per-log engines: which copy is active, which are mounted."""

    def __init__(
        self,
        env: simpy.Environment,
        layout: Layout,
        topology: Topology,
        workload: Workload,
        recorder: Recorder,
        state: DagState,
    ) -> None:
        """``state`` owns the roles: the engine computes with its ``active``, ``is_active`` and
        ``mounted`` arrays, and changes them only through its methods."""
        self.env = env
        self.state = state
        self.layout = layout
        self.topology = topology
        self.workload = workload
        self.recorder = recorder
        n = layout.n_copies
        self.db = layout.copy_db
        self.active = state.active
        self.is_active = state.is_active
        self.mounted = state.mounted
        self.suspended = np.zeros(n, dtype=bool)  # holds truncation (docs/scenario-reference.md#databases)
        self.lagged = layout.replay_lag > 0
        self.paths = ShippingPaths(layout, topology, recorder)
        self.t = 0.0
        self.steps = 0
