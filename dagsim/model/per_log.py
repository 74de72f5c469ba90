"""Continuous replication one 1 MB log at a time, each log a SimPy event.

This is the slow, literal model: it exists for short windows and to validate the fluid
engine against. Log ``k`` of a database closes when the fluid generation curve reaches
``k``, so both engines see the same load; each passive copy copies logs one after another at
its max-min fair share of the path (taken when the transfer starts) and replays them at its
share of the server's replay rate.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from dagsim.model.allocation import max_min_fair
from dagsim.model.engine import ReplicationEngine
from dagsim.model.fluid import COPY_QUEUE_THRESHOLD, REPLAY_QUEUE_THRESHOLD
from dagsim.model.layout import Layout
from dagsim.model.queue_stats import QueueStats
from dagsim.model.recorder import Recorder
from dagsim.model.topology import Topology
from dagsim.model.workload import HOUR, Workload

__all__ = ["PerLogReplication"]


class PerLogReplication(ReplicationEngine):
    """Discrete log shipping and replay; same interface as :class:`FluidReplication`."""

    def __init__(
        self,
        env: simpy.Environment,
        layout: Layout,
        topology: Topology,
        workload: Workload,
        recorder: Recorder,
    ) -> None:
        super().__init__(env, layout, topology, workload, recorder)
        n, d = layout.n_copies, layout.n_databases

        # Log numbers: ``closed[d]`` logs exist; a copy has copied up to ``copied`` and
        # replayed up to ``replayed``. Lagged copies start with their lag window unreplayed.
        self.closed = np.zeros(d, dtype=np.int64)
        self.copied = np.zeros(n, dtype=np.int64)
        self.replayed = np.zeros(n, dtype=np.int64)
        self.close_times: list[list[float]] = [[] for _ in range(d)]
        self._history_times: list[np.ndarray] = [np.zeros(0)] * d
        max_lag = float(layout.replay_lag.max(initial=0.0))
        if max_lag > 0:
            self._build_history(max_lag)
        for row in np.flatnonzero(self.lagged):
            self.replayed[row] = -self._history_count(int(self.db[row]), float(layout.replay_lag[row]))

        self.generated_fraction = np.zeros(d)
        self.stats_copy = QueueStats(n, COPY_QUEUE_THRESHOLD)
        self.stats_replay = QueueStats(n, REPLAY_QUEUE_THRESHOLD)
        self._since = np.zeros(n)
        self._cq = np.zeros(n)
        self._rq = (self.copied - self.replayed).astype(float)
        self.copy_high = self._cq > COPY_QUEUE_THRESHOLD
        self.replay_high = self._rq > REPLAY_QUEUE_THRESHOLD
        self.copy_volume_peak = np.zeros(n)
        self.active_volume_peak = np.zeros(d)
        self.frozen_at = np.full(d, -1, dtype=np.int64)  # truncation point while frozen
        self._wake: list[simpy.Event | None] = [None] * n
        self._replay_wake: list[simpy.Event | None] = [None] * n
        self._busy_ship = np.zeros(n, dtype=bool)
        self._busy_replay = np.zeros(n, dtype=bool)
        self.server_incidence = np.zeros((n, len(layout.server_names)))
        self.server_incidence[np.arange(n), layout.copy_server] = 1.0
        self._share_cache: dict = {}
        self._replay_cache: dict = {}

    # ------------------------------------------------------------ history
    def _build_history(self, max_lag: float) -> None:
        """Close times of the logs generated before the run (the daily profile, repeated)."""
        hours = int(math.ceil(max_lag / HOUR)) + 1
        edges = -np.arange(hours, -1, -1) * HOUR
        for d in range(self.layout.n_databases):
            cumulative = np.array([self.workload.history(0.0, t)[d] if t >= 0 else -self.workload.history(t, 0.0)[d] for t in edges])
            # Log k (k <= 0) closed when the cumulative count reached k.
            first = int(math.ceil(cumulative[0]))
            numbers = np.arange(first, 1)
            self._history_times[d] = np.interp(numbers, cumulative, edges)

    def _history_count(self, d: int, lag: float) -> int:
        """How many pre-run logs of database ``d`` closed within ``lag`` before the start."""
        times = self._history_times[d]
        return int(np.count_nonzero(times > -lag))

    def _close_time(self, d: int, number: int) -> float:
        if number > 0:
            return self.close_times[d][number - 1]
        times = self._history_times[d]
        return float(times[len(times) - 1 + number]) if len(times) else -math.inf

    # ------------------------------------------------------------ processes
    def start(self) -> None:
        self._refresh_routes(record=False)
        for d in range(self.layout.n_databases):
            self.env.process(self._generate(d))
        for row in range(self.layout.n_copies):
            if not self.is_active[row]:
                self.env.process(self._ship(row))
                self.env.process(self._replay(row))
        self.env.process(self._sample())

    def _generate(self, d: int):
        """Close log after log as the generation curve passes each whole number."""
        while True:
            remaining = 1.0 - self.generated_fraction[d]
            now = self.env.now
            rate = self.workload.rates(now)[d] if self.mounted[d] else 0.0
            change = self.workload.next_change(now)
            if rate * (change - now) >= remaining:
                yield self.env.timeout(remaining / rate)
                self.generated_fraction[d] = 0.0
                self._log_closed(d)
            else:
                self.generated_fraction[d] += rate * (change - now)
                yield self.env.timeout(change - now)

    def _log_closed(self, d: int) -> None:
        self.steps += 1
        self.closed[d] += 1
        self.close_times[d].append(self.env.now)
        first = self.layout.db_first_copy[d]
        stop = self.layout.db_first_copy[d + 1] if d + 1 < self.layout.n_databases else self.layout.n_copies
        for row in range(first, stop):
            if not self.is_active[row]:
                self._update(row)
                self._signal(self._wake, row)
        self._track_volume(d)

    def _ship(self, row: int):
        d = int(self.db[row])
        while True:
            if self.suspended[row] or not self.paths.has_route[row] or self.copied[row] >= self.closed[d]:
                self._busy_ship[row] = False
                yield self._wait(self._wake, row)
                continue
            self._busy_ship[row] = True
            rate = self._share(row)
            yield self.env.timeout(1.0 / rate)
            if not self.paths.has_route[row]:
                continue  # the path went down mid-transfer: this log must be copied again
            if self.suspended[row]:
                continue
            self.steps += 1
            self.copied[row] += 1
            self._update(row)
            self._signal(self._replay_wake, row)
            self._track_volume(d)

    def _replay(self, row: int):
        d = int(self.db[row])
        lag = float(self.layout.replay_lag[row])
        while True:
            next_log = self.replayed[row] + 1
            if self.suspended[row] or next_log > self.copied[row]:
                self._busy_replay[row] = False
                yield self._wait(self._replay_wake, row)
                continue
            ready = self._close_time(d, int(next_log)) + lag
            if ready > self.env.now:
                self._busy_replay[row] = False
                yield self.env.timeout(ready - self.env.now)
                continue
            self._busy_replay[row] = True
            yield self.env.timeout(1.0 / self._replay_share(row))
            if self.suspended[row]:
                continue
            self.steps += 1
            self.replayed[row] += 1
            self._update(row)
            self._track_volume(d)

    def _sample(self):
        for t in self.recorder.sample_times:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self._store_sample(inclusive=False)

    def _store_sample(self, *, inclusive: bool) -> None:
        rows, times = self.recorder.due(self.env.now, self.env.now, inclusive=True)
        if len(times):
            cq, rq = self.queues()
            self.recorder.store(rows, cq, rq, self.active_log_volume())

    # ------------------------------------------------------------ sharing
    def _share(self, row: int) -> float:
        """Logs/s for the transfer ``row`` starts now: its max-min share among busy flows."""
        busy = self._busy_ship & self.paths.has_route
        key = busy.tobytes()
        rates = self._share_cache.get(key)
        if rates is None:
            rows = np.flatnonzero(busy)
            rates = np.zeros(self.layout.n_copies)
            rates[rows] = max_min_fair(self.paths.incidence[rows], self.topology.capacity, np.full(len(rows), np.inf))
            self._share_cache[key] = rates
        return float(rates[row])

    def _replay_share(self, row: int) -> float:
        key = self._busy_replay.tobytes()
        rates = self._replay_cache.get(key)
        if rates is None:
            rows = np.flatnonzero(self._busy_replay)
            rates = np.zeros(self.layout.n_copies)
            capacity = self.layout.replay_capacity
            rates[rows] = max_min_fair(self.server_incidence[rows], capacity, np.full(len(rows), np.inf))
            self._replay_cache[key] = rates
        return float(rates[row])

    # ------------------------------------------------------------ bookkeeping
    def _wait(self, events: list, row: int) -> simpy.Event:
        event = self.env.event()
        events[row] = event
        return event

    @staticmethod
    def _signal(events: list, row: int) -> None:
        event = events[row]
        if event is not None and not event.triggered:
            events[row] = None
            event.succeed()

    def _update(self, row: int) -> None:
        """Account the time copy ``row`` spent at its old queue lengths, then take the new."""
        now = self.env.now
        dt = now - self._since[row]
        self.stats_copy.add_constant(row, self._cq[row], dt)
        self.stats_replay.add_constant(row, self._rq[row], dt)
        self._since[row] = now
        self._cq[row] = self.closed[self.db[row]] - self.copied[row]
        self._rq[row] = self.copied[row] - self.replayed[row]
        self._threshold(row, self._cq[row], self.copy_high, "copy_queue", "CopyQueueLength", 10)
        self._threshold(row, self._rq[row], self.replay_high, "replay_queue", "ReplayQueueLength", 50)

    def _threshold(self, row: int, value: float, high: np.ndarray, kind: str, column: str, level: int) -> None:
        above = value > level
        if above == high[row]:
            return
        high[row] = above
        database, server = self.layout.copy_names[row]
        if above:
            self.recorder.event(self.env.now, f"{kind}_high", database, server, f"{column} rose above {level}")
        else:
            self.recorder.event(self.env.now, f"{kind}_normal", database, server, f"{column} back to {level} or below")

    def _db_rows(self, d: int) -> range:
        return self.layout.rows_of(d)

    def _truncation_point(self, d: int) -> int:
        if self.frozen_at[d] >= 0 or not self.layout.circular_logging[d]:
            return max(int(self.frozen_at[d]), 0)
        point = int(self.closed[d])
        for row in self._db_rows(d):
            if not self.is_active[row]:
                point = min(point, int(self.copied[row] if self.lagged[row] else self.replayed[row]))
        return point

    def _track_volume(self, d: int) -> None:
        use = self.closed[d] - self._truncation_point(d)
        self.active_volume_peak[d] = max(self.active_volume_peak[d], use)
        for row in self._db_rows(d):
            if self.is_active[row]:
                self.copy_volume_peak[row] = max(self.copy_volume_peak[row], use)
            else:
                own = self._rq[row] if self.lagged[row] else use - self._cq[row]
                self.copy_volume_peak[row] = max(self.copy_volume_peak[row], own)

    def _refresh_routes(self, *, record: bool = True) -> None:
        if self.paths.refresh(self.env.now, self.active, self.is_active, record=record):
            self._share_cache.clear()

    # ------------------------------------------------------------ interface
    def advance(self, now: float) -> None:
        """Bring statistics up to ``now`` (the discrete state is always current)."""
        for row in range(self.layout.n_copies):
            if not self.is_active[row]:
                self._update(row)
        self.t = now

    def suspend(self, row: int) -> None:
        d = int(self.db[row])
        self.frozen_at[d] = self._truncation_point(d)
        self.suspended[row] = True
        self._update(row)

    def resume(self, row: int) -> None:
        d = int(self.db[row])
        self.suspended[row] = False
        self.paths.resumed(row)
        self._refresh_routes()
        if not (self.suspended[list(self._db_rows(d))] & ~self.is_active[list(self._db_rows(d))]).any():
            self.frozen_at[d] = -1
        self._signal(self._wake, row)
        self._signal(self._replay_wake, row)

    def topology_changed(self) -> None:
        self._refresh_routes()
        for row in range(self.layout.n_copies):
            self._signal(self._wake, row)

    @property
    def has_route(self) -> np.ndarray:
        return self.paths.has_route

    @property
    def generated(self) -> np.ndarray:
        return self.closed.astype(float)

    written = generated

    def queues(self) -> tuple[np.ndarray, np.ndarray]:
        return self._cq.copy(), self._rq.copy()

    def active_log_volume(self) -> np.ndarray:
        return np.array([self.closed[d] - self._truncation_point(d) for d in range(self.layout.n_databases)], dtype=float)

    def log_position_time(self, database: int, logs: float) -> float:
        number = int(logs)
        return self._close_time(database, number) if number != 0 else 0.0
