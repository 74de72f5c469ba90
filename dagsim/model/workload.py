"""Log generation: every database's transaction-log rate as a sum of sources.

A source is anything that writes logs on a database: mailbox users today, Mailbox
Replication Service requests (moves, .pst imports) later. The replication engines only see
the per-database total rate and the times at which it changes, so new sources slot in
without touching replication code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dagsim.config.schema import DatabaseSpec, Scenario

__all__ = [
    "HOUR",
    "LOG_SIZE",
    "DAY",
    "HourlyProfile",
    "LogSource",
    "Workload",
    "logs_per_day",
]

HOUR = 3600.0
DAY = 86400.0
LOG_SIZE = 1024**2  # Exchange 2013 transaction logs are 1 MB files


def logs_per_day(database: DatabaseSpec) -> float:
    """Logs a database generates per day: explicit, or mailboxes × message profile."""
    return database.generated_logs_per_day


class LogSource(Protocol):
    """Something that writes transaction logs on one database."""

    def rate(self, t: float) -> float:
        """Logs per second generated at time ``t`` (seconds from the run's start)."""

    def next_change(self, t: float) -> float:
        """The first time strictly after ``t`` at which :meth:`rate` changes (``inf`` if never)."""

    def integral(self, t0: float, t1: float) -> float:
        """Logs generated in ``[t0, t1]``; defined for negative times too (history)."""


@dataclass(frozen=True)
class HourlyProfile:
    """Mailbox users: a daily log count spread over the day by 24 hourly fractions.

    The day repeats, so the profile also describes the time before the run, which is what a
    lagged copy's replay queue holds when the run starts.
    """

    per_day: float
    distribution: tuple[float, ...]

    def hourly_rates(self) -> np.ndarray:
        weights = np.asarray(self.distribution, dtype=float)
        return self.per_day * weights / weights.sum() / HOUR

    def rate(self, t: float) -> float:
        return float(self.hourly_rates()[int(math.floor(t / HOUR)) % 24])

    def next_change(self, t: float) -> float:
        return (math.floor(t / HOUR) + 1) * HOUR

    def integral(self, t0: float, t1: float) -> float:
        return _periodic_integral(self.hourly_rates()[None, :], t0, t1)[0]


def _hourly_cumulative(rates: np.ndarray, t: float) -> np.ndarray:
    """Logs generated from time 0 to ``t`` by hourly, daily-periodic ``rates`` (rows = databases)."""
    per_day = rates.sum(axis=1) * HOUR
    whole_days, rest = divmod(t, DAY)
    hours, seconds = divmod(rest, HOUR)
    hours = int(hours)
    partial = rates[:, :hours].sum(axis=1) * HOUR + rates[:, hours % 24] * seconds
    return per_day * whole_days + partial


def _periodic_integral(rates: np.ndarray, t0: float, t1: float) -> np.ndarray:
    return _hourly_cumulative(rates, t1) - _hourly_cumulative(rates, t0)


class Workload:
    """Per-database generation for a whole scenario, vectorised over databases.

    Mailbox profiles share the clock-hour grid, so the base rate of every database is one
    column of a (databases × 24) matrix; extra sources (added at run time) are summed on top.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.database_names = tuple(d.name for d in scenario.databases)
        profiles = [HourlyProfile(logs_per_day(d), d.hourly_distribution) for d in scenario.databases]
        self._hourly = np.array([p.hourly_rates() for p in profiles]).reshape(len(profiles), 24)
        self._extra: list[tuple[int, LogSource]] = []

    def add_source(self, database_index: int, source: LogSource) -> None:
        """Add generation on one database (e.g. a mailbox move targeting it)."""
        self._extra.append((database_index, source))

    def rates(self, t: float) -> np.ndarray:
        """Logs per second of every database at time ``t``."""
        rates = self._hourly[:, int(math.floor(t / HOUR)) % 24].copy()
        for index, source in self._extra:
            rates[index] += source.rate(t)
        return rates

    def next_change(self, t: float) -> float:
        """The next time any database's rate changes."""
        change = (math.floor(t / HOUR) + 1) * HOUR
        for _, source in self._extra:
            change = min(change, source.next_change(t))
        return change

    def changes(self, first: float, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` successive change times from ``first`` (itself a change time) on, and
        the (databases × count) rates that hold from each: :meth:`next_change` and
        :meth:`rates` in bulk."""
        if not math.isfinite(first):
            return np.zeros(0), np.zeros((len(self.database_names), 0))
        if not self._extra and first == (math.floor(first / HOUR)) * HOUR:
            index = int(math.floor(first / HOUR)) + np.arange(count)
            return index * HOUR, self._hourly[:, index % 24]
        times = [first]
        while len(times) < count and math.isfinite(times[-1]):
            times.append(self.next_change(times[-1]))
        times = [t for t in times if math.isfinite(t)]
        return np.array(times), np.stack([self.rates(t) for t in times], axis=1)

    def history(self, t0: float, t1: float) -> np.ndarray:
        """Logs each database's mailbox users generated in ``[t0, t1]`` (``t0`` may be negative)."""
        return _periodic_integral(self._hourly, t0, t1)

    def hourly_rates(self) -> np.ndarray:
        """The (databases × 24) matrix of base rates in logs per second."""
        return self._hourly.copy()
