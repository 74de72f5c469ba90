"""Running a sweep: one task per point on any study backend, kept point by point so it can resume.

Each point is a run of the scenario (``kind="run"``: copy queues, failovers, data lost, link
use) or an availability study (``kind="availability"``: the DAG's Monte Carlo figures with
intervals; ``kind="fast"``: the same by fast Monte Carlo, without lossy failovers). The result is one tidy table, one row per point and metric, sorted by point.

With a ``checkpoint`` folder every finished point is written there at once (one small JSON
file, renamed into place, so a file is whole or absent); a sweep started again with the same
folder and the same specification reads them back and runs only the points still missing.
A folder holding another sweep is refused rather than mixed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dagsim.config.schema import Scenario
from dagsim.sweep.spec import SweepError, Variation, apply_point, grid, latin_hypercube

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AVAILABILITY_METRICS", "FAST_METRICS", "RUN_METRICS", "SweepResult", "SweepTask", "sweep"]

RUN_METRICS = (
    "copy_queue_peak",
    "time_copy_queue_above_10",
    "replay_queue_peak",
    "link_peak_utilization",
    "failovers",
    "lossy_failovers",
    "logs_lost",
    "user_minutes",
)
AVAILABILITY_METRICS = ("unavailability", "downtime", "failovers", "lossy_failovers", "quorum_losses")
FAST_METRICS = tuple(m for m in AVAILABILITY_METRICS if m != "lossy_failovers")
"""Fast Monte Carlo has no copy queues, so no lossy failovers."""


@dataclass(frozen=True)
class SweepTask:
    """Evaluates one point (picklable: sent to process pool and Dask workers)."""

    kind: str
    seed: int
    years: float

    def __call__(self, item: tuple[int, Scenario]) -> tuple[int, list[dict]]:
        index, scenario = item
        if self.kind == "run":
            return index, _run_rows(scenario, self.seed)
        return index, _availability_rows(scenario, self.seed, self.years, self.kind)


def _run_rows(scenario: Scenario, seed: int) -> list[dict]:
    from dagsim.simulate import simulate

    result = simulate(scenario, seed=seed)
    copies = result.copies
    failovers = result.failovers
    real = failovers[failovers.kind == "failover"] if len(failovers) else failovers
    links = result.link_records
    values = {
        "copy_queue_peak": float(copies.copy_queue_peak.max()) if len(copies) else 0.0,
        "time_copy_queue_above_10": float(copies.time_copy_queue_above_10.max()) if len(copies) else 0.0,
        "replay_queue_peak": float(copies.replay_queue_peak.max()) if len(copies) else 0.0,
        "link_peak_utilization": max((r.utilization for r in links), default=0.0),
        "failovers": float(len(real)),
        "lossy_failovers": float((real.logs_lost > 0).sum()) if len(real) else 0.0,
        "logs_lost": float(real.logs_lost.sum()) if len(real) else 0.0,
        "user_minutes": float(result.user_minutes()),
    }
    return [{"metric": m, "value": values[m], "low": math.nan, "high": math.nan} for m in RUN_METRICS]


def _availability_rows(scenario: Scenario, seed: int, years: float, kind: str = "availability") -> list[dict]:
    from dagsim.availability.study import availability

    method = "fast" if kind == "fast" else "simulation"
    table = availability(scenario, years=years, seed=seed, client_outages=False, method=method).table
    dag = table[table.scope == "dag"].set_index("metric")
    rows = []
    for metric in FAST_METRICS if kind == "fast" else AVAILABILITY_METRICS:
        row = dag.loc[metric]
        rows.append({"metric": metric, "value": float(row.estimate), "low": float(row.low), "high": float(row.high)})
    return rows


@dataclass(frozen=True)
class SweepResult:
    """The tidy table of a sweep and how much of it this call computed."""

    table: pd.DataFrame
    """pandas DataFrame: point, one column per varied path, metric, value, low, high."""
    points: int
    computed: int
    """Points run by this call (the others were read from the checkpoint folder)."""
    variations: tuple[Variation, ...]
    kind: str
    seed: int


def _fingerprint(scenario: Scenario, variations, points, kind: str, seed: int, years: float) -> str:
    text = json.dumps(
        {
            "scenario": scenario.model_dump(mode="json"),
            "vary": [[v.path, list(map(str, v.values))] for v in variations],
            "points": [list(map(str, p)) for p in points],
            "kind": kind,
            "seed": seed,
            "years": years,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _read_checkpoint(folder: Path, fingerprint: str) -> dict[int, list[dict]]:
    stamp = folder / "sweep-spec.json"
    if stamp.exists():
        try:
            held = json.loads(stamp.read_text()).get("fingerprint")
        except (OSError, ValueError):
            held = None
        if held != fingerprint:
            raise SweepError([f"{folder} holds the points of another sweep; give another --out folder"])
    done: dict[int, list[dict]] = {}
    for path in sorted((folder / "points").glob("*.json")) if (folder / "points").is_dir() else ():
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a damaged file is run again
        done[int(data["point"])] = data["rows"]
    return done


def _write_point(folder: Path, index: int, rows: list[dict]) -> None:
    target = folder / "points" / f"{index:06d}.json"
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps({"point": index, "rows": rows}, allow_nan=True))
    os.replace(partial, target)


def sweep(
    scenario: Scenario,
    variations: tuple[Variation, ...],
    *,
    kind: str = "run",
    samples: int | None = None,
    seed: int | None = None,
    years: float = 20.0,
    workers: int = 1,
    dask: str | None = None,
    checkpoint: Path | None = None,
    progress=None,
) -> SweepResult:
    """Run every point of the sweep (a grid, or ``samples`` Latin-hypercube points).

    ``progress(done, total)`` is called as points finish. Raises :class:`SweepError` listing
    every invalid point before anything runs.
    """
    import pandas as pd

    from dagsim.study import make_backend

    if kind not in ("run", "availability", "fast"):
        raise ValueError("kind is 'run', 'availability' or 'fast'")
    if kind != "run" and scenario.failures is None:
        raise SweepError(["an availability sweep needs a failures: block in the scenario"])
    seed = scenario.run.seed if seed is None else seed
    points = grid(variations) if samples is None else latin_hypercube(variations, samples, seed)
    scenarios = []
    problems = []
    for index, values in enumerate(points):
        try:
            scenarios.append(apply_point(scenario, variations, values))
        except ValueError as error:
            shown = ", ".join(f"{v.path}={value}" for v, value in zip(variations, values, strict=True))
            problems.append(f"point {index} ({shown}): {error}")
    if problems:
        raise SweepError(problems)
    done: dict[int, list[dict]] = {}
    fingerprint = _fingerprint(scenario, variations, points, kind, seed, years)
    if checkpoint is not None:
        done = _read_checkpoint(checkpoint, fingerprint)
        (checkpoint / "points").mkdir(parents=True, exist_ok=True)
        (checkpoint / "sweep-spec.json").write_text(json.dumps({"fingerprint": fingerprint}))
    todo = [(i, scenarios[i]) for i in range(len(points)) if i not in done]
    finished = len(done)
    if progress is not None:
        progress(finished, len(points))

    def on_result(_batch: int, result: tuple[int, list[dict]]) -> None:
        nonlocal finished
        index, rows = result
        done[index] = rows
        if checkpoint is not None:
            _write_point(checkpoint, index, rows)
        finished += 1
        if progress is not None:
            progress(finished, len(points))

    backend = make_backend(workers=workers, dask=dask)
    try:
        backend.map(SweepTask(kind, seed, years), todo, on_result=on_result)
    finally:
        backend.close()
    records = []
    for index, values in enumerate(points):
        for row in done[index]:
            record: dict[str, object] = {"point": index}
            record.update({v.column: _cell(value) for v, value in zip(variations, values, strict=True)})
            record.update(row)
            records.append(record)
    table = pd.DataFrame.from_records(records)
    return SweepResult(table, len(points), len(todo), variations, kind, seed)


def _cell(value: object) -> object:
    # One type per column, whatever YAML made of each value: numbers stay numbers.
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
