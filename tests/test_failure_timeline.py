"""Failure models become timelines: streams, repair crews, overlapping reasons, maintenance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from availability_scenarios import n_copies
from scipy import stats

from dagsim.availability.sampling import draw
from dagsim.availability.streams import component_generator, replica_sequence
from dagsim.availability.timeline import failure_timeline
from dagsim.config.failures import YEAR, Lognormal, Weibull
from dagsim.config.schema import Scenario

DAY = 86400.0


def plain(actions) -> list[tuple]:
    """Actions as comparable tuples (time in hours, kind, subject)."""
    out = []
    for a in actions:
        subject = getattr(a, "server", None) or getattr(a, "site", None) or getattr(a, "link", None) or ""
        database = getattr(a, "database", None)
        out.append((round(a.at / 3600, 9), a.action, f"{database}\\{subject}" if database else subject))
    return out


def test_same_seed_same_timeline_and_seeds_differ():
    """A replica's timeline is a pure function of (scenario, seed, replica); other seeds or replicas differ."""
    scenario = n_copies(2, length="30d")
    first = failure_timeline(scenario, 7, 3, 30 * DAY)
    assert plain(first) == plain(failure_timeline(scenario, 7, 3, 30 * DAY))
    assert plain(first) != plain(failure_timeline(scenario, 8, 3, 30 * DAY))
    assert plain(first) != plain(failure_timeline(scenario, 7, 4, 30 * DAY))


def test_replica_stream_is_the_spawned_child():
    """Replica i's sequence is child i of SeedSequence(seed).spawn, independent of how many are spawned."""
    children = np.random.SeedSequence(42).spawn(5)
    for i in (0, 4):
        assert replica_sequence(42, i).generate_state(4).tolist() == children[i].generate_state(4).tolist()


def test_adding_a_component_leaves_other_draws_unchanged():
    """Giving links (or one more server) failures does not change the draws of the existing servers."""
    base = n_copies(2, length="30d")
    data = base.model_dump(mode="json")
    data["servers"].append({"name": "MBX3", "site": "A"})
    data["dag"].pop("witness")
    bigger = Scenario.model_validate(data)

    def of(actions, server):
        return [row for row in plain(actions) if row[2] == server]

    small = failure_timeline(base, 5, 0, 30 * DAY)
    large = failure_timeline(bigger, 5, 0, 30 * DAY)
    assert of(large, "MBX3")
    for server in ("MBX1", "MBX2"):
        assert of(small, server) == of(large, server) and of(small, server)


def fixed(ttf: str, ttr: str) -> dict:
    return {
        "time_to_failure": {"distribution": "fixed", "value": ttf},
        "time_to_repair": {"distribution": "fixed", "value": ttr},
    }


def test_one_repair_crew_queues_repairs_first_in_first_out():
    """With one crew, two servers failing together are repaired one after the other, in order."""
    scenario = n_copies(2, failures={"servers": fixed("10h", "4h"), "repair_crews": 1, "replica_duration": "1d"})
    assert plain(failure_timeline(scenario, 1, 0, DAY)) == [
        (10.0, "fail_server", "MBX1"),
        (10.0, "fail_server", "MBX2"),
        (14.0, "restore_server", "MBX1"),
        (18.0, "restore_server", "MBX2"),
    ]  # MBX1's next failure (14h + 10h) falls at the end of the day: not played
    unlimited = n_copies(2, failures={"servers": fixed("10h", "4h"), "replica_duration": "1d"})
    assert [row[0] for row in plain(failure_timeline(unlimited, 1, 0, DAY))] == [10.0, 10.0, 14.0, 14.0]


def test_crew_queue_matches_an_independent_fifo_computation():
    """Random failures with one crew: the timeline equals a FIFO single-server queue computed here."""
    scenario = n_copies(2, failures={"servers": {"time_to_failure": "2d", "time_to_repair": "12h"}, "repair_crews": 1, "replica_duration": "60d"})
    horizon = 60 * DAY
    streams = {name: component_generator(3, 0, "servers", name) for name in ("MBX1", "MBX2")}
    next_failure = {name: streams[name].exponential(2 * DAY) for name in streams}
    events = []
    crew_free = 0.0
    # Event-by-event: the earliest failure goes to the crew when it is free.
    while True:
        name = min(next_failure, key=lambda n: (next_failure[n], n))
        failed = next_failure[name]
        if failed >= horizon:
            break
        events.append((failed, "fail_server", name))
        start = max(failed, crew_free)
        done = start + streams[name].exponential(12 * 3600)
        crew_free = done
        if done < horizon:
            events.append((done, "restore_server", name))
        next_failure[name] = done + streams[name].exponential(2 * DAY) if done < horizon else math.inf
    expected = sorted(events, key=lambda e: e[0])
    got = [(a.at, a.action, a.server) for a in failure_timeline(scenario, 3, 0, horizon)]
    assert len(got) > 10
    assert [g[1:] for g in got] == [e[1:] for e in expected]
    assert np.allclose([g[0] for g in got], [e[0] for e in expected])


def test_server_failing_inside_a_failed_site_stays_down():
    """restore_site starts every host, so a server still failed on its own is failed again at once."""
    scenario = n_copies(
        2,
        failures={
            "servers": fixed("2h", "10h"),
            "sites": fixed("4h", "2h"),
            "overrides": [{"component": "servers", "name": "MBX2", "time_to_failure": {"distribution": "fixed", "value": "20h"}}],
            "replica_duration": "1d",
        },
    )
    rows = [row for row in plain(failure_timeline(scenario, 1, 0, DAY)) if row[0] <= 12]
    assert rows == [
        (2.0, "fail_server", "MBX1"),
        (4.0, "fail_site", "A"),
        (6.0, "restore_site", "A"),
        (6.0, "fail_server", "MBX1"),  # its own repair ends at 12h
        (10.0, "fail_site", "A"),
        (12.0, "restore_site", "A"),
    ]


def test_maintenance_switches_over_then_takes_the_server_down():
    """Each server in turn: switchover, drain later down for the duration, then back."""
    scenario = n_copies(2, failures={"maintenance": {"servers": {"every": "2d", "duration": "2h", "drain": "10m"}}, "replica_duration": "2d"})
    rows = plain(failure_timeline(scenario, 1, 0, 2 * DAY))
    assert rows == [
        (12.0, "switchover_server", "MBX1"),
        (round(12 + 1 / 6, 9), "fail_server", "MBX1"),
        (round(14 + 1 / 6, 9), "restore_server", "MBX1"),
        (36.0, "switchover_server", "MBX2"),
        (round(36 + 1 / 6, 9), "fail_server", "MBX2"),
        (round(38 + 1 / 6, 9), "restore_server", "MBX2"),
    ]


def test_store_crash_restart_time_is_drawn_and_skipped_while_server_down():
    """crash_store carries the drawn restart; a crash due while its server is down is not played."""
    scenario = n_copies(
        2,
        failures={
            "store_crashes": {"time_to_failure": {"distribution": "fixed", "value": "3h"}, "time_to_repair": {"distribution": "fixed", "value": "90s"}},
            "servers": fixed("2h", "4h"),
            "overrides": [{"component": "servers", "name": "MBX2", "time_to_failure": {"distribution": "fixed", "value": "30h"}}],
            "replica_duration": "1d",
        },
    )
    actions = failure_timeline(scenario, 1, 0, DAY)
    crashes = [(round(a.at / 3600, 6), a.server) for a in actions if a.action == "crash_store"]
    assert all(a.restart_after == 90.0 for a in actions if a.action == "crash_store")
    # Crashes are due every 3h plus the 90 s restart: 3h, 6.025h, 9.05h, ...; MBX1 is down
    # 2-6h, 8-12h, 14-18h and 20-24h, so only its crashes while it runs are played.
    due = [round(k * 3 + (k - 1) * 0.025, 6) for k in range(1, 8)]
    assert [t for t, s in crashes if s == "MBX2"] == due
    assert [t for t, s in crashes if s == "MBX1"] == [6.025, 12.075, 18.125]


def test_volumes_links_witness_and_load_balancers_map_to_their_actions():
    """Every component class produces its own fail/restore actions."""
    failures = {
        kind: fixed("5h", "1h") for kind in ("database_volumes", "log_volumes", "witness", "cas_servers", "load_balancers")
    }
    failures["replica_duration"] = "1d"
    scenario = n_copies(2, failures=failures)
    kinds = {a.action for a in failure_timeline(scenario, 1, 0, DAY)}
    assert kinds == {
        "fail_database_volume", "restore_database_volume", "fail_log_volume", "restore_log_volume",
        "fail_witness", "restore_witness", "fail_cas", "restore_cas", "fail_load_balancer", "restore_load_balancer",
    }  # fmt: skip


def test_lognormal_draws_have_the_given_median_and_p95():
    """Empirical quantiles of lognormal draws match median and p95 within binomial tolerance."""
    rng = np.random.default_rng(11)
    spec = Lognormal(distribution="lognormal", median=4 * 3600.0, p95=24 * 3600.0)
    values = np.array([draw(spec, rng) for _ in range(4000)])
    # Below the median ~ Binomial(4000, 0.5), below p95 ~ Binomial(4000, 0.95); accept 4 sigma.
    for quantile, cut in ((0.5, spec.median), (0.95, spec.p95)):
        sigma = math.sqrt(quantile * (1 - quantile) / len(values))
        assert abs((values < cut).mean() - quantile) < 4 * sigma


def test_weibull_draws_follow_the_distribution():
    """Weibull draws pass a Kolmogorov-Smirnov test against scipy's Weibull with that shape and scale."""
    rng = np.random.default_rng(12)
    spec = Weibull(distribution="weibull", shape=1.7, scale=3 * YEAR)
    values = [draw(spec, rng) for _ in range(2000)]
    result = stats.kstest(values, stats.weibull_min(c=1.7, scale=3 * YEAR).cdf)
    assert result.pvalue > 0.001


def test_a_replica_ends_with_failed_components_still_failed():
    """Repairs after the end of the replica are not played."""
    scenario = n_copies(2, failures={"servers": fixed("20h", "10h"), "replica_duration": "1d"})
    assert [row[1] for row in plain(failure_timeline(scenario, 1, 0, DAY))] == ["fail_server", "fail_server"]


@pytest.mark.parametrize("replica", [0, 1])
def test_actions_are_in_time_order(replica):
    """Generated actions come sorted by time."""
    scenario = n_copies(2, length="30d")
    times = [a.at for a in failure_timeline(scenario, 9, replica, 30 * DAY)]
    assert times == sorted(times) and times
