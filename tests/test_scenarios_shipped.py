"""The scenario files shipped in scenarios/: they load, and they keep their documented shape.

Log arithmetic here is computed independently of the engine, from the model's stated rules:
1 MiB logs; logs/day = logs_per_day, or mailboxes x messages/5 x (size/75 KiB)^log2(1.9);
hour h carries logs/day x value[h] / sum(values); cross-subnet shipping costs
compression_ratio of each log when network_compression is enabled or inter_subnet_only.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers import expected_rate

from dagsim.config.loader import load_scenario
from dagsim.config.schema import DatabaseSpec, Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))

MIB = 1024**2
HOUR = 3600.0
DAY = 86400.0
BUSINESS_PEAK_HOURS = range(9, 17)  # 09:00-17:00
OFF_PEAK_HOURS = [*range(0, 8), *range(17, 24)]  # nights and evenings


def _load(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


def _active_server(database: DatabaseSpec) -> str:
    return next(c.server for c in database.copies if c.activation_preference == 1)


def _site_of(scenario: Scenario) -> dict[str, str]:
    return {server.name: server.site for server in scenario.servers}


def _cross_site_flows(scenario: Scenario) -> list[tuple[DatabaseSpec, str, str]]:
    """(database, source site, target site) for every copy fed across sites at the start."""
    site = _site_of(scenario)
    flows = []
    for database in scenario.databases:
        source = site[_active_server(database)]
        for copy in database.copies:
            if copy.activation_preference != 1 and site[copy.server] != source:
                flows.append((database, source, site[copy.server]))
    return flows


def _cross_site_demand(scenario: Scenario, source: str, target: str, hour: int) -> float:
    """Bytes/s of link capacity the source->target shipping needs during `hour`."""
    compressed = scenario.dag.network_compression in ("enabled", "inter_subnet_only")
    cost = MIB * (scenario.dag.compression_ratio if compressed else 1.0)
    return sum(
        expected_rate(database, hour * HOUR) * cost
        for database, src, dst in _cross_site_flows(scenario)
        if (src, dst) == (source, target)
    )


def _link_between(scenario: Scenario, a: str, b: str):
    return next(link for link in scenario.links if set(link.sites) == {a, b})


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_loads(path: Path) -> None:
    """Every scenarios/*.yaml passes the loader's schema and rule checks."""
    scenario = load_scenario(path)
    assert scenario.servers and scenario.databases


def test_the_documented_scenarios_are_shipped() -> None:
    """The scenarios the docs and benchmarks refer to exist."""
    assert {"quickstart", "preferred-architecture", "thin-wan"} <= {p.stem for p in SHIPPED}


def test_quickstart_shape() -> None:
    """Quickstart: 4 servers in 2 sites, 8 databases x 3 copies, witness in a third site."""
    scenario = _load("quickstart")
    site = _site_of(scenario)
    assert len(scenario.servers) == 4
    assert len(scenario.sites) == 3
    assert len(scenario.databases) == 8
    assert all(len(d.copies) == 3 for d in scenario.databases)
    server_sites = set(site.values())
    assert len(server_sites) == 2
    assert Counter(site.values()) == {s: 2 for s in server_sites}
    witness = scenario.dag.witness
    assert witness is not None
    assert witness.site not in server_sites
    assert witness.site in {s.name for s in scenario.sites}


def test_quickstart_actives_are_balanced_and_copies_span_both_sites() -> None:
    """Quickstart: every server starts with 2 active databases; each database is in both sites."""
    scenario = _load("quickstart")
    site = _site_of(scenario)
    actives = Counter(_active_server(d) for d in scenario.databases)
    assert actives == {s.name: 2 for s in scenario.servers}
    assert all(len({site[c.server] for c in d.copies}) == 2 for d in scenario.databases)


def test_quickstart_timeline_fails_and_restores_a_link_and_suspends_and_resumes_a_copy() -> None:
    """Quickstart: the timeline has a link failure then restore and a copy suspend then resume."""
    timeline = _load("quickstart").timeline
    kinds = [a.action for a in timeline]
    for first, then in (("fail_link", "restore_link"), ("suspend_copy", "resume_copy")):
        assert first in kinds and then in kinds
        assert next(a.at for a in timeline if a.action == first) < next(
            a.at for a in timeline if a.action == then
        )


def test_quickstart_wan_failure_leaves_a_slower_mapi_route() -> None:
    """Quickstart: the failed WAN carries every network; the detour carries only MAPI, slower."""
    scenario = _load("quickstart")
    failed = next(a.link for a in scenario.timeline if a.action == "fail_link")
    wan = next(link for link in scenario.links if link.name == failed)
    assert wan.networks is None  # all networks, including the replication network
    mapi = next(n.name for n in scenario.networks if n.type == "mapi")
    others = [link for link in scenario.links if link.name != failed]
    assert others and all(link.networks == (mapi,) for link in others)
    assert all(link.bandwidth < wan.bandwidth for link in others)
    assert sum(link.latency for link in others) > wan.latency  # the WAN is the preferred route


def test_preferred_architecture_shape() -> None:
    """Preferred architecture: 16 servers, 8 per site, 100 databases x 4 copies, a third-site witness."""
    scenario = _load("preferred-architecture")
    site = _site_of(scenario)
    assert len(scenario.servers) == 16
    assert sorted(Counter(site.values()).values()) == [8, 8]
    assert len(scenario.databases) == 100
    assert all(len(d.copies) == 4 for d in scenario.databases)
    assert scenario.dag.witness is not None
    assert scenario.dag.witness.site not in set(site.values())


def test_preferred_architecture_has_one_seven_day_lagged_copy_per_database() -> None:
    """Preferred architecture: exactly one lagged copy (7 days, preference 4) per database."""
    for database in _load("preferred-architecture").databases:
        lagged = [c for c in database.copies if c.replay_lag_time > 0]
        assert len(lagged) == 1, database.name
        assert lagged[0].replay_lag_time == 7 * DAY
        assert lagged[0].activation_preference == 4


def test_preferred_architecture_layout_is_balanced() -> None:
    """Preferred architecture: 25 copies per server, 6-7 actives each, 2 copies per site per database."""
    scenario = _load("preferred-architecture")
    site = _site_of(scenario)
    copies = Counter(c.server for d in scenario.databases for c in d.copies)
    assert copies == {s.name: 25 for s in scenario.servers}
    actives = Counter(_active_server(d) for d in scenario.databases)
    assert set(actives) == set(site) and set(actives.values()) <= {6, 7}
    for database in scenario.databases:
        home = site[_active_server(database)]
        by_site = Counter(site[c.server] for c in database.copies)
        assert sorted(by_site.values()) == [2, 2], database.name
        lagged = next(c for c in database.copies if c.replay_lag_time > 0)
        assert site[lagged.server] != home, database.name


def test_preferred_architecture_wan_has_twice_the_peak_demand() -> None:
    """Preferred architecture: the inter-site link carries at least 2x the peak-hour shipping demand."""
    scenario = _load("preferred-architecture")
    first, second = sorted(set(_site_of(scenario).values()))
    wan = _link_between(scenario, first, second)
    peak = max(
        _cross_site_demand(scenario, src, dst, hour)
        for src, dst in ((first, second), (second, first))
        for hour in range(24)
    )
    assert peak > 0
    assert wan.bandwidth >= 2 * peak


def _thin_wan_link_and_demand():
    scenario = _load("thin-wan")
    (source, target), = {(src, dst) for _, src, dst in _cross_site_flows(scenario)}
    link = _link_between(scenario, source, target)
    demand = [_cross_site_demand(scenario, source, target, hour) for hour in range(24)]
    return link.bandwidth, demand


def test_thin_wan_peak_demand_exceeds_the_link_and_off_peak_demand_fits() -> None:
    """Thin WAN: business-day peak demand is above the link's capacity; nights and evenings below."""
    capacity, demand = _thin_wan_link_and_demand()
    assert max(demand[h] for h in BUSINESS_PEAK_HOURS) > capacity
    assert all(demand[h] < capacity for h in OFF_PEAK_HOURS)


def test_thin_wan_copy_queue_builds_to_hundreds_or_thousands_and_drains_before_midnight() -> None:
    """Thin WAN: the fluid copy queue per remote copy peaks at 100-10,000 logs and is empty by 23:00."""
    scenario = _load("thin-wan")
    capacity, demand = _thin_wan_link_and_demand()
    remote_copies = len(_cross_site_flows(scenario))
    backlog, peak = 0.0, 0.0  # bytes of link work waiting; demand is constant within an hour
    for hour in range(24):
        backlog = max(0.0, backlog + (demand[hour] - capacity) * HOUR)
        peak = max(peak, backlog)
        if hour == 22:
            assert backlog == 0.0
    cost = MIB * scenario.dag.compression_ratio
    assert 100 <= peak / cost / remote_copies <= 10_000
    assert scenario.run.duration == DAY
