"""Monte Carlo unavailability against exact answers computed here, and honest interval coverage.

The scenarios (tests/availability_scenarios.py) fail over instantly: the database is down
exactly while no server can mount it. Servers fail and are repaired independently with
exponential times (rates lam and mu), each up at time 0, so a server is down at time t with
probability p(t) = lam / (lam + mu) * (1 - exp(-(lam + mu) t)), and the expected unavailability
over a replica of length T is (1/T) * integral of P(database down at t).
"""

from __future__ import annotations

from availability_scenarios import n_copies, probability_down
from scipy import integrate, stats

from dagsim.availability import availability, mean_estimate

LAM = 1 / (3 * 3600)  # MTBF 3h
MU = 1 / 3600  # MTTR 1h
T = 86400.0  # 1-day replicas


def exact_unavailability(down_probability) -> float:
    """Time average over the replica of P(database down at t), by numerical integration."""
    value, _ = integrate.quad(lambda t: down_probability(probability_down(LAM, MU, t)), 0, T, limit=200)
    return value / T


def test_two_copies_inside_the_interval():
    """Two copies, witness keeps quorum: down iff both servers are down, (p(t))^2."""
    exact = exact_unavailability(lambda p: p**2)
    result = availability(n_copies(2), replicas=40, seed=2024)
    estimate = result.headline
    assert estimate.low <= exact <= estimate.high
    # Not vacuous: the interval is narrower than the answer itself.
    assert estimate.high - estimate.low < exact


def test_three_copies_node_majority_inside_the_interval():
    """Three members, no witness: quorum needs 2 of 3, so the database is down iff at least 2 servers are."""
    exact = exact_unavailability(lambda p: 3 * p**2 * (1 - p) + p**3)
    estimate = availability(n_copies(3), replicas=40, seed=77).headline
    assert estimate.low <= exact <= estimate.high
    # (1-A)^3 would be far smaller: the quorum rule is what the simulation shows.
    all_three = exact_unavailability(lambda p: p**3)
    assert estimate.low > all_three


def test_interval_coverage_over_many_seeds():
    """Over independent studies the 95 % and 50 % intervals cover the exact answer as often as they claim.

    Each study is independent, so the number of covering intervals is Binomial(K, level) if the
    intervals are honest. We accept any count that such a binomial gives with probability at
    least 0.001 on each side (one-sided for 95 %: over-coverage is not dishonest); the 50 %
    interval checks that the intervals are not simply too wide.
    """
    exact = exact_unavailability(lambda p: p**2)
    scenario = n_copies(2)
    studies = 50
    covered_95 = covered_50 = 0
    for k in range(studies):
        result = availability(scenario, replicas=8, seed=100 + k)
        values = [r.downtime[0] / r.duration for r in result.records]
        wide, narrow = result.headline, mean_estimate(values, 0.5)
        covered_95 += wide.low <= exact <= wide.high
        covered_50 += narrow.low <= exact <= narrow.high
    assert covered_95 >= stats.binom.ppf(0.001, studies, 0.95)
    assert stats.binom.ppf(0.001, studies, 0.5) <= covered_50 <= stats.binom.isf(0.001, studies, 0.5)
