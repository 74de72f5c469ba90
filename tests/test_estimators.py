"""Crude Monte Carlo estimators: intervals, rare counts, and zero observed as an upper bound."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dagsim.availability.estimators import FEW_EVENTS, clopper_pearson, count_rate, mean_estimate, poisson_rate


def test_student_t_interval_by_hand():
    """Mean ± t(0.975, n-1) s / sqrt(n), with the t quantile of 4 degrees of freedom (2.776445)."""
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    estimate = mean_estimate(values)
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert estimate.value == pytest.approx(3.0)
    assert (estimate.low, estimate.high) == pytest.approx((3.0 - half, 3.0 + half))
    assert "Student t" in estimate.method and "rough" in estimate.method  # 5 non-zero < FEW_EVENTS


def test_nothing_observed_is_not_a_point_zero():
    """All-zero replicas give no value, only the chance of any: 1 - 0.05^(1/n)."""
    estimate = mean_estimate(np.zeros(20))
    assert estimate.value is None and estimate.events == 0
    assert math.isnan(estimate.high)
    assert f"{1 - 0.05 ** (1 / 20):.3g}" in estimate.method


def test_poisson_zero_events_is_an_upper_bound():
    """0 events in N years: the rate is at most -ln(0.05) / N (about 3 / N), one-sided 95 %."""
    estimate = poisson_rate(0, 1000.0)
    assert estimate.value is None
    assert estimate.high == pytest.approx(-math.log(0.05) / 1000.0)
    assert "0 events in 1000 years" in estimate.method


def test_poisson_garwood_known_values():
    """One event: the exact 95 % interval is [0.0253, 5.572] per unit exposure."""
    estimate = poisson_rate(1, 1.0)
    assert estimate.value == 1.0
    assert estimate.low == pytest.approx(0.025318, rel=1e-4)
    assert estimate.high == pytest.approx(5.571643, rel=1e-4)


def test_clopper_pearson_known_values():
    """0 of 10: [0, 0.3085]; 5 of 10: [0.1871, 0.8129] (exact binomial interval)."""
    assert clopper_pearson(0, 10) == pytest.approx((0.0, 0.308497), rel=1e-4)
    assert clopper_pearson(5, 10) == pytest.approx((0.187086, 0.812914), rel=1e-4)
    assert clopper_pearson(10, 10)[1] == 1.0


def test_count_rate_switches_from_poisson_to_t():
    """Rare counts use the exact Poisson interval; counts in many replicas use Student t on replica rates."""
    rare = count_rate([0, 1, 0, 0, 2, 0], years_per_replica=0.5)
    assert rare.value == pytest.approx(3 / 3.0) and "Poisson" in rare.method
    frequent = count_rate([3] * FEW_EVENTS + [5] * FEW_EVENTS, years_per_replica=0.5)
    assert frequent.value == pytest.approx(8.0) and "Student t" in frequent.method


def test_relative_half_width():
    """Relative half-width is half the interval over the value; infinite without a value."""
    estimate = mean_estimate([9.0, 11.0] * 10)
    assert estimate.relative_half_width() == pytest.approx(estimate.half_width / 10.0)
    assert mean_estimate([0.0, 0.0]).relative_half_width() == math.inf
