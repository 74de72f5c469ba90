"""Copy status taken during the one run, at the moments asked for (``observe_at``)."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import pytest

import dagsim
from dagsim.model.simulation import Simulation
from dagsim.status import status_table

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "server-failure.yaml"
FAILURE = 10 * 3600.0  # server-failure.yaml fails RED-MBX1 at 10:00


def _status(table, name):
    return table.set_index("Name").loc[name, "Status"]


def test_observed_tables_show_the_failover_as_it_happens():
    """A table just after the failure shows the source down; one after the mount shows the target Mounted."""
    result = dagsim.simulate(SCENARIO, observe_at=[FAILURE + 1, FAILURE + 60])
    assert sorted(result.copy_status) == [FAILURE + 1, FAILURE + 60]
    during, after = result.copy_status[FAILURE + 1], result.copy_status[FAILURE + 60]
    assert _status(during, "DB01\\RED-MBX1") != "Mounted"
    assert _status(during, "DB01\\RED-MBX2") != "Mounted"
    assert _status(after, "DB01\\RED-MBX2") == "Mounted"


def test_observed_tables_equal_those_of_a_paused_run():
    """Each observed table is the one a run paused at that moment shows."""
    moments = [600.0, FAILURE + 1, FAILURE + 30]
    result = dagsim.simulate(SCENARIO, observe_at=moments)
    paused = Simulation(dagsim.load_scenario(SCENARIO))
    for moment in moments:
        paused.run_until(moment)
        assert result.copy_status[moment].equals(status_table(paused))


def test_observing_does_not_change_the_run():
    """Events, failovers and client outages are identical; copy statistics agree to rounding."""
    plain = dagsim.simulate(SCENARIO)
    observed = dagsim.simulate(SCENARIO, observe_at=[3600.0 * h for h in range(1, 24)])
    assert observed.event_records == plain.event_records
    assert observed.failover_records == plain.failover_records
    assert observed.client_outage_records == plain.client_outage_records
    assert (observed.copy_queue_samples == plain.copy_queue_samples).all()
    for a, b in zip(observed.copy_records, plain.copy_records, strict=True):
        assert astuple(a)[:2] == astuple(b)[:2]
        assert astuple(a)[2:] == pytest.approx(astuple(b)[2:], rel=1e-9)
    assert plain.copy_status == {}


def test_moments_outside_the_run_are_clipped_to_it():
    """A moment before the start or after the end is observed at the start or the end."""
    result = dagsim.simulate(SCENARIO, observe_at=[-5.0, 1e12])
    assert sorted(result.copy_status) == [0.0, result.duration]


def test_checking_mounted_at_runs_the_scenario_once(monkeypatch):
    """`dagsim check` reads mounted_at's copy status during its one run, not from a second."""
    from dagsim.expectations import check_file

    runs = []
    original = Simulation.run_until
    monkeypatch.setattr(Simulation, "run_until", lambda self, *a, **k: (runs.append(id(self)), original(self, *a, **k))[1])
    checked = check_file(SCENARIO.parent / "library" / "exclusion-maximum-active-databases.yaml")
    assert all(v.passed for v in checked.verdicts)
    assert len(set(runs)) == 1
