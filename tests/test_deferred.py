"""Changes made together re-plan the fluid engine once, to the same rates as made one by one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import dagsim
from dagsim.model.simulation import Simulation

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "preferred-architecture.yaml"


def _paused():
    simulation = Simulation(dagsim.load_scenario(SCENARIO))
    simulation.run_until(3600.0 + 17.0)
    return simulation


def _stop_copies_of(simulation, server: str, *, together: bool) -> int:
    engine = simulation.replication
    replans = []
    original = engine.recompute
    engine.recompute = lambda: (replans.append(1), original())[1]
    rows = [r for r in simulation.layout.rows_on(server) if not engine.is_active[r]]
    if together:
        with engine.deferred():
            for row in rows:
                engine.set_copy_running(row, False)
    else:
        for row in rows:
            engine.set_copy_running(row, False)
    engine.recompute = original
    return len(replans)


def test_deferred_changes_replan_once_to_the_same_state():
    """Stopping a server's copies inside deferred() recomputes once, leaving rates and predictions as one by one."""
    one_by_one, together = _paused(), _paused()
    server = one_by_one.layout.server_names[0]
    assert _stop_copies_of(one_by_one, server, together=False) > 1
    assert _stop_copies_of(together, server, together=True) == 1
    a, b = one_by_one.replication, together.replication
    assert np.array_equal(a.q, b.q) and np.array_equal(a.dq, b.dq)
    assert np.array_equal(a._when, b._when) and a.next_time == b.next_time


def test_nothing_lands_on_predictions_a_deferred_change_made_stale():
    """A queue set inside deferred() keeps its value through a same-moment advance, even where an
    earlier prediction said it would be empty by now."""
    simulation = _paused()
    engine = simulation.replication
    row = int(np.flatnonzero(~engine.is_active)[0])
    engine._when[0, row] = engine.t  # an old prediction: this copy queue empties now
    with engine.deferred():
        engine.reposition(row, copy_queue=5.0)
        engine.advance(simulation.env.now)
        assert engine.q[0, row] == 5.0
    assert engine.q[0, row] == 5.0


def test_a_wake_with_nothing_due_keeps_the_plan_it_was_woken_for():
    """After a change the engine wakes at the same moment; with nothing due it does not re-plan again."""
    simulation = _paused()
    engine = simulation.replication
    row = int(np.flatnonzero(~engine.is_active)[0])
    engine.set_copy_running(row, False)  # re-plans, and pokes the engine's process
    replans = []
    original = engine.recompute
    engine.recompute = lambda: (replans.append(simulation.env.now), original())[1]
    now = simulation.env.now
    while simulation.env.peek() == now:
        simulation.env.step()
    assert replans == []
    assert engine.t == now and engine.next_time > now
