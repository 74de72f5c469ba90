"""Exact, rare-event, fast and crude answers side by side, and whether their intervals agree.

Each method runs where it applies: the Markov chain and importance sampling need
exponential laws (and the chain a bounded state space); fast Monte Carlo
(:mod:`~dagsim.availability.fast`: the chain's structure with any laws and maintenance, and
copies that missed logs kept from mounting) refuses little; crude Monte Carlo always runs. Two
answers *agree* when the exact value lies in an interval (or under an upper bound), or
when two intervals overlap. Where crude Monte Carlo differs from the other two, the cause
is usually something the Markov model leaves out (the mount dial and copy queues above all:
see :data:`dagsim.availability.markov.LEFT_OUT`), which fast Monte Carlo follows in part.

Five pairs are judged at once, so each verdict uses an interval at ``1 - 0.05 / 5`` = 99 %
(Bonferroni): when every method is right, all five agree at least 95 % of the time. The
printed intervals stay at 95 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from dagsim.availability.fast import NotFast
from dagsim.availability.markov import exact_availability
from dagsim.availability.metrics import headline
from dagsim.availability.rare import DEFAULT_MAX_CYCLES, DEFAULT_PRECISION, rare_availability
from dagsim.availability.structure import NotMarkovian
from dagsim.config.failures import YEAR, study_replica_limit

__all__ = ["FAMILY_CONFIDENCE", "FAST_YEARS", "PAIRS", "Answer", "Comparison", "compare"]

FAST_YEARS = 10_000.0
"""DAG-years of the fast study, at least (about what ten simulated years cost)."""
PAIRS = (("exact", "rare"), ("exact", "fast"), ("exact", "crude"), ("rare", "crude"), ("fast", "crude"))
FAMILY_CONFIDENCE = 0.95
"""The chance that no pair is found to differ when every method is right."""
VERDICT_CONFIDENCE = 1 - (1 - FAMILY_CONFIDENCE) / len(PAIRS)
"""The level of each pair's interval (Bonferroni)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One method's DAG unavailability: a value with its interval, an upper bound, or why not."""

    method: str
    value: float | None
    low: float
    high: float
    note: str
    """How it was obtained, or why the method does not apply."""
    wide_low: float = math.nan
    wide_high: float = math.nan
    """The interval at :data:`VERDICT_CONFIDENCE` the verdicts use (``low``/``high`` when not given)."""

    @property
    def applies(self) -> bool:
        return self.value is not None or math.isfinite(self.high)

    def judged(self) -> tuple[float, float]:
        """The interval a verdict compares."""
        if math.isnan(self.wide_low) or math.isnan(self.wide_high):
            return self.low, self.high
        return self.wide_low, self.wide_high


@dataclass(frozen=True)
class Comparison:
    """The answers and their pairwise agreement."""

    scenario: str
    seed: int
    answers: tuple[Answer, ...]
    agreement: tuple[tuple[str, bool | None, str], ...]
    """(which pair, agree? (None: cannot say), why)."""
    results: tuple = ()
    verdict_confidence: float = VERDICT_CONFIDENCE
    """The level of the intervals each verdict compared."""
    """The underlying results (ExactResult, RareResult, fast and crude AvailabilityResult) where they ran."""


def _agree(a: Answer, b: Answer) -> tuple[bool | None, str]:
    if not a.applies or not b.applies:
        return None, "one of them does not apply"
    point_a = a.value is not None and a.low == a.high
    point_b = b.value is not None and b.low == b.high
    if point_a and point_b and a.value is not None and b.value is not None:
        same = math.isclose(a.value, b.value, rel_tol=1e-9)
        return same, "equal" if same else "different values"
    level = f"{VERDICT_CONFIDENCE:.0%}"
    if point_a or point_b:
        point, other = (a, b) if point_a else (b, a)
        assert point.value is not None  # a point answer has a value
        low, high = other.judged()
        inside = low <= point.value <= high
        if other.value is None:
            return inside, f"{point.method} is {'under' if inside else 'above'} {other.method}'s upper bound"
        return inside, f"{point.method} is {'inside' if inside else 'outside'} {other.method}'s {level} interval"
    (a_low, a_high), (b_low, b_high) = a.judged(), b.judged()
    overlap = a_low <= b_high and b_low <= a_high
    return overlap, f"the {level} intervals overlap" if overlap else f"the {level} intervals do not overlap"


def _sampled(method: str, result, note: str) -> Answer:
    """A Monte Carlo study's answer, with its interval at the verdicts' level too."""
    head, wide = result.headline, headline(result.records, VERDICT_CONFIDENCE)
    return Answer(method, head.value, head.low, head.high, note, wide.low, wide.high)


def compare(
    scenario,
    *,
    seed: int | None = None,
    years: float = 100.0,
    workers: int = 1,
    dask: str | None = None,
    precision: float = DEFAULT_PRECISION,
    max_cycles: int = DEFAULT_MAX_CYCLES,
    client_outages: bool = False,
    crude_progress=None,
    rare_progress=None,
) -> Comparison:
    """Run the exact model, importance sampling, fast and crude Monte Carlo where each applies.

    The fast study runs ``max(years, FAST_YEARS)`` DAG-years (fewer if a study may not keep
    that many records of this DAG), on the same workers."""
    from dagsim.availability.study import availability as crude_study

    seed = scenario.run.seed if seed is None else seed
    answers: list[Answer] = []
    results: list = []
    try:
        exact = exact_availability(scenario)
        u = exact.unavailability
        answers.append(Answer("exact", u, u, u, f"{exact.method}, {exact.states:,} states"))
        results.append(exact)
    except NotMarkovian as refusal:
        answers.append(Answer("exact", None, math.nan, math.nan, f"does not apply: {refusal}"))
    try:
        rare = rare_availability(scenario, seed=seed, precision=precision, max_cycles=max_cycles, progress=rare_progress)
        note = f"{rare.cycles:,} biased cycles, {rare.effective_cycles:,.0f} effective"
        if rare.warnings:
            note += "; " + "; ".join(rare.warnings)
        dag = rare.dag
        wide_low = wide_high = math.nan
        if dag.value is not None:
            # A normal interval: widen the half-width from 95 % to the verdicts' level.
            stretch = NormalDist().inv_cdf(0.5 + VERDICT_CONFIDENCE / 2) / NormalDist().inv_cdf(0.975)
            wide_low = max(dag.value - (dag.value - dag.low) * stretch, 0.0)
            wide_high = dag.value + (dag.high - dag.value) * stretch
        answers.append(Answer("rare", dag.value, dag.low, dag.high, note, wide_low, wide_high))
        results.append(rare)
    except NotMarkovian as refusal:
        answers.append(Answer("rare", None, math.nan, math.nan, f"does not apply: {refusal}"))
    try:
        # As many years as a study may keep records of, for a DAG with many databases.
        kept = study_replica_limit(len(scenario.databases)) * scenario.failures.replica_duration / YEAR
        fast = crude_study(
            scenario, years=min(max(years, FAST_YEARS), kept), seed=seed, workers=workers, dask=dask, method="fast"
        )
        answers.append(_sampled("fast", fast, f"{fast.years:g} DAG-years, {fast.headline.method}"))
        results.append(fast)
    except NotFast as refusal:
        answers.append(Answer("fast", None, math.nan, math.nan, f"does not apply: {refusal}"))
    crude = crude_study(
        scenario, years=years, seed=seed, workers=workers, dask=dask, client_outages=client_outages, progress=crude_progress
    )
    answers.append(_sampled("crude", crude, f"{crude.years:g} DAG-years, {crude.headline.method}"))
    results.append(crude)
    by_name = {a.method: a for a in answers}
    agreement = []
    for first, second in PAIRS:
        agree, why = _agree(by_name[first], by_name[second])
        agreement.append((f"{first} vs {second}", agree, why))
    return Comparison(scenario.name, seed, tuple(answers), tuple(agreement), tuple(results))
