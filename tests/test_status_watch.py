"""The report's default copy status moments are read during its one run."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import count_simulations

import dagsim
from dagsim.model.simulation import Simulation
from dagsim.report import default_status_times, status_tables
from dagsim.status_watch import StatusWatch

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _watched(name: str):
    simulation = Simulation(dagsim.load_scenario(SCENARIOS / name))
    watch = StatusWatch(simulation)
    result = simulation.run()
    return result, watch.tables()


@pytest.mark.parametrize("name", ["server-failure.yaml", "lossy-failover.yaml", "thin-wan.yaml", "quorum-loss.yaml"])
def test_watch_holds_every_default_moment_as_a_paused_run_shows_it(name):
    """Each default moment's table is taken during the run, equal to the one a run paused there shows."""
    result, tables = _watched(name)
    moments = default_status_times(result)
    assert set(moments) <= set(tables)
    paused = status_tables(result, moments)
    for moment in moments:
        assert tables[moment].equals(paused[moment]), moment


def test_watch_finds_the_longest_copy_queue():
    """On a thin WAN the watch keeps the table at the sample with the longest copy queue."""
    result, tables = _watched("thin-wan.yaml")
    peaks = result.copy_queue_samples.max(axis=1)
    peak_at = float(result.sample_times[int(peaks.argmax())])
    assert peaks.max() >= 10 and peak_at in tables
    longest = tables[peak_at]["CopyQueueLength"].max()
    assert longest == int(peaks.max() + 1e-6)


def test_watching_leaves_the_run_as_it_was():
    """A watched run records the same events and failovers as an unwatched one (to rounding)."""
    result, _ = _watched("server-failure.yaml")
    plain = dagsim.simulate(SCENARIOS / "server-failure.yaml")
    assert [(e.kind, e.database, e.server) for e in result.event_records] == [
        (e.kind, e.database, e.server) for e in plain.event_records
    ]
    assert [e.time for e in result.event_records] == pytest.approx([e.time for e in plain.event_records], rel=1e-12)
    assert [(r.database, r.target, r.outcome) for r in result.failover_records] == [
        (r.database, r.target, r.outcome) for r in plain.failover_records
    ]


def test_report_command_runs_the_scenario_once(tmp_path, monkeypatch):
    """`dagsim report` without --at builds one simulation and shows copy status at the default moments."""
    from typer.testing import CliRunner

    from dagsim.cli import app

    built = count_simulations(monkeypatch)
    out = tmp_path / "r.html"
    invoked = CliRunner().invoke(app, ["report", str(SCENARIOS / "server-failure.yaml"), "--out", str(out)])
    assert invoked.exit_code == 0, invoked.output
    assert len(built) == 1
    html = out.read_text()
    assert "At 0d 10:00:01" in html and "At 0d 10:00:27" in html


@pytest.mark.parametrize("moment", [3600.0 + 17.0, 10 * 3600.0 + 600.0])
def test_reading_copy_queues_now_moves_nothing_and_agrees_with_advancing(moment):
    """copy_queues_now() leaves the engine's clock alone and gives what advancing to now would."""
    simulation = Simulation(dagsim.load_scenario(SCENARIOS / "thin-wan.yaml"))
    simulation.run_until(moment - 600.0)
    engine = simulation.replication
    simulation.env.run(until=moment)  # the engine may still be behind, or inside a quiet span
    before = engine.t
    read = engine.copy_queues_now()
    assert engine.t == before
    engine.advance(simulation.env.now)
    assert read == pytest.approx(engine.queues()[0], rel=1e-9, abs=1e-9)
