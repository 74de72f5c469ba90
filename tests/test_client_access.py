"""Client access: the outage users feel after failovers, CAS failures and namespace moves."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import dagsim

RETRY = 7.0


def _scenario(timeline, *, balancing="load_balancer", protocols=None, mailboxes=1000, **access):
    """Site A: mailbox servers MBX1, MBX2 and stand-alone CAS1, CAS2; site B: MBX3 and CAS3; witness in W.

    DB1 is active on MBX1, DB2 on MBX2. One protocol by default: clients always connected,
    retrying every 7 s, so every client of a cohort sees the same outage.
    """
    protocols = protocols or {
        "outlook": {"share": 1.0, "request_interval": 0, "retry_interval": RETRY, "next_ip_wait": "20s"}
    }
    return dagsim.Scenario.model_validate(
        {
            "sites": [{"name": "A"}, {"name": "B"}, {"name": "W"}],
            "links": [
                {"name": "ab", "sites": ["A", "B"], "bandwidth": "1Gbps"},
                {"name": "aw", "sites": ["A", "W"], "bandwidth": "100Mbps"},
                {"name": "bw", "sites": ["B", "W"], "bandwidth": "100Mbps"},
            ],
            "dag": {"witness": {"host": "FSW", "site": "W"}},
            "servers": [{"name": "MBX1", "site": "A"}, {"name": "MBX2", "site": "A"}, {"name": "MBX3", "site": "B"}],
            "client_access": {
                "servers": [{"name": "CAS1", "site": "A"}, {"name": "CAS2", "site": "A"}, {"name": "CAS3", "site": "B"}],
                "balancing": balancing,
                "protocols": protocols,
                **access,
            },
            "databases": [
                {
                    "name": "DB1",
                    "mailboxes": mailboxes,
                    "copies": [
                        {"server": "MBX1", "activation_preference": 1},
                        {"server": "MBX2", "activation_preference": 2},
                        {"server": "MBX3", "activation_preference": 3},
                    ],
                },
                {
                    "name": "DB2",
                    "mailboxes": mailboxes,
                    "copies": [
                        {"server": "MBX2", "activation_preference": 1},
                        {"server": "MBX1", "activation_preference": 2},
                        {"server": "MBX3", "activation_preference": 3},
                    ],
                },
            ],
            "timeline": timeline,
            "run": {"duration": "4h"},
        }
    )


def _outages(result, database):
    return [r for r in result.client_outage_records if r.database == database]


def test_failover_outage_is_failover_plus_staleness_plus_retry_wait():
    """After a server failover the outage is failover duration + cache staleness + retry wait, exactly."""
    scenario = _scenario([{"at": "1h", "action": "fail_server", "server": "MBX1"}])
    result = dagsim.simulate(scenario)
    (failover,) = result.failover_records
    (outage,) = _outages(result, "DB1")
    access = scenario.client_access
    down, mounted = failover.failure, failover.mounted
    # CASs learn the new location when their cache entry (loaded at the failure) expires, or
    # a stale-location failure makes them look again, whichever is first.
    expiry = down + math.ceil((mounted - down) / access.location_cache_lifetime) * access.location_cache_lifetime
    routed = min(expiry, mounted + access.stale_lookup_delay)
    assert routed - mounted <= access.location_cache_lifetime
    success = down + math.ceil((routed - down) / RETRY) * RETRY  # the first retry once routed
    assert (outage.min, outage.max) == (success - down, success - down)
    assert outage.min == pytest.approx(failover.outage + (routed - mounted) + (success - routed))
    assert outage.affected_mailboxes == 1000
    assert outage.user_minutes == pytest.approx(1000 * (success - down) / 60)


def test_databases_that_did_not_move_see_no_outage():
    """Clients of a database whose active copy did not move feel nothing from another database's failover."""
    result = dagsim.simulate(_scenario([{"at": "1h", "action": "fail_server", "server": "MBX1"}]))
    assert _outages(result, "DB2") == []
    assert _outages(result, "DB1")


def test_cas_failure_behind_load_balancer_costs_probes_and_a_retry():
    """A dead CAS behind a load balancer costs its clients probe interval × failures, then their next retry."""
    scenario = _scenario([{"at": "1h", "action": "fail_cas", "server": "CAS1"}], probe_interval="5s", probe_failures=3)
    result = dagsim.simulate(scenario)
    for database in ("DB1", "DB2"):
        (outage,) = _outages(result, database)
        removed = 5 * 3
        expected = math.ceil(removed / RETRY) * RETRY
        assert (outage.min, outage.max) == (expected, expected)
        assert outage.affected_mailboxes == pytest.approx(1000 / 2)  # the clients CAS1 served: half of site A's


def test_cas_failure_with_dns_round_robin_costs_the_next_ip_wait():
    """With DNS round robin, clients of a dead CAS wait for the next IP, then succeed."""
    scenario = _scenario([{"at": "1h", "action": "fail_cas", "server": "CAS1"}], balancing="dns_round_robin")
    (outage,) = _outages(dagsim.simulate(scenario), "DB1")
    assert (outage.min, outage.max) == (20.0, 20.0)


def test_datacenter_switchover_costs_at_least_the_dns_ttl():
    """When site A is lost, its clients come back only after the namespace moves and the DNS TTL runs out."""
    timeline = [
        {"at": "1h", "action": "fail_site", "site": "A"},
        {"at": "1h5m", "action": "stop_dag", "site": "A"},
        {"at": "1h5m", "action": "restore_dag", "site": "B"},
        {"at": "1h10m", "action": "switch_namespace", "site": "A", "to_site": "B"},
    ]
    scenario = _scenario(timeline, dns_ttl="10m")
    result = dagsim.simulate(scenario)
    for database in ("DB1", "DB2"):
        (outage,) = _outages(result, database)
        assert outage.min >= 10 * 60 + 10 * 60  # the operator's 10 minutes, then the TTL
        (failover,) = [r for r in result.failover_records if r.database == database]
        assert outage.min >= failover.outage


def test_request_interval_spreads_the_outage():
    """Clients that poll are spread over their poll interval; those polling after recovery feel nothing."""
    protocols = {"pop": {"share": 1.0, "request_interval": "10m", "retry_interval": "5m"}}
    timeline = [
        {"at": "1h", "action": "dismount_database", "database": "DB1"},
        {"at": "1h10m", "action": "mount_database", "database": "DB1"},
    ]
    (outage,) = _outages(dagsim.simulate(_scenario(timeline, protocols=protocols)), "DB1")
    # A client whose poll falls at t into the 10 minutes gets through at its first retry after them.
    assert outage.min < outage.median < outage.max
    assert 600 <= outage.min and outage.max < 600 + 300
    assert outage.affected_mailboxes == 1000


def test_client_outage_cost_does_not_grow_with_mailboxes():
    """100,000 mailboxes give the same outage statistics as 1,000, scaled user-minutes only."""
    timeline = [{"at": "1h", "action": "fail_server", "server": "MBX1"}]
    small = _outages(dagsim.simulate(_scenario(timeline, mailboxes=1000)), "DB1")
    large = _outages(dagsim.simulate(_scenario(timeline, mailboxes=100_000)), "DB1")
    assert [(r.min, r.median, r.max) for r in small] == [(r.min, r.median, r.max) for r in large]
    assert large[0].user_minutes == pytest.approx(100 * small[0].user_minutes)


def test_summary_reports_user_minutes():
    """summary.json carries the client outage rows and the total user-minutes."""
    result = dagsim.simulate(_scenario([{"at": "1h", "action": "fail_server", "server": "MBX1"}]))
    summary = result.summary()
    assert summary["client_outages"][0]["protocol"] == "outlook"
    assert summary["user_minutes_of_outage"] == pytest.approx(result.user_minutes())


def test_shipped_cas_failure_scenario_costs_probes_times_failures():
    """scenarios/cas-failure.yaml: Outlook users of the dead CAS are back after 3 probes x 5 s."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scenarios" / "cas-failure.yaml"
    scenario = dagsim.load_scenario(path)
    result = dagsim.simulate(scenario)
    assert result.failover_records == ()
    outlook = [r for r in result.client_outage_records if r.protocol == "outlook"]
    assert len(outlook) == len(scenario.databases)
    access = scenario.client_access
    removed = access.probe_interval * access.probe_failures
    retry = access.protocols["outlook"].retry_interval
    assert {(r.min, r.max) for r in outlook} == {(math.ceil(removed / retry) * retry,) * 2}
    share = access.protocols["outlook"].share
    assert [r.affected_mailboxes for r in outlook] == pytest.approx([2000 * share / 3] * len(outlook))


def _replica_outages(monkeypatch, *, share_nearby: bool):
    """The client outages of one availability replica, with or without sharing answers."""
    import itertools

    from dagsim.availability.replica import ReplicaRunner
    from dagsim.config.loader import load_scenario
    from dagsim.model.client_access import ClientAccess

    if not share_nearby:
        unique = itertools.count()
        monkeypatch.setattr(ClientAccess, "_situation_near", lambda self, database, t0, window: next(unique))
    seen = []
    original = ClientAccess.user_minutes

    def spy(self):
        seen.append((self.outages(), original(self)))
        return seen[-1][1]

    monkeypatch.setattr(ClientAccess, "user_minutes", spy)
    scenario = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "availability-two-copies.yaml")
    ReplicaRunner(scenario, 3).run(0)
    return seen[0]


def test_databases_alike_near_an_interruption_share_answers_exactly(monkeypatch):
    """Sharing answers between databases alike within the hour after an interruption changes no outage."""
    shared, _ = _replica_outages(monkeypatch, share_nearby=True)
    monkeypatch.undo()
    alone, _ = _replica_outages(monkeypatch, share_nearby=False)
    assert len(shared) > 100 and shared == alone


def test_databases_that_move_do_not_share_answers_with_ones_that_stay(monkeypatch):
    """A multi-role server failing stops its Client Access role for every database's users, and
    also moves the database mounted there: that database's clients wait longer, whether or
    not answers are shared between databases."""
    from dagsim.model.client_access import ClientAccess

    base = _scenario([{"at": "1h", "action": "fail_server", "server": "MBX2"}])
    scenario = base.model_copy(update={"client_access": base.client_access.model_copy(update={"servers": ()})})
    shared = dagsim.simulate(scenario).client_outage_records
    unique = iter(range(10**9))
    monkeypatch.setattr(ClientAccess, "_situation_near", lambda self, database, t0, window: next(unique))
    alone = dagsim.simulate(scenario).client_outage_records
    assert shared == alone
    db1, db2 = (max(r.max for r in shared if r.database == name) for name in ("DB1", "DB2"))
    assert db2 > db1 > 0  # DB2 was on MBX2 and fails over; DB1, answered first, waits for the probes


def test_user_minutes_are_the_outage_records_summed(monkeypatch):
    """ClientAccess.user_minutes is the sum of the records' user-minutes per database and protocol."""
    records, totals = _replica_outages(monkeypatch, share_nearby=True)
    summed: dict = {}
    for record in records:
        key = (record.database, record.protocol)
        summed[key] = summed.get(key, 0.0) + record.user_minutes
    assert totals.keys() == summed.keys()
    for key, minutes in summed.items():
        assert totals[key] == pytest.approx(minutes, rel=1e-12)


def test_a_database_without_mailboxes_reports_no_client_outage():
    """A database with no mailboxes (logs given directly) has no users, so no client outage is reported for it."""
    base = _scenario([{"at": "1h", "action": "fail_server", "server": "MBX1"}], mailboxes=0)
    databases = tuple(d.model_copy(update={"logs_per_day": 1000}) for d in base.databases)
    result = dagsim.simulate(base.model_copy(update={"databases": databases}))
    assert result.failover_records and result.client_outage_records == ()
