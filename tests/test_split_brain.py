"""Stale cluster configurations: a returning site that holds quorum by them, and DAC's veto."""

from __future__ import annotations

from pathlib import Path

import dagsim
from dagsim.model.simulation import Simulation
from dagsim.status import copy_status

LIBRARY = Path(__file__).parent.parent / "scenarios" / "library"


def _scenario(name: str, old: str = "", new: str = "") -> dagsim.Scenario:
    text = (LIBRARY / name).read_text()
    if old:
        assert text.count(old) == 1
        text = text.replace(old, new)
    return dagsim.load_scenario_text(text)


def test_a_new_configuration_reaches_only_the_members_the_operator_can_talk_to():
    """Restore-DatabaseAvailabilityGroup writes version 1 to site B; site A, down, keeps version 0 until the WAN heals."""
    sim = Simulation(_scenario("split-brain-without-dac.yaml"))
    sim.run_until(25 * 60)
    assert sim.cluster.version == 1
    assert sim.cluster.member_version == {"MBX1": 0, "MBX2": 0, "MBX3": 1, "MBX4": 1}
    assert sim.cluster.stale_partitions == ()
    sim.run_until(40 * 60)
    (stale,) = sim.cluster.stale_partitions
    assert stale.members == {"MBX1", "MBX2"} and stale.version == 0 and stale.witness == "FSW"
    assert (stale.quorum.votes, stale.quorum.needed) == (3, 3)
    assert stale.as_of == 10 * 60  # they last heard from the cluster when site A lost power
    sim.run_until(52 * 60)
    assert sim.cluster.stale_partitions == ()
    assert set(sim.cluster.member_version.values()) == {1}


def test_a_stale_partition_cannot_take_the_witness_the_current_cluster_holds():
    """With one witness reachable from both sites, the current cluster keeps its lock: the returning site has 2 of 5 votes."""
    scenario = _scenario(
        "split-brain-without-dac.yaml",
        "sites: [{name: A}, {name: B}]",
        "sites: [{name: A}, {name: B}, {name: W}]",
    )
    text = scenario.model_dump(mode="json")
    text["links"] += [
        {"name": "WAN-A-W", "sites": ["A", "W"], "bandwidth": "1Gbps"},
        {"name": "WAN-B-W", "sites": ["B", "W"], "bandwidth": "1Gbps"},
    ]
    text["dag"]["witness"] = {"host": "FSW", "site": "W"}
    text["dag"]["alternate_witness"] = None
    sim = Simulation(dagsim.Scenario.model_validate(text))
    sim.run_until(40 * 60)
    assert sim.cluster.quorum.held and sim.cluster.quorum.witness_vote
    assert sim.cluster.stale_partitions == ()
    assert not sim.manager.stale.mounts


def test_copy_status_shows_both_mounted_copies_during_a_split_brain():
    """Get-MailboxDatabaseCopyStatus in the split brain: DB1 Mounted on MBX1 (stale partition) and on MBX3."""
    table = copy_status(_scenario("split-brain-without-dac.yaml"), "40m").set_index("Name")
    assert table.loc["DB1\\MBX1", "Status"] == "Mounted" and table.loc["DB1\\MBX3", "Status"] == "Mounted"
    assert table.loc["DB1\\MBX1", "CopyQueueLength"] == 0
    after = copy_status(_scenario("split-brain-without-dac.yaml"), "52m").set_index("Name")
    assert after.loc["DB1\\MBX1", "Status"] != "Mounted"


def test_the_stale_partition_fails_over_by_the_queues_it_knew_and_the_dial():
    """DB2's copy in site A mounts there only if the logs it lacked when cut off fit its server's dial."""
    result = dagsim.simulate(_scenario("split-brain-without-dac.yaml"))
    split = {(e.database, e.server) for e in result.event_records if e.kind == "split_brain"}
    assert split == {("DB1", "MBX1"), ("DB2", "MBX1")}
    # DB2 writing 10x as much over a 0.2 Mbit/s WAN: its copy on MBX1 is far behind when site A fails,
    # beyond GoodAvailability's 6 logs, so the stale partition leaves DB2 alone.
    lagging = _scenario("split-brain-without-dac.yaml").model_dump(mode="json")
    lagging["links"][0]["bandwidth"] = "0.2Mbps"
    lagging["databases"][1]["logs_per_day"] = 100000
    result = dagsim.simulate(dagsim.Scenario.model_validate(lagging))
    split = {(e.database, e.server) for e in result.event_records if e.kind == "split_brain"}
    assert split == {("DB1", "MBX1")}
    decisions = [d.text for d in result.decision_records if d.database == "DB1"]
    assert any("stale cluster configuration (MBX1) remounted on MBX1" in text for text in decisions)
