"""How much bandwidth does an inter-site link need? The dynamic answer beside the static one.

The Exchange Role Requirements Calculator sizes a WAN statically: the peak hour's log rate
of the copies behind the link, times the bytes a log puts on the wire after compression.
That figure ignores time: a copy queue can absorb a peak hour and drain in the next, or
fall behind for the rest of the day. :func:`size_wan` finds the smallest bandwidth at which
every copy behind the link keeps its copy queue under a limit over the scenario's run, by
bisection on whole fluid runs (a copy queue's peak only grows as bandwidth shrinks), and
reports it beside the static peak-hour and daily-mean figures. The daily mean is a floor:
below it the copy queues grow without bound over repeated days, even where a one-day run
keeps them under the limit.

Only the link's own bandwidth changes between runs; routes follow latency, so the copies
behind the link are the same at every bandwidth. The scenario's timeline plays as written
(a failure during the day is part of what the link must carry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dagsim.config.failures import copy_name
from dagsim.config.schema import Scenario
from dagsim.model.topology import LOG_BYTES

__all__ = ["DEFAULT_TOLERANCE", "MAX_RUNS", "WanPoint", "WanSizing", "size_wan", "wan_point"]

DEFAULT_TOLERANCE = 0.01
"""Bisection stops when the bracket is within 1 % of the answer."""
MAX_RUNS = 60
"""At most this many runs in one sizing (bounded time): bracketing, bisection and what-ifs."""
_MAX_BANDWIDTH = 1e12 / 8  # 1 Tbit/s in bytes/s, the schema's limit


@dataclass(frozen=True, slots=True)
class WanPoint:
    """What one bandwidth gives: the worst copy behind the link, over the run."""

    bandwidth: float
    """Bytes per second, each direction."""
    peak_copy_queue: float
    """Logs: the highest copy queue of any copy shipping over the link."""
    time_above_10: float
    """Seconds: the longest any such copy spent with more than 10 logs in its copy queue."""
    recovery_point: float
    """Seconds: the oldest mail not yet copied to some copy behind the link, at its worst sample."""
    logs_lost_on_site_failure: int
    """Whole logs a database would lose if the site of its active copy failed at the worst
    moment: per database the smallest peak copy queue of its copies behind the link (the one
    best copy selection would take), the worst database; *assumption*: the copies' peaks coincide."""
    meets: bool


@dataclass(frozen=True)
class WanSizing:
    """The answer for one link, with the static estimates and every run it took."""

    link: str
    max_copy_queue: float
    rpo: float | None
    """When given (seconds), the criterion is the recovery point instead of the copy queue."""
    required: float | None
    """Smallest bandwidth found (bytes/s), or None when even the upper limit does not suffice."""
    tolerance: float
    static_peak: float
    """Peak-hour demand of the copies behind the link (bytes/s, busier direction)."""
    static_mean: float
    """Daily-mean demand of the same copies (bytes/s)."""
    bytes_per_log: float
    copies: tuple[str, ...]
    peak_hour: int
    points: tuple[WanPoint, ...]
    """Every run of the bisection, by bandwidth."""
    what_if: tuple[WanPoint, ...]

    @property
    def runs(self) -> int:
        return len(self.points) + len(self.what_if)


def _with_bandwidth(scenario: Scenario, link: str, bandwidth: float) -> Scenario:
    links = tuple(l.model_copy(update={"bandwidth": bandwidth}) if l.name == link else l for l in scenario.links)
    return scenario.model_copy(update={"links": links})


RPO_SAMPLE_INTERVAL = 60.0
"""Sample interval of sizing runs that check a recovery point (seconds): the recovery point
is read at samples, so they are kept close."""


def wan_point(
    scenario: Scenario,
    link: str,
    bandwidth: float,
    copies: tuple[str, ...],
    max_copy_queue: float,
    rpo: float | None = None,
) -> WanPoint:
    """Run ``scenario`` with ``link`` at ``bandwidth`` and read the copies behind it."""
    from dagsim.simulate import simulate

    variant = _with_bandwidth(scenario, link, bandwidth)
    if rpo is not None and variant.run.sample_interval > RPO_SAMPLE_INTERVAL:
        variant = variant.model_copy(update={"run": variant.run.model_copy(update={"sample_interval": RPO_SAMPLE_INTERVAL})})
    result = simulate(variant)
    table = result.copies
    names = table.database + "\\" + table.server
    behind = table[names.isin(copies)]
    if behind.empty:
        return WanPoint(bandwidth, 0.0, 0.0, 0.0, 0, True)
    peak = float(behind.copy_queue_peak.max())
    lost_per_database = behind.groupby("database").copy_queue_peak.min()
    recovery = _recovery_point(variant, result.timeseries, copies)
    return WanPoint(
        bandwidth=bandwidth,
        peak_copy_queue=peak,
        time_above_10=float(behind.time_copy_queue_above_10.max()),
        recovery_point=recovery,
        logs_lost_on_site_failure=int(math.floor(float(lost_per_database.max()) + 1e-9)),
        meets=peak < max_copy_queue if rpo is None else recovery <= rpo,
    )


def _recovery_point(scenario: Scenario, series, copies: tuple[str, ...]) -> float:
    """The largest age, over samples and copies, of the oldest log a copy still misses.

    A copy missing Q logs at time t has every log generated up to the moment s at which the
    database's cumulative generation G(s) = G(t) - Q; its recovery point is t - s. G is
    piecewise linear between hour boundaries (hourly profiles), so s is found exactly.
    """
    from dagsim.model.workload import HOUR, Workload

    names = series.database + "\\" + series.server
    behind = series[names.isin(copies) & (series.copy_queue > 0)]
    if behind.empty:
        return 0.0
    hourly = Workload(scenario).hourly_rates()
    index = {d.name: i for i, d in enumerate(scenario.databases)}
    end = float(series.time.max())
    breaks = np.arange(0.0, end + 2 * HOUR, HOUR)
    worst = 0.0
    for database, rows in behind.groupby("database"):
        rates = hourly[index[database]]
        cumulative = np.concatenate([[0.0], np.cumsum(rates[np.arange(len(breaks) - 1) % 24] * HOUR)])
        t = rows.time.to_numpy()
        generated = np.interp(t, breaks, cumulative)
        copied = generated - rows.copy_queue.to_numpy()
        # The first moment generation reached what was copied (the earliest, across a quiet hour).
        k = np.clip(np.searchsorted(cumulative, copied, side="left"), 1, len(breaks) - 1)
        low, high = cumulative[k - 1], cumulative[k]
        span = np.where(high > low, (copied - low) / np.where(high > low, high - low, 1.0), 0.0)
        moment = breaks[k - 1] + np.clip(span, 0.0, 1.0) * HOUR
        worst = max(worst, float((t - moment).max()))
    return worst


def _static(scenario: Scenario, copies: tuple[str, ...], bytes_per_log: float) -> tuple[float, float, int]:
    """(peak-hour demand, daily-mean demand, peak hour) of ``copies`` in bytes/s."""
    from dagsim.model.workload import Workload

    hourly = Workload(scenario).hourly_rates()  # (databases × 24) logs/s
    index = {d.name: i for i, d in enumerate(scenario.databases)}
    database_of = {copy_name(d.name, c.server): d.name for d in scenario.databases for c in d.copies}
    rows = [index[database_of[name]] for name in copies]
    per_hour = hourly[rows].sum(axis=0) if rows else np.zeros(24)
    return float(per_hour.max()) * bytes_per_log, float(per_hour.mean()) * bytes_per_log, int(per_hour.argmax())


def size_wan(
    scenario: Scenario,
    link: str,
    *,
    max_copy_queue: float = 10.0,
    rpo: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    what_if: tuple[float, ...] = (),
    progress=None,
) -> WanSizing:
    """The smallest bandwidth of ``link`` keeping every copy behind it under ``max_copy_queue`` logs
    (or, with ``rpo`` seconds, keeping every copy's recovery point within it).

    ``what_if`` bandwidths (bytes/s) are run as well and reported as they are. ``progress(runs)``
    is called after each run.
    """
    if link not in {l.name for l in scenario.links}:
        raise ValueError(f"the scenario has no link {link!r}")
    if not 0 < tolerance < 1:
        raise ValueError("tolerance is a fraction between 0 and 1")
    if max_copy_queue <= 0:
        raise ValueError("max_copy_queue must be positive")
    if rpo is not None and rpo <= 0:
        raise ValueError("rpo must be positive")
    if len(what_if) > MAX_RUNS // 2:
        raise ValueError(f"at most {MAX_RUNS // 2} what-if bandwidths")
    from dagsim.simulate import simulate

    baseline = simulate(scenario)
    records = [r for r in baseline.link_records if r.link == link]
    copies = tuple(sorted({c for r in records for c in r.copies}))
    # Inter-site links are another subnet, so InterSubnetOnly compression applies on them.
    compression = scenario.dag.network_compression in ("enabled", "inter_subnet_only")
    bytes_per_log = LOG_BYTES * (scenario.dag.compression_ratio if compression else 1.0)
    # Bandwidth is per direction: the busier direction sets the static figure.
    static_peak, static_mean, peak_hour = max(
        (_static(scenario, r.copies, bytes_per_log) for r in records), default=(0.0, 0.0, 0)
    )
    runs = 0

    def run(bandwidth: float) -> WanPoint:
        nonlocal runs
        runs += 1
        point = wan_point(scenario, link, bandwidth, copies, max_copy_queue, rpo)
        if progress is not None:
            progress(runs)
        return point

    points: list[WanPoint] = []
    required: float | None = None
    if copies:
        # Bracket: the static peak usually suffices; double until it does.
        high = max(static_peak, 1.0)
        top = run(high)
        points.append(top)
        while not top.meets and high < _MAX_BANDWIDTH and runs < MAX_RUNS // 2:
            high = min(high * 2, _MAX_BANDWIDTH)
            top = run(high)
            points.append(top)
        if top.meets:
            # Below the daily mean a copy queue grows day after day, however long a queue the
            # run's own length lets it build: the mean is the floor of any answer.
            low = min(static_mean, high)
            while high - low > tolerance * high and runs < MAX_RUNS - len(what_if):
                middle = (low + high) / 2
                point = run(middle)
                points.append(point)
                if point.meets:
                    high = middle
                else:
                    low = middle
            required = high
    else:
        required = 0.0
    extra = tuple(run(b) for b in what_if)
    return WanSizing(
        link=link,
        max_copy_queue=max_copy_queue,
        rpo=rpo,
        required=required,
        tolerance=tolerance,
        static_peak=static_peak,
        static_mean=static_mean,
        bytes_per_log=bytes_per_log,
        copies=copies,
        peak_hour=peak_hour,
        points=tuple(sorted(points, key=lambda p: p.bandwidth)),
        what_if=extra,
    )
