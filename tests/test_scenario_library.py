"""scenarios/library: one scenario per documented behaviour, each pinned by its expectations."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import dagsim
from dagsim.cli import app
from dagsim.expectations import check_file

pytest_plugins = ["pytester"]

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
LIBRARY = SCENARIOS / "library"

# Each documented behaviour the library must demonstrate, and the file that does.
BEHAVIOURS = {
    "AutoDatabaseMountDial 6/7 and 12/13 logs": "mount-dial-thresholds.yaml",
    "lossy dials sort candidates by copy queue": "candidate-order-lossy.yaml",
    "a Lossless dial sorts candidates by activation preference": "candidate-order-lossless.yaml",
    "criteria sets outrank the sort order": "criteria-set-priority.yaml",
    "exclusion: suspended copy": "exclusion-suspended.yaml",
    "exclusion: activation suspended": "exclusion-activation-suspended.yaml",
    "exclusion: DatabaseCopyAutoActivationPolicy Blocked": "exclusion-blocked.yaml",
    "exclusion: IntrasiteOnly across sites": "exclusion-intrasite-only.yaml",
    "exclusion: MaximumActiveDatabases": "exclusion-maximum-active-databases.yaml",
    "exclusion: ineligible copy status": "exclusion-ineligible-status.yaml",
    "failover vs switchover without an acceptable copy": "failover-vs-switchover-without-target.yaml",
    "quorum with an even member count": "quorum-even-members.yaml",
    "quorum with an odd member count": "quorum-odd-members.yaml",
    "DAC with a returning partitioned site": "dac-returning-partitioned-site.yaml",
    "lagged copy activation time": "lagged-copy-activation-time.yaml",
    "Safety Net redelivery": "safety-net-redelivery.yaml",
    "Safety Net hold time loss": "safety-net-hold-time.yaml",
    "a suspended copy fills the active's log volume": "suspended-copy-fills-log-volume.yaml",
    "replication network loss moves shipping to MAPI": "replication-network-loss.yaml",
    "MAPI network loss causes a lossless failover": "mapi-network-loss.yaml",
    "CAS failure behind a load balancer": "cas-failure-load-balancer.yaml",
    "CAS role failure on a multi-role server keeps its databases mounted": "cas-failure-multi-role.yaml",
    "switchover pre-checks and their Skip switches": "switchover-pre-checks.yaml",
    "dynamic quorum keeps quorum through sequential failures": "dynamic-quorum.yaml",
    "an unbound namespace carries clients across a datacenter failure": "unbound-namespace-site-failure.yaml",
    "MaximumPreferredActiveDatabases and RedistributeActiveDatabases": "preferred-maximum-and-rebalance.yaml",
    "the shadow Safety Net serves a resubmit after 12 hours": "safety-net-shadow.yaml",
    "server failover within about 30 s": "server-failover-timing.yaml",
    "data guarantee SecondCopy stalls moves behind a lagging copy": "data-guarantee-second-copy.yaml",
    "data guarantee None never stalls moves": "data-guarantee-none.yaml",
    "data guarantee SecondDatacenter needs a current copy in another site": "data-guarantee-second-datacenter.yaml",
    "server health checks and the Failover responder": "server-health-checks.yaml",
    "split brain when DAC is off": "split-brain-without-dac.yaml",
    "DAC prevents that split brain": "split-brain-prevented-by-dac.yaml",
}

runner = CliRunner()


def _library_files() -> list[Path]:
    return sorted(LIBRARY.glob("*.yaml"))


def test_dagsim_check_scenarios_passes():
    """`dagsim check scenarios/` exits 0 with every library expectation passed."""
    result = runner.invoke(app, ["check", str(SCENARIOS)])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout
    for path in _library_files():
        assert any(line.startswith(f"{path}: ") and "all passed" in line for line in result.stdout.splitlines()), path
    assert result.stderr == ""


def test_every_documented_behaviour_has_a_scenario():
    """Each behaviour of the issue's list has its scenario file in scenarios/library."""
    missing = [f"{behaviour}: {name}" for behaviour, name in BEHAVIOURS.items() if not (LIBRARY / name).is_file()]
    assert missing == []
    assert sorted(p.name for p in _library_files()) == sorted(BEHAVIOURS.values())


@pytest.mark.parametrize("path", _library_files(), ids=lambda p: p.stem)
def test_library_scenario_names_its_rule_and_has_expectations(path):
    """A library file opens with a comment naming the documented rule, and has expectations."""
    assert path.read_text().startswith("# Documented rule: ")
    assert dagsim.load_scenario(path).expect


# A change to each scenario's key setting, and the checks that must then fail: the
# expectations pin the behaviour, not just whatever the run happens to do.
CONTROLS = [
    (
        "data-guarantee-second-datacenter.yaml",
        "data_move_replication_constraint: second_datacenter",
        "data_move_replication_constraint: second_copy",
        {"event move_stalled DB1"},
    ),
    (
        "data-guarantee-none.yaml",
        "data_move_replication_constraint: none",
        "data_move_replication_constraint: second_copy",
        {
            "event move_stalled",
            "event move_batch_completed DB1",
            "batch_completed_within MOVE",
            "batch_stalls MOVE",
            "move_stalled DB1",
        },
    ),
    (
        "mount-dial-thresholds.yaml",
        "{name: MBX-GA, site: B, auto_database_mount_dial: good_availability}",
        "{name: MBX-GA, site: B, auto_database_mount_dial: best_availability}",
        {"failover_outcome DB2", "candidate DB2\\MBX-GA", "mounted_at DB2 at 0d 00:30:00"},
    ),
    (
        "candidate-order-lossless.yaml",
        "{name: MBX1, site: A, auto_database_mount_dial: lossless}",
        "{name: MBX1, site: A}",
        {"failover_target DB1", "logs_lost DB1"},
    ),
    (
        "criteria-set-priority.yaml",
        "{name: MBX2, site: B, replay_rate: 0.1}",
        "{name: MBX2, site: B}",
        {"candidate DB1\\MBX2", "failover_target DB1"},
    ),
    (
        "exclusion-blocked.yaml",
        "{name: MBX2, site: B, database_copy_auto_activation_policy: blocked}",
        "{name: MBX2, site: B}",
        {"candidate DB1\\MBX2", "failover_target DB1"},
    ),
    (
        "dac-returning-partitioned-site.yaml",
        "datacenter_activation_mode: dag_only",
        "datacenter_activation_mode: 'off'",
        {
            "mounted_at DB1 at 0d 00:30:00",
            "mounted_at DB2 at 0d 00:30:00",
            "event dacp_bit_set MBX1",
            "event dacp_bit_set MBX2",
            "mounted_at DB2 at 0d 00:50:00",
        },
    ),
    (
        "safety-net-hold-time.yaml",
        "safety_net_hold_time: 30s",
        "safety_net_hold_time: 2d",
        {"messages_redelivered DB1"},
    ),
    (
        "suspended-copy-fills-log-volume.yaml",
        "log_volume_size: 1GB",
        "log_volume_size: 2GB",
        {
            "event log_volume_full DB1\\MBX1",
            "event database_dismounted DB1\\MBX1",
            "mounted_at DB1 at 0d 01:08:00",
            "failover_outcome DB1",
            "candidate DB1\\MBX2",
        },
    ),
    (
        "cas-failure-load-balancer.yaml",
        "probe_failures: 2",
        "probe_failures: 4",
        {"client_outage_p95_under outlook"},
    ),
    (
        "safety-net-shadow.yaml",
        "  - {at: 100s, action: fail_server, server: MBX1}\n",
        "  - {at: 100s, action: fail_server, server: MBX1}\n  - {at: 2h, action: restore_server, server: MBX1}\n",
        {"event safety_net_resubmitted DB1"},
    ),
    (
        "preferred-maximum-and-rebalance.yaml",
        "maximum_preferred_active_databases: 1, ",
        "",
        {"failover_target DB1 (failover)", "mounted_at DB1 at 0d 00:35:00"},
    ),
    (
        "preferred-maximum-and-rebalance.yaml",
        "  - {at: 40m, action: redistribute_active_databases}\n",
        "",
        {"mounted_at DB1 at 0d 00:45:00"},
    ),
    (
        "unbound-namespace-site-failure.yaml",
        "namespace_model: unbound",
        "namespace_model: bound",
        {"client_outage_p95_under outlook"},
    ),
    (
        "server-health-checks.yaml",
        "  - {at: 5m, action: set_server_health, server: MBX2, health: normal_priority_unhealthy}\n",
        "",
        {"failover_target DB1 (failover)", "mounted_at DB1 at 0d 00:15:00"},
    ),
    (
        "server-health-checks.yaml",
        "health: high_priority_unhealthy, failover: true}",
        "health: high_priority_unhealthy, failover: false}",
        {
            "mounted_at DB1 at 0d 00:25:00",
            "mounted_at DB2 at 0d 00:25:00",
            "failover_outcome DB3",
            "candidate DB3\\MBX4",
        },
    ),
    (
        "split-brain-without-dac.yaml",
        'datacenter_activation_mode: "off"',
        "datacenter_activation_mode: dag_only",
        {
            "mounted_at DB1 at 0d 00:40:00",
            "mounted_at DB2 at 0d 00:40:00",
            "event split_brain DB1",
            "event split_brain DB2",
            "event copy_resynchronized DB1\\MBX1",
            "event copy_resynchronized DB2\\MBX1",
        },
    ),
    (
        "split-brain-prevented-by-dac.yaml",
        "datacenter_activation_mode: dag_only",
        'datacenter_activation_mode: "off"',
        {
            "mounted_at DB1 at 0d 00:40:00",
            "mounted_at DB2 at 0d 00:40:00",
            "event split_brain",
            "no_split_brain",
            "event copy_resynchronized",
        },
    ),
    (
        "dynamic-quorum.yaml",
        "dynamic_quorum: true",
        "dynamic_quorum: false",
        {
            "quorum_lost",
            "event quorum_lost",
            "mounted_at DB1 at 0d 00:45:00",
            "mounted_at DB2 at 0d 00:45:00",
            "mounted_at DB3 at 0d 00:45:00",
            "mounted_at DB4 at 0d 00:45:00",
        },
    ),
]


@pytest.mark.parametrize("name,old,new,failing", CONTROLS, ids=[c[0].removesuffix(".yaml") for c in CONTROLS])
def test_changing_the_key_setting_breaks_the_expectations(tmp_path, name, old, new, failing):
    """Undoing the setting a library scenario demonstrates makes exactly its dependent checks fail."""
    text = (LIBRARY / name).read_text()
    assert text.count(old) == 1
    changed = tmp_path / name
    changed.write_text(text.replace(old, new))
    verdicts = check_file(changed).verdicts
    assert {v.name for v in verdicts if not v.passed} == failing


def test_pytest_plugin_runs_the_library(pytester):
    """The plugin, enabled on scenarios/library, collects and passes one item per library expectation."""
    expectations = sum(len(dagsim.load_scenario(path).expect) for path in _library_files())
    result = pytester.runpytest("-p", "no:cacheprovider", f"--dagsim-scenarios={LIBRARY}")
    result.assert_outcomes(passed=expectations)
