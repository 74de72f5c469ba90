"""Running an availability study: replicas in batches on a backend, until enough years or precision.

The result is a pure function of (scenario, seed, number of replicas). With ``precision``
the study runs in rounds of fixed sizes (16 replicas, then doubling the total) and stops at
the first round whose headline interval is narrow enough, or at ``max_years``: the rounds do
not depend on the backend either, so neither does the number of replicas run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from dagsim.availability.batch import ReplicaBatch
from dagsim.availability.estimators import Estimate, mean_estimate
from dagsim.availability.fast import refuse_unplayable
from dagsim.availability.metrics import headline
from dagsim.availability.replica import ReplicaRecord
from dagsim.availability.result import AvailabilityResult
from dagsim.config.failures import DEFAULT_MAX_YEARS, MAX_STUDY_YEARS, YEAR, study_replica_limit
from dagsim.config.loader import load_scenario
from dagsim.config.schema import Scenario
from dagsim.study import Backend, make_backend

__all__ = ["DEFAULT_MAX_YEARS", "FIRST_ROUND", "MAX_STUDY_YEARS", "StudyProgress", "availability", "too_many_replicas"]

FIRST_ROUND = 16
"""Replicas in the first round of a ``precision`` study."""

StudyProgress = Callable[[int, int, Estimate | None], None]
"""Called as batches finish with (replicas done, replicas planned so far, current headline)."""


def availability(
    scenario: Scenario | str | Path,
    *,
    years: float | None = None,
    replicas: int | None = None,
    precision: float | None = None,
    max_years: float = DEFAULT_MAX_YEARS,
    seed: int | None = None,
    workers: int = 1,
    dask: str | None = None,
    backend: Backend | None = None,
    batch_size: int | None = None,
    confidence: float = 0.95,
    client_outages: bool = True,
    progress: StudyProgress | None = None,
    method: str = "simulation",
) -> AvailabilityResult:
    """Monte Carlo availability of ``scenario`` under its ``failures:`` block.

    Give exactly one of ``years`` (DAG-years to simulate), ``replicas`` or ``precision``
    (target relative half-width of the DAG unavailability's interval). ``seed`` overrides
    ``run.seed``. Runs serially, on ``workers`` processes, on Dask (``dask="local"`` or a
    scheduler address) or on a given ``backend``; the result is the same.
    ``client_outages=False`` skips the client user-minutes (they cost the most to work out).
    ``method="fast"`` plays replicas with :mod:`~dagsim.availability.fast` instead of the
    simulation: a thousand times faster, without copy queues or client outages; it raises
    :class:`~dagsim.availability.fast.NotFast` for what it cannot play.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if scenario.failures is None:
        raise ValueError(f"scenario {scenario.name!r} has no failures: block; nothing fails at random")
    given = sum(x is not None for x in (years, replicas, precision))
    if given != 1:
        raise ValueError("give exactly one of years, replicas or precision")
    if not 0 < confidence < 1:
        raise ValueError("confidence lies between 0 and 1")
    if not 0 < max_years <= MAX_STUDY_YEARS:
        raise ValueError(f"max_years lies between 0 and {MAX_STUDY_YEARS:,.0f}")
    seed = scenario.run.seed if seed is None else seed
    if seed < 0:
        raise ValueError("seed cannot be negative")
    length = scenario.failures.replica_duration
    kept = study_replica_limit(len(scenario.databases))
    cap = max(1, min(int(max_years * YEAR // length), kept))
    if years is not None:
        if not 0 < years <= MAX_STUDY_YEARS:
            raise ValueError(f"years lies between 0 and {MAX_STUDY_YEARS:,.0f}")
        replicas = max(1, math.ceil(years * YEAR / length - 1e-9))
    if replicas is not None and not 1 <= replicas <= int(MAX_STUDY_YEARS * YEAR // length):
        raise ValueError(f"replicas lies between 1 and {int(MAX_STUDY_YEARS * YEAR // length):,}")
    if replicas is not None and replicas > kept:
        raise ValueError(too_many_replicas(scenario, replicas))
    if precision is not None and not 0 < precision < 1:
        raise ValueError("precision is a relative half-width between 0 and 1, e.g. 0.05")
    if method not in ("simulation", "fast"):
        raise ValueError("method is 'simulation' or 'fast'")
    if method == "fast":
        refuse_unplayable(scenario)  # here, with every reason, not in a worker
        client_outages = False  # a fast replica has no clients

    own = backend is None
    backend = backend or make_backend(workers, dask)
    batch_fn = ReplicaBatch(scenario, seed, client_outages, method)
    done: list[ReplicaRecord] = []
    try:
        if replicas is not None:
            _run_round(backend, batch_fn, range(replicas), replicas, done, workers, batch_size, confidence, progress)
            rule = "years"
        else:
            rule = "precision"
            assert precision is not None  # exactly one of years, replicas, precision was given
            target = min(FIRST_ROUND, cap)
            while True:
                planned = range(len(done), target)
                _run_round(backend, batch_fn, planned, target, done, workers, batch_size, confidence, progress)
                if headline(done, confidence).relative_half_width() <= precision or target >= cap:
                    break
                target = min(2 * target, cap)
    finally:
        if own:
            backend.close()
    records = tuple(sorted(done, key=lambda r: r.index))
    return AvailabilityResult(
        scenario=scenario,
        seed=seed,
        records=records,
        confidence=confidence,
        stop_rule=rule,
        precision=precision,
        client_outages=client_outages,
        method=method,
    )


def too_many_replicas(scenario: Scenario, replicas: int) -> str | None:
    """Why a study of ``replicas`` replicas of ``scenario`` is refused (bounded memory), or None."""
    kept = study_replica_limit(len(scenario.databases))
    if replicas <= kept:
        return None
    length = scenario.failures.replica_duration if scenario.failures else YEAR
    return (
        f"a study keeps a record of every replica with a figure per database: at most {kept:,} replicas of "
        f"this scenario ({len(scenario.databases)} databases), {kept * length / YEAR:,.0f} DAG-years; "
        f"this one asks for {replicas:,}"
    )


def _run_round(backend, batch_fn, indices, planned, done, workers, batch_size, confidence, progress) -> None:
    indices = list(indices)
    if not indices:
        return
    # Batch size changes scheduling overhead only, never the result.
    size = batch_size or max(1, min(32, math.ceil(len(indices) / (4 * max(workers, 1)))))
    batches = [tuple(indices[i : i + size]) for i in range(0, len(indices), size)]

    # The running estimate is the headline's mean over the replicas' DAG unavailability, kept
    # as one number per replica: rebuilding it from every record at each batch would cost
    # the whole study again per batch.
    dag_unavailability = [sum(r.downtime) / len(r.downtime) / r.duration if r.downtime else 0.0 for r in done]

    def finished(_index: int, records) -> None:
        done.extend(records)
        if progress is not None:
            dag_unavailability.extend(sum(r.downtime) / len(r.downtime) / r.duration if r.downtime else 0.0 for r in records)
            estimate = mean_estimate(dag_unavailability, confidence) if len(done) > 1 else None
            progress(len(done), planned, estimate)

    backend.map(batch_fn, batches, on_result=finished)
