"""The failure scenarios in scenarios/ tell the story their comments tell.

Each expected figure is derived from the scenario's own settings (heartbeat delay x threshold,
the Active Manager phase timings, link bandwidth, log generation), never copied from a run:
1 MiB logs; logs/day = mailboxes x messages/5 at 75 KB; hour h carries logs/day x value[h] /
sum(values); cross-site shipping costs compression_ratio of each log (inter_subnet_only);
copies sharing a link get equal (max-min fair) shares; losses count whole logs.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

from helpers import expected_logs_per_day, expected_rate

import dagsim
from dagsim.config.schema import DatabaseSpec, Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
MIB = 1024**2
HOUR = 3600.0
DAY = 86400.0
# AutoDatabaseMountDial: logs that may be missing for an automatic mount (docs/active-manager.md#best-copy-and-server-selection-bcss).
DIAL_LIMITS = {"lossless": 0, "good_availability": 6, "best_availability": 12}
EPS = 1e-6


# ---------------------------------------------------------------- helpers
@cache
def _scenario(name: str) -> Scenario:
    return dagsim.load_scenario(SCENARIOS / f"{name}.yaml")


@cache
def _run(name: str) -> dagsim.RunResult:
    return dagsim.simulate(_scenario(name))


def _action(scenario: Scenario, kind: str, **match):
    (found,) = [
        a for a in scenario.timeline if a.action == kind and all(getattr(a, k) == v for k, v in match.items())
    ]
    return found


def _events(result, kind: str, *, database: str | None = None, server: str | None = None):
    return [
        e
        for e in result.event_records
        if e.kind == kind
        and (database is None or e.database == database)
        and (server is None or e.server == server)
    ]


def _failovers(result, database: str):
    return [r for r in result.failover_records if r.database == database]


def _messages_per_log(database: DatabaseSpec) -> float:
    return database.mailboxes * database.message_profile.messages_per_day / expected_logs_per_day(database)


def _active_server(database: DatabaseSpec) -> str:
    return next(c.server for c in database.copies if c.activation_preference == 1)


def _site(scenario: Scenario, server: str) -> str:
    return scenario.server(server).site


def _remote_copy_share(scenario: Scenario) -> float:
    """Logs/s each cross-site copy gets from the only inter-datacenter link (max-min fair, equal demands)."""
    server_sites = {s.site for s in scenario.servers}
    (wan,) = [link for link in scenario.links if set(link.sites) <= server_sites]
    remote = [
        c
        for d in scenario.databases
        for c in d.copies
        if _site(scenario, c.server) != _site(scenario, _active_server(d))
    ]
    cost = MIB * scenario.dag.compression_ratio  # inter_subnet_only compresses cross-site shipping
    return wan.bandwidth / cost / len(remote)


def _mounted(table) -> list[str]:
    return list(table.loc[table["Status"] == "Mounted", "Name"])


def _one_mounted_copy_per_database(scenario: Scenario, at: float) -> dict[str, str]:
    """Copy status at ``at``: exactly one Mounted row per database; returns database -> server."""
    table = dagsim.copy_status(scenario, at=at)
    mounted = [name.split("\\") for name in _mounted(table)]
    databases = [d for d, _ in mounted]
    assert sorted(databases) == sorted(d.name for d in scenario.databases), mounted
    return dict(mounted)


# ---------------------------------------------------------------- server failure
def test_server_failure_moves_every_active_database_of_the_failed_server():
    """server-failure: each database active on the failed server mounts on its best surviving copy."""
    scenario, result = _scenario("server-failure"), _run("server-failure")
    failed = _action(scenario, "fail_server").server
    moved = [d for d in scenario.databases if _active_server(d) == failed]
    assert len(moved) >= 2
    for database in moved:
        (record,) = _failovers(result, database.name)
        # Every surviving copy is current (copy queue 0): the tie goes to activation preference.
        expected = min((c for c in database.copies if c.server != failed), key=lambda c: c.activation_preference)
        assert record.outcome == "mounted"
        assert record.target == expected.server
    assert {r.database for r in result.failover_records} == {d.name for d in moved}


def test_server_failure_outage_is_the_sum_of_the_default_phases():
    """server-failure: outage = detection (delay x threshold) + selection + ACLL timeout + replay 0 + mount."""
    scenario, result = _scenario("server-failure"), _run("server-failure")
    dag, am = scenario.dag, scenario.active_manager
    failed = _action(scenario, "fail_server")
    detection = dag.same_subnet_delay * dag.same_subnet_threshold  # a same-site member is still up
    # The failed server held the PAM role (first member); it moves within pam_move_delay.
    assert scenario.member_names[0] == failed.server
    selection_starts = max(detection, am.pam_move_delay)
    expected = selection_starts + am.selection_duration + am.acll_timeout + 0.0 + am.mount_duration
    assert abs(expected - 26.0) < EPS  # the scenario comment's figure, from the defaults
    for record in result.failover_records:
        assert record.failure == failed.at
        assert abs(record.detected - record.failure - detection) < EPS
        assert abs(record.selection_done - record.failure - selection_starts - am.selection_duration) < EPS
        assert abs(record.last_logs_copied - record.selection_done - am.acll_timeout) < EPS
        assert abs(record.replay_done - record.last_logs_copied) < EPS  # replay queue 0
        assert abs(record.mounted - record.replay_done - am.mount_duration) < EPS
        assert abs(record.outage - expected) < EPS


def test_server_failure_loses_nothing_and_keeps_quorum():
    """server-failure: a lossless failover (no logs lost, nothing redelivered) and no quorum loss."""
    scenario, result = _scenario("server-failure"), _run("server-failure")
    for record in result.failover_records:
        assert record.logs_lost == 0
        assert record.messages_lost == 0 and record.messages_redelivered == 0
    assert not _events(result, "quorum_lost")
    failed = _action(scenario, "fail_server").server
    untouched = {d.name for d in scenario.databases if _active_server(d) != failed}
    assert not [e for e in _events(result, "database_dismounted") if e.database in untouched]


def test_server_failure_returning_server_catches_up_without_failback():
    """server-failure: after restore_server the copies are Healthy again and nothing moves back."""
    scenario, result = _scenario("server-failure"), _run("server-failure")
    failed = _action(scenario, "fail_server").server
    mounted = _one_mounted_copy_per_database(scenario, scenario.run.duration)
    for record in result.failover_records:
        assert mounted[record.database] == record.target != failed
    table = dagsim.copy_status(scenario, at=scenario.run.duration)
    on_failed = table[table["Name"].str.endswith("\\" + failed)]
    assert (on_failed["Status"] == "Healthy").all()
    assert (on_failed["CopyQueueLength"] < 10).all() and (on_failed["ReplayQueueLength"] < 50).all()


# ---------------------------------------------------------------- site failure with DAC
def _dac_times(scenario: Scenario) -> dict[str, float]:
    kinds = ("fail_site", "stop_dag", "restore_dag", "partition_wan", "restore_site", "heal_wan", "start_dag")
    return {kind: _action(scenario, kind).at for kind in kinds}


def _sites(scenario: Scenario) -> tuple[str, str]:
    primary = _action(scenario, "fail_site").site
    second = _action(scenario, "restore_dag").site
    return primary, second


def test_dac_scenario_shape():
    """site-failure-dac: DAC on, witness in the primary, alternate witness in the second site."""
    scenario = _scenario("site-failure-dac")
    primary, second = _sites(scenario)
    assert scenario.dag.datacenter_activation_mode == "dag_only"
    assert scenario.dag.witness.site == primary and scenario.dag.alternate_witness.site == second
    assert all(_site(scenario, _active_server(d)) == primary for d in scenario.databases)
    times = _dac_times(scenario)
    assert times["fail_site"] < times["stop_dag"] < times["restore_dag"]
    assert times["partition_wan"] < times["restore_site"] < times["heal_wan"] < times["start_dag"]


def test_dac_no_database_mounts_between_quorum_loss_and_restore_dag():
    """site-failure-dac: the second site holds 2 of 5 votes; nothing mounts until Restore-DatabaseAvailabilityGroup."""
    scenario, result = _scenario("site-failure-dac"), _run("site-failure-dac")
    times = _dac_times(scenario)
    (lost,) = _events(result, "quorum_lost")
    assert lost.time == times["fail_site"]
    assert {e.database for e in _events(result, "database_dismounted") if e.time == times["fail_site"]} == {
        d.name for d in scenario.databases
    }
    assert not [e for e in _events(result, "database_mounted") if e.time < times["restore_dag"]]
    (regained,) = _events(result, "quorum_regained")
    assert regained.time == times["restore_dag"]


def test_dac_databases_activate_in_the_second_site_after_restore_dag():
    """site-failure-dac: each database mounts in the second site, PAM move + selection + ACLL + mount after restore."""
    scenario, result = _scenario("site-failure-dac"), _run("site-failure-dac")
    _, second = _sites(scenario)
    am, times = scenario.active_manager, _dac_times(scenario)
    expected = times["restore_dag"] + am.pam_move_delay + am.selection_duration + am.acll_timeout + am.mount_duration
    for database in scenario.databases:
        (record,) = _failovers(result, database.name)
        assert record.outcome == "mounted" and _site(scenario, record.target) == second
        assert abs(record.replay_done - record.last_logs_copied) < EPS  # replay queue 0
        assert abs(record.mounted - expected) < EPS


def test_dac_activation_is_lossy_within_the_dial_and_safety_net_redelivers():
    """site-failure-dac: the thin WAN leaves the second-site copies a few logs behind; within GoodAvailability."""
    scenario, result = _scenario("site-failure-dac"), _run("site-failure-dac")
    failure = _action(scenario, "fail_site").at
    share = _remote_copy_share(scenario)
    transport = scenario.transport
    for database in scenario.databases:
        # Copies were current at the end of the previous hour (its rate fits the link share).
        hour_start = failure // HOUR * HOUR
        assert expected_rate(database, hour_start - 1) < share < expected_rate(database, failure)
        behind = (expected_rate(database, failure) - share) * (failure - hour_start)
        (record,) = _failovers(result, database.name)
        dial = scenario.server(record.target).auto_database_mount_dial
        assert record.logs_lost == math.floor(behind + EPS)
        assert 0 < record.logs_lost <= DIAL_LIMITS[dial]
        assert abs(record.messages_lost - record.logs_lost * _messages_per_log(database)) < EPS
        assert abs(record.messages_redelivered - record.messages_lost * transport.transport_share) < EPS


def test_dac_nothing_mounts_in_the_primary_while_partitioned():
    """site-failure-dac: the primary returns while the WAN is down and mounts nothing (DACP bit 0, stopped)."""
    scenario, result = _scenario("site-failure-dac"), _run("site-failure-dac")
    primary, second = _sites(scenario)
    times = _dac_times(scenario)
    primary_servers = {s.name for s in scenario.servers if s.site == primary}
    assert not [e for e in _events(result, "database_mounted") if e.server in primary_servers]
    # The primary's DACP bits turn to 1 only when it can talk to the second site again.
    assert {e.server for e in _events(result, "dacp_bit_set")} == primary_servers
    assert {e.time for e in _events(result, "dacp_bit_set")} == {times["heal_wan"]}
    middle = (times["restore_site"] + times["heal_wan"]) / 2
    mounted = _one_mounted_copy_per_database(scenario, middle)
    assert {_site(scenario, server) for server in mounted.values()} == {second}


def test_dac_exactly_one_mounted_copy_per_database_at_the_end():
    """site-failure-dac: after heal_wan and start_dag every database has one Mounted copy, in the second site."""
    scenario = _scenario("site-failure-dac")
    _, second = _sites(scenario)
    mounted = _one_mounted_copy_per_database(scenario, scenario.run.duration)
    assert {_site(scenario, server) for server in mounted.values()} == {second}


# ---------------------------------------------------------------- lagged copy
def _lagged_copy(scenario: Scenario):
    for database in scenario.databases:
        for copy in database.copies:
            if copy.replay_lag_time > 0:
                return database, copy
    raise AssertionError("no lagged copy")


def test_lagged_copy_is_the_only_survivor_and_activates():
    """lagged-copy-activation: the lagged copy is the only copy left, and it mounts losing no logs."""
    scenario, result = _scenario("lagged-copy-activation"), _run("lagged-copy-activation")
    database, lagged = _lagged_copy(scenario)
    failed = {a.server for a in scenario.timeline if a.action == "fail_server"}
    assert {c.server for c in database.copies} - failed == {lagged.server}
    (record,) = _failovers(result, database.name)
    assert record.outcome == "mounted" and record.target == lagged.server
    assert record.logs_lost == 0 and record.messages_redelivered == 0


def test_lagged_copy_replay_queue_holds_its_lag_window():
    """lagged-copy-activation: a 1-day lagged copy of a repeating day holds logs/day in its replay queue."""
    scenario = _scenario("lagged-copy-activation")
    database, lagged = _lagged_copy(scenario)
    assert lagged.replay_lag_time == DAY
    failure = max(a.at for a in scenario.timeline if a.action == "fail_server" and a.server != lagged.server)
    table = dagsim.copy_status(scenario, at=failure - 60)
    row = table[table["Name"] == f"{database.name}\\{lagged.server}"].iloc[0]
    assert row["CopyQueueLength"] == 0
    assert abs(row["ReplayQueueLength"] - expected_logs_per_day(database)) <= 1


def test_lagged_copy_mounts_only_after_replaying_its_replay_queue():
    """lagged-copy-activation: mount >= failure + replay queue / activation replay rate, and exactly the phase sum."""
    scenario, result = _scenario("lagged-copy-activation"), _run("lagged-copy-activation")
    database, lagged = _lagged_copy(scenario)
    dag, am = scenario.dag, scenario.active_manager
    replay_rate = min(scenario.server(lagged.server).replay_rate, database.activation_replay_rate)
    (record,) = _failovers(result, database.name)
    replay_queue = expected_logs_per_day(database)  # at the failure: the whole lag window
    assert record.mounted >= record.failure + replay_queue / replay_rate
    detection = dag.same_subnet_delay * dag.same_subnet_threshold
    if record.source == scenario.member_names[0]:  # the failed server held the PAM role
        detection = max(detection, am.pam_move_delay)
    assert abs(record.last_logs_copied - record.failure - (detection + am.selection_duration + am.acll_timeout)) < EPS
    # Until replay starts the lagged copy keeps replaying at its lag pace: the rate of a day ago.
    waited = record.last_logs_copied - record.failure
    still_queued = replay_queue - expected_rate(database, record.failure - lagged.replay_lag_time) * waited
    assert abs(record.replay_done - record.last_logs_copied - still_queued / replay_rate) < 1e-3
    assert abs(record.mounted - record.replay_done - am.mount_duration) < EPS


# ---------------------------------------------------------------- quorum loss
def _voter_timeline(scenario: Scenario):
    """(time, votes up) after each member or witness failure/restore, with the votes needed."""
    voters = [*scenario.member_names, scenario.dag.witness.host]
    assert len(scenario.member_names) % 2 == 0  # node and file share majority: the witness votes
    needed = len(voters) // 2 + 1
    up = set(voters)
    steps = []
    for action in sorted(scenario.timeline, key=lambda a: a.at):
        name = getattr(action, "server", scenario.dag.witness.host)
        if action.action in ("fail_server", "fail_witness"):
            up.discard(name)
        elif action.action in ("restore_server", "restore_witness"):
            up.add(name)
        else:
            continue
        steps.append((action.at, len(up)))
    return steps, needed


def test_quorum_is_lost_at_the_third_voter_down_and_every_database_dismounts():
    """quorum-loss: 5 voters need 3; at the third voter down quorum is lost and every database dismounts."""
    scenario, result = _scenario("quorum-loss"), _run("quorum-loss")
    steps, needed = _voter_timeline(scenario)
    assert needed == 3
    lost_at = next(t for t, up in steps if up < needed)
    downs = [t for t, up in steps if t <= lost_at]
    assert len(downs) == 3
    (lost,) = _events(result, "quorum_lost")
    assert lost.time == lost_at
    dismounted = {e.database for e in _events(result, "database_dismounted") if e.time == lost_at}
    assert dismounted == {d.name for d in scenario.databases}
    regained_at = next(t for t, up in steps if t > lost_at and up >= needed)
    assert not [e for e in _events(result, "database_mounted") if lost_at <= e.time < regained_at]
    # Databases on servers that kept running were dismounted for the quorum alone.
    failed = {a.server for a in scenario.timeline if a.action == "fail_server"}
    healthy = [d for d in scenario.databases if _active_server(d) not in failed]
    assert healthy
    for database in healthy:
        (event,) = _events(result, "database_dismounted", database=database.name)
        assert "quorum" in event.detail


def test_quorum_returns_with_a_member_and_databases_mount_again():
    """quorum-loss: when a member returns, quorum is regained and every database mounts, losslessly."""
    scenario, result = _scenario("quorum-loss"), _run("quorum-loss")
    am = scenario.active_manager
    steps, needed = _voter_timeline(scenario)
    lost_at = next(t for t, up in steps if up < needed)
    regained_at = next(t for t, up in steps if t > lost_at and up >= needed)
    (regained,) = _events(result, "quorum_regained")
    assert regained.time == regained_at
    expected = regained_at + am.pam_move_delay + am.selection_duration + am.mount_duration  # no last logs to copy
    for database in scenario.databases:
        record = _failovers(result, database.name)[-1]
        assert record.outcome == "mounted" and record.logs_lost == 0
        assert abs(record.mounted - expected) < EPS
    _one_mounted_copy_per_database(scenario, scenario.run.duration)


# ---------------------------------------------------------------- lossy failover
def _lossy_figures(scenario: Scenario, database: DatabaseSpec) -> float:
    """Logs the DR copy of ``database`` is behind when the primary site fails."""
    failure = _action(scenario, "fail_site").at
    share = _remote_copy_share(scenario)
    hour_start = failure // HOUR * HOUR
    assert expected_rate(database, hour_start - 1) < share < expected_rate(database, failure)
    return (expected_rate(database, failure) - share) * (failure - hour_start)


def _dr_copy(scenario: Scenario, database: DatabaseSpec):
    primary = _action(scenario, "fail_site").site
    (copy,) = [c for c in database.copies if _site(scenario, c.server) != primary]
    return copy


def _dr_dial(scenario: Scenario, database: DatabaseSpec) -> str:
    return scenario.server(_dr_copy(scenario, database).server).auto_database_mount_dial


def test_lossy_failover_loses_logs_within_best_availability():
    """lossy-failover: on the BestAvailability server the DR copy mounts with 0 < logs lost <= 12."""
    scenario, result = _scenario("lossy-failover"), _run("lossy-failover")
    am = scenario.active_manager
    failure = _action(scenario, "fail_site").at
    best = [d for d in scenario.databases if _dr_dial(scenario, d) == "best_availability"]
    assert best
    for database in best:
        behind = _lossy_figures(scenario, database)
        assert DIAL_LIMITS["good_availability"] < math.floor(behind) <= DIAL_LIMITS["best_availability"]
        (record,) = _failovers(result, database.name)
        assert record.outcome == "mounted" and record.target == _dr_copy(scenario, database).server
        assert record.logs_lost == math.floor(behind + EPS)
        assert 0 < record.logs_lost <= DIAL_LIMITS["best_availability"]
        detection = scenario.dag.cross_subnet_delay * scenario.dag.cross_subnet_threshold
        expected = max(detection, am.pam_move_delay) + am.selection_duration + am.acll_timeout + am.mount_duration
        assert abs(record.mounted - failure - expected) < EPS


def test_lossy_failover_safety_net_redelivers_the_transport_share():
    """lossy-failover: messages_redelivered == messages_lost x transport_share (loss within SafetyNetHoldTime)."""
    scenario, result = _scenario("lossy-failover"), _run("lossy-failover")
    transport = scenario.transport
    lossy = [r for r in result.failover_records if r.logs_lost > 0]
    assert lossy
    for record in lossy:
        database = scenario.database(record.database)
        assert record.failure - transport.safety_net_hold_time < 0 < record.failure  # every lost log is recent
        assert abs(record.messages_lost - record.logs_lost * _messages_per_log(database)) < EPS
        assert abs(record.messages_redelivered - record.messages_lost * transport.transport_share) < EPS
        assert 0 < record.messages_redelivered < record.messages_lost


def test_lossy_failover_redelivery_becomes_log_generation():
    """lossy-failover: the day's logs = profile - generation lost while dismounted + Safety Net's resubmitted logs."""
    scenario, result = _scenario("lossy-failover"), _run("lossy-failover")
    generated = {d.database: d.logs_generated for d in result.database_records}
    for record in (r for r in result.failover_records if r.logs_lost > 0):
        database = scenario.database(record.database)
        assert record.failure // HOUR == record.mounted // HOUR  # the outage sits in one clock hour
        expected = (
            expected_logs_per_day(database)
            - expected_rate(database, record.failure) * record.outage
            + record.messages_redelivered / _messages_per_log(database)
        )
        assert abs(generated[record.database] - expected) < 1e-6


def test_lossy_failover_good_availability_waits_for_the_primary():
    """lossy-failover: a GoodAvailability DR copy is too far behind; the database waits and mounts at home, lossless."""
    scenario, result = _scenario("lossy-failover"), _run("lossy-failover")
    am = scenario.active_manager
    failure = _action(scenario, "fail_site").at
    restore = _action(scenario, "restore_site").at
    good = [d for d in scenario.databases if _dr_dial(scenario, d) == "good_availability"]
    assert good
    for database in good:
        assert math.floor(_lossy_figures(scenario, database)) > DIAL_LIMITS["good_availability"]
        mounts = _events(result, "database_mounted", database=database.name)
        assert not [e for e in mounts if failure <= e.time < restore]
        (record,) = _failovers(result, database.name)
        assert any(
            "AutoDatabaseMountDial GoodAvailability allows 6" in d.text
            for d in result.decision_records
            if d.database == database.name and failure <= d.time < restore
        )
        assert record.target == _active_server(database) and record.logs_lost == 0
        # The PAM already runs in DR: selection + no last logs + mount after the site returns.
        assert abs(record.mounted - (restore + am.selection_duration + am.mount_duration)) < EPS
    _one_mounted_copy_per_database(scenario, scenario.run.duration)
