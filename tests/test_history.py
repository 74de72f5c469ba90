"""Mount history: who had each database mounted when, as plots, report and checks read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import two_site_scenario

import dagsim
from dagsim.history import active_spans, mount_intervals, outage_seconds

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _uncovered(result, database):
    """Seconds of the run no mount interval covers, worked out from the intervals alone."""
    t, gap = 0.0, 0.0
    for interval in sorted(mount_intervals(result, database), key=lambda i: i.start):
        gap += max(interval.start - t, 0.0)
        t = max(t, interval.end)
    return gap + max(result.duration - t, 0.0)


def test_a_failover_ends_one_interval_and_starts_the_next():
    """After a server failure the old active's interval ends at the dismount and the target's starts at the mount."""
    result = dagsim.simulate(SCENARIOS / "server-failure.yaml")
    record = next(r for r in result.failover_records if r.database == "DB01")
    intervals = mount_intervals(result, "DB01")
    assert [(i.server, i.start) for i in intervals] == [("RED-MBX1", 0.0), ("RED-MBX2", record.mounted)]
    assert intervals[0].end == pytest.approx(record.failure, abs=1.0)
    assert intervals[-1].end == result.duration
    assert outage_seconds(result, "DB01") == pytest.approx(record.mounted - intervals[0].end)


def test_a_switchover_dismounts_its_source_when_the_target_is_chosen():
    """A switchover's source stops being mounted at selection, though no dismount event is recorded."""
    timeline = [{"at": "1h", "action": "switchover_database", "database": "DB1", "target": "MBX-B"}]
    result = dagsim.simulate(two_site_scenario(timeline=timeline, duration="3h", link_logs_per_second=1.0))
    (record,) = result.failover_records
    first, second = mount_intervals(result, "DB1")
    assert (first.server, first.end) == ("MBX-A", record.selection_done)
    assert (second.server, second.start) == ("MBX-B", record.mounted)
    assert outage_seconds(result, "DB1") == pytest.approx(record.mounted - record.selection_done)


def test_a_split_brain_shows_two_overlapping_intervals():
    """Without DAC a stale partition mounts a second copy: two intervals overlap, and the spans stay mounted."""
    result = dagsim.simulate(SCENARIOS / "library" / "split-brain-without-dac.yaml")
    doubled = [e.database for e in result.event_records if e.kind == "split_brain"]
    assert doubled
    intervals = mount_intervals(result, doubled[0])
    overlaps = [
        (a, b) for i, a in enumerate(intervals) for b in intervals[i + 1 :]
        if a.server != b.server and max(a.start, b.start) < min(a.end, b.end)
    ]  # fmt: skip
    assert overlaps
    a, b = overlaps[0]
    both = (max(a.start, b.start), min(a.end, b.end))
    assert all(s.mounted for s in active_spans(result, doubled[0]) if s.start < both[1] and s.end > both[0])


@pytest.mark.parametrize(
    "name", ["server-failure.yaml", "site-failure-dac.yaml", "quorum-loss.yaml", "library/split-brain-without-dac.yaml"]
)
def test_spans_and_intervals_agree_on_the_outage(name):
    """The time no interval covers is exactly the time the spans show dismounted, for every database."""
    result = dagsim.simulate(SCENARIOS / name)
    for database in (d.name for d in result.scenario.databases):
        spans = active_spans(result, database)
        assert spans[0].start == 0.0 and spans[-1].end == result.duration
        assert all(a.end == b.start for a, b in zip(spans, spans[1:], strict=False))
        assert outage_seconds(result, database) == pytest.approx(_uncovered(result, database), abs=1e-9)
