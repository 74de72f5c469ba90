"""One Monte Carlo replica: an ordinary run of the scenario with a generated failure timeline.

A replica is a pure function of (scenario, seed, replica index). It records only the figures
a study reports, as one small immutable :class:`ReplicaRecord`; the model's time series are
not kept (the sample interval is set to the whole replica).

The layout and a route memo are built once per :class:`ReplicaRunner` (once per study and
process) and shared by its replicas through :class:`dagsim.model.simulation.SharedParts`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagsim.availability.timeline import replica_timeline
from dagsim.config.schema import Scenario
from dagsim.model.engine import ControllableEngine
from dagsim.model.layout import Layout
from dagsim.model.simulation import SharedParts, Simulation
from dagsim.model.topology import Route, Topology

__all__ = ["ReplicaRecord", "ReplicaRunner"]

# Routes for one network state are the same in every replica; a study meets few states.
# The memo is bounded so that no study can grow it without limit.
_ROUTE_MEMO_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    """What one replica showed; per-database tuples follow the scenario's database order.

    Times are in seconds of simulated time, over ``duration`` seconds. ``user_minutes`` holds
    one tuple per client protocol (scenario order of ``client_access.protocols``; none when the
    study skips client outages).
    """

    index: int
    duration: float
    failure_actions: int
    downtime: tuple[float, ...]
    below_two_healthy: tuple[float, ...]
    failovers: tuple[int, ...]
    lossy_failovers: tuple[int, ...]
    logs_lost: tuple[float, ...]
    messages_lost: tuple[float, ...]
    user_minutes: tuple[tuple[float, ...], ...]
    quorum_losses: int


class _MemoTopology(Topology):
    """A topology whose routes are looked up in a memo shared by the replicas of a study."""

    def __init__(self, scenario: Scenario, memo: dict) -> None:
        super().__init__(scenario)
        self._memo = memo
        self._state: tuple[int, bytes] = (-1, b"")

    def route(self, src: str, dst: str, network: str) -> Route | None:
        version = self.state_version
        if self._state[0] != version:
            self._state = (version, self.edge_up.tobytes())
        key = (self._state[1], src, dst, network)
        try:
            return self._memo[key]
        except KeyError:
            pass
        route = super().route(src, dst, network)
        if len(self._memo) >= _ROUTE_MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = route
        return route


class _Watch:
    """Integrates, per database, the time not mounted and the time with fewer than 2 healthy copies.

    State is read after each recorded event, once every event of that moment has run.
    """

    def __init__(self, sim: Simulation) -> None:
        if sim.manager is None or not isinstance(sim.replication, ControllableEngine):
            raise ValueError("a replica needs Active Manager (fluid mode)")
        self.sim = sim
        self.manager = sim.manager
        self.engine: ControllableEngine = sim.replication
        layout = sim.layout
        self.copy_db = layout.copy_db
        n = layout.n_databases
        self.downtime = np.zeros(n)
        self.below_two = np.zeros(n)
        self.last = 0.0
        self.mounted, self.healthy = self._state()
        self.pending = False
        sim.recorder.listeners.append(lambda _event: self._touch())

    def _touch(self) -> None:
        if not self.pending:
            self.pending = True
            # A zero delay runs after what is already scheduled for this moment.
            self.sim.env.timeout(0).callbacks.append(self._check)

    def _state(self) -> tuple[np.ndarray, np.ndarray]:
        engine = self.engine
        mounted = engine.mounted.astype(bool)
        # A passive copy is healthy when it runs (Active Manager halts the copies of a down or
        # stopped server, and failed, suspended or seeding copies) and logs reach it.
        passive = ~engine.is_active & ~engine.halted & engine.has_route
        healthy = np.bincount(self.copy_db, weights=passive, minlength=len(mounted)).astype(np.intp) + mounted.astype(np.intp)
        return mounted, healthy

    def _advance(self, now: float) -> None:
        span = now - self.last
        if span > 0:
            self.downtime += span * ~self.mounted
            self.below_two += span * (self.healthy < 2)
            self.last = now

    def _check(self, _event) -> None:
        self.pending = False
        self._advance(self.sim.env.now)
        self.mounted, self.healthy = self._state()

    def finish(self, end: float) -> None:
        self._advance(end)


class ReplicaRunner:
    """Runs replicas of one scenario; build once per study (and per worker process)."""

    def __init__(self, scenario: Scenario, seed: int, *, client_outages: bool = True) -> None:
        if scenario.failures is None:
            raise ValueError("the scenario has no failures: block to study")
        if scenario.run.mode != "fluid":
            raise ValueError("availability studies need mode fluid (per_log mode has no Active Manager)")
        self.duration = scenario.failures.replica_duration
        # No time series: one sample interval spans the whole replica.
        run = scenario.run.model_copy(update={"sample_interval": self.duration, "duration": self.duration})
        self.scenario = scenario.model_copy(update={"run": run})
        self.seed = seed
        # Client outages are worked out after the run, client by client; a study may skip them.
        self.protocols = tuple(scenario.client_access.protocols) if client_outages else ()
        self.databases = tuple(d.name for d in scenario.databases)
        layout = Layout.from_scenario(scenario)
        memo: dict = {}
        self.parts = SharedParts(layout=layout, new_topology=lambda: _MemoTopology(self.scenario, memo))

    def run(self, index: int) -> ReplicaRecord:
        """Replica ``index``: its generated timeline played by an ordinary simulation."""
        timeline = replica_timeline(self.scenario, self.seed, index, self.duration)
        scenario = self.scenario.model_copy(update={"timeline": timeline})
        sim = Simulation(scenario, seed=self.seed, duration=self.duration, parts=self.parts)
        watch = _Watch(sim)
        # The figures are read from the model directly: a full RunResult (tables, versions)
        # would cost more than a small replica.
        sim.run_until(self.duration)
        watch.finish(self.duration)
        position = {name: d for d, name in enumerate(self.databases)}
        n = len(self.databases)
        failovers = np.zeros(n, dtype=int)
        lossy = np.zeros(n, dtype=int)
        logs_lost = np.zeros(n)
        messages_lost = np.zeros(n)
        manager = sim.manager
        assert manager is not None  # _Watch refuses a simulation without one
        for record in manager.records():
            if record.kind != "failover":
                continue
            d = position[record.database]
            failovers[d] += 1
            if record.logs_lost > 0:
                lossy[d] += 1
                logs_lost[d] += record.logs_lost
                messages_lost[d] += max(record.messages_lost - record.messages_redelivered, 0.0)
        user_minutes = np.zeros((len(self.protocols), n))
        protocol_row: dict[str, int] = {name: p for p, name in enumerate(self.protocols)}
        client_access = sim.client_access
        if self.protocols and client_access is not None:
            for (database, protocol), minutes in client_access.user_minutes().items():
                user_minutes[protocol_row[protocol]][position[database]] += minutes
        quorum_losses = sum(1 for event in sim.recorder.events if event.kind == "quorum_lost")
        return ReplicaRecord(
            index=index,
            duration=float(self.duration),
            failure_actions=len(timeline) - len(self.scenario.timeline),
            downtime=tuple(float(x) for x in watch.downtime),
            below_two_healthy=tuple(float(x) for x in watch.below_two),
            failovers=tuple(int(x) for x in failovers),
            lossy_failovers=tuple(int(x) for x in lossy),
            logs_lost=tuple(float(x) for x in logs_lost),
            messages_lost=tuple(float(x) for x in messages_lost),
            user_minutes=tuple(tuple(float(x) for x in row) for row in user_minutes),
            quorum_losses=quorum_losses,
        )
