"""Active Manager in whole runs: each documented failover rule, end to end."""

from __future__ import annotations

import pytest
from helpers import three_site_scenario, two_site_scenario

import dagsim
from dagsim.model.simulation import Simulation
from dagsim.model.topology import NIC_LATENCY

FAIL_MBX1 = {"at": "150s", "action": "fail_server", "server": "MBX1"}


def _failovers(result, database="DB1"):
    return [r for r in result.failover_records if r.database == database]


def _only(result, database="DB1"):
    (record,) = _failovers(result, database)
    return record


# ---------------------------------------------------------------- mount dial
@pytest.mark.parametrize(
    "dial,seconds,mounts",
    [
        ("good_availability", 65, True),  # 6.5 logs behind: 6 whole logs lost
        ("good_availability", 75, False),  # 7 logs
        ("best_availability", 125, True),  # 12
        ("best_availability", 135, False),  # 13
        ("lossless", 5, True),  # half a log: no whole log lost
        ("lossless", 15, False),  # 1 log
    ],
)
def test_mount_dial_thresholds(dial, seconds, mounts):
    """The surviving copy mounts only if the logs it would lose fit its AutoDatabaseMountDial."""
    # The WAN carries 0.2 of the 0.3 logs/s generated: the remote copy falls behind 0.1 log/s.
    timeline = [{"at": f"{seconds}s", "action": "fail_server", "server": "MBX-A"}]
    scenario = two_site_scenario(witness_site="B", mount_dial=dial, timeline=timeline, duration="1h")
    record = _only(dagsim.simulate(scenario))
    if mounts:
        assert record.outcome == "mounted" and record.target == "MBX-B"
        assert record.logs_lost == int(0.1 * seconds)
    else:
        assert record.outcome == "no acceptable copy" and record.mounted is None
        assert any("AutoDatabaseMountDial" in line for line in record.candidates)


def test_unmountable_database_mounts_when_the_old_active_returns():
    """A failover with no acceptable copy waits, and mounts the old active copy when its server returns."""
    timeline = [
        {"at": "75s", "action": "fail_server", "server": "MBX-A"},
        {"at": "30m", "action": "restore_server", "server": "MBX-A"},
    ]
    scenario = two_site_scenario(witness_site="B", timeline=timeline, duration="1h")
    result = dagsim.simulate(scenario)
    record = _only(result)
    assert record.outcome == "mounted" and record.target == "MBX-A" and record.logs_lost == 0
    assert record.mounted >= 30 * 60


# ---------------------------------------------------------------- ordering
FAIL_MBX1_AT_80S = {**FAIL_MBX1, "at": "80s"}  # MBX2 is then 8 logs behind: criteria set 1, like MBX3


def _ranked(record):
    return [v.server for v in record.selection if v.verdict == "ranked"]


def test_lossy_dials_sort_by_copy_queue():
    """With lossy dials everywhere, the copy with the shortest copy queue wins over a better preference."""
    result = dagsim.simulate(three_site_scenario(thin_link=0.2, timeline=[FAIL_MBX1_AT_80S]))
    record = _only(result)
    assert "copy queue length" in record.candidates[0]
    assert _ranked(record) == ["MBX3", "MBX2"]
    assert record.target == "MBX3" and record.logs_lost == 0


def test_lossless_anywhere_sorts_by_activation_preference():
    """One server with a Lossless dial switches the sort to activation preference."""
    servers = {"MBX1": {"auto_database_mount_dial": "lossless"}}
    result = dagsim.simulate(three_site_scenario(thin_link=0.2, servers=servers, timeline=[FAIL_MBX1_AT_80S]))
    record = _only(result)
    # MBX2 is 8 logs behind; its GoodAvailability dial refuses that, so MBX3 mounts after it.
    assert "activation preference" in record.candidates[0]
    assert _ranked(record) == ["MBX2", "MBX3"]
    assert record.target == "MBX3"


def test_lossless_order_mounts_preferred_copy_within_its_dial():
    """Sorted by preference, the preferred copy mounts when its dial accepts its loss."""
    servers = {"MBX1": {"auto_database_mount_dial": "lossless"}, "MBX2": {"auto_database_mount_dial": "best_availability"}}
    result = dagsim.simulate(three_site_scenario(thin_link=0.2, servers=servers, timeline=[FAIL_MBX1_AT_80S]))
    record = _only(result)
    assert record.target == "MBX2" and record.logs_lost == 8


def test_criteria_set_beats_activation_preference():
    """A copy meeting criteria set 2 beats a better-preference copy that meets only set 3."""
    servers = {"MBX1": {"auto_database_mount_dial": "lossless"}, "MBX2": {"auto_database_mount_dial": "best_effort"}}
    timeline = [
        {"at": "1s", "action": "set_content_index_state", "database": "DB1", "server": "MBX3", "state": "crawling"},
        FAIL_MBX1,
    ]
    servers["MBX2"] = {}
    result = dagsim.simulate(three_site_scenario(thin_link=0.2, servers=servers, timeline=timeline))
    record = _only(result)
    ranked = [line for line in record.candidates if "criteria set" in line]
    assert ranked[0].startswith("MBX3: criteria set 2")
    assert ranked[1].startswith("MBX2: criteria set 3")
    assert record.target == "MBX3"


# ---------------------------------------------------------------- exclusions
@pytest.mark.parametrize(
    "servers,timeline,reason",
    [
        ({}, [{"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX2"}], "copy is suspended"),
        (
            {},
            [{"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX2", "activation_only": True}],
            "activation is suspended",
        ),
        ({"MBX2": {"database_copy_auto_activation_policy": "blocked"}}, [], "DatabaseCopyAutoActivationPolicy is Blocked"),
        (
            {"MBX2": {"database_copy_auto_activation_policy": "intrasite_only"}},
            [],
            "DatabaseCopyAutoActivationPolicy is IntrasiteOnly and the copy is in another site",
        ),
        ({"MBX2": {"maximum_active_databases": 0}}, [], "server is at MaximumActiveDatabases (0)"),
        ({}, [{"at": "1m", "action": "fail_database_volume", "database": "DB1", "server": "MBX2"}], "status FailedAndSuspended"),
    ],
)
def test_each_exclusion_sends_the_database_elsewhere(servers, timeline, reason):
    """A copy excluded from activation is passed over with its reason, and the next copy mounts."""
    scenario = three_site_scenario(servers=servers, timeline=[*timeline, {**FAIL_MBX1, "at": "10m"}])
    record = _only(dagsim.simulate(scenario))
    assert record.target == "MBX3"
    assert any(line.startswith("MBX2: rejected") and reason in line for line in record.candidates)


def test_failover_without_candidate_leaves_database_dismounted():
    """A failover with no acceptable copy leaves the database dismounted and retries when one becomes acceptable."""
    timeline = [
        {"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX2", "activation_only": True},
        {"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX3", "activation_only": True},
        {"at": "5m", "action": "fail_server", "server": "MBX1"},
        {"at": "20m", "action": "resume_copy", "database": "DB1", "server": "MBX3"},
    ]
    result = dagsim.simulate(three_site_scenario(timeline=timeline))
    record = _only(result)
    assert record.outcome == "mounted" and record.target == "MBX3"
    assert record.mounted > 20 * 60
    assert any(e.kind == "failover_blocked" for e in result.event_records)
    status = dagsim.copy_status(three_site_scenario(timeline=timeline), at=15 * 60)
    assert (status["Status"] == "Mounted").sum() == 0


def test_switchover_without_target_stays_on_source():
    """A switchover with no acceptable target leaves the database mounted on its source and reports an error."""
    timeline = [
        {"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX2"},
        {"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX3"},
        {"at": "5m", "action": "switchover_database", "database": "DB1"},
    ]
    result = dagsim.simulate(three_site_scenario(timeline=timeline))
    record = _only(result)
    assert record.kind == "switchover" and record.outcome == "switchover refused"
    assert any(e.kind == "switchover_failed" for e in result.event_records)
    status = dagsim.copy_status(three_site_scenario(timeline=timeline), at=10 * 60).set_index("Name")
    assert status.loc["DB1\\MBX1", "Status"] == "Mounted"


def test_switchover_pre_check_refuses_a_target_behind_by_10_logs_or_more():
    """Move-ActiveMailboxDatabase refuses a target whose copy queue is 10 logs or more, unless SkipLagChecks."""
    timeline = [{"at": "10m", "action": "switchover_database", "database": "DB1", "target": "MBX2"}]
    record = _only(dagsim.simulate(three_site_scenario(thin_link=0.2, timeline=timeline)))
    assert record.target is None and record.outcome == "switchover refused"
    assert any("switchover pre-check: copy queue 60" in line for line in record.candidates)


def test_switchover_to_a_target_is_lossless():
    """An operator switchover copies the last logs from the source and loses nothing, even over a thin link."""
    timeline = [
        {"at": "10m", "action": "switchover_database", "database": "DB1", "target": "MBX2", "skip_lag_checks": True}
    ]
    record = _only(dagsim.simulate(three_site_scenario(thin_link=0.2, timeline=timeline)))
    timing = dagsim.Scenario.model_fields["active_manager"].default
    assert record.target == "MBX2" and record.logs_lost == 0
    # The copy falls behind 0.1 log/s until the dismount (10 min + selection); while the source
    # dismounts, shipping goes on at 0.2 logs/s; ACLL then copies the rest over the thin link.
    behind = 0.1 * (600 + timing.selection_duration) - 0.2 * timing.dismount_duration
    latency = 0.010 + 2 * NIC_LATENCY  # the A-B link and a NIC at each end
    assert record.last_logs_copied - record.selection_done - timing.dismount_duration == pytest.approx(
        latency + behind / 0.2, rel=1e-9
    )


def test_maximum_active_databases_is_honoured():
    """A server at MaximumActiveDatabases takes no more databases in a failover."""
    servers = {"MBX2": {"maximum_active_databases": 1}}
    result = dagsim.simulate(three_site_scenario(servers=servers, databases=2, timeline=[FAIL_MBX1]))
    targets = sorted(r.target for r in result.failover_records)
    assert targets == ["MBX2", "MBX3"]


# ---------------------------------------------------------------- timing
def test_server_failover_phases_sum_to_the_documented_defaults():
    """A server crash fails over in detection + selection + ACLL timeout + replay + mount."""
    result = dagsim.simulate(three_site_scenario(timeline=[FAIL_MBX1]))
    record = _only(result)
    am = dagsim.Scenario.model_fields["active_manager"].default
    dag = dagsim.Scenario.model_fields["dag"].default
    detection = dag.cross_subnet_delay * dag.cross_subnet_threshold  # no other member in site A
    assert record.detected - record.failure == detection
    assert record.selection_done - record.detected == am.selection_duration
    assert record.last_logs_copied - record.selection_done == am.acll_timeout
    assert record.replay_done == record.last_logs_copied
    assert record.mounted - record.replay_done == am.mount_duration
    assert record.outage == 26.0


def test_lagged_copy_activates_after_replaying_its_queue():
    """A lagged copy becomes active only after replaying every log in its replay queue."""
    copies = {"MBX3": {"replay_lag_time": "1h"}}
    servers = {"MBX3": {"replay_rate": 2.0}}
    # MBX2 may not be activated (a server failure would cost this 3-member DAG its quorum).
    timeline = [
        {"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX2", "activation_only": True},
        {"at": "2h", "action": "fail_server", "server": "MBX1"},
    ]
    sim = Simulation(three_site_scenario(copies=copies, servers=servers, timeline=timeline))
    sim.run_until(2 * 3600)
    replay_queue = sim.replication.queues()[1][2]
    assert replay_queue == pytest.approx(0.3 * 3600, rel=1e-6)  # the last hour's logs
    result = sim.run()
    record = _only(result)
    assert record.target == "MBX3"
    # Until it is chosen the lagged copy keeps replaying what its lag allows: logs written an hour
    # earlier, at 0.3 logs/s; the rest of its queue is replayed at its server's 2 logs/s.
    remaining = replay_queue - 0.3 * (record.last_logs_copied - 2 * 3600)
    assert record.replay_done - record.last_logs_copied == pytest.approx(remaining / 2.0, rel=1e-6)


# ---------------------------------------------------------------- after a lossy failover
def _lossy(transport=None, seconds=100, duration="6h"):
    servers = {"MBX2": {"auto_database_mount_dial": "best_availability"}}
    timeline = [
        {"at": "1s", "action": "suspend_copy", "database": "DB1", "server": "MBX3", "activation_only": True},
        {"at": f"{seconds}s", "action": "fail_server", "server": "MBX1"},
    ]
    return three_site_scenario(thin_link=0.2, servers=servers, timeline=timeline, transport=transport, duration=duration)


def test_safety_net_redelivers_the_transport_share():
    """After a lossy failover Safety Net resubmits the configured share of the lost messages."""
    record = _only(dagsim.simulate(_lossy(transport={"transport_share": 0.75})))
    assert record.logs_lost == 10
    assert record.messages_lost == pytest.approx(10 * 5)
    assert record.messages_redelivered == pytest.approx(10 * 5 * 0.75)


def test_safety_net_hold_time_shorter_than_the_loss_loses_mail():
    """Mail older than SafetyNetHoldTime is not redelivered."""
    # The copy is 10 logs behind (100 s at 0.1 log/s); Safety Net keeps only the last 30 s of
    # mail, which the active wrote as 0.3 logs/s x 30 s = 9 logs.
    record = _only(dagsim.simulate(_lossy(transport={"safety_net_hold_time": "30s", "transport_share": 1.0})))
    assert record.logs_lost == 10
    assert record.messages_redelivered == pytest.approx(0.3 * 30 * 5)
    assert record.messages_redelivered < record.messages_lost


def test_old_active_resynchronizes_when_it_returns():
    """The old active copy returns diverged, discards its lost logs and catches up as a passive copy."""
    scenario = _lossy()
    data = scenario.model_dump(mode="json")
    data["timeline"].append({"at": "1h", "action": "restore_server", "server": "MBX1"})
    result = dagsim.simulate(dagsim.Scenario.model_validate(data))
    resync = [e for e in result.event_records if e.kind == "copy_resynchronized"]
    assert [(e.server, e.detail) for e in resync] == [("MBX1", "discarded 10 diverged logs")]
    status = dagsim.copy_status(dagsim.Scenario.model_validate(data), at=2 * 3600).set_index("Name")
    assert status.loc["DB1\\MBX1", "Status"] == "Healthy"
    assert status.loc["DB1\\MBX2", "Status"] == "Mounted"


def test_failed_volume_is_reseeded_by_auto_reseed():
    """A copy whose database volume failed is reseeded onto a spare after AutoReseed's resume attempts."""
    timeline = [{"at": "1m", "action": "fail_database_volume", "database": "DB1", "server": "MBX2"}]
    result = dagsim.simulate(three_site_scenario(timeline=timeline, duration="12h"))
    kinds = [(e.kind, round(e.time)) for e in result.event_records if e.server == "MBX2"]
    reseed = dagsim.Scenario.model_fields["reseed"].default
    start = 60 + reseed.auto_reseed_wait + reseed.auto_reseed_resume_attempts * reseed.auto_reseed_retry_interval
    assert ("seeding_started", round(start)) in kinds
    size = dagsim.Scenario.model_fields["databases"].annotation  # noqa: F841 - documented default below
    assert ("seeding_completed", round(start + 200 * 1024**3 / reseed.seeding_rate)) in kinds


# ---------------------------------------------------------------- quorum and DAC
def _four_members(timeline, witness_site="W", dac="off"):
    servers = [{"name": f"MBX{i}", "site": "A" if i <= 2 else "B"} for i in range(1, 5)]
    return dagsim.Scenario.model_validate(
        {
            "sites": [{"name": "A"}, {"name": "B"}, {"name": "W"}],
            "links": [
                {"name": "ab", "sites": ["A", "B"], "bandwidth": "1Gbps"},
                {"name": "aw", "sites": ["A", "W"], "bandwidth": "100Mbps"},
                {"name": "bw", "sites": ["B", "W"], "bandwidth": "100Mbps"},
            ],
            "dag": {"witness": {"host": "FSW", "site": witness_site}, "datacenter_activation_mode": dac},
            "servers": servers,
            "databases": [
                {
                    "name": f"DB{i}",
                    "logs_per_day": 10000,
                    "copies": [
                        {"server": f"MBX{(i + k - 1) % 4 + 1}", "activation_preference": k + 1} for k in range(3)
                    ],
                }
                for i in range(1, 5)
            ],
            "timeline": timeline,
            "run": {"duration": "4h"},
        }
    )


def test_four_members_and_witness_lose_quorum_at_the_third_voter():
    """4 members + witness survive two voters down and dismount everything at the third."""
    timeline = [
        {"at": "10m", "action": "fail_server", "server": "MBX1"},
        {"at": "20m", "action": "fail_witness"},
        {"at": "30m", "action": "fail_server", "server": "MBX3"},
        {"at": "1h", "action": "restore_server", "server": "MBX3"},
    ]
    scenario = _four_members(timeline)
    assert (dagsim.copy_status(scenario, at=25 * 60)["Status"] == "Mounted").sum() == 4
    result = dagsim.simulate(scenario)
    lost = [e.time for e in result.event_records if e.kind == "quorum_lost"]
    assert lost == [30 * 60]
    assert (dagsim.copy_status(scenario, at=45 * 60)["Status"] == "Mounted").sum() == 0
    assert [e.time for e in result.event_records if e.kind == "quorum_regained"] == [3600]
    assert (dagsim.copy_status(scenario, at=2 * 3600)["Status"] == "Mounted").sum() == 4


def test_five_members_survive_two_failures():
    """A 5-member DAG (node majority) keeps quorum with two members down and loses it at three."""
    servers = [{"name": f"MBX{i}", "site": "A"} for i in range(1, 6)]
    timeline = [{"at": f"{k}0m", "action": "fail_server", "server": f"MBX{k}"} for k in (1, 2, 3)]
    scenario = dagsim.Scenario.model_validate(
        {
            "sites": [{"name": "A"}],
            "servers": servers,
            "databases": [
                {"name": "DB1", "logs_per_day": 1000, "copies": [
                    {"server": f"MBX{k}", "activation_preference": k} for k in range(1, 6)]}
            ],  # fmt: skip
            "timeline": timeline,
            "run": {"duration": "1h"},
        }
    )
    result = dagsim.simulate(scenario)
    assert [e.time for e in result.event_records if e.kind == "quorum_lost"] == [30 * 60]
    assert [r.target for r in result.failover_records if r.outcome == "mounted"] == ["MBX2", "MBX3"]


def test_dac_returning_partitioned_site_mounts_nothing():
    """With DAC on, a primary site that returns while the WAN is down mounts nothing; afterwards one copy is active."""
    timeline = [
        {"at": "10m", "action": "fail_site", "site": "A"},
        {"at": "12m", "action": "fail_witness"},
        {"at": "20m", "action": "stop_dag", "site": "A"},
        {"at": "21m", "action": "restore_dag", "site": "B"},
        {"at": "30m", "action": "partition_wan", "sites": ["A", "B"]},
        {"at": "40m", "action": "restore_site", "site": "A"},
        {"at": "1h", "action": "heal_wan", "sites": ["A", "B"]},
        {"at": "1h10m", "action": "start_dag", "site": "A"},
    ]
    scenario = _four_members(timeline, witness_site="A", dac="dag_only")
    status = dagsim.copy_status(scenario, at=50 * 60).set_index("Name")
    mounted = status[status["Status"] == "Mounted"].index
    assert all(name.endswith(("MBX3", "MBX4")) for name in mounted)
    assert len(mounted) == 4
    end = dagsim.copy_status(scenario, at=4 * 3600)
    per_db = end[end["Status"] == "Mounted"]["Name"].str.split("\\\\").str[0]
    assert sorted(per_db) == ["DB1", "DB2", "DB3", "DB4"]


def test_mapi_network_loss_fails_over_losslessly():
    """Losing the MAPI network on the active server moves its databases with no logs lost."""
    timeline = [{"at": "30m", "action": "fail_mapi_network", "server": "MBX1"}]
    scenario = _four_members(timeline)
    data = scenario.model_dump(mode="json")
    data["networks"] = [{"name": "Mapi", "type": "mapi"}, {"name": "Repl", "type": "replication"}]
    result = dagsim.simulate(dagsim.Scenario.model_validate(data))
    records = result.failover_records
    assert records and all(r.logs_lost == 0 and r.outcome == "mounted" for r in records)
    assert {r.source for r in records} == {"MBX1"}
    assert "MBX1" not in {r.target for r in records}  # a server without MAPI network serves no one


def test_new_active_ships_to_the_other_copies_after_a_log_volume_failure():
    """After the active's log volume fails, the new active copy feeds the remaining passive copy."""
    timeline = [{"at": "10m", "action": "fail_log_volume", "database": "DB1", "server": "MBX1"}]
    scenario = three_site_scenario(timeline=timeline)
    record = _only(dagsim.simulate(scenario))
    assert record.outcome == "mounted" and record.target in ("MBX2", "MBX3")
    other = "MBX3" if record.target == "MBX2" else "MBX2"
    status = dagsim.copy_status(scenario, at=3600).set_index("Name")
    assert status.loc[f"DB1\\{other}", "CopyQueueLength"] == 0
    assert status.loc[f"DB1\\{other}", "Status"] == "Healthy"


def test_site_failure_is_detected_with_cross_subnet_heartbeats():
    """When a whole site fails, every server in it is noticed after the cross-subnet delay x threshold."""
    data = _four_members([{"at": "10m", "action": "fail_site", "site": "A"}]).model_dump(mode="json")
    data["dag"].update(same_subnet_threshold=10, cross_subnet_threshold=20)
    result = dagsim.simulate(dagsim.Scenario.model_validate(data))
    detections = {r.database: r.detected - r.failure for r in result.failover_records}
    assert detections and set(detections.values()) == {20.0}


def test_diverged_copy_resynchronizes_only_when_it_can_reach_the_active():
    """A returning diverged copy resynchronizes once its server can reach the new active copy, not at boot."""
    servers = {"MBX2": {"auto_database_mount_dial": "best_availability"}}
    timeline = [
        {"at": "1s", "action": "suspend_copy", "database": "DB1", "server": "MBX3", "activation_only": True},
        {"at": "100s", "action": "fail_server", "server": "MBX1"},
        {"at": "30m", "action": "fail_link", "link": "ab"},
        {"at": "30m", "action": "fail_link", "link": "ac"},
        {"at": "1h", "action": "restore_server", "server": "MBX1"},
        {"at": "2h", "action": "restore_link", "link": "ab"},
    ]
    result = dagsim.simulate(three_site_scenario(thin_link=0.2, servers=servers, timeline=timeline))
    (resync,) = [e for e in result.event_records if e.kind == "copy_resynchronized"]
    assert resync.server == "MBX1" and resync.time == 2 * 3600


def test_operator_can_activate_a_database_left_dismounted():
    """Move-ActiveMailboxDatabase with a mount dial override activates a database no failover could."""
    timeline = [
        {"at": "75s", "action": "fail_server", "server": "MBX-A"},
        {"at": "10m", "action": "switchover_database", "database": "DB1", "target": "MBX-B",
         "mount_dial_override": "best_effort"},
    ]  # fmt: skip
    result = dagsim.simulate(two_site_scenario(witness_site="B", timeline=timeline, duration="1h"))
    blocked, moved = sorted(_failovers(result), key=lambda r: r.failure)
    assert blocked.outcome == "no acceptable copy; superseded by operator switchover"
    assert moved.kind == "switchover" and moved.outcome == "mounted" and moved.target == "MBX-B"
    assert moved.logs_lost == 7


def test_dac_survivors_that_rebooted_mount_after_a_datacenter_switchover():
    """With DAC, rebooted survivors get their DACP bit from the started members once the lost site is stopped."""
    timeline = [
        {"at": "10m", "action": "fail_site", "site": "A"},
        {"at": "11m", "action": "fail_server", "server": "MBX3"},
        {"at": "12m", "action": "restore_server", "server": "MBX3"},
        {"at": "20m", "action": "stop_dag", "site": "A"},
        {"at": "21m", "action": "restore_dag", "site": "B"},
    ]
    scenario = _four_members(timeline, witness_site="A", dac="dag_only")
    status = dagsim.copy_status(scenario, at=30 * 60)
    assert (status["Status"] == "Mounted").sum() == 4


def test_a_returning_primary_safety_net_resubmits_at_its_return():
    """When the failed server (primary Safety Net) returns within 12 hours, it resubmits the lost mail then."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "scenarios" / "library" / "safety-net-shadow.yaml").read_text()
    text = text.replace(
        "  - {at: 100s, action: fail_server, server: MBX1}\n",
        "  - {at: 100s, action: fail_server, server: MBX1}\n  - {at: 2h, action: restore_server, server: MBX1}\n",
    )
    result = dagsim.simulate(dagsim.load_scenario_text(text))
    [event] = [e for e in result.event_records if e.kind == "safety_net_resubmitted"]
    assert event.time == 2 * 3600 and event.detail.startswith("Safety Net on MBX1 resubmits 7.5 logs")


def test_mounting_again_on_the_server_it_left_is_a_remount_not_a_failover():
    """When quorum returns with the same server, the database's record is a remount, and its event says so."""
    from pathlib import Path

    result = dagsim.simulate(Path(__file__).resolve().parent.parent / "scenarios" / "library" / "quorum-even-members.yaml")
    first = {}
    for record in result.failover_records:
        first.setdefault(record.database, record)
    assert first["DB3"].kind == "remount" and first["DB3"].target == first["DB3"].source == "MBX3"
    assert first["DB1"].kind == "failover" and first["DB1"].target == "MBX2" != first["DB1"].source
    assert any(e.kind == "database_mounted" and e.detail == "remounted on MBX3" for e in result.event_records)


# ---------------------------------------------------------------- server health (Managed Availability)
HEALTH_LIBRARY = "scenarios/library/server-health-checks.yaml"


def _health_run(old: str, new: str):
    from pathlib import Path

    text = (Path(__file__).parent.parent / HEALTH_LIBRARY).read_text()
    assert text.count(old) == 1
    return dagsim.simulate(dagsim.load_scenario_text(text.replace(old, new)))


def test_a_stopped_client_access_role_sorts_its_server_behind_healthy_ones():
    """fail_cas makes a server Up to Normal Healthy only: DB1 skips its preference-2 copy there, until restore_cas."""
    stopped = _health_run(
        "  - {at: 5m, action: set_server_health, server: MBX2, health: normal_priority_unhealthy}\n",
        "  - {at: 5m, action: fail_cas, server: MBX2}\n",
    )
    assert [(r.kind, r.target) for r in _failovers(stopped)][0] == ("failover", "MBX3")
    restored = _health_run(
        "  - {at: 5m, action: set_server_health, server: MBX2, health: normal_priority_unhealthy}\n",
        "  - {at: 5m, action: fail_cas, server: MBX2}\n  - {at: 6m, action: restore_cas, server: MBX2}\n",
    )
    assert _failovers(restored)[0].target == "MBX2"


def test_a_failover_responder_moves_databases_losslessly_as_failovers():
    """A Managed Availability failover reads the running source's logs (ACLL) and is recorded as a failover."""
    result = _health_run("{at: 20m,", "{at: 20m,")
    (moved,) = [r for r in _failovers(result, "DB2")]
    assert moved.kind == "failover" and moved.cause.startswith("Managed Availability failover responder on MBX3")
    assert moved.target == "MBX2" and moved.logs_lost == 0 and moved.outcome == "mounted"
    kinds = {(e.kind, e.server) for e in result.event_records}
    assert ("server_health_changed", "MBX3") in kinds


def test_rebalancing_honours_the_preferred_maximum_of_the_preference_1_server():
    """RedistributeActiveDatabases.ps1 does not move a database onto a server at its MaximumPreferredActiveDatabases."""
    from pathlib import Path

    path = Path(__file__).parent.parent / "scenarios/library/preferred-maximum-and-rebalance.yaml"
    text = path.read_text().replace("  - {name: MBX1, site: A}", "  - {name: MBX1, site: A, maximum_preferred_active_databases: 0}")
    result = dagsim.simulate(dagsim.load_scenario_text(text))
    assert not [r for r in _failovers(result) if r.kind == "switchover"]
    assert any("at MaximumPreferredActiveDatabases (0)" in d.text for d in result.decision_records if d.database == "DB1")
    plain = dagsim.simulate(dagsim.load_scenario(path))
    assert [r.target for r in _failovers(plain) if r.kind == "switchover"] == ["MBX1"]
