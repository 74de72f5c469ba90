"""Importance sampling against exact answers computed here, its determinism and its warnings."""

from __future__ import annotations

import math

import pytest
from availability_scenarios import n_copies
from scipy import stats

from dagsim.availability.markov import exact_availability
from dagsim.availability.rare import rare_availability
from dagsim.availability.structure import NotMarkovian
from dagsim.config.loader import load_scenario
from dagsim.config.schema import Scenario

LAM, MU = 1 / (3 * 365 * 86400.0), 1 / 86400.0  # MTBF 3 years, MTTR 1 day
Q = LAM / (LAM + MU)
A = 1 - Q


def rare_servers(n: int, crews: int | None = None) -> Scenario:
    failures = {"servers": {"time_to_failure": "3y", "time_to_repair": "1d"}, "replica_duration": "1y"}
    if crews is not None:
        failures["repair_crews"] = crews
    return n_copies(n, failures=failures)


def test_four_copies_quorum_loss_inside_the_interval():
    """Four members and a witness: quorum is lost with three servers down, about 4 q^3 (1e-8); IS finds it."""
    # Down iff at most one server runs, or exactly two run and... the witness never fails, so
    # two running servers plus the witness hold 3 of 5 votes: down iff at least 3 servers are down.
    exact = 4 * Q**3 * A + Q**4
    result = rare_availability(rare_servers(4), seed=11, precision=0.05)
    estimate = result.dag_structural
    assert exact < 1e-8
    assert estimate.low <= exact <= estimate.high
    assert estimate.relative_error <= 0.05
    assert result.precision_reached and not result.warnings


def test_one_crew_birth_death_inside_the_interval():
    """Three copies on volumes with one repair crew: the birth-death chain's answer, computed here."""
    failures = {"database_volumes": {"time_to_failure": "3y", "time_to_repair": "1d"}, "repair_crews": 1, "replica_duration": "1y"}
    scenario = n_copies(3, failures=failures)
    r = LAM / MU
    weights = [1, 3 * r, 6 * r**2, 6 * r**3]
    exact = weights[3] / sum(weights)
    estimate = rare_availability(scenario, seed=5, precision=0.05).dag_structural
    assert estimate.low <= exact <= estimate.high
    assert exact < 1e-7


def test_shipped_four_copy_scenario_agrees_with_the_chain():
    """The shipped four-copy design: IS and its failover correction agree with the exact model's intervals."""
    scenario = load_scenario("scenarios/availability-four-copies.yaml")
    exact = exact_availability(scenario)
    result = rare_availability(scenario, seed=3)
    assert exact.structural_unavailability < 1e-8
    assert result.dag_structural.low <= exact.structural_unavailability <= result.dag_structural.high
    assert result.dag.low <= exact.unavailability <= result.dag.high
    assert result.precision_reached


def test_interval_coverage_over_many_seeds():
    """Over independent short studies the 95 % interval covers the exact value about 95 % of the time.

    Each study is independent, so the number of covering intervals is Binomial(K, p); honest
    intervals (p >= 0.95) give at most a 0.001 chance of fewer covers than the bound below.
    """
    scenario = rare_servers(3)  # node majority: down iff at least 2 of 3 servers are down
    exact = 3 * Q**2 * A + Q**3
    studies = 40
    covered = 0
    for seed in range(studies):
        estimate = rare_availability(scenario, seed=1000 + seed, precision=0.5, max_cycles=2000).dag_structural
        covered += estimate.low <= exact <= estimate.high
    fewest = stats.binom.ppf(0.001, studies, 0.95)
    assert covered >= fewest, f"{covered} of {studies} intervals covered the exact value"


def test_same_seed_same_figures():
    """A study is a pure function of its scenario and seed; another seed gives other figures."""
    scenario = rare_servers(3)
    first = rare_availability(scenario, seed=7, max_cycles=4000)
    again = rare_availability(scenario, seed=7, max_cycles=4000)
    other = rare_availability(scenario, seed=8, max_cycles=4000)
    assert first == again
    assert first.dag != other.dag


def test_degenerate_weights_are_flagged():
    """With too few cycles the estimate rests on a handful of them, and the result says so."""
    result = rare_availability(rare_servers(4), seed=1, max_cycles=30)
    assert result.effective_cycles < 100
    assert any("degenerated" in w or "no biased cycle" in w for w in result.warnings)
    assert not result.precision_reached


def test_refuses_non_exponential_laws():
    """Importance sampling needs exponential laws, as the Markov model does."""
    data = rare_servers(2).model_dump(mode="json", exclude_none=True)
    data["failures"]["servers"]["time_to_repair"] = {"distribution": "lognormal", "median": "4h", "p95": "1d"}
    with pytest.raises(NotMarkovian, match="lognormal"):
        rare_availability(Scenario.model_validate(data), seed=1)


def test_bad_arguments_are_refused():
    """The failure bias is a probability and the cycle budget is bounded."""
    with pytest.raises(ValueError, match="failure_bias"):
        rare_availability(rare_servers(2), failure_bias=1.0)
    with pytest.raises(ValueError, match="max_cycles"):
        rare_availability(rare_servers(2), max_cycles=10**9)


def test_failover_rate_matches_the_chain():
    """Unbiased cycles count failovers at the rate the exact model gives, within their sampling error."""
    scenario = load_scenario("scenarios/availability-two-copies.yaml")
    exact = exact_availability(scenario).databases[0].failovers_per_year
    result = rare_availability(scenario, seed=2, max_cycles=20_000, precision=1e-6)
    # About 0.94 failovers per cycle and 10,000 unbiased cycles: a Poisson-like count of ~9,000
    # has a relative standard error near 1/sqrt(9000); allow four of them.
    counted = result.failovers_per_year[0]
    assert math.isclose(counted, exact, rel_tol=4 / math.sqrt(9000))


def test_failure_distance_and_biasing_targets_match_brute_force():
    """The searched failure distance equals the fewest failures found by trying every set, and the
    biasing targets are exactly the components whose failure shortens it."""
    import itertools

    import numpy as np
    from test_markov import _rich_scenario

    from dagsim.availability.rare import _Process
    from dagsim.availability.structure import FailureModel

    scenario = _rich_scenario()
    process = _Process(scenario, FailureModel.from_scenario(scenario))

    def brute(down: frozenset[int]) -> int:
        up = [i for i in range(process.n) if i not in down]
        for size in range(0, 5):
            for extra in itertools.combinations(up, size):
                if not process.state(down | frozenset(extra))[1].all():
                    return size
        return 5

    rng = np.random.default_rng(42)
    checked = 0
    for _ in range(25):
        down = frozenset(int(i) for i in rng.choice(process.n, size=int(rng.integers(0, 4)), replace=False))
        now = process.distance(down)
        if now > 3:
            continue
        assert now == brute(down), sorted(down)
        expected = tuple(i for i in range(process.n) if i not in down and now > 0 and brute(down | {i}) < now)
        assert process.eligible(down) == expected, sorted(down)
        checked += 1
    assert checked >= 15
