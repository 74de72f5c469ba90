"""Continuous replication as a fluid: queues that are piecewise linear in time.

Per passive copy the engine keeps the copy queue (generated − copied) and the replay queue
(copied − replayed) and their rates. Rates change only at events: hour boundaries of the
load profile, the lagged view of that profile, link and copy state changes, and queues
emptying or crossing a threshold — each a computed time, never a polled one (docs/design.md). Work
therefore grows with state changes, not with the number of 1 MB logs.

Copy and replay queues are the two rows of one ``(2, copies)`` array so that each step costs
a fixed, small number of numpy calls whatever the size of the DAG.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import numpy as np
import simpy

from dagsim.model.allocation import max_min_fair
from dagsim.model.delay import DelayTracker
from dagsim.model.engine import ReplicationEngine
from dagsim.model.layout import Layout
from dagsim.model.queue_stats import QueueStats
from dagsim.model.recorder import Recorder
from dagsim.model.state import DagState
from dagsim.model.topology import LOG_BYTES, Topology
from dagsim.model.workload import Workload

__all__ = ["FluidReplication", "COPY_QUEUE_THRESHOLD", "REPLAY_QUEUE_THRESHOLD"]

COPY_QUEUE_THRESHOLD = 10.0  # best copy selection's "CQ < 10"
REPLAY_QUEUE_THRESHOLD = 50.0  # and "RQ < 50"
_TOL = 1e-6  # logs: a millionth of a log is an empty queue
_NEVER = np.inf

# Predicted moments, one row each: copy queue empties, replay catches up with what it may
# replay, copy queue crosses 10, replay queue crosses 50, a lagged copy's replay bound flips.
_EMPTY, _CAUGHT_UP, _COPY_CROSS, _REPLAY_CROSS, _BOUND = range(5)
_LEVELS = np.array([[0.0], [0.0], [COPY_QUEUE_THRESHOLD], [REPLAY_QUEUE_THRESHOLD], [0.0]])
_CAN_RISE = np.array([[False], [False], [True], [True], [True]])  # rows 0-1 only ever fall to 0


FIRST_SPAN_BREAKPOINTS = 8
"""Breakpoints of the first quiet span planned after a change (later spans grow)."""


class PlannedSpan(Protocol):
    """A quiet span as the engine holds it (:class:`dagsim.model.quiet.Span`)."""

    @property
    def end(self) -> float: ...
    def landing(self, now: float) -> int: ...
    def queues_at(self, e: FluidReplication, now: float, row: int) -> tuple[float, float]: ...
    def copy_queues_at(self, e: FluidReplication, now: float) -> np.ndarray: ...


class SpanPlanner(Protocol):
    """Plans quiet spans and lands on them (:class:`dagsim.model.quiet.QuietSpans`); handed to
    the engine, so that the engine does not import the planner that reads its arrays."""

    def plan(self, e: FluidReplication) -> PlannedSpan | None: ...
    def land(self, e: FluidReplication, span: PlannedSpan, m: int) -> None: ...


class FluidReplication(ReplicationEngine):
    """Log flow of every database copy of one run, advanced from event to event."""

    quiet_spans = True
    """Jump over profile hours in which nothing can happen (:mod:`dagsim.model.quiet`);
    False steps at every hour boundary, the reference the jumps are tested against."""

    def __init__(
        self,
        env: simpy.Environment,
        layout: Layout,
        topology: Topology,
        workload: Workload,
        recorder: Recorder,
        state: DagState,
        spans: SpanPlanner | None = None,
    ) -> None:
        """``spans`` plans the quiet spans; without one the engine steps at every hour boundary."""
        super().__init__(env, layout, topology, workload, recorder, state)
        self.spans = spans
        n, d = layout.n_copies, layout.n_databases
        self.halted = np.zeros(n, dtype=bool)  # neither copies nor replays
        self.absent = np.zeros(n, dtype=bool)  # declared added: false and not added yet: no queues at all
        self.source_blocked = np.zeros(d, dtype=bool)  # the active's logs cannot be read
        # Seeding copies (docs/scenario-reference.md#databases): row -> [database bytes still to copy, cap in bytes/s,
        # event fired when done]. They share NICs and links with log shipping.
        self.seeding: dict[int, list] = {}
        self.seed_rate: dict[int, float] = {}
        self._roles_changed()

        self.generated = np.zeros(d)  # log position of each active copy
        self.written = np.zeros(d)  # logs written in the run, whoever was active
        self.base_rates = workload.rates(0.0)
        self.next_rate_change = workload.next_change(0.0)
        self.g = self.base_rates * self.mounted

        delays = sorted({float(v) for v in np.concatenate([layout.replay_lag, layout.truncation_lag]) if v > 0})
        self.trackers = [DelayTracker(delay, workload) for delay in delays]
        self.lag_groups = self._groups(layout.replay_lag)
        self.truncation_groups = self._groups(layout.truncation_lag)

        self.q = np.zeros((2, n))  # row 0: copy queue, row 1: replay queue (logs)
        self.dq = np.zeros((2, n))
        self.lagdiff = self._lag_window()
        # Steady state: a lagged copy holds exactly the logs of its lag window.
        self.q[1] = self.lagdiff
        self.truncation_frozen = ~layout.circular_logging
        self.frozen_use = np.zeros(d)
        self.volume_full = np.zeros(d, dtype=bool)

        self.server_incidence = np.zeros((n, len(layout.server_names)))
        self.server_incidence[np.arange(n), layout.copy_server] = 1.0
        self._ship_key: tuple | None = None
        self._structure = 0  # bumped when which copies run, are passive or can be read changes

        self.stats = QueueStats((2, n), np.array([[COPY_QUEUE_THRESHOLD], [REPLAY_QUEUE_THRESHOLD]]))
        # Peak log-shipping demand on each direction of each inter-site link (bytes/s).
        self.link_edge = np.array([edge.kind == "link" for edge in topology.edges], dtype=bool)
        self.link_peak = np.zeros(len(topology.edges))
        self.link_peak_at = np.zeros(len(topology.edges))
        self.link_peak_rows: dict[int, np.ndarray] = {}
        self.copy_volume_peak = np.zeros(n)
        self.active_volume_peak = np.zeros(d)
        self.history: list[tuple[float, np.ndarray, np.ndarray]] = [(0.0, self.generated.copy(), self.g.copy())]
        self._waiting = False
        self._poked = False
        self._deferring = 0  # depth of deferred() blocks
        self._deferred_change = False
        # The rates and predictions were worked out from the state as it is now: a wake at this
        # same moment with nothing due (the engine's answer to a poke) need not redo them.
        self._fresh = False
        self._span: PlannedSpan | None = None
        self.span_breakpoints = FIRST_SPAN_BREAKPOINTS
        self._breakpoint = -np.inf  # when the profile or a delayed view last changed
        self.process: simpy.Process | None = None

        # When each queue next reaches a level, and each active log volume fills (_predict).
        self._when: np.ndarray = np.full((5, n), _NEVER)
        self._t_full: np.ndarray = np.full(d, _NEVER)
        self._t_full_min: float = _NEVER
        self.paths.refresh(0.0, self.active, self.is_active, record=False)
        self.recompute()
        self.copy_high = self.q[0] > COPY_QUEUE_THRESHOLD
        self.replay_high = self.q[1] > REPLAY_QUEUE_THRESHOLD
        self._predict()
        self._track_volume_peaks()

    def _groups(self, delays: np.ndarray) -> list[tuple[DelayTracker, np.ndarray, np.ndarray]]:
        groups = []
        for tracker in self.trackers:
            rows = np.flatnonzero(delays == tracker.delay)
            if rows.size:
                groups.append((tracker, rows, self.db[rows]))
        return groups

    def _roles_changed(self) -> None:
        self.passive = ~self.is_active & ~self.absent
        self._active_rows = np.flatnonzero(self.is_active)
        self._idle_rows = np.flatnonzero(~self.passive)  # rows whose copy queue never grows
        # Logs a passive copy holds on the active's volume: lagged copies release a log once
        # they have copied it, the others once they have replayed it (docs/scenario-reference.md#databases).
        self.holds_replay = (self.passive & ~self.lagged).astype(float)
        self._all_true = np.ones(len(self.is_active), dtype=bool)
        self._predict_mask = np.stack([self.passive] * 4 + [self.passive & self.lagged])
        n = self.layout.n_copies
        self._values, self._rates = np.zeros((5, n)), np.zeros((5, n))
        self._high = np.zeros((5, n), dtype=bool)
        self._rise = np.repeat(_CAN_RISE, n, axis=1)

    # ----------------------------------------------------------------- public API
    @property
    def copy_queue(self) -> np.ndarray:
        return self.q[0]

    @property
    def replay_queue(self) -> np.ndarray:
        return self.q[1]

    @property
    def stats_copy(self) -> QueueStats:
        return self.stats.select(0)

    @property
    def stats_replay(self) -> QueueStats:
        return self.stats.select(1)

    @property
    def has_route(self) -> np.ndarray:
        return self.paths.has_route

    def start(self) -> simpy.Process:
        self.process = self.env.process(self._run())
        return self.process

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Changes made inside re-plan once, on leaving: a server's copies stop or start
        together, and nothing between them lasts any time."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            if not self._deferring and self._deferred_change:
                self._deferred_change = False
                self.replan()

    def replan(self) -> None:
        """Something outside (an action, a failure) changed state at ``env.now``: work out the
        routes, rates and the next moment again."""
        if self._deferring:
            self._deferred_change = True
            # What was predicted no longer holds; nothing is landed on it before the re-plan.
            self._when = np.full_like(self._when, _NEVER)
            self._fresh = False
            return
        if self._span is not None:
            self.advance(self.env.now)
            self._span = None  # planned for the state before the change
        self.paths.refresh(self.t, self.active, self.is_active)
        self._rates_and_predictions()
        self._poke()

    def _poke(self) -> None:
        """Wake the engine's process to wait for its new next moment."""
        if self._waiting and not self._poked and self.process is not None:
            self._poked = True
            self.process.interrupt()

    def suspend(self, row: int) -> None:
        self.set_copy_running(row, False, freeze_truncation=True)

    def resume(self, row: int) -> None:
        self.paths.resumed(row)
        self.set_copy_running(row, True)

    def set_copy_running(self, row: int, running: bool, *, freeze_truncation: bool = False) -> None:
        """Start or stop a copy's copying and replay; a suspended copy also freezes truncation."""
        self.advance(self.env.now)
        self.halted[row] = not running
        self.suspended[row] = freeze_truncation and not running
        self._structure += 1
        self._sync_truncation_freeze()
        self.replan()

    def set_mounted(self, database: int, mounted: bool) -> None:
        """Mount or dismount a database's active copy (generation runs only while mounted)."""
        self.advance(self.env.now)
        self.state.set_mounted(database, mounted)
        if mounted:
            self.volume_full[database] = False
        self.replan()

    def set_source_blocked(self, database: int, blocked: bool) -> None:
        """The active copy's logs can (not) be read: its log volume failed."""
        self.advance(self.env.now)
        self.source_blocked[database] = blocked
        self._structure += 1
        self.replan()

    def activate(self, database: int, row: int, *, last_logs_copied: float) -> float:
        """Make ``row`` the active copy of ``database``; return the logs lost.

        The new active copy continues from what it had copied plus ``last_logs_copied``
        (attempt copy last logs). Copies that were ahead of it hold diverged logs, which are
        discarded; the old active copy becomes passive at the new position.
        """
        self.advance(self.env.now)
        old = int(self.active[database])
        cq = self.q[0]
        keep = min(last_logs_copied, cq[row])
        gap = cq[row] - keep  # logs the new active never got: lost
        rows = self._db_rows(database)
        delta = cq[rows] - gap  # > 0: behind the new position; < 0: ahead (diverged)
        self.q[1, rows] = np.maximum(self.q[1, rows] + np.minimum(delta, 0.0), 0.0)
        self.q[0, rows] = np.maximum(delta, 0.0)
        self.q[:, row] = 0.0
        self.generated[database] -= gap
        self.history.append((self.t, self.generated.copy(), self.g.copy()))
        self.state.activate(database, row)
        self._roles_changed()
        if old != row:
            self.paths.resumed(old)  # a new passive copy starts on the preferred network
        self._sync_truncation_freeze()
        self._structure += 1
        self.replan()
        return gap

    def set_absent(self, row: int, absent: bool) -> None:
        """A declared copy that does not exist yet has no queues; once added, it starts empty."""
        self.advance(self.env.now)
        self.absent[row] = absent
        self.q[:, row] = 0.0
        self._roles_changed()
        self._structure += 1
        self.replan()

    def reposition(self, row: int, copy_queue: float = 0.0, replay_queue: float = 0.0) -> None:
        """Set a passive copy's queues outright (after a reseed or a resynchronization)."""
        self.advance(self.env.now)
        self.q[0, row], self.q[1, row] = copy_queue, replay_queue
        self.replan()

    def start_seeding(self, row: int, size: float, rate: float) -> simpy.Event:
        """Copy ``size`` bytes of the database to ``row`` over the network, at most ``rate``
        bytes/s, sharing NICs and links fairly with log shipping; the event fires when done."""
        self.advance(self.env.now)
        done = self.env.event()
        self.seeding[row] = [float(size), float(rate), done]
        self.replan()
        return done

    def seeding_left(self, row: int) -> float:
        """Bytes a seeding copy still has to receive (0 when it is not seeding)."""
        entry = self.seeding.get(row)
        if entry is None:
            return 0.0
        return max(entry[0] - self.seed_rate.get(row, 0.0) * (self.env.now - self.t), 0.0)

    def workload_changed(self) -> None:
        """A log source was added or removed: read the rates again."""
        self.advance(self.env.now)
        self.base_rates = self.workload.rates(self.t)
        self.next_rate_change = self.workload.next_change(self.t)
        self.replan()

    def logs_generated_since(self, database: int, start: float, end: float) -> float:
        """Logs the active copies of ``database`` wrote between ``start`` and ``end`` (<= now)."""
        if self._span is not None:
            self.advance(self.env.now)  # the generation history of a quiet span is written on landing
        return self._position_at(database, end) - self._position_at(database, start)

    def _position_at(self, database: int, t: float) -> float:
        if t <= 0:
            return -float(self.workload.history(t, 0.0)[database])
        for when, generated, rate in reversed(self.history):
            if when <= t:
                return float(generated[database] + rate[database] * (t - when))
        return 0.0

    def copy_queues_now(self) -> np.ndarray:
        """Every copy's copy queue at ``env.now``, read without moving the engine (for observers,
        which must not change the run)."""
        if self._span is not None:
            return self._span.copy_queues_at(self, self.env.now)
        return self.q[0] + self.dq[0] * (self.env.now - self.t)

    def queues_of(self, row: int) -> tuple[float, float]:
        """Copy queue and replay queue of one copy now."""
        if self._span is not None:
            return self._span.queues_at(self, self.env.now, row)  # a read leaves the span planned
        self.advance(self.env.now)
        return float(self.q[0, row]), float(self.q[1, row])

    def _db_rows(self, database: int) -> np.ndarray:
        return np.flatnonzero(self.db == database)

    def topology_changed(self) -> None:
        self.advance(self.env.now)
        self.replan()

    def queues(self) -> tuple[np.ndarray, np.ndarray]:
        """Copy and replay queue of every copy now (zero for active copies)."""
        return self.q[0].copy(), self.q[1].copy()

    def active_log_volume(self) -> np.ndarray:
        """Logs on each database's active log volume now."""
        return self._active_volume(self.q)

    def log_position_time(self, database: int, logs: float) -> float:
        """When the active copy of ``database`` had generated ``logs`` logs (inverse of G)."""
        if self._span is not None:
            self.advance(self.env.now)
        for t, generated, rate in reversed(self.history):
            if generated[database] <= logs + _TOL:
                if rate[database] <= 0:
                    return t
                return t + (logs - generated[database]) / rate[database]
        return 0.0

    # --------------------------------------------------------------- event loop
    def _run(self):
        while True:
            self._waiting = True
            try:
                yield self.env.timeout(max(0.0, self.next_time - self.env.now))
            except simpy.Interrupt:
                pass
            self._waiting = False
            self._poked = False
            self.advance(self.env.now)
            self._handle_due()

    def _rates_and_predictions(self) -> None:
        self.recompute()
        self._predict()
        self._fresh = True

    def _handle_due(self, *, plan: bool = True) -> None:
        now = self.t
        eps = 1e-9 * max(1.0, now)
        due = False
        if now + eps >= self.next_rate_change:
            self.base_rates = self.workload.rates(now)
            self.next_rate_change = self.workload.next_change(now)
            self._breakpoint = now
            due = True
        for tracker in self.trackers:
            if tracker.take_due(now, eps):
                self._breakpoint = now
                due = True
        if self._t_full_min <= now + eps:
            for d in np.flatnonzero((self._t_full <= now + eps) & ~self.volume_full):
                self._log_volume_full(int(d))
                due = True
        for row in [r for r, entry in self.seeding.items() if entry[0] <= max(1.0, entry[1] * eps)]:
            self.seeding.pop(row)[2].succeed()
            due = True
        if due or not self._fresh:
            self._rates_and_predictions()
        # Spans start at profile breakpoints only: within a burst of failover steps, each
        # change would cut a span planned after the one before. Seeding is never quiet.
        if plan and self.spans is not None and self.quiet_spans and self._breakpoint == now and not self.seeding:
            self._span = self.spans.plan(self)
            if self._span is not None:
                self.next_time = self._span.end

    def advance(self, now: float) -> None:
        """Move every queue along its current rate to ``now``; sample and accumulate on the way."""
        if self._span is not None and now > self.t:
            span, self._span = self._span, None
            landing = span.landing(now)
            if landing >= 1:
                assert self.spans is not None  # only a planner makes spans
                self.spans.land(self, span, landing)
                self._fresh = False
                self._breakpoint = self.t
                self._handle_due(plan=False)
            if now < span.end:
                # Cut short (an action, a failure): plan short spans until quiet returns,
                # and wait for the real next moment.
                self.span_breakpoints = FIRST_SPAN_BREAKPOINTS
                self._poke()
        dt = now - self.t
        if dt <= 0:
            self._settle(now)
            return
        rows, times = self.recorder.due(self.t, now)
        if len(times):
            q = self.q[:, None, :] + self.dq[:, None, :] * (times - self.t)[:, None]
            self.recorder.store(rows, q[0], q[1], self._active_volume(q, times - self.t))
        q1 = self.q + self.dq * dt
        self.stats.add_linear(self.q, q1, dt)
        self.q = q1
        self.generated += self.g * dt
        self.written += self.g * dt
        for tracker in self.trackers:
            tracker.advance(self.g, dt)
        if self.lag_groups:
            self.lagdiff = self._lag_window()
        if self._any_frozen:
            self.frozen_use += np.where(self.truncation_frozen, self.g, 0.0) * dt
        for row, rate in self.seed_rate.items():
            self.seeding[row][0] = max(self.seeding[row][0] - rate * dt, 0.0)
        self.t = now
        self.steps += 1
        self._fresh = False
        self._settle(now)
        self._track_volume_peaks()

    def _settle(self, now: float) -> None:
        """Land queues exactly on the levels they were predicted to reach by now."""
        due = np.asarray(self._when <= now + 1e-9 * max(1.0, now))
        rows = np.asarray(due.any(axis=1))
        if not rows.any():
            return
        self._fresh = False
        q = self.q
        if rows[_EMPTY]:
            q[0, due[_EMPTY]] = 0.0
        if rows[_CAUGHT_UP]:
            caught = due[_CAUGHT_UP]
            q[1, caught] = np.where(self.copy_bound[caught], 0.0, self.lagdiff[caught] - q[0, caught])
        np.maximum(q, 0.0, out=q)
        if rows[_COPY_CROSS]:
            self._cross(due[_COPY_CROSS], self.copy_high, "copy_queue", "CopyQueueLength", 10)
        if rows[_REPLAY_CROSS]:
            self._cross(due[_REPLAY_CROSS], self.replay_high, "replay_queue", "ReplayQueueLength", 50)

    def _cross(self, due: np.ndarray, high: np.ndarray, kind: str, column: str, level: int) -> None:
        for row in np.flatnonzero(due):
            high[row] = not high[row]
            database, server = self.layout.copy_names[row]
            facts = {"column": column, "level": level}
            self.recorder.event(self.t, f"{kind}_high" if high[row] else f"{kind}_normal", database, server, facts=facts)

    # ------------------------------------------------------------------ rates
    def _lag_window(self) -> np.ndarray:
        window = np.zeros(self.layout.n_copies)
        for tracker, rows, dbs in self.lag_groups:
            window[rows] = tracker.window[dbs]
        return window

    def recompute(self) -> None:
        """Rates of every queue from the current state (bandwidth and replay fair shares)."""
        g = self.base_rates * self.mounted
        if not np.array_equal(g, self.g):
            for tracker in self.trackers:
                tracker.generation_changed(self.t, g)
            self.history.append((self.t, self.generated.copy(), g.copy()))
        self.g = g
        gc = g[self.db]
        cq, rq = self.q
        key = (self.paths.version, self._structure)
        if key != self._ship_key:
            self._ship_key = key
            running = self.passive & ~self.halted
            self._running_rows = np.flatnonzero(running)
            self._running_incidence = self.server_incidence[self._running_rows]
            readable = ~self.source_blocked[self.db]
            self._ship_rows = np.flatnonzero(running & self.paths.has_route & readable)
            self._ship_incidence = self.paths.incidence[self._ship_rows]

        seeding = [r for r in self.seeding if self.paths.has_route[r]]
        link_demand = self._ship_incidence.T @ gc[self._ship_rows]
        if seeding:
            # A seeding copy is one more flow on its shipping route, in 1 MiB units (compressed
            # as NetworkCompression says for seeding), capped at the seeding rate.
            seed_incidence = np.zeros((len(seeding), link_demand.size))
            for i, r in enumerate(seeding):
                route = self.paths.routes[r]
                assert route is not None  # only copies with a route seed
                seed_incidence[i, list(route.edges)] = self.topology.bytes_per_seeded_mib(route)
            seed_demand = np.array([self.seeding[r][1] / LOG_BYTES for r in seeding])
            link_demand = link_demand + seed_incidence.T @ seed_demand
        self._track_link_demand(link_demand, self.t, self._ship_rows)
        x = np.zeros(self.layout.n_copies)
        if self._ship_rows.size or seeding:
            rows = self._ship_rows
            demand = gc[rows]
            demand[cq[rows] > _TOL] = np.inf
            incidence = self._ship_incidence
            if seeding:
                incidence = np.vstack([incidence, seed_incidence])
                demand = np.concatenate([demand, seed_demand])
            rates = max_min_fair(incidence, self.topology.capacity, demand)
            x[rows] = rates[: rows.size]
            self.seed_rate = {r: float(v) * LOG_BYTES for r, v in zip(seeding, rates[rows.size :], strict=True)}
        else:
            self.seed_rate = {}

        if self.lag_groups:
            # A lagged copy replays up to min(copied, generated L ago); whichever bound binds
            # decides how fast its replayable backlog grows.
            glag = gc.copy()
            for tracker, lag_rows, dbs in self.lag_groups:
                glag[lag_rows] = tracker.rate[dbs]
            lagdiff = self.lagdiff
            gap = cq - lagdiff
            tol = _TOL * np.maximum(1.0, lagdiff)
            copy_bound = ~self.lagged | (gap > tol) | ((np.abs(gap) <= tol) & (x <= glag))
            eligible = np.where(copy_bound, rq, rq + gap)
            target = np.where(copy_bound, x, glag)
            # Negative: replayed beyond what its lag allows (it was active): wait for the window.
            target[eligible < -_TOL] = 0.0
        else:
            glag, copy_bound, eligible, target = gc, self._all_true, rq, x

        y = np.zeros(self.layout.n_copies)
        if self._running_rows.size:
            rows = self._running_rows
            demand = target[rows]
            demand[eligible[rows] > _TOL] = np.inf
            y[rows] = max_min_fair(self._running_incidence, self.layout.replay_capacity, demand)

        self.x, self.glag, self.copy_bound, self.eligible = x, glag, copy_bound, eligible
        dq = self.dq
        np.subtract(gc, x, out=dq[0])
        dq[0, self._idle_rows] = 0.0
        np.subtract(x, y, out=dq[1])
        self.d_eligible = np.where(copy_bound, dq[1], glag - y) if self.lag_groups else dq[1]

    def _track_link_demand(self, demand: np.ndarray, t: float, rows: np.ndarray) -> None:
        """Keep each link direction's highest demand, when it first occurred and who shipped."""
        # Days repeat the profile: a peak equal to 1e-9 keeps its first occurrence.
        higher = np.flatnonzero(self.link_edge & (demand > self.link_peak * (1.0 + 1e-9)))
        for edge in higher:
            self.link_peak[edge] = demand[edge]
            self.link_peak_at[edge] = t
            self.link_peak_rows[int(edge)] = rows[self._ship_incidence[:, edge] > 0]

    def _predict(self) -> None:
        """Absolute times at which each queue next empties, crosses a threshold or flips bound."""
        cq, rq = self.q
        values, rates, high = self._values, self._rates, self._high
        values[_EMPTY] = cq
        values[_CAUGHT_UP] = self.eligible
        values[_COPY_CROSS] = cq
        values[_REPLAY_CROSS] = rq
        np.subtract(cq, self.lagdiff, out=values[_BOUND])
        rates[_EMPTY] = rates[_COPY_CROSS] = self.dq[0]
        rates[_CAUGHT_UP] = self.d_eligible
        rates[_REPLAY_CROSS] = self.dq[1]
        np.subtract(self.glag, self.x, out=rates[_BOUND])
        np.greater(cq, 0.0, out=high[_EMPTY])
        np.greater(self.eligible, _TOL, out=high[_CAUGHT_UP])
        high[_COPY_CROSS] = self.copy_high
        high[_REPLAY_CROSS] = self.replay_high
        high[_BOUND] = self.copy_bound
        rise = self._rise
        rise[_CAUGHT_UP] = self.eligible < -_TOL
        valid = self._predict_mask & ((high & (rates < 0)) | (rise & ~high & (rates > 0)))
        when = np.full(values.shape, _NEVER)
        np.divide(_LEVELS - values, rates, out=when, where=valid)
        np.maximum(when, 0.0, out=when)
        when += self.t
        self._when = when
        self._t_full = self.t + self._time_to_full()
        self._t_full_min = self._t_full.min(initial=_NEVER)
        self._seed_done = min(
            (self.t + self.seeding[r][0] / v for r, v in self.seed_rate.items() if v > 0), default=_NEVER
        )
        self.next_time = min(
            self.next_rate_change,
            min((t.next_time() for t in self.trackers), default=_NEVER),
            self._when.min(initial=_NEVER),
            self._t_full_min,
            self._seed_done,
        )

    # ------------------------------------------------------- truncation & volumes
    def _active_volume(self, q: np.ndarray, offsets: np.ndarray | float = 0.0) -> np.ndarray:
        """Logs on each active log volume; ``q`` may carry extra leading sample axes."""
        held = q[0] + q[1] * self.holds_replay
        use = np.maximum.reduceat(held, self.layout.db_first_copy, axis=-1)
        if not self._any_frozen:
            return use
        offsets = np.asarray(offsets, dtype=float)[..., None] if np.ndim(offsets) else offsets
        frozen = self.frozen_use + self.g * offsets
        return np.where(self.truncation_frozen, frozen, use)

    def _time_to_full(self) -> np.ndarray:
        cap = self.layout.volume_capacity
        rate = self.dq[0] + self.dq[1] * self.holds_replay
        growing = rate > 0
        out = np.full(self.layout.n_databases, _NEVER)
        if growing.any():
            held = self.q[0] + self.q[1] * self.holds_replay
            per_copy = np.full(self.layout.n_copies, _NEVER)
            per_copy[growing] = (cap[self.db[growing]] - held[growing]) / rate[growing]
            out = np.minimum.reduceat(per_copy, self.layout.db_first_copy)
        if self._any_frozen:
            with np.errstate(divide="ignore", invalid="ignore"):
                frozen = np.where(self.g > 0, (cap - self.frozen_use) / self.g, _NEVER)
            out = np.where(self.truncation_frozen, frozen, out)
        return np.where(self.volume_full | ~self.mounted, _NEVER, np.maximum(out, 0.0))

    @property
    def _any_frozen(self) -> bool:
        return self._frozen_flag

    @property
    def truncation_frozen(self) -> np.ndarray:
        return self._truncation_frozen

    @truncation_frozen.setter
    def truncation_frozen(self, value: np.ndarray) -> None:
        self._truncation_frozen = value
        self._frozen_flag = bool(value.any())

    def _sync_truncation_freeze(self) -> None:
        # While any passive copy is suspended the active keeps every log (docs/scenario-reference.md#databases).
        suspended_db = np.zeros(self.layout.n_databases, dtype=bool)
        suspended_db[self.db[self.suspended & self.passive]] = True
        freeze = suspended_db | ~self.layout.circular_logging
        newly = freeze & ~self.truncation_frozen
        self.frozen_use[newly] = self._active_volume(self.q)[newly]
        self.truncation_frozen = freeze

    def _copy_volume(self, active_use: np.ndarray) -> np.ndarray:
        cq, rq = self.q
        own = np.where(self.lagged, rq, active_use[self.db] - cq)
        for tracker, rows, dbs in self.truncation_groups:
            own[rows] = np.maximum(own[rows], tracker.window[dbs] - cq[rows])
        return np.where(self.is_active, active_use[self.db], np.maximum(own, 0.0))

    def _track_volume_peaks(self) -> None:
        # Volume use is convex between events, so its peaks are at event times.
        active_use = self._active_volume(self.q)
        np.maximum(self.active_volume_peak, active_use, out=self.active_volume_peak)
        np.maximum(self.copy_volume_peak, self._copy_volume(active_use), out=self.copy_volume_peak)

    def _log_volume_full(self, d: int) -> None:
        database = self.layout.database_names[d]
        server = self.layout.copy_names[self.active[d]][1]
        self.volume_full[d] = True
        self.recorder.event(self.t, "log_volume_full", database, server, facts={"filled": True})
        self.recorder.event(self.t, "database_dismounted", database, server, facts={"log_volume_full": True})
        # A failure item: Active Manager, which follows the state, dismounts it and fails over.
        self.state.log_volume_filled(d)
