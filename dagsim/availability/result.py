"""What an availability study returns: its replica records, tables and files.

Nothing written depends on the wall clock, the backend or the number of workers: the same
scenario, seed and number of replicas write byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from dagsim.availability.estimators import Estimate
from dagsim.availability.metrics import convergence, estimate_table, headline, replica_table
from dagsim.availability.replica import ReplicaRecord
from dagsim.config.failures import YEAR
from dagsim.config.schema import Scenario
from dagsim.output import dump_json
from dagsim.results import versions

__all__ = ["AvailabilityResult"]


@dataclass(frozen=True, eq=False)
class AvailabilityResult:
    """A Monte Carlo availability study of one scenario."""

    scenario: Scenario
    seed: int
    records: tuple[ReplicaRecord, ...]
    confidence: float
    stop_rule: str
    """``"years"`` (a fixed number of replicas) or ``"precision"``."""
    precision: float | None = None
    client_outages: bool = True
    method: str = "simulation"
    """``"simulation"`` (each replica an ordinary run) or ``"fast"`` (:mod:`~dagsim.availability.fast`)."""
    versions: dict[str, str] = field(default_factory=versions)

    @property
    def not_modelled(self) -> tuple[str, ...]:
        """Metrics the study's method cannot estimate; its table leaves them out."""
        if self.method == "fast":
            from dagsim.availability.fast import NOT_MODELLED

            return NOT_MODELLED
        return ()

    @property
    def left_out(self) -> tuple[str, ...]:
        """What the simulation models and this study's method does not."""
        if self.method == "fast":
            from dagsim.availability.fast import LEFT_OUT

            return LEFT_OUT
        return ()

    @property
    def replicas(self) -> int:
        return len(self.records)

    @property
    def protocols(self) -> list[str]:
        """Client protocols whose outages the study worked out."""
        return list(self.scenario.client_access.protocols) if self.client_outages else []

    @property
    def years(self) -> float:
        """Simulated DAG-years in the study."""
        return sum(r.duration for r in self.records) / YEAR

    @cached_property
    def headline(self) -> Estimate:
        """The DAG's unavailability (mean over its databases) with its interval."""
        return headline(self.records, self.confidence)

    @property
    def precision_reached(self) -> bool | None:
        if self.precision is None:
            return None
        return self.headline.relative_half_width() <= self.precision

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per database (and the DAG) and metric: estimate, interval, method."""
        table = estimate_table(
            self.records,
            [d.name for d in self.scenario.databases],
            self.protocols,
            self.scenario.dag.name,
            self.confidence,
        )
        if self.not_modelled:
            table = table[~table.metric.isin(self.not_modelled)].reset_index(drop=True)
        return table

    @cached_property
    def replica_figures(self) -> pd.DataFrame:
        """One row per replica, in replica order."""
        table = replica_table(self.records, [d.name for d in self.scenario.databases], self.protocols)
        dropped = [c for c in table.columns if c.split("[")[0] in self.not_modelled]
        return table.drop(columns=dropped)

    @cached_property
    def convergence(self) -> pd.DataFrame:
        """The DAG unavailability estimate and interval after each replica."""
        return convergence(self.records, self.confidence)

    def metric(self, metric: str, database: str | None = None) -> pd.Series:
        """One row of :attr:`table`: a database's metric, or the DAG's when ``database`` is None."""
        table = self.table
        rows = table[(table.metric == metric) & ((table.scope == "dag") if database is None else (table.database == database))]
        if rows.empty:
            raise KeyError(f"no metric {metric!r} for {database or 'the DAG'}")
        return rows.iloc[0]

    @property
    def summary(self) -> dict:
        """Headline figures and provenance: enough to reproduce the study."""
        head = self.headline
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replicas": self.replicas,
            "replica_duration_s": self.scenario.failures.replica_duration if self.scenario.failures else None,
            "dag_years": self.years,
            "confidence": self.confidence,
            "stop_rule": self.stop_rule,
            "precision": self.precision,
            "precision_reached": self.precision_reached,
            "client_outages": self.client_outages,
            "method": self.method,
            "left_out": list(self.left_out),
            "headline": {
                "metric": "unavailability of the DAG (mean over databases)",
                "estimate": head.value,
                "low": head.low,
                "high": head.high,
                "method": head.method,
            },
            "random_streams": (
                "replica i: SeedSequence(seed, spawn_key=(FAST_STREAM, i)), every draw in a fixed order"
                if self.method == "fast"
                else "replica i: SeedSequence(seed).spawn child i; one named child per component"
            ),
            "versions": self.versions,
            "resolved_scenario": self.scenario.model_dump(mode="json"),
        }

    def write(self, directory: str | Path, *, replicas_format: str = "csv") -> list[Path]:
        """Write ``availability.csv``, ``replicas.csv`` (or ``.parquet``) and ``summary.json``."""
        if replicas_format not in ("csv", "parquet"):
            raise ValueError("replicas_format is csv or parquet")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "availability.csv", out / f"replicas.{replicas_format}", out / "summary.json"]
        self.table.to_csv(paths[0], index=False)
        if replicas_format == "csv":
            self.replica_figures.to_csv(paths[1], index=False)
        else:
            self.replica_figures.to_parquet(paths[1], index=False)
        paths[2].write_text(dump_json(self.summary))
        return paths
