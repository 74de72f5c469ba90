"""One shared copy and server state per run, in both modes."""

from __future__ import annotations

from pathlib import Path

from helpers import two_site_scenario

import dagsim
from dagsim.model.simulation import Simulation
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
