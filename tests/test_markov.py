"""The exact Markov answer against closed forms computed here, and its refusals."""

from __future__ import annotations

import itertools
import math

import pytest
import simpy
from availability_scenarios import n_copies

from dagsim.availability.markov import exact_availability
from dagsim.availability.structure import FailureModel, MountOracle, NotMarkovian
from dagsim.config.failures import YEAR
from dagsim.config.loader import load_scenario
from dagsim.config.schema import Scenario
from dagsim.model.cluster import Cluster
from dagsim.model.layout import Layout
from dagsim.model.recorder import Recorder
from dagsim.model.state import DagState
from dagsim.model.topology import Topology

MTBF = 30 * 86400.0
MTTR = 86400.0
LAM, MU = 1 / MTBF, 1 / MTTR
Q = LAM / (LAM + MU)  # one component's steady-state unavailability
A = 1 - Q


def volumes(n: int, crews: int | None = None) -> Scenario:
    """One database, n copies; only database volumes fail (quorum never moves)."""
    failures = {"database_volumes": {"time_to_failure": "30d", "time_to_repair": "1d"}, "replica_duration": "1y"}
    if crews is not None:
        failures["repair_crews"] = crews
    return n_copies(n, failures=failures)


def servers(n: int) -> Scenario:
    return n_copies(n, failures={"servers": {"time_to_failure": "30d", "time_to_repair": "1d"}, "replica_duration": "1y"})


def birth_death(n: int, crews: int) -> list[float]:
    """Steady state of n identical components with ``crews`` repair crews: P(k down)."""
    weights = [1.0]
    for k in range(1, n + 1):
        weights.append(weights[-1] * (n - k + 1) * LAM / (min(k, crews) * MU))
    total = sum(weights)
    return [w / total for w in weights]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_independent_copies_are_down_q_to_the_n(n):
    """N copies repaired independently: unavailability (1 - A)^N, outages N A (1-A)^(N-1) λ."""
    result = exact_availability(volumes(n))
    db = result.databases[0]
    assert db.structural_unavailability == pytest.approx(Q**n, rel=1e-9)
    assert db.outages_per_year == pytest.approx(n * A * Q ** (n - 1) * LAM * YEAR, rel=1e-9)
    assert db.mean_outage == pytest.approx(1 / (n * MU), rel=1e-9)  # the first of n repairs


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("crews", [1, 2])
def test_repair_crews_give_the_birth_death_chain(n, crews):
    """With c shared crews, all N copies down has the birth-death chain's probability, higher than q^N."""
    result = exact_availability(volumes(n, crews))
    expected = birth_death(n, crews)[n]
    assert result.databases[0].structural_unavailability == pytest.approx(expected, rel=1e-9)
    assert "sparse CTMC" in result.method
    if crews < n:
        assert expected > Q**n * 1.01


@pytest.mark.parametrize("n", [3, 5])
def test_quorum_is_k_of_n(n):
    """Servers with a copy each and node majority: available iff at least n//2 + 1 servers run."""
    k = n // 2 + 1
    availability = sum(math.comb(n, j) * A**j * Q ** (n - j) for j in range(k, n + 1))
    result = exact_availability(servers(n))
    assert result.databases[0].structural_unavailability == pytest.approx(1 - availability, rel=1e-9)


def test_three_member_quorum_loss_takes_a_single_copy_down():
    """One copy on MBX1 of a 3-member DAG: up iff MBX1 runs and one of the other two does (quorum)."""
    data = servers(3).model_dump(mode="json", exclude_none=True)
    data["databases"][0]["copies"] = [{"server": "MBX1", "activation_preference": 1}]
    result = exact_availability(Scenario.model_validate(data))
    assert result.databases[0].structural_unavailability == pytest.approx(1 - A * (1 - Q**2), rel=1e-9)


def test_failover_rate_and_its_outage():
    """Two copies: a failover when the active server fails and the other runs, A^2 λ a year, 26 s each."""
    scenario = load_scenario("scenarios/availability-two-copies.yaml")
    result = exact_availability(scenario)
    db = result.databases[0]
    assert db.failovers_per_year == pytest.approx(A**2 * LAM * YEAR, rel=1e-9)
    # Detection 5 s (a peer in the same site) + selection 1 s + last-log attempt 10 s + mount 10 s;
    # each outage ends with selection and mount (11 s).
    outages = db.outages_per_year / YEAR
    assert db.failover_unavailability == pytest.approx(A**2 * LAM * 26 + outages * 11, rel=1e-9)
    assert db.unavailability == pytest.approx(Q**2 + db.failover_unavailability, rel=1e-9)


@pytest.mark.parametrize("build", [lambda: _rich_scenario(local=False), lambda: _local_scenario()])
def test_product_form_equals_the_sparse_chain(build):
    """Independent repairs: the product form and the full sparse CTMC give the same figures."""
    scenario = build()
    product = exact_availability(scenario, method="product")
    chain = exact_availability(scenario, method="ctmc")
    assert product.states <= chain.states
    for a, b in zip(product.databases, chain.databases, strict=True):
        assert a.structural_unavailability == pytest.approx(b.structural_unavailability, rel=1e-9)
        assert a.outages_per_year == pytest.approx(b.outages_per_year, rel=1e-9)
        assert a.failovers_per_year == pytest.approx(b.failovers_per_year, rel=1e-9)
        assert a.failover_unavailability == pytest.approx(b.failover_unavailability, rel=1e-9)
    assert product.structural_unavailability > 0


def _rich_scenario(local: bool = True) -> Scenario:
    """Two datacenters, a witness site, links that fail; with ``local`` also store crashes and log volumes."""
    data = {
        "name": "rich",
        "sites": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
        "links": [
            {"name": "AB", "sites": ["A", "B"], "bandwidth": "1Gbps"},
            {"name": "AC", "sites": ["A", "C"], "bandwidth": "1Gbps"},
            {"name": "BC", "sites": ["B", "C"], "bandwidth": "1Gbps"},
        ],
        "dag": {"witness": {"host": "FSW", "site": "C"}},
        "servers": [{"name": "M1", "site": "A"}, {"name": "M2", "site": "A"}, {"name": "M3", "site": "B"}, {"name": "M4", "site": "B"}],
        "databases": [
            {"name": "DB1", "copies": [{"server": "M1", "activation_preference": 1}, {"server": "M3", "activation_preference": 2}]},
            {
                "name": "DB2",
                "copies": [
                    {"server": "M4", "activation_preference": 1},
                    {"server": "M2", "activation_preference": 2},
                    {"server": "M3", "activation_preference": 3},
                ],
            },
        ],
        "failures": {
            "servers": {"time_to_failure": "20d", "time_to_repair": "1d"},
            "store_crashes": {"time_to_failure": "10d", "time_to_repair": "10m"},
            "database_volumes": {"time_to_failure": "60d", "time_to_repair": "2d"},
            "log_volumes": {"time_to_failure": "90d", "time_to_repair": "2d"},
            "sites": {"time_to_failure": "1y", "time_to_repair": "6h"},
            "links": {"time_to_failure": "40d", "time_to_repair": "8h"},
            "witness": {"time_to_failure": "50d", "time_to_repair": "4h"},
            "replica_duration": "1y",
        },
        "client_access": {"protocols": {}},
    }
    if not local:
        for kind in ("store_crashes", "log_volumes", "database_volumes"):
            del data["failures"][kind]
    return Scenario.model_validate(data)


def _local_scenario() -> Scenario:
    """One site, two servers and a witness; servers, store crashes and both volumes of every copy fail."""
    data = servers(2).model_dump(mode="json", exclude_none=True)
    data["databases"].append(
        {"name": "DB2", "copies": [{"server": "MBX2", "activation_preference": 1}, {"server": "MBX1", "activation_preference": 2}]}
    )
    data["active_manager"] = {}
    data["failures"].update(
        {
            "store_crashes": {"time_to_failure": "10d", "time_to_repair": "10m"},
            "database_volumes": {"time_to_failure": "60d", "time_to_repair": "2d"},
            "log_volumes": {"time_to_failure": "90d", "time_to_repair": "2d"},
        }
    )
    return Scenario.model_validate(data)


def _partitioned_scenario() -> Scenario:
    """Three sites in a line; the A-C link carries only the replication network."""
    data = {
        "name": "partitions",
        "sites": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
        "networks": [{"name": "Mapi", "type": "mapi"}, {"name": "Repl", "type": "replication"}],
        "links": [
            {"name": "AB", "sites": ["A", "B"], "bandwidth": "1Gbps"},
            {"name": "BC", "sites": ["B", "C"], "bandwidth": "1Gbps"},
            {"name": "AC", "sites": ["A", "C"], "bandwidth": "1Gbps", "networks": ["Repl"]},
        ],
        "dag": {"witness": {"host": "FSW", "site": "C"}},
        "servers": [{"name": "M1", "site": "A"}, {"name": "M2", "site": "A"}, {"name": "M3", "site": "B"}, {"name": "M4", "site": "B"}],
        "databases": [{"name": "DB1", "copies": [{"server": "M1", "activation_preference": 1}, {"server": "M3", "activation_preference": 2}]}],
        "failures": {
            "servers": {"time_to_failure": "20d", "time_to_repair": "1d"},
            "sites": {"time_to_failure": "1y", "time_to_repair": "6h"},
            "links": {"time_to_failure": "40d", "time_to_repair": "8h"},
            "witness": {"time_to_failure": "50d", "time_to_repair": "4h"},
            "replica_duration": "1y",
        },
        "client_access": {"protocols": {}},
    }
    return Scenario.model_validate(data)


@pytest.mark.parametrize("build", [_rich_scenario, _partitioned_scenario])
def test_mount_oracle_agrees_with_the_cluster_on_every_state(build):
    """For every up/down state of the shared components, the oracle names the servers the simulation's cluster lets mount."""
    scenario = build()
    model = FailureModel.from_scenario(scenario)
    shared = [model.components[i] for i in model.shared]
    oracle = MountOracle(scenario)
    checked = 0
    for bits in itertools.product((False, True), repeat=len(shared)):
        down = frozenset((c.kind, c.name) for c, b in zip(shared, bits, strict=True) if b)
        cluster, topology, state = _cluster(scenario)
        for kind, name in down:
            if kind == "servers":
                state.set_host_up(name, False)
            elif kind == "witness":
                state.set_host_up(name, False)
            elif kind == "links":
                topology.set_link_up(name, False)
            elif kind == "sites":
                for host in cluster.sites_hosts(name):
                    state.set_host_up(host, False)
        cluster.refresh(record=False)
        expected = {s for s in cluster.dag_members if cluster.mount_blocker(s) is None}
        assert oracle.mounting(down) == expected, sorted(down)
        checked += 1
    assert checked == 2 ** len(shared) >= 256


def _cluster(scenario: Scenario) -> tuple[Cluster, Topology, DagState]:
    topology = Topology(scenario)
    layout = Layout.from_scenario(scenario)
    state = DagState.from_scenario(scenario, layout)
    return Cluster(simpy.Environment(), scenario, topology, Recorder(layout, 1.0, 1.0), state), topology, state


def test_refuses_what_a_markov_chain_cannot_express():
    """Lognormal repairs, maintenance and dynamic quorum are refused, every reason at once."""
    data = volumes(2).model_dump(mode="json", exclude_none=True)
    data["failures"]["database_volumes"]["time_to_repair"] = {"distribution": "lognormal", "median": "4h", "p95": "1d"}
    data["failures"]["maintenance"] = {"servers": {"every": "30d", "duration": "1h"}}
    data["dag"]["dynamic_quorum"] = True
    with pytest.raises(NotMarkovian) as refused:
        exact_availability(Scenario.model_validate(data))
    reasons = refused.value.reasons
    assert any("lognormal" in r and "database_volumes" in r for r in reasons)
    assert any("maintenance" in r for r in reasons)
    assert any("dynamic_quorum" in r for r in reasons)


def test_weibull_of_shape_one_is_exponential():
    """A Weibull law of shape 1 is the exponential law, so the chain accepts it with the same answer."""
    data = volumes(2).model_dump(mode="json", exclude_none=True)
    data["failures"]["database_volumes"]["time_to_failure"] = {"distribution": "weibull", "shape": 1, "scale": "30d"}
    result = exact_availability(Scenario.model_validate(data))
    assert result.databases[0].structural_unavailability == pytest.approx(Q**2, rel=1e-9)


def test_a_chain_too_large_is_refused_with_a_pointer_to_rare():
    """Beyond the state limit the exact model refuses and suggests importance sampling."""
    with pytest.raises(NotMarkovian, match="--rare"):
        exact_availability(volumes(4, crews=1), max_states=10)
    with pytest.raises(NotMarkovian, match="--rare"):
        exact_availability(servers(5), max_states=16)
