"""What a run returns: immutable records, tables as pandas DataFrames, files on disk.

A result carries its scenario, seed and the versions that produced it, so a figure taken from
it can always be traced back and reproduced. Nothing in a written result depends on the wall
clock: the same scenario and seed write byte-identical files.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from dagsim.config.schema import Scenario
from dagsim.output import dump_json
from dagsim.records import (
    ClientOutageRecord,
    CopyStats,
    DatabaseStats,
    DecisionRecord,
    EventRecord,
    FailoverRecord,
    LinkRecord,
    LogStream,
    format_clock,
)

__all__ = ["RunResult", "versions"]

_DEPENDENCIES = ("simpy", "networkx", "numpy", "pandas", "pydantic", "pyyaml", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of dagsim, Python and the libraries a result depends on."""
    found = {"dagsim": _version("dagsim"), "python": platform.python_version()}
    for name in _DEPENDENCIES:
        found[name] = _version(name)
    return found


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, eq=False, repr=False)
class RunResult:
    """One run of one scenario with one seed."""

    def __repr__(self) -> str:
        # The arrays of samples would fill a notebook cell; say what ran and what happened.
        return (
            f"RunResult(scenario={self.scenario.name!r}, mode={self.mode!r}, seed={self.seed}, "
            f"duration={format_clock(self.duration)!r}, copies={len(self.copy_records)}, "
            f"events={len(self.event_records)}, failovers={len(self.failover_records)}, "
            f"user_minutes={self.user_minutes():,.1f})"
        )

    scenario: Scenario
    seed: int
    mode: str
    duration: float
    event_records: tuple[EventRecord, ...]
    copy_records: tuple[CopyStats, ...]
    database_records: tuple[DatabaseStats, ...]
    copy_names: tuple[tuple[str, str], ...]
    active_copies: tuple[bool, ...]
    sample_times: np.ndarray
    copy_queue_samples: np.ndarray
    replay_queue_samples: np.ndarray
    log_volume_samples: np.ndarray
    engine_events: int
    failover_records: tuple[FailoverRecord, ...] = ()
    decision_records: tuple[DecisionRecord, ...] = ()
    client_outage_records: tuple[ClientOutageRecord, ...] = ()
    link_records: tuple[LinkRecord, ...] = ()
    move_records: tuple = ()
    """:class:`dagsim.mrs.MoveRecord` per move request (empty without ``mrs.batches``)."""
    log_streams: tuple[LogStream, ...] = ()
    """Every passive copy's log stream as routed at the start, with the links it crosses."""
    hourly_rates: np.ndarray = field(default_factory=lambda: np.zeros((0, 24)))
    """Log generation of each database in each hour of the day (logs/s), databases in scenario order."""
    copy_status: Mapping[float, pd.DataFrame] = field(default_factory=dict)
    """The copy status table at each moment the run was asked to observe (``observe_at``)."""
    versions: dict[str, str] = field(default_factory=versions)

    # ---------------------------------------------------------------- tables
    @cached_property
    def events(self) -> pd.DataFrame:
        """Every recorded event in time order."""
        columns = [f.name for f in fields(EventRecord)]
        return pd.DataFrame([asdict(e) for e in self.event_records], columns=columns)

    @cached_property
    def failovers(self) -> pd.DataFrame:
        """One row per failover or switchover, with the time of each phase and what was lost."""
        columns = [f.name for f in fields(FailoverRecord)] + ["outage"]
        rows = [{**asdict(r), "outage": r.outage} for r in self.failover_records]
        return pd.DataFrame(rows, columns=columns)

    @cached_property
    def client_outages(self) -> pd.DataFrame:
        """Client-perceived outage per interruption, database and protocol (seconds)."""
        columns = [f.name for f in fields(ClientOutageRecord)]
        return pd.DataFrame([asdict(r) for r in self.client_outage_records], columns=columns)

    def user_minutes(self) -> float:
        """Total user-minutes of outage over the run, every database and protocol."""
        return float(sum(r.user_minutes for r in self.client_outage_records))

    @cached_property
    def moves(self) -> pd.DataFrame:
        """One row per move request (Get-MoveRequestStatistics): status, detail, bytes, times, stalls."""
        columns = [
            "request", "batch", "source_database", "target_database", "status", "status_detail",
            "percent_complete", "bytes_transferred", "started", "finished", "stalled", "stalls", "throughput",
        ]  # fmt: skip
        rows = [{**asdict(r), "throughput": r.throughput} for r in self.move_records]
        return pd.DataFrame(rows, columns=columns)

    @cached_property
    def decisions(self) -> pd.DataFrame:
        """Active Manager's reasoning, step by step, per database."""
        return pd.DataFrame(
            [(r.time, r.database, r.kind, r.text) for r in self.decision_records], columns=["time", "database", "kind", "text"]
        )

    @cached_property
    def copies(self) -> pd.DataFrame:
        """Queue statistics per database copy (queues in logs, times in seconds)."""
        return pd.DataFrame([asdict(c) for c in self.copy_records])

    @cached_property
    def databases(self) -> pd.DataFrame:
        """Log generation and active log volume use per database."""
        return pd.DataFrame([asdict(d) for d in self.database_records])

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """Sampled copy and replay queues of every passive copy, one row per copy and sample."""
        passive = [i for i, active in enumerate(self.active_copies) if not active]
        times = np.repeat(self.sample_times, len(passive))
        names = [self.copy_names[i] for i in passive] * len(self.sample_times)
        return pd.DataFrame(
            {
                "time": times,
                "database": [n[0] for n in names],
                "server": [n[1] for n in names],
                "copy_queue": self.copy_queue_samples[:, passive].ravel(),
                "replay_queue": self.replay_queue_samples[:, passive].ravel(),
            }
        )

    @cached_property
    def log_volume(self) -> pd.DataFrame:
        """Sampled log volume use (logs) on each database's active copy; one column per database."""
        names = [d.database for d in self.database_records]
        frame = pd.DataFrame(self.log_volume_samples, columns=names)
        frame.insert(0, "time", self.sample_times)
        return frame

    # ------------------------------------------------------------- summaries
    def summary(self) -> dict:
        """A JSON-ready digest: what ran, per-copy queue statistics, per-database figures."""
        kinds: dict[str, int] = {}
        for event in self.event_records:
            kinds[event.kind] = kinds.get(event.kind, 0) + 1
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "mode": self.mode,
            "duration": self.duration,
            "duration_text": format_clock(self.duration),
            "engine_events": self.engine_events,
            "event_counts": dict(sorted(kinds.items())),
            "databases": [_rounded(asdict(d)) for d in self.database_records],
            "copies": [_rounded(asdict(c)) for c in self.copy_records],
            "failovers": [_rounded({**asdict(f), "outage": f.outage}) for f in self.failover_records],
            "client_outages": [_rounded(asdict(r)) for r in self.client_outage_records],
            "links": self._links_summary(),
            "moves": self._moves_summary(),
            "user_minutes_of_outage": round(self.user_minutes(), 6),
        }

    def _links_summary(self) -> list[dict]:
        from dagsim.verdicts import link_verdict

        return [
            {
                "link": r.link,
                "from_site": r.from_site,
                "to_site": r.to_site,
                "bandwidth_bits_per_second": round(r.capacity * 8, 6),
                "peak_demand_bits_per_second": round(r.peak_demand * 8, 6),
                "peak_utilization": round(r.utilization, 6),
                "peak_at": r.peak_at,
                "peak_at_text": format_clock(r.peak_at),
                "copies": list(r.copies),
                "verdict": link_verdict(r, self),
            }
            for r in self.link_records
        ]

    def _moves_summary(self) -> list[dict]:
        from dagsim.verdicts import batch_digest

        return batch_digest(self) if self.move_records else []

    def provenance(self) -> dict:
        """Everything needed to reproduce this result: resolved scenario, seed, versions."""
        return {
            "seed": self.seed,
            "mode": self.mode,
            "duration": self.duration,
            "versions": self.versions,
            "scenario": self.scenario.model_dump(mode="json"),
        }

    def write(self, directory: str | Path, *, series_format: str = "csv") -> list[Path]:
        """Write summary.json, events.csv, copies.csv, queues series and provenance.json."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = [
            out / "summary.json",
            out / "provenance.json",
            out / "events.csv",
            out / "copies.csv",
            out / "failovers.csv",
            out / "client_outages.csv",
        ]
        written[0].write_text(dump_json(self.summary()))
        written[1].write_text(dump_json(self.provenance()))
        # A cell holds one value: the links an event names are separated by spaces.
        self.events.assign(links=self.events["links"].map(" ".join)).to_csv(written[2], index=False)
        self.copies.to_csv(written[3], index=False)
        self.failovers.drop(columns=["candidates", "selection"]).to_csv(written[4], index=False)
        self.client_outages.to_csv(written[5], index=False)
        if self.move_records:
            written.append(out / "moves.csv")
            self.moves.to_csv(written[-1], index=False)
        if series_format == "parquet":
            series = out / "queues.parquet"
            self.timeseries.to_parquet(series, index=False)
            volume = out / "log_volume.parquet"
            self.log_volume.to_parquet(volume, index=False)
        elif series_format == "csv":
            series = out / "queues.csv"
            self.timeseries.to_csv(series, index=False)
            volume = out / "log_volume.csv"
            self.log_volume.to_csv(volume, index=False)
        else:
            raise ValueError(f"unknown series format {series_format!r}; use csv or parquet")
        return [*written, series, volume]


def _rounded(record: dict) -> dict:
    # Six significant decimals keep summary.json readable without hiding real differences.
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in record.items()}
