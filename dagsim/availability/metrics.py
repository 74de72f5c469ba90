"""From replica records to the figures a study reports, each with its interval.

Per database and for the whole DAG: unavailability (a fraction, minutes per year and
nines), failovers and lossy failovers per year, logs and messages lost per year, hours per
year with fewer than 2 healthy copies, client user-minutes of outage per protocol and year;
for the DAG also quorum losses per year. DAG rows add up the databases' counts and amounts,
and average their time fractions (unavailability, time below 2 healthy copies).

Everything is computed from the records in replica order, so the same records give the same
bytes whatever order workers finished in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dagsim.availability.estimators import Estimate, count_rate, mean_estimate
from dagsim.availability.replica import ReplicaRecord
from dagsim.config.failures import YEAR

__all__ = ["TABLE_COLUMNS", "convergence", "estimate_table", "headline", "replica_table"]

TABLE_COLUMNS = ("scope", "database", "metric", "unit", "estimate", "low", "high", "events", "method")
_MINUTES_PER_YEAR = YEAR / 60


class _Arrays:
    """Replica figures as (replicas × databases) arrays, in replica order."""

    def __init__(self, records: Sequence[ReplicaRecord]) -> None:
        ordered = sorted(records, key=lambda r: r.index)
        self.duration = np.array([r.duration for r in ordered])
        self.years = self.duration / YEAR
        self.downtime = np.array([r.downtime for r in ordered], dtype=float)
        self.below_two = np.array([r.below_two_healthy for r in ordered], dtype=float)
        self.failovers = np.array([r.failovers for r in ordered], dtype=float)
        self.lossy = np.array([r.lossy_failovers for r in ordered], dtype=float)
        self.logs_lost = np.array([r.logs_lost for r in ordered], dtype=float)
        self.messages_lost = np.array([r.messages_lost for r in ordered], dtype=float)
        # (replicas × protocols × databases)
        self.user_minutes = np.array([r.user_minutes for r in ordered], dtype=float)
        self.quorum_losses = np.array([r.quorum_losses for r in ordered], dtype=float)

    def unavailability(self) -> np.ndarray:
        return self.downtime / self.duration[:, None]


def headline(records: Sequence[ReplicaRecord], confidence: float = 0.95) -> Estimate:
    """The DAG's unavailability (the mean over databases of the time not mounted)."""
    arrays = _Arrays(records)
    return mean_estimate(arrays.unavailability().mean(axis=1), confidence)


def _nines(unavailability: Estimate) -> Estimate:
    def nines(u: float) -> float:
        return math.inf if u <= 0 else -math.log10(u)

    if unavailability.value is None:
        return Estimate(None, math.nan, math.inf, "no downtime observed: " + unavailability.method, 0)
    return Estimate(
        nines(unavailability.value),
        nines(unavailability.high),
        nines(unavailability.low),
        "-log10 of the unavailability interval",
        unavailability.events,
    )


def _scaled(estimate: Estimate, factor: float) -> Estimate:
    if estimate.value is None:
        return estimate  # an upper bound on the chance of any: not scaled
    return Estimate(
        estimate.value * factor, estimate.low * factor, estimate.high * factor, estimate.method, estimate.events
    )


def _rows(scope: str, name: str, columns: dict[str, np.ndarray], arrays: _Arrays, protocols, confidence):
    """Table rows of one database (or the DAG) from its per-replica columns."""
    years = arrays.years
    per_replica_years = float(years[0]) if len(years) else 1.0
    unavailability = mean_estimate(columns["unavailability"], confidence)
    rows = [
        ("unavailability", "fraction of time", unavailability),
        ("downtime", "minutes per year", _scaled(unavailability, _MINUTES_PER_YEAR)),
        ("nines", "nines", _nines(unavailability)),
        ("failovers", "per year", count_rate(columns["failovers"], per_replica_years, confidence)),
        ("lossy_failovers", "per year", count_rate(columns["lossy"], per_replica_years, confidence)),
        ("logs_lost", "logs per year", mean_estimate(columns["logs_lost"] / years, confidence)),
        ("messages_lost", "messages per year", mean_estimate(columns["messages_lost"] / years, confidence)),
        (
            "below_two_healthy_copies",
            "hours per year",
            mean_estimate(columns["below_two"] / 3600 / years, confidence),
        ),
    ]
    for p, protocol in enumerate(protocols):
        values = columns["user_minutes"][:, p] / years
        rows.append((f"user_minutes_{protocol}", "user-minutes per year", mean_estimate(values, confidence)))
    if "quorum_losses" in columns:
        rows.append(("quorum_losses", "per year", count_rate(columns["quorum_losses"], per_replica_years, confidence)))
    return [
        {
            "scope": scope,
            "database": name,
            "metric": metric,
            "unit": unit,
            "estimate": math.nan if e.value is None else e.value,
            "low": e.low,
            "high": e.high,
            "events": e.events,
            "method": e.method,
        }
        for metric, unit, e in rows
    ]


def estimate_table(
    records: Sequence[ReplicaRecord],
    databases: Sequence[str],
    protocols: Sequence[str],
    dag_name: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The tidy table of a study: one row per database (then the DAG) and metric."""
    arrays = _Arrays(records)
    unavailability = arrays.unavailability()
    rows = []
    for d, name in enumerate(databases):
        columns = {
            "unavailability": unavailability[:, d],
            "failovers": arrays.failovers[:, d],
            "lossy": arrays.lossy[:, d],
            "logs_lost": arrays.logs_lost[:, d],
            "messages_lost": arrays.messages_lost[:, d],
            "below_two": arrays.below_two[:, d],
            "user_minutes": arrays.user_minutes[:, :, d] if arrays.user_minutes.size else np.zeros((len(records), 0)),
        }
        rows += _rows("database", name, columns, arrays, protocols, confidence)
    dag = {
        "unavailability": unavailability.mean(axis=1),
        "failovers": arrays.failovers.sum(axis=1),
        "lossy": arrays.lossy.sum(axis=1),
        "logs_lost": arrays.logs_lost.sum(axis=1),
        "messages_lost": arrays.messages_lost.sum(axis=1),
        "below_two": arrays.below_two.mean(axis=1),
        "user_minutes": arrays.user_minutes.sum(axis=2) if arrays.user_minutes.size else np.zeros((len(records), 0)),
        "quorum_losses": arrays.quorum_losses,
    }
    rows += _rows("dag", dag_name, dag, arrays, protocols, confidence)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def replica_table(records: Sequence[ReplicaRecord], databases: Sequence[str], protocols: Sequence[str]) -> pd.DataFrame:
    """One row per replica: its figures per database (columns ``metric[database]``)."""
    ordered = sorted(records, key=lambda r: r.index)
    data: dict[str, list] = {
        "replica": [r.index for r in ordered],
        "years": [r.duration / YEAR for r in ordered],
        "failure_actions": [r.failure_actions for r in ordered],
        "quorum_losses": [r.quorum_losses for r in ordered],
    }
    per_database = {
        "downtime_s": "downtime",
        "below_two_healthy_s": "below_two_healthy",
        "failovers": "failovers",
        "lossy_failovers": "lossy_failovers",
        "logs_lost": "logs_lost",
        "messages_lost": "messages_lost",
    }
    for label, attribute in per_database.items():
        for d, name in enumerate(databases):
            data[f"{label}[{name}]"] = [getattr(r, attribute)[d] for r in ordered]
    for p, protocol in enumerate(protocols):
        for d, name in enumerate(databases):
            data[f"user_minutes_{protocol}[{name}]"] = [r.user_minutes[p][d] for r in ordered]
    return pd.DataFrame(data)


def convergence(records: Sequence[ReplicaRecord], confidence: float = 0.95) -> pd.DataFrame:
    """The DAG unavailability estimate and interval after each replica, in replica order."""
    from scipy import stats

    arrays = _Arrays(records)
    values = arrays.unavailability().mean(axis=1)
    n = np.arange(1, len(values) + 1)
    mean = np.cumsum(values) / n
    squares = np.cumsum(values**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.maximum(squares - n * mean**2, 0.0) / (n - 1)
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * np.sqrt(variance / n)
    half = np.where(n > 1, half, np.nan)
    return pd.DataFrame(
        {"replicas": n, "years": np.cumsum(arrays.years), "estimate": mean, "low": mean - half, "high": mean + half}
    )
