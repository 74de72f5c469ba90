"""Quiet spans: the fluid engine's jump over load-profile hours in which nothing can happen.

While every shipping copy is current (copy queue empty), every running copy has replayed
what it may, and every link and replay resource has room for what each coming hour brings,
each queue moves as a fixed combination of two cumulative curves: its database's generation
``G`` and the delayed generation ``L`` its replay lag lets it replay. Both are piecewise
linear with known breakpoints (the profile's hour boundaries and their images one lag
later), so queues, statistics, samples and volume peaks at every breakpoint come from a few
array operations, and the engine wakes only where something can happen: a queue crossing a
level, a link or replay resource running out of room, a log volume filling, or the span's
end. Stepping hour by hour (``FluidReplication.quiet_spans = False``) is the reference the
spans are tested against, to 1e-9 relative.

A span is planned right after the engine re-planned at a breakpoint, and *landed* on the
last breakpoint at or before the time the engine is next advanced to; the landing replays
exactly what hourly stepping would have left behind (queues, statistics, samples, tracker
windows and pending delayed rates, generation history), then lets the engine handle that
breakpoint with its ordinary code.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from dagsim.model.fluid import FIRST_SPAN_BREAKPOINTS, FluidReplication, PlannedSpan

__all__ = ["MAX_SPAN_BREAKPOINTS", "QuietSpans", "Span", "land_span", "plan_span"]

MAX_SPAN_BREAKPOINTS = 512
"""Breakpoints planned at once: about three weeks of hourly profile, a few MB of arrays."""
"""Breakpoints planned after a span ended early: planning grows by doubling, so a busy run
(queues crossing levels every few hours) pays little for the spans it cannot take."""
_TOL = 1e-6  # the fluid engine's empty-queue tolerance, in logs
# A span accepts a resource only strictly inside the allocation's fast path, so hourly
# stepping would have granted every demand as it is.
_FIT = 1.0 - 1e-12


@dataclass(eq=False)
class _Lag:
    """One delay tracker over the span."""

    rate: np.ndarray  # (d, K): delayed generation rate in each segment
    cum: np.ndarray  # (d, K+1): delayed generation since the span start
    entries: list  # pending (time, rate) entries: the tracker's own, then the span's new ones
    own: int  # how many of `entries` were already pending at the start


@dataclass(eq=False)
class Span:
    """A planned jump: breakpoints ``times[1..usable]`` may be landed on.

    Only *moving* queues (a copy's copy or replay queue with a non-zero rate) are kept at
    every breakpoint; every other queue holds its value through the span.
    """

    times: np.ndarray  # (K+1,): times[0] is the start
    eps: np.ndarray  # (K+1,): the engine's same-moment tolerance at each breakpoint
    hours: np.ndarray  # profile changes from the engine's next one on
    hour_rates: np.ndarray  # (d, H): base rates from each of them
    hour: np.ndarray  # (K+1,): the last of `hours` handled at each breakpoint (-1: none)
    usable: int
    gen: np.ndarray  # (d, K): generation rate in each segment
    cum: np.ndarray  # (d, K+1): generation since the start
    g_changes: np.ndarray  # (K+1,) bool: generation changes at this breakpoint
    lags: list[_Lag]
    lag_of_row: np.ndarray  # (n,): index into `lags` of the row's replay lag, -1 if none
    coef_g: np.ndarray  # (2, n): queue rate per unit of the database's generation rate
    coef_l: np.ndarray  # (2, n): queue rate per unit of the copy's delayed generation rate
    kind: np.ndarray  # (M,): 0 copy queue, 1 replay queue, of each moving queue
    row: np.ndarray  # (M,): its copy row
    moving: np.ndarray  # (M, K+1): its value at each breakpoint
    shipping: np.ndarray  # (E, K): log-shipping demand on each edge in each segment
    ship_rows: np.ndarray  # the copies shipping throughout the span

    @property
    def end(self) -> float:
        return float(self.times[self.usable])

    def landing(self, now: float) -> int:
        """The last usable breakpoint before ``now`` (0: none).

        A breakpoint at ``now`` itself is left to the engine's own wake at that moment, as
        when stepping hour by hour.
        """
        return min(int(np.searchsorted(self.times, now, side="left")) - 1, self.usable)

    def _moving_at(self, now: float, index: np.ndarray) -> np.ndarray:
        """Moving queues ``index`` at ``now`` (within the span), without landing."""
        j = self.landing(now)
        if j >= self.usable:
            return self.moving[index, self.usable]
        if now == self.times[j + 1]:
            return self.moving[index, j + 1]
        a, b = self.moving[index, j], self.moving[index, j + 1]
        # Queues are linear between breakpoints: q(b_j) + rate * elapsed, as advance() moves them.
        return a + (b - a) / (self.times[j + 1] - self.times[j]) * (now - self.times[j])

    def copy_queues_at(self, e: FluidReplication, now: float) -> np.ndarray:
        """Every copy's copy queue at ``now`` (within the span), without landing."""
        out = e.q[0].copy()
        moving = np.flatnonzero(self.kind == 0)
        out[self.row[moving]] = self._moving_at(now, moving)
        return out

    def queues_at(self, e: FluidReplication, now: float, row: int) -> tuple[float, float]:
        """Copy and replay queue of one copy at ``now`` (within the span), without landing."""
        values = [float(e.q[0, row]), float(e.q[1, row])]
        index = np.flatnonzero(self.row == row)
        for kind, value in zip(self.kind[index], self._moving_at(now, index), strict=True):
            values[int(kind)] = float(value)
        return values[0], values[1]


def plan_span(e: FluidReplication) -> Span | None:
    """A span from the engine's current moment, or None when it is not quiet."""
    n = e.layout.n_copies
    ship = np.zeros(n, dtype=bool)
    ship[e._ship_rows] = True
    running = np.zeros(n, dtype=bool)
    running[e._running_rows] = True
    cq = e.q[0]
    if (cq[ship] > _TOL).any() or (np.abs(e.eligible[running]) > _TOL).any():
        return None  # a backlog drains at a shared capacity: not a fixed combination of G and L
    passive_lagged = e.passive & e.lagged
    gap = cq - e.lagdiff
    if (np.abs(gap[passive_lagged]) <= _TOL * np.maximum(1.0, e.lagdiff[passive_lagged])).any():
        return None  # a lagged copy on the edge between its two replay bounds
    if e._when.min(initial=np.inf) <= e.next_rate_change or e._t_full_min <= e.next_rate_change:
        return None  # something the engine predicted happens before the next hour

    # Rates as multiples of g (the database's generation) and of l (the copy's delayed
    # generation): x = ship * g; y = x for copy-bound copies, l for lag-bound ones.
    bound = e.copy_bound
    x_g = ship.astype(float)
    y_g = running * bound * x_g
    y_l = (running & ~bound).astype(float)
    coef_g = np.stack([e.passive * (1.0 - x_g), x_g - y_g])
    coef_l = np.stack([np.zeros(n), -y_l])
    gc = e.g[e.db]
    if not (
        np.allclose(coef_g[0] * gc, e.dq[0], rtol=1e-12, atol=1e-15)
        and np.allclose(coef_g[1] * gc + coef_l[1] * e.glag, e.dq[1], rtol=1e-12, atol=1e-15)
    ):
        return None  # a state the derivation does not cover: step hour by hour

    planned = e.span_breakpoints
    hours, hour_rates = e.workload.changes(e.next_rate_change, planned)
    if not len(hours):
        return None
    times, eps, hour, gen, g_changes, lags = _breakpoints(e, e.t, hours, hour_rates)
    if len(times) < 2:
        return None
    cum = _cumulative(gen, np.diff(times))
    lag_of_row = np.full(n, -1)
    for tracker, rows, _ in e.lag_groups:
        lag_of_row[rows] = e.trackers.index(tracker)
    kind, row = np.nonzero((coef_g != 0.0) | (coef_l != 0.0))
    moving = _values(e, kind, row, coef_g, coef_l, lag_of_row, cum, [lag.cum for lag in lags])

    usable = len(times) - 1
    certified, shipping = _first_uncertified(e, ship, running, y_g, y_l, gen, lags, lag_of_row)
    usable = min(usable, certified)
    usable = min(usable, _first_event(e, kind, row, moving, coef_g, coef_l, lag_of_row, cum, lags) - 1)
    full = usable == len(times) - 1
    e.span_breakpoints = min(2 * planned, MAX_SPAN_BREAKPOINTS) if full else FIRST_SPAN_BREAKPOINTS
    if usable < 1:
        return None
    return Span(
        times, eps, hours, hour_rates, hour, usable, gen, cum, g_changes, lags, lag_of_row,
        coef_g, coef_l, kind, row, moving, shipping, np.flatnonzero(ship),
    )  # fmt: skip


def _values(e, kind, row, coef_g, coef_l, lag_of_row, grown, delayed_by_lag) -> np.ndarray:
    """Queues ``(kind, row)`` where the generation since the start is ``grown`` (d × points)
    and each tracker's delayed generation since the start is ``delayed_by_lag[i]``."""
    undelayed = grown[e.db[row]]
    delayed = _delayed(e, row, lag_of_row, delayed_by_lag, grown)
    start = e.q[kind, row][:, None]
    return start + coef_g[kind, row][:, None] * undelayed + coef_l[kind, row][:, None] * delayed


def _breakpoints(e: FluidReplication, t0: float, hours: np.ndarray, hour_rates: np.ndarray):
    """Breakpoint times after ``t0``, generation per segment, and each tracker's delayed view."""
    mounted_rates = hour_rates * e.mounted[:, None]
    previous = np.concatenate([e.g[:, None], mounted_rates[:, :-1]], axis=1)
    hour_changes = (mounted_rates != previous).any(axis=0)
    horizon = hours[-1]
    candidates = [hours]
    for tracker in e.trackers:
        pending = np.array([when for when, _ in tracker._pending])
        candidates += [pending, hours[hour_changes] + tracker.delay]
    merged = np.unique(np.concatenate(candidates))
    merged = merged[(merged > t0) & (merged <= horizon)]
    # Moments closer than the engine's tolerance are handled in one wake, at the first.
    keep = np.ones(len(merged), dtype=bool)
    keep[1:] = np.diff(merged) > 1e-9 * np.maximum(1.0, merged[1:])
    times = np.concatenate([[t0], merged[keep]])
    eps = 1e-9 * np.maximum(1.0, times)

    # The hour whose rates hold from each breakpoint on (-1: the rates of the start).
    hour = np.searchsorted(hours, times + eps, side="right") - 1
    gen = np.where(hour[None, :-1] >= 0, mounted_rates[:, np.maximum(hour[:-1], 0)], e.g[:, None])
    g_changes = np.zeros(len(times), dtype=bool)
    new_hour = hour[1:] != hour[:-1]
    g_changes[1:] = new_hour & (hour[1:] >= 0) & hour_changes[np.maximum(hour[1:], 0)]

    lags = []
    dt = np.diff(times)
    for tracker in e.trackers:
        entries = list(tracker._pending)
        own = len(entries)
        entries += [(float(times[j] + tracker.delay), gen[:, j]) for j in np.flatnonzero(g_changes[:-1])]
        rates = np.stack([tracker.rate] + [r for _, r in entries], axis=1)
        if entries:
            when = np.array([w for w, _ in entries])
            # Entries due by a breakpoint (within its tolerance) set the delayed rate after it.
            taken = np.searchsorted(when, times[:-1] + eps[:-1], side="right")
            taken[0] = 0  # the start's own entries were taken before the span was planned
        else:
            taken = np.zeros(len(dt), dtype=int)
        rate = rates[:, taken]
        lags.append(_Lag(rate, _cumulative(rate, dt), entries, own))
    return times, eps, hour, gen, g_changes, lags


def _cumulative(rate: np.ndarray, dt: np.ndarray) -> np.ndarray:
    out = np.zeros((rate.shape[0], len(dt) + 1))
    np.cumsum(rate * dt, axis=1, out=out[:, 1:])
    return out


def _first_uncertified(e, ship, running, y_g, y_l, gen, lags, lag_of_row) -> tuple[int, np.ndarray]:
    """The first segment in which a link or replay resource might not grant every demand,
    and the shipping demand on every edge in each segment (edges × segments, bytes/s)."""
    segments = gen.shape[1]
    bad = np.zeros(segments, dtype=bool)
    shipping = np.zeros((len(e.topology.capacity), segments))
    # Loads are summed per database first: (resources × databases) @ (databases × segments).
    if ship.any():
        load = shipping = _per_database(e, e.paths.incidence.T * ship) @ gen
        bad |= (load > e.topology.capacity[:, None] * _FIT).any(axis=0)
    if running.any():
        replay = e.server_incidence.T * running
        load = _per_database(e, replay * y_g) @ gen
        for index, lag in enumerate(lags):
            load += _per_database(e, replay * (y_l * (lag_of_row == index))) @ lag.rate
        bad |= (load > e.layout.replay_capacity[:, None] * _FIT).any(axis=0)
    hits = np.flatnonzero(bad)
    return (int(hits[0]) if hits.size else segments), shipping


def _per_database(e: FluidReplication, use: np.ndarray) -> np.ndarray:
    """Per-copy resource use (resources × copies) summed over each database's copies."""
    return np.add.reduceat(use, e.layout.db_first_copy, axis=1)


def _held_coefficients(e, coef_g, coef_l):
    """Logs a copy holds on the active's volume (copy queue + replay queue if it holds
    replay), as start value and rates per unit of g and l."""
    holds = e.holds_replay
    return e.q[0] + e.q[1] * holds, coef_g[0] + coef_g[1] * holds, coef_l[0] + coef_l[1] * holds


def _first_event(e, kind, row, moving, coef_g, coef_l, lag_of_row, cum, lags) -> int:
    """The first breakpoint at which any queue or volume is on another side of a level."""
    # Copy queues only grow in a span (a shipping copy stays empty), so none can empty.
    level = np.where(kind == 0, 10.0, 50.0)[:, None]
    changed = [(moving > level) != (moving[:, :1] > level)]
    lag_cum = [lag.cum for lag in lags]
    rows = np.flatnonzero(e.passive & e.lagged)
    if rows.size:
        copy_queue = _values(e, np.zeros_like(rows), rows, coef_g, coef_l, lag_of_row, cum, lag_cum)
        window = e.lagdiff[rows, None] + cum[e.db[rows]] - _delayed(e, rows, lag_of_row, lag_cum, cum)
        gap = copy_queue - window
        tol = _TOL * np.maximum(1.0, window)
        changed.append(((gap > 0) != (gap[:, :1] > 0)) | (np.abs(gap) <= tol))
    watch = e.mounted & ~e.volume_full
    cap = e.layout.volume_capacity
    frozen = watch & e.truncation_frozen
    if frozen.any():
        changed.append(e.frozen_use[frozen, None] + cum[frozen] >= cap[frozen, None])
    held0, held_g, held_l = _held_coefficients(e, coef_g, coef_l)
    grows = np.flatnonzero((watch & ~e.truncation_frozen)[e.db] & ((held_g != 0) | (held_l != 0)))
    if grows.size:
        held = held0[grows, None] + held_g[grows, None] * cum[e.db[grows]]
        held += held_l[grows, None] * _delayed(e, grows, lag_of_row, lag_cum, cum)
        changed.append(held >= cap[e.db[grows], None])
    first = cum.shape[1]
    for mask in changed:
        hits = np.flatnonzero(mask.any(axis=0))
        if hits.size:
            first = min(first, int(hits[0]))
    return first


def _delayed(e, rows, lag_of_row, lag_cum, undelayed) -> np.ndarray:
    """The delayed curve of each row's replay lag; the undelayed one for a row without lag (l = g)."""
    out = undelayed[e.db[rows]]
    for index, values in enumerate(lag_cum):
        mine = np.flatnonzero(lag_of_row[rows] == index)
        if mine.size:
            out[mine] = values[e.db[rows[mine]]]
    return out


def land_span(e: FluidReplication, span: Span, m: int) -> None:
    """Leave the engine as hourly stepping would have at breakpoint ``m``, before handling it."""
    times = span.times
    dt = np.diff(times[: m + 1])
    _record_samples(e, span, m)

    # Statistics: held queues in closed form, moving ones per segment (QueueStats.add_linear).
    stats = e.stats
    total = float(times[m] - times[0])
    still = np.ones(e.q.shape, dtype=bool)
    still[span.kind, span.row] = False
    stats.integral += np.where(still, e.q * total, 0.0)
    stats.above += np.where(still & (e.q > stats.threshold), total, 0.0)
    if span.kind.size:
        values = span.moving[:, : m + 1]
        start, end = values[:, :-1], values[:, 1:]
        threshold = stats.threshold[span.kind, 0][:, None]
        # A span ends before any segment in which a queue reaches its level, so each segment
        # lies wholly above or wholly at-or-below it.
        above = np.minimum(start, end) > threshold
        index = (span.kind, span.row)
        stats.integral[index] += ((start + end) * (0.5 * dt)).sum(axis=1)
        stats.peak[index] = np.maximum(stats.peak[index], end.max(axis=1))
        stats.above[index] += (above * dt).sum(axis=1)

    _track_peaks(e, span, m)
    # Segment 0's demand was tracked when the span was planned; later ones are replayed in
    # order only where a link saw a new peak, so ties keep their first moment.
    later = span.shipping[:, 1:m]
    if later.size and (e.link_edge & (later.max(axis=1) > e.link_peak * (1.0 + 1e-9))).any():
        for j in range(1, m):
            e._track_link_demand(span.shipping[:, j], float(times[j]), span.ship_rows)
    grown = span.cum[:, m]
    for j in (np.flatnonzero(span.g_changes[1:m]) + 1).tolist():
        e.history.append((float(times[j]), e.generated + span.cum[:, j], span.gen[:, j]))
    e.generated = e.generated + grown
    e.written = e.written + grown
    if e._any_frozen:
        e.frozen_use = e.frozen_use + np.where(e.truncation_frozen, grown, 0.0)
    for tracker, lag in zip(e.trackers, span.lags, strict=True):
        tracker.window = tracker.window + grown - lag.cum[:, m]
        tracker.rate = lag.rate[:, m - 1]
        # Pending after breakpoint m-1: not yet due, and only what changes up to m-1 created.
        created = lag.own + int(np.count_nonzero(span.g_changes[:m]))
        due = times[m - 1] + span.eps[m - 1]
        tracker._pending = deque(entry for entry in lag.entries[:created] if entry[0] > due)
    if e.lag_groups:
        e.lagdiff = e._lag_window()
    q = e.q.copy()
    q[span.kind, span.row] = span.moving[:, m]
    e.q = q
    e.g = span.gen[:, m - 1].copy()
    handled = int(span.hour[m - 1])
    if handled >= 0:
        e.base_rates = span.hour_rates[:, handled].copy()
        e.next_rate_change = float(span.hours[handled + 1])
    e.t = float(times[m])
    e.steps += 1
    # The predictions of the start held for its first segment only; the breakpoint is handled
    # now, with the ordinary code, from exact state.
    e._when = np.full_like(e._when, np.inf)
    e._t_full = np.full_like(e._t_full, np.inf)
    e._t_full_min = np.inf


def _at(times: np.ndarray, rate: np.ndarray, cum: np.ndarray, when: np.ndarray, m: int) -> np.ndarray:
    """A cumulative curve (rows × breakpoints) evaluated at ``when`` inside the first m segments."""
    seg = np.clip(np.searchsorted(times[: m + 1], when, side="right") - 1, 0, m - 1)
    return cum[:, seg] + rate[:, seg] * (when - times[seg])[None, :]


def _record_samples(e: FluidReplication, span: Span, m: int) -> None:
    rows, when = e.recorder.due(float(span.times[0]), float(span.times[m]))
    if not len(when):
        return
    times = span.times
    grown = _at(times, span.gen, span.cum, when, m)  # (d, S)
    delayed = [_at(times, lag.rate, lag.cum, when, m) for lag in span.lags]
    # Samples are laid out (times × copies), as the recorder keeps them.
    q = np.repeat(e.q[:, None, :], len(when), axis=1)
    if span.kind.size:
        values = _values(e, span.kind, span.row, span.coef_g, span.coef_l, span.lag_of_row, grown, delayed)
        q[span.kind, :, span.row] = values
    held0, held_g, held_l = _held_coefficients(e, span.coef_g, span.coef_l)
    if ((held_g != 0) | (held_l != 0)).any():
        volume = np.maximum.reduceat(q[0] + q[1] * e.holds_replay, e.layout.db_first_copy, axis=1)
    else:
        volume = np.repeat(np.maximum.reduceat(held0, e.layout.db_first_copy)[None, :], len(when), axis=0)
    if e._any_frozen:
        volume = np.where(e.truncation_frozen, e.frozen_use + grown.T, volume)
    e.recorder.store(rows, q[0], q[1], volume)


def _track_peaks(e: FluidReplication, span: Span, m: int) -> None:
    """Volume peaks over breakpoints 1..m, for the copies and databases whose use can move.

    Volume use is convex between breakpoints, so its peaks are at breakpoints; a use that
    does not move was counted when the span started.
    """
    held0, held_g, held_l = _held_coefficients(e, span.coef_g, span.coef_l)
    held_moves = (held_g != 0) | (held_l != 0)
    db_moves = np.zeros(e.layout.n_databases, dtype=bool)
    db_moves[e.db[held_moves]] = True
    if e._any_frozen:
        db_moves |= e.truncation_frozen
    truncating = np.zeros(e.layout.n_copies, dtype=bool)
    for _, rows, _ in e.truncation_groups:
        truncating[rows] = True
    moving_rows = np.zeros(e.layout.n_copies, dtype=bool)
    moving_rows[span.row] = True
    rows = np.flatnonzero(moving_rows | truncating | db_moves[e.db])
    if not rows.size:
        return
    grown = span.cum[:, 1 : m + 1]
    dbs = np.flatnonzero(db_moves)
    active_use = np.repeat(np.maximum.reduceat(held0, e.layout.db_first_copy)[:, None], m, axis=1)
    if dbs.size:
        copy_rows = np.flatnonzero(db_moves[e.db])
        q = _queues_at(e, span, copy_rows, m)
        held = q[0] + q[1] * e.holds_replay[copy_rows, None]
        first = np.searchsorted(copy_rows, e.layout.db_first_copy[dbs])
        active_use[dbs] = np.maximum.reduceat(held, first, axis=0)
        if e._any_frozen:
            frozen = e.truncation_frozen
            active_use[frozen] = e.frozen_use[frozen, None] + grown[frozen]
        np.maximum(e.active_volume_peak, active_use.max(axis=1), out=e.active_volume_peak)
    cq, rq = _queues_at(e, span, rows, m)
    own = np.where(e.lagged[rows, None], rq, active_use[e.db[rows]] - cq)
    for tracker, group, _ in e.truncation_groups:
        lag = span.lags[e.trackers.index(tracker)]
        mine = np.flatnonzero(np.isin(rows, group))
        dbs_of = e.db[rows[mine]]
        window = tracker.window[dbs_of, None] + grown[dbs_of] - lag.cum[dbs_of, 1 : m + 1]
        own[mine] = np.maximum(own[mine], window - cq[mine])
    copy_use = np.where(e.is_active[rows, None], active_use[e.db[rows]], np.maximum(own, 0.0))
    e.copy_volume_peak[rows] = np.maximum(e.copy_volume_peak[rows], copy_use.max(axis=1))


def _queues_at(e: FluidReplication, span: Span, rows: np.ndarray, m: int) -> np.ndarray:
    """Copy and replay queue (2 × rows × m) of some copies at breakpoints 1..m."""
    out = np.repeat(e.q[:, rows, None], m, axis=2)
    at = np.minimum(np.searchsorted(rows, span.row), max(len(rows) - 1, 0))  # rows is sorted
    mine = np.flatnonzero(rows[at] == span.row) if len(rows) else np.zeros(0, dtype=int)
    out[span.kind[mine], at[mine]] = span.moving[mine, 1 : m + 1]
    return out


class QuietSpans:
    """The planner the fluid engine is given (:class:`dagsim.model.fluid.SpanPlanner`)."""

    def plan(self, e: FluidReplication) -> Span | None:
        return plan_span(e)

    def land(self, e: FluidReplication, span: PlannedSpan, m: int) -> None:
        assert isinstance(span, Span)  # the engine holds only spans this planner made
        land_span(e, span, m)
