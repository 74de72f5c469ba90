"""Invariants: random fault schedules never break them, and the checks do catch a breach."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dagsim
from dagsim.model.invariants import InvariantViolation
from dagsim.model.simulation import Simulation

SERVERS = ["MBX1", "MBX2", "MBX3", "MBX4"]
DATABASES = ["DB1", "DB2", "DB3"]


def _scenario(timeline: list[dict], dac: str = "off") -> dagsim.Scenario:
    return dagsim.Scenario.model_validate(
        {
            "sites": [{"name": "A"}, {"name": "B"}, {"name": "W"}],
            "networks": [{"name": "Mapi", "type": "mapi"}, {"name": "Repl", "type": "replication"}],
            "links": [
                {"name": "ab", "sites": ["A", "B"], "bandwidth": "20Mbps", "latency": "20ms"},
                {"name": "aw", "sites": ["A", "W"], "bandwidth": "10Mbps", "networks": ["Mapi"]},
                {"name": "bw", "sites": ["B", "W"], "bandwidth": "10Mbps", "networks": ["Mapi"]},
            ],
            "dag": {
                "witness": {"host": "FSW", "site": "W"},
                "alternate_witness": {"host": "FSW2", "site": "B"},
                "datacenter_activation_mode": dac,
            },
            "servers": [
                {"name": "MBX1", "site": "A"},
                {"name": "MBX2", "site": "A", "auto_database_mount_dial": "best_availability"},
                {"name": "MBX3", "site": "B", "auto_database_mount_dial": "lossless"},
                {"name": "MBX4", "site": "B"},
            ],
            "databases": [
                {
                    "name": db,
                    "logs_per_day": 40000,
                    "database_size": "20GB",
                    "copies": [
                        {"server": SERVERS[(i + k) % 4], "activation_preference": k + 1} for k in range(3)
                    ],
                }
                for i, db in enumerate(DATABASES)
            ],
            "timeline": timeline,
            "run": {"duration": "12h", "sample_interval": "1h"},
        }
    )


_server = st.sampled_from(SERVERS)
_database = st.sampled_from(DATABASES)
_site = st.sampled_from(["A", "B"])
_action = st.one_of(
    st.builds(lambda s: {"action": "fail_server", "server": s}, _server),
    st.builds(lambda s: {"action": "restore_server", "server": s}, _server),
    st.builds(lambda s: {"action": "crash_store", "server": s, "restart_after": "2m"}, _server),
    st.builds(lambda s: {"action": "fail_mapi_network", "server": s}, _server),
    st.builds(lambda s: {"action": "restore_mapi_network", "server": s}, _server),
    st.builds(lambda s: {"action": "fail_replication_network", "server": s}, _server),
    st.just({"action": "partition_wan", "sites": ["A", "B"]}),
    st.just({"action": "heal_wan", "sites": ["A", "B"]}),
    st.just({"action": "fail_witness"}),
    st.just({"action": "restore_witness"}),
    st.builds(lambda s: {"action": "fail_site", "site": s}, _site),
    st.builds(lambda s: {"action": "restore_site", "site": s}, _site),
    st.builds(lambda s: {"action": "stop_dag", "site": s}, _site),
    st.builds(lambda s: {"action": "restore_dag", "site": s}, _site),
    st.builds(lambda s: {"action": "start_dag", "site": s}, _site),
    st.builds(
        lambda s, h, f: {"action": "set_server_health", "server": s, "health": h, "failover": f},
        _server,
        st.sampled_from(["healthy", "low_priority_unhealthy", "normal_priority_unhealthy", "high_priority_unhealthy"]),
        st.booleans(),
    ),
    st.builds(lambda s: {"action": "fail_cas", "server": s}, _server),
    st.just({"action": "redistribute_active_databases"}),
    st.builds(lambda d: {"action": "switchover_database", "database": d}, _database),
    st.builds(lambda s: {"action": "switchover_server", "server": s}, _server),
    st.builds(lambda d: {"action": "dismount_database", "database": d}, _database),
    st.builds(lambda d: {"action": "mount_database", "database": d}, _database),
    st.builds(
        lambda d, i: {"action": "suspend_copy", "database": d, "server": SERVERS[(DATABASES.index(d) + i) % 4]},
        _database,
        st.integers(0, 2),
    ),
    st.builds(
        lambda d, i: {"action": "resume_copy", "database": d, "server": SERVERS[(DATABASES.index(d) + i) % 4]},
        _database,
        st.integers(0, 2),
    ),
    st.builds(
        lambda d, i: {"action": "fail_database_volume", "database": d, "server": SERVERS[(DATABASES.index(d) + i) % 4]},
        _database,
        st.integers(0, 2),
    ),
    st.builds(
        lambda d, i: {"action": "fail_log_volume", "database": d, "server": SERVERS[(DATABASES.index(d) + i) % 4]},
        _database,
        st.integers(0, 2),
    ),
)
_schedule = st.lists(
    st.tuples(st.integers(min_value=0, max_value=12 * 60 - 1), _action), min_size=1, max_size=12
)


def _timeline(schedule) -> list[dict]:
    return [{"at": f"{minute}m", **action} for minute, action in sorted(schedule, key=lambda item: item[0])]


def _mounted_per_database(sim: Simulation) -> dict[str, int]:
    counts = dict.fromkeys(DATABASES, 0)
    for d, row in enumerate(sim.manager.mounted_row):
        if row is not None:
            counts[DATABASES[d]] += 1
    return counts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=_schedule, dac=st.sampled_from(["off", "dag_only"]))
def test_random_fault_schedules_keep_the_invariants(schedule, dac):
    """Whatever fails in whatever order, no run mounts two copies, mounts without quorum or DAC, or breaks the dial."""
    sim = Simulation(_scenario(_timeline(schedule), dac))
    result = sim.run()  # invariants are checked at every mount and cluster change; a breach raises
    assert sim.manager.invariants.checks > 0
    assert all(count <= 1 for count in _mounted_per_database(sim).values())
    for row in sim.manager.mounted_row:
        if row is not None:
            assert sim.cluster.mount_blocker(sim.manager.server_of(row)) is None
    # A stale partition mounts only on its own running servers, never one that knows it is
    # stopped, and with DAC on only where the DACP bit is 1.
    for row, _ in sim.manager.stale.mounts.values():
        server = sim.manager.server_of(row)
        assert sim.cluster.stale_mount_blocker(server) is None
        assert sim.cluster.dac.may_mount(server)
    for record in result.failover_records:
        if record.kind == "failover" and record.outcome == "mounted":
            dial = next(s.auto_database_mount_dial for s in sim.scenario.servers if s.name == record.target)
            assert record.logs_lost <= {"lossless": 0, "good_availability": 6, "best_availability": 12}[dial]


def test_second_mounted_copy_is_caught():
    """Mounting a database that is already mounted on another copy raises an invariant violation."""
    sim = Simulation(_scenario([]))
    sim.run_until(60)
    with pytest.raises(InvariantViolation, match="two mounted copies"):
        sim.manager.invariants.check_mount(0, 1, automatic=True, lost=0, dial="good_availability")


def test_mount_without_quorum_is_caught():
    """A mount on a server outside the quorum partition raises an invariant violation."""
    timeline = [{"at": "1m", "action": "fail_server", "server": s} for s in ("MBX1", "MBX2", "MBX3")]
    sim = Simulation(_scenario(timeline))
    sim.run_until(3600)
    sim.replication.mounted[0] = False  # as if DB1 were dismounted, to reach the next check
    with pytest.raises(InvariantViolation, match="not in the partition that holds quorum|server is down"):
        sim.manager.invariants.check_mount(0, 3, automatic=False, lost=0, dial="best_effort")


def test_split_brain_from_a_server_with_dacp_bit_0_is_caught():
    """A second mounted copy from a stale partition is recorded; from a server whose DACP bit is 0 it is a violation."""
    sim = Simulation(_scenario([]))
    sim.run_until(60)
    sim.manager.invariants.record_split_brain(0, "MBX1", "mounted on MBX1 and MBX2")
    assert [(name, detail) for _, name, detail in sim.manager.invariants.split_brains] == [("DB1", "mounted on MBX1 and MBX2")]
    timeline = [{"at": "1m", "action": "fail_server", "server": "MBX1"}, {"at": "2m", "action": "restore_server", "server": "MBX1"}]
    sim = Simulation(_scenario(timeline, dac="dag_only"))
    sim.run_until(150)
    sim.state.set_host_up("MBX1", False)
    sim.state.set_host_up("MBX1", True)  # restarted: DACP bit 0 until it talks to a member with bit 1
    with pytest.raises(InvariantViolation, match="whose DACP bit is 0"):
        sim.manager.invariants.record_split_brain(0, "MBX1", "mounted on MBX1 and MBX2")


def test_lossy_automatic_mount_beyond_the_dial_is_caught():
    """An automatic mount losing more logs than the dial allows raises an invariant violation."""
    sim = Simulation(_scenario([]))
    sim.run_until(60)
    sim.replication.mounted[0] = False  # as if DB1 were dismounted, to reach the next check
    with pytest.raises(InvariantViolation, match="allows 6"):
        sim.manager.invariants.check_mount(0, 1, automatic=True, lost=7, dial="good_availability")
