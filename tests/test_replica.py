"""One replica: the figures it records, and the shared model parts it runs on."""

from __future__ import annotations

from pathlib import Path

import pytest
from availability_scenarios import n_copies

from dagsim.availability import ReplicaRunner, availability
from dagsim.availability.replica import _MemoTopology
from dagsim.config import load_scenario
from dagsim.model.layout import Layout
from dagsim.model.simulation import SharedParts, Simulation

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def fixed(ttf: str, ttr: str) -> dict:
    return {
        "time_to_failure": {"distribution": "fixed", "value": ttf},
        "time_to_repair": {"distribution": "fixed", "value": ttr},
    }


def test_record_of_a_known_timeline():
    """Both servers fail at 10h; one crew repairs MBX1 by 14h and MBX2 by 18h: the record says exactly that
    (the database comes back on MBX1, the server it left: a remount, not a failover)."""
    scenario = n_copies(2, failures={"servers": fixed("10h", "4h"), "repair_crews": 1, "replica_duration": "1d"})
    record = ReplicaRunner(scenario, seed=1).run(0)
    assert record.downtime == pytest.approx((4 * 3600.0,))
    assert record.below_two_healthy == pytest.approx((8 * 3600.0,))
    assert record.failovers == (0,) and record.lossy_failovers == (0,)
    assert record.quorum_losses == 1
    assert record.failure_actions == 4
    assert record.duration == 86400.0


def test_shared_parts_give_the_same_run():
    """A run built on shared parts (layout, route memo) equals one built from scratch, also on reuse."""
    scenario = load_scenario(SCENARIOS / "site-failure-dac.yaml")
    plain = Simulation(scenario).run()
    memo: dict = {}
    parts = SharedParts(layout=Layout.from_scenario(scenario), new_topology=lambda: _MemoTopology(scenario, memo))
    for _ in range(2):
        shared = Simulation(scenario, parts=parts).run()
        assert shared.event_records == plain.event_records
        assert shared.failover_records == plain.failover_records
    assert memo  # the second run answered its routes from the memo


def test_run_seed_is_the_default_seed_and_seeds_differ():
    """run.seed drives the study when no seed is given; another seed gives other figures."""
    by_run_seed = availability(n_copies(2, seed=5), replicas=3)
    by_argument = availability(n_copies(2, seed=1), replicas=3, seed=5)
    other = availability(n_copies(2, seed=1), replicas=3, seed=6)
    assert by_run_seed.seed == 5
    assert by_run_seed.table.equals(by_argument.table)
    assert not other.table.equals(by_argument.table)
    assert [r.downtime for r in other.records] != [r.downtime for r in by_argument.records]


def test_client_outage_minutes_are_recorded_per_protocol():
    """With client protocols modelled, a replica with failovers records user-minutes per protocol."""
    scenario = n_copies(2, protocols=True, failures={"servers": fixed("10h", "4h"), "replica_duration": "1d"})
    runner = ReplicaRunner(scenario, seed=1)
    record = runner.run(0)
    assert len(record.user_minutes) == len(runner.protocols) == 6
    assert sum(minutes[0] for minutes in record.user_minutes) > 0


def test_a_scenario_without_failures_is_refused():
    """A study needs a failures: block."""
    scenario = load_scenario(SCENARIOS / "quickstart.yaml")
    with pytest.raises(ValueError, match="no failures"):
        availability(scenario, years=1)
