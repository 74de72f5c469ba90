"""Crude Monte Carlo estimators: every figure comes with its interval and the method behind it.

* A mean over replicas: Student *t* on the replica values (replicas are independent and
  identically distributed, so the interval is honest once the replica values are roughly
  normal — with few non-zero replicas it is rough, and the method says so).
* A rare count (failovers, quorum losses): the exact Poisson (Garwood) interval on the total
  count over the total simulated time.
* Nothing observed: never a point 0. For counts, "0 events in N years" gives the one-sided
  upper bound of the rate; for amounts (downtime, logs lost), the Clopper-Pearson upper bound
  of the chance that a replica sees any, and no point estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "Estimate",
    "FEW_EVENTS",
    "clopper_pearson",
    "count_rate",
    "mean_estimate",
    "poisson_rate",
]

FEW_EVENTS = 10
"""Below this many non-zero replicas a Student t interval is flagged as rough."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A value with its interval. ``value`` is None when nothing was observed: ``high`` is then
    an upper bound (of a rate, or of the chance of any, as ``method`` says) or NaN."""

    value: float | None
    low: float
    high: float
    method: str
    events: int
    """Events counted (counts) or replicas with a non-zero value (amounts)."""

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def relative_half_width(self) -> float:
        """Half-width over the value; infinite when there is no value or it is 0."""
        if self.value is None or self.value == 0 or not math.isfinite(self.high):
            return math.inf
        return self.half_width / abs(self.value)


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval of a proportion."""
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return low, high


def mean_estimate(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean of independent replica values with a Student t interval."""
    data = np.asarray(values, dtype=float)
    n = len(data)
    nonzero = int(np.count_nonzero(data))
    if n == 0:
        raise ValueError("no replicas")
    if nonzero == 0:
        # One-sided bound on the chance that a replica shows any at all.
        bound = 1.0 - (1.0 - confidence) ** (1.0 / n)
        return Estimate(
            None,
            0.0,
            math.nan,
            f"none in {n} replicas: P(any in a replica) <= {bound:.3g} (one-sided {confidence:.0%})",
            0,
        )
    mean = float(data.mean())
    if n < 2:
        return Estimate(mean, -math.inf, math.inf, "a single replica: no interval", nonzero)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    method = f"Student t on {n} replica means"
    if nonzero < FEW_EVENTS:
        method += f" (only {nonzero} replicas non-zero: rough)"
    low = mean - half
    if low < 0 <= data.min():
        low = 0.0  # a mean of values that cannot be negative is not negative either
    return Estimate(mean, low, mean + half, method, nonzero)


def poisson_rate(count: int, exposure: float, confidence: float = 0.95) -> Estimate:
    """Rate of a count over ``exposure`` (years), exact Poisson (Garwood) interval.

    With no event the answer is an upper bound: ``value`` is None and ``high`` is the
    one-sided bound (about 3 / exposure at 95 %).
    """
    if exposure <= 0:
        raise ValueError("exposure must be positive")
    alpha = 1 - confidence
    if count == 0:
        high = float(stats.chi2.ppf(confidence, 2) / 2 / exposure)
        return Estimate(
            None, 0.0, high, f"0 events in {exposure:g} years: upper bound (one-sided {confidence:.0%})", 0
        )
    low = float(stats.chi2.ppf(alpha / 2, 2 * count) / 2 / exposure)
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2 / exposure)
    return Estimate(count / exposure, low, high, f"exact Poisson on {count} events in {exposure:g} years", count)


def count_rate(counts: Sequence[int] | np.ndarray, years_per_replica: float, confidence: float = 0.95) -> Estimate:
    """Events per year from per-replica counts.

    Frequent events: Student t on the replica rates, which stays honest when events come in
    bursts (one server failure fails over many databases at once). Rare events: exact Poisson
    on the total, which assumes independent events.
    """
    data = np.asarray(counts, dtype=float)
    nonzero = int(np.count_nonzero(data))
    if nonzero >= FEW_EVENTS:
        return mean_estimate(data / years_per_replica, confidence)
    return poisson_rate(int(data.sum()), len(data) * years_per_replica, confidence)
