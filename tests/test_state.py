"""One shared copy and server state per run, in both modes."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from helpers import three_site_scenario, two_site_scenario

import dagsim
from dagsim.model.copy_health import CopyHealth
from dagsim.model.simulation import Simulation
from dagsim.model.state import CopyChanged, HostChanged, MembershipChanged, RoleChanged, VolumeFilled
from dagsim.status import status_table


def test_active_manager_acts_on_the_runs_one_state():
    """Active Manager's copy health and server state are the simulation's DagState, not copies of it."""
    sim = Simulation(two_site_scenario())
    assert sim.manager is not None
    assert sim.manager.health is sim.state.health
    assert sim.manager.store_down is sim.state.store_down
    assert sim.manager.server_health is sim.state.server_health


def test_a_copy_not_added_yet_starts_absent():
    """A copy declared added: false is absent in the state, and not listed by the status table."""
    scenario = dagsim.load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "add-copy-seeding.yaml")
    sim = Simulation(scenario)
    absent = [sim.layout.copy_names[row] for row, h in enumerate(sim.state.health) if h.absent]
    assert absent
    names = set(status_table(sim)["Name"])
    assert all(f"{database}\\{server}" not in names for database, server in absent)


def test_per_log_mode_keeps_activation_suspension_in_the_same_state():
    """In per_log mode (no Active Manager) an activation-only suspension is kept in the state and shown."""
    timeline = [{"at": "10m", "action": "suspend_copy", "database": "DB1", "server": "MBX-B", "activation_only": True}]
    scenario = two_site_scenario(timeline=timeline, duration="20m")
    sim = Simulation(scenario, mode="per_log")
    sim.run_until(15 * 60)
    row = sim.layout.copy_row("DB1", "MBX-B")
    assert sim.state.health[row].activation_suspended
    table = status_table(sim).set_index("Name")
    assert bool(table.loc["DB1\\MBX-B", "ActivationSuspended"])


def _recorded(sim: Simulation) -> list:
    changes: list = []
    sim.state.subscribe(changes.append)
    return changes


def test_the_engines_compute_with_the_states_role_arrays():
    """Both engines read the roles and mounts from the DagState's arrays, not from copies of them."""
    for mode in ("fluid", "per_log"):
        sim = Simulation(two_site_scenario(), mode=mode)
        assert sim.replication.active is sim.state.active
        assert sim.replication.is_active is sim.state.is_active
        assert sim.replication.mounted is sim.state.mounted


def test_a_failover_changes_the_roles_through_the_state():
    """After a failover the state names the new active copy, exactly one per database, and subscribers heard it."""
    timeline = [{"at": "1h", "action": "fail_server", "server": "MBX-A"}]
    sim = Simulation(two_site_scenario(timeline=timeline, duration="2h", witness_site="B", link_logs_per_second=5))
    changes = _recorded(sim)
    sim.run()
    row_b = sim.layout.copy_row("DB1", "MBX-B")
    assert int(sim.state.active[0]) == row_b and sim.state.mounted[0]
    assert list(sim.state.is_active) == [r == row_b for r in range(sim.layout.n_copies)]
    assert RoleChanged(0, row_b) in changes
    assert HostChanged("MBX-A", False) in changes
    assert changes.index(HostChanged("MBX-A", False)) < changes.index(RoleChanged(0, row_b))


def test_a_host_stopping_in_the_state_stops_its_copies_and_nics():
    """Setting a host down in the state alone takes its NICs down and stops its copies: the cluster and engine follow."""
    sim = Simulation(two_site_scenario())
    sim.run_until(600)
    row_b = sim.layout.copy_row("DB1", "MBX-B")
    assert not sim.replication.halted[row_b]
    sim.state.set_host_up("MBX-B", False)
    assert sim.replication.halted[row_b]
    assert not sim.topology.nic_up("MBX-B", "Mapi")
    sim.state.set_host_up("MBX-B", True)
    assert not sim.replication.halted[row_b] and sim.topology.nic_up("MBX-B", "Mapi")


def test_a_copy_health_change_reaches_the_engine_without_being_relayed():
    """Suspending a copy in the state stops it in the engine and freezes truncation; resuming runs it again."""
    sim = Simulation(two_site_scenario())
    sim.run_until(600)
    row_b = sim.layout.copy_row("DB1", "MBX-B")
    changes = _recorded(sim)
    sim.state.update_copy(row_b, operator_suspended=True)
    assert changes == [CopyChanged((row_b,))]
    assert sim.replication.halted[row_b] and sim.replication.suspended[row_b]
    sim.state.update_copy(row_b, operator_suspended=False)
    assert not sim.replication.halted[row_b] and not sim.replication.suspended[row_b]


def test_restoring_a_site_changes_the_members_and_witness_in_the_state():
    """Restore-DatabaseAvailabilityGroup evicts the stopped servers and moves to the alternate witness, in the state."""
    scenario = dagsim.load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "site-failure-dac.yaml")
    restore = next(a for a in scenario.timeline if a.action == "restore_dag")
    sim = Simulation(scenario)
    changes = _recorded(sim)
    sim.run_until(restore.at + 1)
    (change,) = [c for c in changes if isinstance(c, MembershipChanged)]
    assert sim.cluster.members == sim.state.members == list(change.members)
    assert sim.state.witness == change.witness == scenario.dag.alternate_witness.host
    assert set(scenario.member_names) - set(sim.state.members) == sim.state.stopped


def test_stopping_a_site_stops_its_copies_through_the_state():
    """Stop-DatabaseAvailabilityGroup marks the site's servers stopped in the state, and their copies stop."""
    timeline = [{"at": "10m", "action": "stop_dag", "site": "B"}]
    sim = Simulation(two_site_scenario(timeline=timeline, duration="20m"))
    sim.run_until(15 * 60)
    assert sim.state.stopped == {"MBX-B"}
    assert not sim.state.copy_runs(sim.layout.copy_row("DB1", "MBX-B"))
    assert sim.replication.halted[sim.layout.copy_row("DB1", "MBX-B")]


def test_the_state_refuses_changes_that_break_its_rules():
    """An unknown health flag, suspending the active copy and activating another database's copy are refused."""
    sim = Simulation(two_site_scenario(databases=2))
    row_a = sim.layout.copy_row("DB1", "MBX-A")
    with pytest.raises(ValueError, match="no such copy health flag"):
        sim.state.update_copy(row_a, suspended=True)
    with pytest.raises(ValueError, match="active copy cannot be suspended"):
        sim.state.update_copy(row_a, operator_suspended=True)
    with pytest.raises(ValueError, match="is not a copy of DB2"):
        sim.state.activate(1, row_a)
    with pytest.raises(ValueError, match="no such host"):
        sim.state.set_host_up("nowhere", False)


_OWNED_FLAGS = {f.name for f in dataclasses.fields(CopyHealth)} - {"notes"}
_OWNED_ARRAYS = {"active", "is_active", "mounted", "operator_dismounted", "host_up", "server_health", "members"}
_OWNED_SETS = {"store_down", "cas_unhealthy", "stopped", "nic_failed", "members"}
_SET_CHANGES = {"add", "discard", "remove", "update", "difference_update", "clear", "pop"}


def _writes_to_owned_state(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in _OWNED_FLAGS:
                if not (isinstance(target.value, ast.Name) and target.value.id == "self"):
                    lines.append(node.lineno)
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Attribute)
                and target.value.attr in _OWNED_ARRAYS
            ):
                lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SET_CHANGES
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr in _OWNED_SETS
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_state_writes_the_state():
    """No module but model/state.py assigns copy health flags, role arrays or server sets (one owner of run state)."""
    package = Path(dagsim.__file__).resolve().parent
    offenders = {}
    for path in sorted(package.rglob("*.py")):
        if path.name in ("state.py", "copy_health.py"):
            continue
        lines = _writes_to_owned_state(ast.parse(path.read_text(), str(path)))
        if lines:
            offenders[str(path.relative_to(package))] = lines
    assert offenders == {}


def test_the_ownership_check_finds_a_write():
    """The check above reports a health flag set, a role array written and a server set changed."""
    source = "h.failed_and_suspended = True\nengine.active[d] = 2\nam.store_down.add('X')\nself.seeding = {}\n"
    assert _writes_to_owned_state(ast.parse(source)) == [1, 2, 3]


def test_a_waiting_failover_looks_again_when_the_state_changes():
    """A failover waiting for an acceptable copy mounts once the state lifts the suspension, with no Active Manager call."""
    timeline = [
        {"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX2", "activation_only": True},
        {"at": "1m", "action": "suspend_copy", "database": "DB1", "server": "MBX3", "activation_only": True},
        {"at": "5m", "action": "fail_server", "server": "MBX1"},
    ]
    sim = Simulation(three_site_scenario(timeline=timeline, duration="1h"))
    sim.run_until(20 * 60)
    assert not sim.state.mounted[0]
    sim.state.update_copy(sim.layout.copy_row("DB1", "MBX3"), activation_suspended=False)
    result = sim.run()
    (record,) = result.failover_records
    assert record.outcome == "mounted" and record.target == "MBX3" and record.mounted >= 20 * 60


def test_the_source_block_follows_the_active_copys_log_volume():
    """The engine cannot read an active copy whose log volume failed, and can again once another copy is active."""
    timeline = [{"at": "10m", "action": "fail_log_volume", "database": "DB1", "server": "MBX-A"}]
    sim = Simulation(two_site_scenario(timeline=timeline, duration="1h", witness_site="B", link_logs_per_second=5))
    sim.run_until(10 * 60 + 1)
    assert sim.replication.source_blocked[0]
    sim.state.update_copy(sim.layout.copy_row("DB1", "MBX-B"), content_index="Healthy")  # a change on a passive copy
    assert sim.replication.source_blocked[0]
    sim.run_until(30 * 60)
    assert int(sim.state.active[0]) == sim.layout.copy_row("DB1", "MBX-B")
    assert not sim.replication.source_blocked[0]


def test_a_full_log_volume_reaches_active_manager_through_the_state():
    """The engine reports a full active log volume as a state change, and Active Manager fails the database over."""
    scenario = dagsim.load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "library" / "suspended-copy-fills-log-volume.yaml")
    sim = Simulation(scenario)
    changes = _recorded(sim)
    result = sim.run()
    filled = [c for c in changes if isinstance(c, VolumeFilled)]
    assert filled
    first = filled[0]
    record = next(r for r in result.failover_records if r.cause == "log volume full")
    assert record.database == sim.layout.database_names[first.database]
    assert record.source == sim.layout.copy_names[first.row][1]
    assert not hasattr(sim.replication, "on_volume_full")
