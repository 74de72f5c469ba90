"""Max-min fair allocation (dagsim.model.allocation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagsim.model.allocation import max_min_fair

INF = np.inf
MIB = 1024.0**2
TOL = 1e-9


def test_single_link_three_backlogged_flows_split_evenly():
    """Three backlogged flows on one link each get a third of its capacity."""
    rate = max_min_fair(np.ones((3, 1)), np.array([30.0]), np.full(3, INF))
    np.testing.assert_allclose(rate, [10.0, 10.0, 10.0], rtol=1e-12)


def test_small_demand_is_met_and_the_rest_share_the_remainder():
    """A flow asking less than its fair share gets its demand; the others split what is left."""
    rate = max_min_fair(np.ones((3, 1)), np.array([10.0]), np.array([1.0, INF, INF]))
    np.testing.assert_allclose(rate, [1.0, 4.5, 4.5], rtol=1e-12)


def test_several_demand_levels_on_one_link():
    """Flows below the fair share keep their demands; the backlogged ones split the rest."""
    rate = max_min_fair(np.ones((4, 1)), np.array([10.0]), np.array([1.0, 2.5, INF, INF]))
    np.testing.assert_allclose(rate, [1.0, 2.5, 3.25, 3.25], rtol=1e-12)


def test_two_link_line_network_classic_answer():
    """Long flow over links of capacity 1 and 2 plus one short flow per link: 0.5, 0.5, 1.5."""
    incidence = np.array(
        [
            [1.0, 1.0],  # long flow, both links
            [1.0, 0.0],  # short flow on link 1
            [0.0, 1.0],  # short flow on link 2
        ]
    )
    rate = max_min_fair(incidence, np.array([1.0, 2.0]), np.full(3, INF))
    np.testing.assert_allclose(rate, [0.5, 0.5, 1.5], rtol=1e-12)


def test_compressed_flow_gets_more_logs_for_an_equal_byte_share():
    """On a shared link, flows get equal bytes/s, so a compressed flow ships more logs/s."""
    incidence = np.array([[MIB], [0.7 * MIB]])
    rate = max_min_fair(incidence, np.array([10 * MIB]), np.full(2, INF))
    np.testing.assert_allclose(rate, [5.0, 5.0 / 0.7], rtol=1e-12)
    np.testing.assert_allclose(incidence[:, 0] * rate, [5 * MIB, 5 * MIB], rtol=1e-12)


def test_weighted_flows_respect_a_second_bottleneck():
    """A compressed flow capped by its own second link frees bytes for the uncompressed one."""
    incidence = np.array([[MIB, 0.0], [0.5 * MIB, 0.5 * MIB]])
    capacity = np.array([10 * MIB, 1 * MIB])
    rate = max_min_fair(incidence, capacity, np.full(2, INF))
    # flow 1 is held to 2 logs/s (1 MiB/s) by link 2; flow 0 takes the other 9 MiB/s
    np.testing.assert_allclose(rate, [9.0, 2.0], rtol=1e-12)


def test_fast_path_returns_a_copy_of_the_demand():
    """Demands that fit are returned exactly, as a new array."""
    incidence = np.array([[1.0, 0.0], [1.0, 1.0]])
    demand = np.array([0.25, 0.5])
    rate = max_min_fair(incidence, np.array([1.0, 1.0]), demand)
    np.testing.assert_array_equal(rate, demand)
    assert rate is not demand
    rate[0] = 99.0
    assert demand[0] == 0.25


def test_demand_exactly_at_capacity_is_granted():
    """Demands that load a link to exactly its capacity are granted in full."""
    rate = max_min_fair(np.ones((2, 1)), np.array([3.0]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(rate, [1.0, 2.0])


def test_empty_problems():
    """No flows gives an empty result; no edges gives every flow its (finite) demand."""
    assert max_min_fair(np.zeros((0, 3)), np.ones(3), np.zeros(0)).shape == (0,)
    rate = max_min_fair(np.zeros((2, 0)), np.zeros(0), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(rate, [1.0, 2.0])


def test_flow_without_edges_gets_its_demand_beside_a_bottleneck():
    """A flow that uses no edge keeps its demand while the others are shared."""
    incidence = np.array([[0.0], [1.0], [1.0]])
    rate = max_min_fair(incidence, np.array([4.0]), np.array([7.0, INF, INF]))
    np.testing.assert_allclose(rate, [7.0, 2.0, 2.0], rtol=1e-12)


def test_unbounded_flow_is_an_error():
    """Infinite demand with no edge, or only infinite-capacity edges, raises ValueError."""
    with pytest.raises(ValueError, match="unbounded"):
        max_min_fair(np.zeros((1, 1)), np.array([1.0]), np.array([INF]))
    with pytest.raises(ValueError, match="unbounded"):
        max_min_fair(np.zeros((1, 0)), np.zeros(0), np.array([INF]))
    with pytest.raises(ValueError, match="unbounded"):
        max_min_fair(np.array([[1.0, 0.0]]), np.array([INF, 5.0]), np.array([INF]))


def test_infinite_capacity_edge_does_not_limit():
    """An infinite-capacity edge on the path leaves the finite bottleneck in charge."""
    incidence = np.array([[1.0, 1.0], [0.0, 1.0]])
    rate = max_min_fair(incidence, np.array([INF, 6.0]), np.full(2, INF))
    np.testing.assert_allclose(rate, [3.0, 3.0], rtol=1e-12)


def test_zero_capacity_edge_stops_only_its_flows():
    """Flows over a zero-capacity edge get 0; flows elsewhere are unaffected."""
    incidence = np.array([[1.0, 0.0], [0.0, 1.0]])
    rate = max_min_fair(incidence, np.array([0.0, 5.0]), np.full(2, INF))
    np.testing.assert_array_equal(rate, [0.0, 5.0])


def test_idle_flow_gets_zero():
    """A flow with zero demand gets zero and leaves the link to the backlogged one."""
    rate = max_min_fair(np.ones((2, 1)), np.array([8.0]), np.array([0.0, INF]))
    np.testing.assert_allclose(rate, [0.0, 8.0], rtol=1e-12)


def test_shape_mismatch_is_an_error():
    """Inconsistent shapes raise ValueError."""
    with pytest.raises(ValueError, match="shapes"):
        max_min_fair(np.ones((2, 3)), np.ones(2), np.ones(2))


# -- properties on random instances --


@st.composite
def instances(draw, uniform: bool):
    """Random (incidence, capacity, demand); `uniform`: one incidence per flow on all its edges."""
    n_flows = draw(st.integers(1, 12))
    n_edges = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    uses = rng.random((n_flows, n_edges)) < draw(st.floats(0.2, 0.9))
    if uniform:
        per_flow = rng.uniform(0.1, 2.0, n_flows)[:, None]
        incidence = np.where(uses, per_flow, 0.0)
    else:
        incidence = np.where(uses, rng.uniform(0.1, 2.0, (n_flows, n_edges)), 0.0)
    capacity = rng.uniform(0.0, 10.0, n_edges)
    capacity[rng.random(n_edges) < 0.15] = INF
    capacity[rng.random(n_edges) < 0.05] = 0.0
    demand = rng.uniform(0.0, 5.0, n_flows)
    demand[rng.random(n_flows) < 0.4] = INF
    demand[rng.random(n_flows) < 0.1] = 0.0
    return incidence, capacity, demand


def _unbounded(incidence, capacity, demand) -> bool:
    limited = ((incidence > 0) & np.isfinite(capacity)).any(axis=1)
    return bool((np.isinf(demand) & ~limited).any())


def _check_feasible(incidence, capacity, demand, rate):
    assert np.all(rate >= 0.0)
    assert np.all(rate <= demand)
    assert np.all(incidence.T @ rate <= capacity * (1 + TOL))


def _saturated(incidence, capacity, rate):
    return incidence.T @ rate >= capacity * (1 - TOL)


@settings(max_examples=300, deadline=None)
@given(instances(uniform=True))
def test_property_max_min_fair_for_uniform_incidence(instance):
    """Feasible, within demand, and every flow below demand is largest on a saturated edge."""
    incidence, capacity, demand = instance
    if _unbounded(incidence, capacity, demand):
        with pytest.raises(ValueError):
            max_min_fair(incidence, capacity, demand)
        return
    rate = max_min_fair(incidence, capacity, demand)
    _check_feasible(incidence, capacity, demand, rate)
    saturated = _saturated(incidence, capacity, rate)
    use = incidence * rate[:, None]  # resource use of each flow on each edge
    top = use.max(axis=0)
    for f in np.flatnonzero(rate < demand * (1 - TOL)):
        on = incidence[f] > 0
        bottleneck = on & saturated & (use[f] >= top * (1 - TOL))
        assert bottleneck.any(), f"flow {f} below demand has no bottleneck edge"


@settings(max_examples=300, deadline=None)
@given(instances(uniform=False))
def test_property_feasible_and_efficient_for_mixed_incidence(instance):
    """With per-edge incidences: feasible, within demand, and no flow below demand is unblocked."""
    incidence, capacity, demand = instance
    if _unbounded(incidence, capacity, demand):
        with pytest.raises(ValueError):
            max_min_fair(incidence, capacity, demand)
        return
    rate = max_min_fair(incidence, capacity, demand)
    _check_feasible(incidence, capacity, demand, rate)
    saturated = _saturated(incidence, capacity, rate)
    for f in np.flatnonzero(rate < demand * (1 - TOL)):
        assert (saturated & (incidence[f] > 0)).any(), f"flow {f} could grow"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_property_feasible_when_capacities_span_many_orders_of_magnitude(seed):
    """Capacities from 1 B/s to 10 GB/s next to MiB-sized incidences never overflow an edge."""
    rng = np.random.default_rng(seed)
    n_flows, n_edges = int(rng.integers(2, 60)), int(rng.integers(2, 15))
    uses = rng.random((n_flows, n_edges)) < 0.3
    uses[:, 0] = True  # every flow is limited by at least one finite edge
    per_log = rng.choice([MIB, 0.7 * MIB], n_flows) * rng.uniform(0.5, 1.0, n_flows)
    incidence = np.where(uses, per_log[:, None], 0.0)
    capacity = 10.0 ** rng.uniform(0, 10, n_edges)
    demand = 10.0 ** rng.uniform(-3, 3, n_flows)
    demand[rng.random(n_flows) < 0.3] = INF
    rate = max_min_fair(incidence, capacity, demand)
    _check_feasible(incidence, capacity, demand, rate)


@settings(max_examples=100, deadline=None)
@given(instances(uniform=True), st.integers(0, 2**32 - 1))
def test_property_flow_order_does_not_matter(instance, seed):
    """Permuting the flows permutes the rates."""
    incidence, capacity, demand = instance
    if _unbounded(incidence, capacity, demand):
        return
    perm = np.random.default_rng(seed).permutation(len(demand))
    rate = max_min_fair(incidence, capacity, demand)
    permuted = max_min_fair(incidence[perm], capacity, demand[perm])
    np.testing.assert_allclose(permuted, rate[perm], rtol=1e-9, atol=1e-12)


def test_large_instance_is_feasible_and_fast_path_agrees():
    """On an engine-sized instance (F=300, E=50) the full path is feasible and efficient."""
    rng = np.random.default_rng(7)
    n_flows, n_edges = 300, 50
    uses = rng.random((n_flows, n_edges)) < 0.06
    uses[np.arange(n_flows), rng.integers(0, n_edges, n_flows)] = True
    incidence = np.where(uses, rng.choice([MIB, 0.7 * MIB], n_flows)[:, None], 0.0)
    capacity = rng.uniform(10, 200, n_edges) * MIB
    demand = np.full(n_flows, INF)
    rate = max_min_fair(incidence, capacity, demand)
    assert np.all(incidence.T @ rate <= capacity * (1 + TOL))
    saturated = _saturated(incidence, capacity, rate)
    assert all((saturated & uses[f]).any() for f in range(n_flows))
    # feeding the fair rates back as demands takes the fast path and changes nothing
    np.testing.assert_array_equal(max_min_fair(incidence, capacity, rate), rate)


def _reference_filling(incidence, capacity, demand):
    """Textbook progressive filling, one event (an edge filling or a demand met) at a time."""
    n_flows = len(demand)
    weight = incidence.max(axis=1)
    rate = np.where(weight > 0, 0.0, demand)
    growing = weight > 0
    level = 0.0
    while growing.any():
        load = incidence.T @ np.where(growing, 0.0, rate)
        slope = incidence[growing].T @ (1.0 / weight[growing])
        with np.errstate(divide="ignore", invalid="ignore"):
            edge_level = np.where(slope > 0, (capacity - load) / slope, INF)
        next_level = min(edge_level.min(), (demand[growing] * weight[growing]).min())
        level = max(level, next_level)
        for f in range(n_flows):
            if not growing[f]:
                continue
            full = (incidence[f] > 0) & (edge_level <= level * (1 + 1e-12))
            if demand[f] * weight[f] <= level:
                rate[f], growing[f] = demand[f], False
            elif full.any():
                rate[f], growing[f] = level / weight[f], False
    return rate


@settings(max_examples=300, deadline=None)
@given(instances(uniform=True))
def test_property_matches_textbook_progressive_filling(instance):
    """The batched rounds give the same rates as filling one event at a time."""
    incidence, capacity, demand = instance
    if _unbounded(incidence, capacity, demand):
        return
    expected = _reference_filling(incidence, capacity, demand)
    rate = max_min_fair(incidence, capacity, demand)
    np.testing.assert_allclose(rate, expected, rtol=1e-9, atol=1e-12)
