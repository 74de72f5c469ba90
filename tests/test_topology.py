"""Network topology: routes, capacities, partitions, state (dagsim.model.topology)."""

from __future__ import annotations

import math

import pytest

from dagsim.config.schema import Scenario
from dagsim.model.topology import LOG_BYTES, NIC_LATENCY, Route, Topology

MBPS = 1e6 / 8  # bytes/s in one Mbit/s
NIC = 10e9 / 8  # default nic_bandwidth, bytes/s


def scenario(**overrides) -> Scenario:
    """Three sites; AB carries both networks, BC and AC only MAPI, ReplBC only replication."""
    data = {
        "sites": [{"name": "SiteA"}, {"name": "SiteB"}, {"name": "SiteC"}],
        "networks": [{"name": "Mapi", "type": "mapi"}, {"name": "Repl", "type": "replication"}],
        "links": [
            {"name": "AB", "sites": ["SiteA", "SiteB"], "bandwidth": "100Mbps", "latency": "10ms"},
            {"name": "BC", "sites": ["SiteB", "SiteC"], "bandwidth": "1Gbps", "latency": "10ms",
             "networks": ["Mapi"]},
            {"name": "AC", "sites": ["SiteA", "SiteC"], "bandwidth": "200Mbps", "latency": "15ms",
             "networks": ["Mapi"]},
            {"name": "ReplBC", "sites": ["SiteB", "SiteC"], "bandwidth": "500Mbps",
             "latency": "5ms", "networks": ["Repl"]},
        ],  # fmt: skip
        "servers": [
            {"name": "A1", "site": "SiteA"},
            {"name": "A2", "site": "SiteA", "nic_bandwidth": "1Gbps"},
            {"name": "B1", "site": "SiteB"},
            {"name": "C1", "site": "SiteC"},
        ],
        "dag": {"witness": {"host": "FSW", "site": "SiteC"}},
        "databases": [{"name": "DB1", "copies": [{"server": "A1", "activation_preference": 1}]}],
    }
    data.update(overrides)
    return Scenario.model_validate(data)


@pytest.fixture
def topo() -> Topology:
    return Topology.from_scenario(scenario())


def test_route_over_direct_link(topo):
    """A1→B1 crosses link AB: nodes, links, latency sum, bottleneck and subnet flag."""
    route = topo.route("A1", "B1", "Mapi")
    assert isinstance(route, Route)
    assert route.network == "Mapi"
    assert route.nodes == (("server", "A1"), ("site", "SiteA"), ("site", "SiteB"), ("server", "B1"))
    assert route.links == ("AB",)
    assert route.latency == pytest.approx(0.010 + 2 * NIC_LATENCY, rel=1e-12)
    assert route.bottleneck == pytest.approx(100 * MBPS)
    assert route.cross_subnet is True
    assert len(route.edges) == 3


def test_route_inside_a_site(topo):
    """A1→A2 stays in SiteA: no link, NIC latency only, the slower NIC is the bottleneck."""
    route = topo.route("A1", "A2", "Mapi")
    assert route.links == ()
    assert route.latency == pytest.approx(2 * NIC_LATENCY)
    assert route.bottleneck == pytest.approx(1000 * MBPS)
    assert route.cross_subnet is False


def test_lowest_latency_path_and_multi_hop_when_direct_link_fails(topo):
    """A1→C1 takes direct AC (15 ms < 20 ms via B); with AC down it goes A–B–C."""
    direct = topo.route("A1", "C1", "Mapi")
    assert direct.links == ("AC",)
    assert direct.bottleneck == pytest.approx(200 * MBPS)
    topo.set_link_up("AC", False)
    detour = topo.route("A1", "C1", "Mapi")
    assert detour.links == ("AB", "BC")
    assert detour.nodes[1:4] == (("site", "SiteA"), ("site", "SiteB"), ("site", "SiteC"))
    assert detour.latency == pytest.approx(0.010 + 0.010 + 2 * NIC_LATENCY, rel=1e-12)
    assert detour.bottleneck == pytest.approx(100 * MBPS)
    assert len(detour.edges) == 4


def test_parallel_links_pick_the_faster_one():
    """Of two links between the same sites the lower-latency one is used while it is up."""
    links = [
        {"name": "Slow", "sites": ["SiteA", "SiteB"], "bandwidth": "1Gbps", "latency": "30ms"},
        {"name": "Fast", "sites": ["SiteB", "SiteA"], "bandwidth": "50Mbps", "latency": "2ms"},
    ]
    mapi_only = [{"name": "Mapi", "type": "mapi"}]
    topo = Topology.from_scenario(scenario(links=links, networks=mapi_only))
    fast = topo.route("A1", "B1", "Mapi")
    assert fast.links == ("Fast",)
    assert fast.bottleneck == pytest.approx(50 * MBPS)
    assert fast.edges[1] == topo.link_edges("Fast")[1]  # A→B is Fast's second direction
    topo.set_link_up("Fast", False)
    slow = topo.route("A1", "B1", "Mapi")
    assert slow.links == ("Slow",)
    assert slow.latency == pytest.approx(0.030 + 2 * NIC_LATENCY)


def test_partition_when_both_links_to_a_site_fail(topo):
    """With AC and BC down, SiteC (C1 and the witness) is cut off on the MAPI network."""
    assert topo.partitions("Mapi") == [frozenset({"A1", "A2", "B1", "C1", "FSW"})]
    topo.set_link_up("AC", False)
    topo.set_link_up("BC", False)
    assert topo.partitions("Mapi") == [frozenset({"A1", "A2", "B1"}), frozenset({"C1", "FSW"})]
    assert topo.route("A1", "C1", "Mapi") is None
    assert topo.round_trip_latency("A1", "C1", "Mapi") == math.inf
    assert not topo.reachable("B1", "FSW", "Mapi")
    assert topo.reachable("C1", "FSW", "Mapi")
    # the replication network still joins B and C through ReplBC
    assert topo.reachable("B1", "C1")
    topo.set_link_up("ReplBC", False)
    assert not topo.reachable("B1", "C1")


def test_replication_network_preferred_then_mapi_fallback(topo):
    """Shipping B1→C1 uses Repl over ReplBC; with ReplBC down it falls back to MAPI over BC."""
    route = topo.shipping_route("B1", "C1")
    assert route.network == "Repl"
    assert route.links == ("ReplBC",)
    topo.set_link_up("ReplBC", False)
    fallback = topo.shipping_route("B1", "C1")
    assert fallback.network == "Mapi"
    assert fallback.links == ("BC",)
    topo.set_link_up("BC", False)
    topo.set_link_up("AC", False)
    assert topo.shipping_route("B1", "C1") is None


def test_replication_nic_loss_moves_shipping_to_mapi(topo):
    """B1's replication NIC down: shipping to B1 uses MAPI and B1 is alone on Repl."""
    assert topo.shipping_route("A1", "B1").network == "Repl"
    topo.set_nic_up("B1", "Repl", False)
    assert not topo.nic_up("B1", "Repl")
    assert topo.shipping_route("A1", "B1").network == "Mapi"
    assert frozenset({"B1"}) in topo.partitions("Repl")
    assert topo.route("A1", "B1", "Repl") is None


@pytest.mark.parametrize(
    ("mode", "cross_site", "same_site"),
    [
        ("enabled", 0.5, 0.5),
        ("inter_subnet_only", 0.5, 1.0),
        ("disabled", 1.0, 1.0),
        ("seed_only", 1.0, 1.0),
    ],
)
def test_bytes_per_log_follows_network_compression(mode, cross_site, same_site):
    """1 MiB per log, times compression_ratio where the compression setting applies."""
    dag = {"network_compression": mode, "compression_ratio": 0.5}
    topo = Topology.from_scenario(scenario(dag=dag))
    assert topo.bytes_per_log(topo.route("A1", "B1", "Mapi")) == LOG_BYTES * cross_site
    assert topo.bytes_per_log(topo.route("A1", "A2", "Mapi")) == LOG_BYTES * same_site


def test_directions_have_their_own_edge_ids(topo):
    """A→B and B→A use disjoint directed edge ids, each with the link's full capacity."""
    there = topo.route("A1", "B1", "Mapi")
    back = topo.route("B1", "A1", "Mapi")
    assert set(there.edges).isdisjoint(back.edges)
    ab, ba = topo.link_edges("AB")
    assert there.edges[1] == ab and back.edges[1] == ba
    assert topo.capacity[ab] == topo.capacity[ba] == pytest.approx(100 * MBPS)
    assert topo.edge(ab).tail == ("site", "SiteA") and topo.edge(ab).head == ("site", "SiteB")
    assert there.edges[0] == topo.nic_edges("A1", "Mapi")[0]
    assert there.edges[2] == topo.nic_edges("B1", "Mapi")[1]
    assert topo.capacity[there.edges[0]] == pytest.approx(NIC)
    assert len(topo.capacity) == topo.n_edges == len(topo.edges)


def test_link_capacity_is_shared_across_networks_but_nics_are_not(topo):
    """AB carries both networks with one pair of ids; each network has its own NIC ids."""
    mapi = topo.route("A1", "B1", "Mapi")
    repl = topo.route("A1", "B1", "Repl")
    assert mapi.edges[1] == repl.edges[1] == topo.link_edges("AB")[0]
    assert mapi.edges[0] != repl.edges[0]
    assert topo.edge(repl.edges[0]).network == "Repl"


def test_route_cache_is_invalidated_by_state_changes(topo):
    """Routes are cached until a link changes; setting the same state changes nothing."""
    first = topo.route("A1", "C1", "Mapi")
    assert topo.route("A1", "C1", "Mapi") is first
    version = topo.state_version
    topo.set_link_up("AC", True)  # already up: no change
    assert topo.state_version == version
    assert topo.route("A1", "C1", "Mapi") is first
    topo.set_link_up("AC", False)
    assert topo.state_version == version + 1
    assert not topo.link_up("AC")
    assert topo.route("A1", "C1", "Mapi").links == ("AB", "BC")
    assert not topo.edge_up[topo.link_edges("AC")[0]]
    topo.set_link_up("AC", True)
    assert topo.state_version == version + 2
    assert topo.route("A1", "C1", "Mapi").links == ("AC",)


def test_round_trip_latency_is_twice_one_way(topo):
    """Round trip = 2 × one-way route latency."""
    one_way = 0.015 + 2 * NIC_LATENCY
    assert topo.round_trip_latency("A1", "C1", "Mapi") == pytest.approx(2 * one_way)


def test_sites_and_witness_host(topo):
    """Servers and the witness host know their sites; servers are listed per site."""
    assert topo.site_of("B1") == "SiteB"
    assert topo.site_of("FSW") == "SiteC"
    assert topo.servers_in_site("SiteA") == ("A1", "A2")
    assert topo.servers_in_site("SiteC") == ("C1",)
    assert topo.route("A1", "FSW", "Repl") is not None  # hosts are on every network
    assert topo.capacity[topo.nic_edges("FSW", "Mapi")[0]] == math.inf


def test_unknown_names_raise_key_error(topo):
    """Unknown links, servers and networks are KeyErrors, not silent no-ops."""
    with pytest.raises(KeyError, match="Nope"):
        topo.set_link_up("Nope", False)
    with pytest.raises(KeyError, match="Z9"):
        topo.route("A1", "Z9", "Mapi")
    with pytest.raises(KeyError, match="Wifi"):
        topo.route("A1", "B1", "Wifi")
    assert topo.state_version == 0


def test_links_default_to_every_network():
    """A link without `networks` carries every DAG network."""
    topo = Topology.from_scenario(scenario())
    assert topo.route("A1", "B1", "Repl").links == ("AB",)
    assert topo.route("A1", "C1", "Repl").links == ("AB", "ReplBC")
