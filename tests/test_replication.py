"""Continuous replication: fluid queues against theory, and against the per-log engine."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import two_site_scenario

from dagsim.model.simulation import Simulation
from dagsim.simulate import simulate


def _passive(result, database="DB1"):
    return next(c for c in result.copy_records if c.database == database and c.server == "MBX-B")


def _events(result, kind):
    return [e for e in result.event_records if e.kind == kind]


def test_copy_queue_peak_is_excess_rate_times_duration():
    """Generation g above link capacity c for T seconds builds a copy queue of (g - c)·T."""
    result = simulate(two_site_scenario())  # g = 0.3, c = 0.2 logs/s for 4 h
    expected = (0.3 - 0.2) * 4 * 3600
    assert _passive(result).copy_queue_peak == pytest.approx(expected, rel=0.005)


def test_copy_queue_drains_at_capacity_minus_new_rate():
    """After the rate drops to g' < c the queue drains at c - g' and empties on time."""
    result = simulate(two_site_scenario())
    drained = _events(result, "copy_queue_normal")
    # Peak 1440 logs at 4 h drains at 0.1 logs/s: back to 10 logs after (1440 - 10) / 0.1 s.
    assert len(drained) == 1
    assert drained[0].time == pytest.approx(4 * 3600 + (1440 - 10) / 0.1, rel=1e-9)


def test_threshold_crossing_is_computed_not_polled():
    """The copy queue crosses 10 logs exactly 10 / (g - c) seconds into the overload."""
    result = simulate(two_site_scenario())
    rose = _events(result, "copy_queue_high")
    assert [e.time for e in rose] == [pytest.approx(10 / 0.1, rel=1e-9)]


def test_shared_link_is_split_fairly():
    """Two copies behind one link each get half of it, so each builds the same queue."""
    result = simulate(two_site_scenario(databases=2, link_logs_per_second=0.4))
    peaks = [_passive(result, db).copy_queue_peak for db in ("DB1", "DB2")]
    assert peaks == pytest.approx([1440.0, 1440.0], rel=0.005)


def test_time_average_matches_triangle_area():
    """A queue rising to P over T1 and draining over T2 averages P·(T1 + T2) / 2 / duration."""
    result = simulate(two_site_scenario())
    peak, rise, fall = 1440.0, 4 * 3600.0, 1440.0 / 0.1
    assert _passive(result).copy_queue_mean == pytest.approx(peak * (rise + fall) / 2 / (12 * 3600), rel=0.005)


@pytest.mark.parametrize("databases,link", [(1, 0.2), (2, 0.4)])
def test_fluid_and_per_log_agree(databases, link):
    """Fluid and per-log engines agree within 2% on peak and time-averaged copy queue."""
    scenario = two_site_scenario(databases=databases, link_logs_per_second=link)
    fluid = simulate(scenario, mode="fluid")
    per_log = simulate(scenario, mode="per_log")
    for db in [f"DB{i + 1}" for i in range(databases)]:
        a, b = _passive(fluid, db), _passive(per_log, db)
        assert b.copy_queue_peak == pytest.approx(a.copy_queue_peak, rel=0.02)
        assert b.copy_queue_mean == pytest.approx(a.copy_queue_mean, rel=0.02)


def test_per_log_counts_whole_logs():
    """The per-log engine generates exactly the day's logs and reports whole queue lengths."""
    # 11520 logs a day; 23:30:15 is 1.5 logs (15 s at 0.1 logs/s) short of a whole count.
    result = simulate(two_site_scenario(duration="23h30m15s"), mode="per_log")
    assert result.database_records[0].logs_generated == 11520 - 180 + 1
    assert float(_passive(result).copy_queue_peak).is_integer()


def test_copy_behind_failed_link_catches_up():
    """A copy whose link is down builds its queue at g and catches up after the link returns."""
    timeline = [
        {"at": "6h", "action": "fail_link", "link": "wan"},
        {"at": "7h", "action": "restore_link", "link": "wan"},
    ]
    scenario = two_site_scenario(link_logs_per_second=1.0, timeline=timeline)
    sim = Simulation(scenario)
    sim.run_until(7 * 3600)
    copy_queue, _ = sim.replication.queues()
    assert copy_queue[1] == pytest.approx(0.1 * 3600, rel=1e-9)  # g' = 0.1 logs/s for an hour
    sim.run_until(12 * 3600)
    result = sim.result()
    assert sim.replication.queues()[0][1] == 0.0
    kinds = [e.kind for e in result.event_records]
    assert kinds.index("copy_disconnected") < kinds.index("copy_reconnected")
    # Catch-up drains at c - g' = 0.9 logs/s: the queue falls below 10 at 7 h + 350 / 0.9 s.
    normal = _events(result, "copy_queue_normal")
    assert normal[0].time == pytest.approx(7 * 3600 + (360 - 10) / 0.9, rel=1e-9)


def test_suspended_copy_blocks_truncation():
    """While a passive copy is suspended the active's log volume grows by every log generated."""
    timeline = [
        {"at": "5h", "action": "suspend_copy", "database": "DB1", "server": "MBX-B"},
        {"at": "8h", "action": "resume_copy", "database": "DB1", "server": "MBX-B"},
    ]
    scenario = two_site_scenario(link_logs_per_second=10.0, timeline=timeline)
    result = simulate(scenario)
    volume = result.log_volume.set_index("time")["DB1"]
    assert volume.loc[5 * 3600] == pytest.approx(0.0, abs=1e-6)
    assert volume.loc[8 * 3600] == pytest.approx(0.1 * 3 * 3600, rel=1e-6)
    # After the resume the copy catches up at 10 logs/s and the logs are truncated again.
    assert volume.loc[12 * 3600] == pytest.approx(0.0, abs=1e-6)
    assert _passive(result).copy_queue_peak == pytest.approx(0.1 * 3 * 3600, rel=1e-6)


def test_suspended_copy_fills_log_volume_and_dismounts():
    """A suspension longer than the log volume lasts dismounts the database when it fills."""
    timeline = [{"at": "5h", "action": "suspend_copy", "database": "DB1", "server": "MBX-B"}]
    scenario = two_site_scenario(link_logs_per_second=10.0, timeline=timeline, log_volume_size="500MB")
    result = simulate(scenario)
    full = _events(result, "log_volume_full")
    assert [e.time for e in full] == [pytest.approx(5 * 3600 + 500 / 0.1, rel=1e-9)]
    assert _events(result, "database_dismounted")[0].database == "DB1"
    generated = result.database_records[0].logs_generated
    assert generated == pytest.approx(4 * 3600 * 0.3 + 3600 * 0.1 + 500, rel=1e-9)


def test_lagged_copy_holds_its_lag_window():
    """A lagged copy's replay queue is the logs generated in its lag window, and it replays only those older."""
    scenario = two_site_scenario(link_logs_per_second=10.0, lag="2h", duration="24h")
    result = simulate(scenario)
    series = result.timeseries.set_index("time")["replay_queue"]
    # 2 h of history before midnight at 0.1 logs/s, then the lag window slides over the 0.3 logs/s hours.
    assert series.loc[0.0] == pytest.approx(720.0, rel=1e-6)
    assert series.loc[2 * 3600] == pytest.approx(0.3 * 7200, rel=1e-6)
    assert series.loc[5 * 3600] == pytest.approx(0.3 * 3600 + 0.1 * 3600, rel=1e-6)
    assert series.loc[12 * 3600] == pytest.approx(720.0, rel=1e-6)
    assert _passive(result).copy_queue_peak == 0.0


def test_lagged_copy_per_log_matches_fluid():
    """The per-log engine's lagged copy holds the same replay queue as the fluid one."""
    scenario = two_site_scenario(link_logs_per_second=10.0, lag="2h", duration="6h")
    fluid = simulate(scenario).timeseries.set_index("time")["replay_queue"]
    per_log = simulate(scenario, mode="per_log").timeseries.set_index("time")["replay_queue"]
    np.testing.assert_allclose(per_log.to_numpy(), fluid.to_numpy(), atol=2.0)


def test_shipping_falls_back_to_mapi_and_stays():
    """Losing the replication network moves shipping to MAPI; it does not move back by itself."""
    timeline = [
        {"at": "1h", "action": "fail_link", "link": "wan"},
        {"at": "2h", "action": "restore_link", "link": "wan"},
        {"at": "3h", "action": "suspend_copy", "database": "DB1", "server": "MBX-B"},
        {"at": "3h", "action": "resume_copy", "database": "DB1", "server": "MBX-B"},
    ]
    scenario = two_site_scenario(replication_network=True, timeline=timeline)
    result = simulate(scenario)
    moves = [(e.time, e.detail) for e in _events(result, "shipping_network_changed")]
    assert moves == [
        (3600.0, "log shipping moved from Repl to Mapi"),
        (3 * 3600.0, "log shipping moved from Mapi to Repl"),
    ]
    assert _events(result, "copy_disconnected") == []


def test_samples_cover_the_run():
    """Time series have one sample per interval from 0 to the end of the run inclusive."""
    result = simulate(two_site_scenario(sample_interval="1h"))
    assert list(result.sample_times) == [h * 3600.0 for h in range(13)]
    assert len(result.timeseries) == 13
