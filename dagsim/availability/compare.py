"""Exact, rare-event and crude answers side by side, and whether their intervals agree.

Each method runs where it applies: the Markov chain and importance sampling need
exponential laws (and the chain a bounded state space); crude Monte Carlo always runs. Two
answers *agree* when the exact value lies in an interval (or under an upper bound), or
when two intervals overlap. Where crude Monte Carlo differs from the other two, the cause
is usually something the Markov model leaves out (the mount dial and copy queues above all:
see :data:`dagsim.availability.markov.LEFT_OUT`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dagsim.availability.markov import exact_availability
from dagsim.availability.rare import DEFAULT_MAX_CYCLES, DEFAULT_PRECISION, rare_availability
from dagsim.availability.structure import NotMarkovian

__all__ = ["Answer", "Comparison", "compare"]


@dataclass(frozen=True, slots=True)
class Answer:
    """One method's DAG unavailability: a value with its interval, an upper bound, or why not."""

    method: str
    value: float | None
    low: float
    high: float
    note: str
    """How it was obtained, or why the method does not apply."""

    @property
    def applies(self) -> bool:
        return self.value is not None or math.isfinite(self.high)


@dataclass(frozen=True)
class Comparison:
    """The three answers and their pairwise agreement."""

    scenario: str
    seed: int
    answers: tuple[Answer, ...]
    agreement: tuple[tuple[str, bool | None, str], ...]
    """(which pair, agree? (None: cannot say), why)."""
    results: tuple = ()
    """The underlying results (ExactResult, RareResult, AvailabilityResult) where they ran."""


def _agree(a: Answer, b: Answer) -> tuple[bool | None, str]:
    if not a.applies or not b.applies:
        return None, "one of them does not apply"
    point_a = a.value is not None and a.low == a.high
    point_b = b.value is not None and b.low == b.high
    if point_a and point_b and a.value is not None and b.value is not None:
        same = math.isclose(a.value, b.value, rel_tol=1e-9)
        return same, "equal" if same else "different values"
    if point_a or point_b:
        point, other = (a, b) if point_a else (b, a)
        assert point.value is not None  # a point answer has a value
        inside = other.low <= point.value <= other.high
        if other.value is None:
            return inside, f"{point.method} is {'under' if inside else 'above'} {other.method}'s upper bound"
        return inside, f"{point.method} is {'inside' if inside else 'outside'} {other.method}'s interval"
    overlap = a.low <= b.high and b.low <= a.high
    return overlap, "the intervals overlap" if overlap else "the intervals do not overlap"


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
    """Run the exact model, importance sampling and crude Monte Carlo where each applies."""
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
        answers.append(Answer("rare", rare.dag.value, rare.dag.low, rare.dag.high, note))
        results.append(rare)
    except NotMarkovian as refusal:
        answers.append(Answer("rare", None, math.nan, math.nan, f"does not apply: {refusal}"))
    crude = crude_study(
        scenario, years=years, seed=seed, workers=workers, dask=dask, client_outages=client_outages, progress=crude_progress
    )
    head = crude.headline
    answers.append(Answer("crude", head.value, head.low, head.high, f"{crude.years:g} DAG-years, {head.method}"))
    results.append(crude)
    by_name = {a.method: a for a in answers}
    agreement = []
    for first, second in (("exact", "rare"), ("exact", "crude"), ("rare", "crude")):
        agree, why = _agree(by_name[first], by_name[second])
        agreement.append((f"{first} vs {second}", agree, why))
    return Comparison(scenario.name, seed, tuple(answers), tuple(agreement), tuple(results))
