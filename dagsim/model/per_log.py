"""Continuous replication one 1 MB log at a time, each log a SimPy event.

This is the slow, literal model: it exists for short windows and to validate the fluid
engine against. Log ``k`` of a database closes when the fluid generation curve reaches
``k``, so both engines see the same load; each passive copy copies logs one after another at
its max-min fair share of the path (taken when the transfer starts) and replays them at its
share of the server's replay rate.

Every log closing, every log copied and every log replayed is a SimPy timeout, and an idle
copy is woken by a SimPy event when there is work for it. The model's own work per event
is kept to a few Python operations on per-copy lists: a day of the preferred architecture
is about 20 million events, so numpy's cost per call on single elements would dominate.
The numpy arrays that readers see are filled from those lists when they look
(:meth:`PerLogReplication.advance`, :attr:`~PerLogReplication.stats_copy`, :meth:`queues`).
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
from dagsim.model.state import DagState
from dagsim.model.topology import Topology
from dagsim.model.workload import HOUR, Workload

__all__ = ["PerLogReplication"]

_COPY_LEVEL = 10  # the CopyQueueLength and ReplayQueueLength levels the events name
_REPLAY_LEVEL = 50


class PerLogReplication(ReplicationEngine):
    """Discrete log shipping and replay; same interface as :class:`FluidReplication`."""

    def __init__(
        self,
        env: simpy.Environment,
        layout: Layout,
        topology: Topology,
        workload: Workload,
        recorder: Recorder,
        state: DagState,
    ) -> None:
        super().__init__(env, layout, topology, workload, recorder, state)
        n, d = layout.n_copies, layout.n_databases
        self._row_db: list[int] = layout.copy_db.tolist()
        self._row_lagged: list[bool] = self.lagged.tolist()
        self._row_lag: list[float] = layout.replay_lag.tolist()
        # Roles never change in per_log mode (no failovers), so each database's rows are
        # split once into its active and passive copies.
        is_active = self.is_active.tolist()
        self._db_rows: list[list[int]] = [list(layout.rows_of(i)) for i in range(d)]
        self._db_active: list[list[int]] = [[r for r in rows if is_active[r]] for rows in self._db_rows]
        self._db_passive: list[list[int]] = [[r for r in rows if not is_active[r]] for rows in self._db_rows]
        self._passive_rows = [r for r in range(n) if not is_active[r]]
        self._circular: list[bool] = layout.circular_logging.tolist()

        # Log numbers: ``closed[d]`` logs exist; a copy has copied up to ``copied`` and
        # replayed up to ``replayed``. Lagged copies start with their lag window unreplayed.
        self.closed: list[int] = [0] * d
        self.copied: list[int] = [0] * n
        self.replayed: list[int] = [0] * n
        self.close_times: list[list[float]] = [[] for _ in range(d)]
        # Arrays, not lists: a week's lag of 100 databases is ten million close times.
        self._history_times: list[np.ndarray] = [np.zeros(0)] * d
        max_lag = float(layout.replay_lag.max(initial=0.0))
        if max_lag > 0:
            self._build_history(max_lag)
        for row in np.flatnonzero(self.lagged).tolist():
            self.replayed[row] = -self._history_count(self._row_db[row], self._row_lag[row])

        self.generated_fraction: list[float] = [0.0] * d
        # Queue statistics, accounted per copy as plain floats and copied into the
        # QueueStats arrays when read.
        self._stats_copy = QueueStats(n, COPY_QUEUE_THRESHOLD)
        self._stats_replay = QueueStats(n, REPLAY_QUEUE_THRESHOLD)
        self._copy_integral, self._copy_peak, self._copy_above = [0.0] * n, [0.0] * n, [0.0] * n
        self._replay_integral, self._replay_peak, self._replay_above = [0.0] * n, [0.0] * n, [0.0] * n
        self._since: list[float] = [0.0] * n
        self._cq: list[int] = [0] * n
        self._rq: list[int] = [c - r for c, r in zip(self.copied, self.replayed, strict=True)]
        self.copy_high = [q > COPY_QUEUE_THRESHOLD for q in self._cq]
        self.replay_high = [q > REPLAY_QUEUE_THRESHOLD for q in self._rq]
        self.copy_volume_peak = np.zeros(n)
        self.active_volume_peak = np.zeros(d)
        self._copy_volume_peak: list[float] = [0.0] * n
        self._active_volume_peak: list[float] = [0.0] * d
        self._volume_seen = [False] * d
        # The last truncation point computed: it never moves back, so ``closed - floor`` bounds
        # the volume from above and most events need not compute the point again.
        self._truncation_floor: list[int] = [0] * d
        self.frozen_at: list[int] = [-1] * d  # truncation point while frozen
        self._suspended: list[bool] = self.suspended.tolist()
        # The event an idle copy waits on; whoever triggers it clears the slot, so an event
        # found here has not been triggered yet.
        self._wake: list[simpy.Event | None] = [None] * n
        self._replay_wake: list[simpy.Event | None] = [None] * n
        # Busy copies as bit masks: the key of the share caches below in one integer.
        self._bit = [1 << row for row in range(n)]
        self._busy_ship = 0
        self._busy_replay = 0
        self._has_route: list[bool] = [False] * n
        self._route_mask = 0
        self.server_incidence = np.zeros((n, len(layout.server_names)))
        self.server_incidence[np.arange(n), layout.copy_server] = 1.0
        self._share_cache: dict[int, list[float]] = {}
        self._replay_cache: dict[int, list[float]] = {}
        # Generation rates of every database, valid from ``_rates_from`` until ``_rates_until``.
        self._rates: list[float] = []
        self._rates_from = math.inf
        self._rates_until = -math.inf

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
        return times.item(len(times) - 1 + number) if len(times) else -math.inf

    # ------------------------------------------------------------ processes
    def start(self) -> None:
        self._refresh_routes(record=False)
        for d in range(self.layout.n_databases):
            self.env.process(self._generate(d))
        for row in self._passive_rows:
            self.env.process(self._ship(row))
            self.env.process(self._replay(row))
        self.env.process(self._sample())

    def _rates_at(self, now: float) -> list[float]:
        """Every database's generation rate at ``now``.

        A workload's rates hold until its next change, so they are fetched once per span
        rather than once per log. Sources are only added during a run by mailbox moves,
        which per_log mode refuses.
        """
        if not self._rates_from <= now < self._rates_until:
            self._rates = self.workload.rates(now).tolist()
            self._rates_from, self._rates_until = now, self.workload.next_change(now)
        return self._rates

    def _generate(self, d: int):
        """Close log after log as the generation curve passes each whole number."""
        env, fraction, mounted = self.env, self.generated_fraction, self.mounted
        while True:
            remaining = 1.0 - fraction[d]
            now = env.now
            if mounted[d]:
                rate, change = self._rates_at(now)[d], self._rates_until
            else:
                rate, change = 0.0, self.workload.next_change(now)
            if rate * (change - now) >= remaining:
                yield env.timeout(remaining / rate)
                fraction[d] = 0.0
                self._log_closed(d)
            else:
                fraction[d] += rate * (change - now)
                yield env.timeout(change - now)

    def _log_closed(self, d: int) -> None:
        now = self.env.now
        self.steps += 1
        closed = self.closed[d] = self.closed[d] + 1
        self.close_times[d].append(now)
        wake, copied, copy_queue, copy_high = self._wake, self.copied, self._cq, self.copy_high
        for row in self._db_passive[d]:
            # A close moves only the copy queue: _update, less the replay queue's half.
            self._account(row, now)
            cq = copy_queue[row] = closed - copied[row]
            if (cq > _COPY_LEVEL) != copy_high[row]:
                self._crossed(row, cq > _COPY_LEVEL, copy_high, "copy_queue", "CopyQueueLength", _COPY_LEVEL)
            event = wake[row]
            if event is not None:
                wake[row] = None
                event.succeed()
        if not self._volume_seen[d]:
            self._first_volume(d)
        elif closed - self._truncation_floor[d] > self._active_volume_peak[d]:
            # Only a closing log adds to the active copy's volume; copies and replays only
            # truncate, so its peak is reached at a close.
            use = closed - self._truncation_point(d)
            if use > self._active_volume_peak[d]:
                self._active_volume_peak[d] = use
            for row in self._db_active[d]:
                if use > self._copy_volume_peak[row]:
                    self._copy_volume_peak[row] = use

    def _ship(self, row: int):
        env, d, bit = self.env, self._row_db[row], self._bit[row]
        clear = ~bit
        suspended, has_route, copied, closed = self._suspended, self._has_route, self.copied, self.closed
        wake, replay_wake = self._wake, self._replay_wake
        lagged = self._row_lagged[row]
        while True:
            if suspended[row] or not has_route[row] or copied[row] >= closed[d]:
                self._busy_ship &= clear
                idle = wake[row] = env.event()
                yield idle
                continue
            self._busy_ship |= bit
            rates = self._share_cache.get(self._busy_ship & self._route_mask)
            if rates is None:
                rates = self._shares()
            yield env.timeout(1.0 / rates[row])
            if not has_route[row]:
                continue  # the path went down mid-transfer: this log must be copied again
            if suspended[row]:
                continue
            self.steps += 1
            copied[row] += 1
            self._update(row, env.now)
            event = replay_wake[row]
            if event is not None:
                replay_wake[row] = None
                event.succeed()
            # The copy's own volume grew by this log (see _first_volume).
            if not self._volume_seen[d]:
                self._first_volume(d)
            elif lagged:
                if self._rq[row] > self._copy_volume_peak[row]:
                    self._copy_volume_peak[row] = self._rq[row]
            elif copied[row] - self._truncation_floor[d] > self._copy_volume_peak[row]:
                own = copied[row] - self._truncation_point(d)
                if own > self._copy_volume_peak[row]:
                    self._copy_volume_peak[row] = own

    def _replay(self, row: int):
        env, d, bit = self.env, self._row_db[row], self._bit[row]
        clear = ~bit
        lag = self._row_lag[row]
        suspended, copied, replayed, replay_wake = self._suspended, self.copied, self.replayed, self._replay_wake
        close_times = self.close_times[d]
        replay_queue, replay_high = self._rq, self.replay_high
        while True:
            next_log = replayed[row] + 1
            if suspended[row] or next_log > copied[row]:
                self._busy_replay &= clear
                idle = replay_wake[row] = env.event()
                yield idle
                continue
            # A copy without a lag replays logs it has copied, all closed by now.
            if lag:
                ready = (close_times[next_log - 1] if next_log > 0 else self._close_time(d, next_log)) + lag
                if ready > env.now:
                    self._busy_replay &= clear
                    yield env.timeout(ready - env.now)
                    continue
            self._busy_replay |= bit
            rates = self._replay_cache.get(self._busy_replay)
            if rates is None:
                rates = self._replay_shares()
            yield env.timeout(1.0 / rates[row])
            if suspended[row]:
                continue
            self.steps += 1
            replayed[row] += 1
            # A replay moves only the replay queue: _update, less the copy queue's half.
            self._account(row, env.now)
            rq = replay_queue[row] = copied[row] - replayed[row]
            if (rq > _REPLAY_LEVEL) != replay_high[row]:
                self._crossed(row, rq > _REPLAY_LEVEL, replay_high, "replay_queue", "ReplayQueueLength", _REPLAY_LEVEL)
            if not self._volume_seen[d]:
                self._first_volume(d)

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
    def _shares(self) -> list[float]:
        """Logs/s of every busy transfer: max-min fair shares of the paths among busy flows.

        A transfer takes its share when it starts, so this is computed for each new set of
        busy flows and cached by that set.
        """
        key = self._busy_ship & self._route_mask
        rows = [r for r in range(self.layout.n_copies) if key >> r & 1]
        rates = np.zeros(self.layout.n_copies)
        rates[rows] = max_min_fair(self.paths.incidence[rows], self.topology.capacity, np.full(len(rows), np.inf))
        shares = self._share_cache[key] = rates.tolist()
        return shares

    def _replay_shares(self) -> list[float]:
        key = self._busy_replay
        rows = [r for r in range(self.layout.n_copies) if key >> r & 1]
        rates = np.zeros(self.layout.n_copies)
        capacity = self.layout.replay_capacity
        rates[rows] = max_min_fair(self.server_incidence[rows], capacity, np.full(len(rows), np.inf))
        shares = self._replay_cache[key] = rates.tolist()
        return shares

    # ------------------------------------------------------------ bookkeeping
    def _update(self, row: int, now: float) -> None:
        """Account the time copy ``row`` spent at its old queue lengths until ``now``, then take the new."""
        self._account(row, now)
        copied = self.copied[row]
        cq = self._cq[row] = self.closed[self._row_db[row]] - copied
        rq = self._rq[row] = copied - self.replayed[row]
        above = cq > _COPY_LEVEL
        if above != self.copy_high[row]:
            self._crossed(row, above, self.copy_high, "copy_queue", "CopyQueueLength", _COPY_LEVEL)
        above = rq > _REPLAY_LEVEL
        if above != self.replay_high[row]:
            self._crossed(row, above, self.replay_high, "replay_queue", "ReplayQueueLength", _REPLAY_LEVEL)

    def _account(self, row: int, now: float) -> None:
        """Add the time since the last update at copy ``row``'s queue lengths to its statistics."""
        since = self._since
        dt = now - since[row]
        since[row] = now
        # Most updates find one of the two queues empty, which adds nothing (exactly).
        value = self._cq[row]
        if value:
            self._copy_integral[row] += value * dt
            if value > self._copy_peak[row]:
                self._copy_peak[row] = value
            if value > COPY_QUEUE_THRESHOLD:
                self._copy_above[row] += dt
        value = self._rq[row]
        if value:
            self._replay_integral[row] += value * dt
            if value > self._replay_peak[row]:
                self._replay_peak[row] = value
            if value > REPLAY_QUEUE_THRESHOLD:
                self._replay_above[row] += dt

    def _crossed(self, row: int, above: bool, high: list[bool], kind: str, column: str, level: int) -> None:
        high[row] = above
        database, server = self.layout.copy_names[row]
        facts = {"column": column, "level": level}
        self.recorder.event(self.env.now, f"{kind}_high" if above else f"{kind}_normal", database, server, facts=facts)

    def _truncation_point(self, d: int) -> int:
        frozen = self.frozen_at[d]
        if frozen >= 0 or not self._circular[d]:
            return max(frozen, 0)
        point = self.closed[d]
        for row in self._db_passive[d]:
            position = self.copied[row] if self._row_lagged[row] else self.replayed[row]
            if position < point:
                point = position
        self._truncation_floor[d] = point
        return point

    # The volume a copy holds only grows when a log closes (the active copy's) or when the
    # copy itself copies one (a passive copy's: copied and not yet truncated, or for a
    # lagged copy, not yet replayed); the truncation point never moves back. So peaks are
    # taken at those events only, after the database's first event has taken them all
    # (a lagged copy's initial replay queue counts from then).
    def _first_volume(self, d: int) -> None:
        self._volume_seen[d] = True
        use = self.closed[d] - self._truncation_point(d)
        self._active_volume_peak[d] = max(self._active_volume_peak[d], use)
        for row in self._db_active[d]:
            self._copy_volume_peak[row] = max(self._copy_volume_peak[row], use)
        for row in self._db_passive[d]:
            own = self._rq[row] if self._row_lagged[row] else use - self._cq[row]
            self._copy_volume_peak[row] = max(self._copy_volume_peak[row], own)

    def _refresh_routes(self, *, record: bool = True) -> None:
        if self.paths.refresh(self.env.now, self.active, self.is_active, record=record):
            self._share_cache.clear()
        self._has_route[:] = self.paths.has_route.tolist()
        self._route_mask = sum(self._bit[row] for row, up in enumerate(self._has_route) if up)

    # ------------------------------------------------------------ interface
    def advance(self, now: float) -> None:
        """Bring statistics up to ``now`` (the discrete state is always current)."""
        for row in self._passive_rows:
            self._update(row, self.env.now)
        self.t = now
        self.copy_volume_peak[:] = self._copy_volume_peak
        self.active_volume_peak[:] = self._active_volume_peak

    @property
    def stats_copy(self) -> QueueStats:
        stats = self._stats_copy
        stats.integral[:], stats.peak[:], stats.above[:] = self._copy_integral, self._copy_peak, self._copy_above
        return stats

    @property
    def stats_replay(self) -> QueueStats:
        stats = self._stats_replay
        stats.integral[:], stats.peak[:], stats.above[:] = self._replay_integral, self._replay_peak, self._replay_above
        return stats

    def suspend(self, row: int) -> None:
        d = self._row_db[row]
        self.frozen_at[d] = self._truncation_point(d)
        self.suspended[row] = self._suspended[row] = True
        self._update(row, self.env.now)

    def resume(self, row: int) -> None:
        d = self._row_db[row]
        self.suspended[row] = self._suspended[row] = False
        self.paths.resumed(row)
        self._refresh_routes()
        if not any(self._suspended[r] for r in self._db_passive[d]):
            self.frozen_at[d] = -1
        self._signal(self._wake, row)
        self._signal(self._replay_wake, row)

    @staticmethod
    def _signal(events: list, row: int) -> None:
        event = events[row]
        if event is not None:
            events[row] = None
            event.succeed()

    def topology_changed(self) -> None:
        self._refresh_routes()
        for row in range(self.layout.n_copies):
            self._signal(self._wake, row)

    @property
    def has_route(self) -> np.ndarray:
        return self.paths.has_route

    @property
    def generated(self) -> np.ndarray:
        return np.array(self.closed, dtype=float)

    written = generated

    def queues(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self._cq, dtype=float), np.array(self._rq, dtype=float)

    def active_log_volume(self) -> np.ndarray:
        return np.array([self.closed[d] - self._truncation_point(d) for d in range(self.layout.n_databases)], dtype=float)

    def log_position_time(self, database: int, logs: float) -> float:
        number = int(logs)
        return self._close_time(database, number) if number != 0 else 0.0
