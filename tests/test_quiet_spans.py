"""Quiet spans: jumping over quiet hours gives the results of stepping at every hour boundary."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from dagsim.availability.replica import ReplicaRunner
from dagsim.config.loader import load_scenario
from dagsim.model.fluid import FluidReplication
from dagsim.model.simulation import Simulation
from dagsim.model.workload import Workload

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
DAY = 86400.0
REL = 1e-9  # the promise: spans and hourly stepping agree to 1e-9 relative
SAMPLE_REL = 1e-6  # samples are stored as float32


def _run(path: Path, days: float | None, quiet: bool):
    simulation = Simulation(load_scenario(path), duration=None if days is None else days * DAY)
    simulation.replication.quiet_spans = quiet
    return simulation.run()


def _assert_same_records(fast, slow):
    for a, b in zip(fast, slow, strict=True):
        for field in dataclasses.fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            if isinstance(x, float):
                assert x == pytest.approx(y, rel=REL, abs=REL), (a, field.name)
            else:
                assert x == y, (a, field.name)


def _assert_same(fast, slow):
    _assert_same_records(fast.copy_records, slow.copy_records)
    _assert_same_records(fast.database_records, slow.database_records)
    _assert_same_records(fast.event_records, slow.event_records)
    _assert_same_records(fast.failover_records, slow.failover_records)
    _assert_same_records(fast.client_outage_records, slow.client_outage_records)
    _assert_same_records(fast.link_records, slow.link_records)
    for name in ("copy_queue_samples", "replay_queue_samples", "log_volume_samples"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert np.allclose(a, b, rtol=SAMPLE_REL, atol=SAMPLE_REL), name


CASES = [
    # name, days, what it exercises
    ("preferred-architecture.yaml", 30, "a 7-day lagged copy per database, nothing else moving"),
    ("thin-wan.yaml", 5, "copy queues building and draining behind a saturated WAN every day"),
    ("lagged-copy-activation.yaml", 10, "a lagged copy activated, then replaying its window"),
    ("site-failure-dac.yaml", 10, "a datacenter failing: halted copies, DAC, a returning site"),
    ("server-failure.yaml", 10, "a server failover and the failed copies catching up"),
    ("library/suspended-copy-fills-log-volume.yaml", 10, "truncation frozen until a log volume fills"),
    ("quickstart.yaml", None, "the shipped quickstart as it is"),
]


@pytest.mark.parametrize(("name", "days", "exercises"), CASES, ids=[c[0] for c in CASES])
def test_quiet_spans_match_hourly_stepping(name, days, exercises):
    """Every statistic, event, failover, client outage and sample matches hourly stepping to 1e-9."""
    fast = _run(SCENARIOS / name, days, quiet=True)
    slow = _run(SCENARIOS / name, days, quiet=False)
    _assert_same(fast, slow)


def test_a_quiet_year_takes_a_few_engine_steps():
    """A failure-free year of the preferred architecture wakes the engine a few dozen times, not 8,760."""
    fast = _run(SCENARIOS / "preferred-architecture.yaml", 365, quiet=True)
    slow = _run(SCENARIOS / "preferred-architecture.yaml", 365, quiet=False)
    assert slow.engine_events == 365 * 24
    assert fast.engine_events < 100
    _assert_same(fast, slow)


def test_availability_replicas_match_hourly_stepping(monkeypatch):
    """Replicas with random failures give the same figures with and without quiet spans."""
    scenario = load_scenario(SCENARIOS / "availability-two-copies.yaml")
    fast = [ReplicaRunner(scenario, 11).run(i) for i in range(3)]
    monkeypatch.setattr(FluidReplication, "quiet_spans", False)
    slow = [ReplicaRunner(scenario, 11).run(i) for i in range(3)]
    for a, b in zip(fast, slow, strict=True):
        for field in dataclasses.fields(a):
            x, y = np.asarray(getattr(a, field.name), float), np.asarray(getattr(b, field.name), float)
            assert np.allclose(x, y, rtol=REL, atol=REL), field.name
    assert sum(sum(r.failovers) for r in fast) > 0  # the replicas did fail over


def test_profile_changes_in_bulk_equal_one_at_a_time():
    """Workload.changes gives the times and rates that next_change and rates give one by one."""
    workload = Workload(load_scenario(SCENARIOS / "preferred-architecture.yaml"))
    first = workload.next_change(5.5 * 3600)
    times, rates = workload.changes(first, 50)
    expected, t = [], first
    for _ in range(50):
        expected.append(t)
        t = workload.next_change(t)
    assert times.tolist() == expected
    assert np.array_equal(rates, np.stack([workload.rates(t) for t in expected], axis=1))


def test_generation_history_after_a_span_matches_hourly_stepping():
    """Logs generated between two moments, and when a log was written, read the same after a span."""
    engines = []
    for quiet in (True, False):
        simulation = Simulation(load_scenario(SCENARIOS / "preferred-architecture.yaml"), duration=3 * DAY)
        simulation.replication.quiet_spans = quiet
        simulation.run_until(2.5 * DAY)
        engines.append(simulation.replication)
    fast, slow = engines
    assert len(fast.history) == len(slow.history) > 24
    for database in (0, 57):
        since = [e.logs_generated_since(database, 0.3 * DAY, 2.4 * DAY) for e in engines]
        assert since[0] == pytest.approx(since[1], rel=REL)
        logs = slow.generated[database] * 0.4
        assert fast.log_position_time(database, logs) == pytest.approx(slow.log_position_time(database, logs), rel=REL)
