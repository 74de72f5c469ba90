"""Fast Monte Carlo (``--fast``) against answers computed here, and what it refuses or leaves out.

As in test_availability_statistics.py, the small scenarios fail over instantly unless a test
says otherwise, so a database is down exactly while no server can mount it. Each check is
that the study's own 99.9 % interval (``LEVEL``) holds the answer worked out here, so a
correct estimator fails a check once in a thousand seeds, and that the interval is narrow
enough for that to mean something.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from availability_scenarios import n_copies, probability_down
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from dagsim.availability import availability, mean_estimate
from dagsim.availability.fast import LEFT_OUT, NOT_MODELLED, FastRunner, NotFast
from dagsim.config.failures import YEAR
from dagsim.config.schema import Scenario

LAM = 1 / (3 * 3600)  # MTBF 3h
MU = 1 / 3600  # MTTR 1h
DAY = 86400.0
LEVEL = 0.999


def transient_unavailability(down_probability, length: float = DAY) -> float:
    """Time average over a replica that starts all up of P(database down at t)."""
    value, _ = integrate.quad(lambda t: down_probability(probability_down(LAM, MU, t)), 0, length, limit=200)
    return value / length


def _inside(estimate, exact: float) -> None:
    assert estimate.low <= exact <= estimate.high, (estimate, exact)
    assert estimate.high - estimate.low < 0.5 * exact  # not vacuous


def test_two_copies_inside_the_interval():
    """Two copies, a witness keeps quorum: down iff both servers are, (p(t))^2."""
    result = availability(n_copies(2), replicas=400, seed=11, method="fast", confidence=LEVEL)
    _inside(result.headline, transient_unavailability(lambda p: p**2))


def test_three_copies_node_majority_inside_the_interval():
    """Three members, no witness: down iff at least two servers are (quorum), not only all three."""
    result = availability(n_copies(3), replicas=400, seed=12, method="fast", confidence=LEVEL)
    _inside(result.headline, transient_unavailability(lambda p: 3 * p**2 * (1 - p) + p**3))
    assert result.headline.low > transient_unavailability(lambda p: p**3)


def test_other_laws_give_the_steady_state_of_their_means():
    """Weibull failures and lognormal repairs: independent alternating components are down
    E[TTR] / (E[TTF] + E[TTR]) of the time whatever the laws, so two copies are down u^2 and
    below two usable copies 1 - (1 - u)^2 of the time (year-long replicas: the start is negligible)."""
    failures = {
        "servers": {
            "time_to_failure": {"distribution": "weibull", "shape": 2, "scale": "1d"},
            "time_to_repair": {"distribution": "lognormal", "median": "2h", "p95": "8h"},
        },
        "replica_duration": "1y",
    }
    result = availability(n_copies(2, failures=failures), replicas=60, seed=13, method="fast", confidence=LEVEL)
    ttf = DAY * math.gamma(1 + 1 / 2)
    sigma = math.log(8 / 2) / 1.6448536269514722
    ttr = 2 * 3600 * math.exp(sigma**2 / 2)
    u = ttr / (ttf + ttr)
    _inside(result.headline, u**2)
    below = mean_estimate([r.below_two_healthy[0] / r.duration for r in result.records], LEVEL)
    _inside(below, 1 - (1 - u) ** 2)


def test_failovers_and_their_seconds_by_hand():
    """availability-two-copies.yaml's model with Active Manager's default timings: each database
    fails over when its active server fails while the other is up, rate lam (1-u)^2, each costing
    detection + selection + the attempt to copy the last logs + mount; an outage (both down,
    entered at 2 lam u (1-u)) costs selection + mount on top of its length u^2."""
    scenario = _two_servers_one_site(failures={"servers": {"time_to_failure": "30d", "time_to_repair": "1d"}, "replica_duration": "1y"})
    result = availability(scenario, replicas=1000, seed=14, method="fast", confidence=LEVEL)
    lam, mu = 1 / (30 * DAY), 1 / DAY
    u = lam / (lam + mu)
    dag, timing = scenario.dag, scenario.active_manager
    failover = (
        dag.same_subnet_delay * dag.same_subnet_threshold
        + timing.selection_duration
        + timing.acll_timeout
        + timing.mount_duration
    )
    failover_rate = lam * (1 - u) ** 2
    outage_rate = 2 * lam * u * (1 - u)
    exact = u**2 + failover_rate * failover + outage_rate * (timing.selection_duration + timing.mount_duration)
    _inside(result.headline, exact)
    per_year = result.metric("failovers", "DB1")
    assert per_year.low <= failover_rate * YEAR <= per_year.high
    assert per_year.high - per_year.low < 0.1 * failover_rate * YEAR


def test_a_copy_that_missed_logs_waits_for_the_one_that_has_them():
    """With logs, the server that failed first comes back missing logs when the other failed
    second; GoodAvailability refuses it, and the database waits for the other server. The
    four-state chain worked out here (both up; one down, behind; both down; the one behind
    back, the other still down) gives the downtime: the last two states."""
    failures = {"servers": {"time_to_failure": "30d", "time_to_repair": "1d"}, "replica_duration": "1y"}
    instant = {key: 0 for key in ("failure_item_detection", "pam_move_delay", "selection_duration",
                                  "acll_timeout", "dismount_duration", "mount_duration")}  # fmt: skip
    scenario = _two_servers_one_site(failures=failures, timings=instant, logs_per_day=14_400)  # 10 a minute
    scenario = scenario.model_copy(update={"dag": scenario.dag.model_copy(update={"same_subnet_delay": 0})})
    lam, mu = 1 / (30 * DAY), 1 / DAY
    # States: 0 both up, 1 one down (behind), 2 both down, 3 the one behind up and the other down.
    q = np.array([
        [-2 * lam, 2 * lam, 0, 0],
        [mu, -(mu + lam), lam, 0],
        [0, mu, -2 * mu, mu],
        [mu, 0, lam, -(mu + lam)],
    ])  # fmt: skip
    a = np.vstack([q.T, np.ones(4)])
    pi = np.linalg.lstsq(a, np.r_[np.zeros(4), 1.0], rcond=None)[0]
    exact = pi[2] + pi[3]
    result = availability(scenario, replicas=2000, seed=17, method="fast", confidence=LEVEL)
    _inside(result.headline, exact)
    u = lam / (lam + mu)
    assert result.headline.low > 1.5 * u**2  # the refusal is most of it: u^2 alone would be half
    # Without logs nothing is missed, and the same failures give u^2.
    plain = _two_servers_one_site(failures=failures, timings=instant)
    plain = plain.model_copy(update={"dag": plain.dag.model_copy(update={"same_subnet_delay": 0})})
    _inside(availability(plain, replicas=2000, seed=17, method="fast", confidence=LEVEL).headline, u**2)


def test_one_repair_crew_queues_repairs():
    """repair_crews: 1 with two servers: both are down with the birth-death chain's chance
    2 (lam/mu)^2 / (1 + 2 lam/mu + 2 (lam/mu)^2), not u^2 as with a crew each."""
    failures = {"servers": {"time_to_failure": "2d", "time_to_repair": "12h"}, "repair_crews": 1, "replica_duration": "1y"}
    result = availability(n_copies(2, failures=failures), replicas=60, seed=15, method="fast", confidence=LEVEL)
    r = (1 / (2 * DAY)) / (1 / (12 * 3600))
    exact = 2 * r**2 / (1 + 2 * r + 2 * r**2)
    _inside(result.headline, exact)
    u = r / (1 + r)
    assert result.headline.low > u**2  # separate crews would be clearly less


def test_maintenance_switches_over_then_takes_the_server_down():
    """Monthly patching of two servers and nothing else: each of the 24 windows in a year first
    switches the server's active databases to the other server (dismount 5 s + mount 10 s), then
    leaves one usable copy for the hour the server is down; no failover, no failback, and the
    year is the same in every replica. DB1 starts on MBX1, patched first, so it moves in every
    window; DB2 starts on MBX2 and stays put in MBX1's first window, then moves with DB1."""
    failures = {"maintenance": {"servers": {"every": "30d", "duration": "1h", "drain": "15m"}}, "replica_duration": "1y"}
    scenario = _two_servers_one_site(failures=failures, timings={"dismount_duration": 5, "mount_duration": 10})
    result = availability(scenario, replicas=3, seed=16, method="fast", confidence=LEVEL)
    windows = sum(1 for k in range(2) for j in range(13) if (k + 0.5) * 15 * DAY + j * 30 * DAY < YEAR)
    assert windows == 24
    for record in result.records:
        assert record.downtime == pytest.approx((windows * 15.0, (windows - 1) * 15.0))
        assert record.below_two_healthy == pytest.approx((windows * 3600.0,) * 2)
        assert record.failovers == (0, 0)


def test_a_database_with_nowhere_to_go_stays_for_maintenance_and_goes_down():
    """One copy: the switchover finds no target, so the database stays mounted until the server
    goes down, then is down for the window and mounts again (selection + mount) at its end."""
    failures = {"maintenance": {"servers": {"every": "30d", "duration": "1h", "drain": "15m"}}, "replica_duration": "30d"}
    scenario = n_copies(1, failures=failures)
    record = FastRunner(scenario, 1).run(0)
    assert record.downtime == pytest.approx((3600.0,))  # instant mount: the hour down, no switchover
    assert record.failovers == (0,)


def test_a_lagged_copy_is_refused_by_switchovers_and_replays_its_lag_when_it_must_mount():
    """One copy and one copy lagged a day on two servers, patched monthly. MBX1's window cannot
    switch DB1 to the lagged copy (the lag pre-check), so DB1 stays until MBX1 goes down and
    then fails over to it, replaying a day of logs at the activation replay rate (14,400 logs
    at 2 a second: 7,200 s) before its 10 s mount. MBX2's window switches it back (10 s), and
    so on: 12 of each in a year."""
    failures = {"maintenance": {"servers": {"every": "30d", "duration": "1h", "drain": "15m"}}, "replica_duration": "1y"}
    data = n_copies(2, failures=failures).model_dump(mode="json", exclude_none=True)
    data["databases"][0]["logs_per_day"] = 14_400
    data["databases"][0]["copies"][1]["replay_lag_time"] = "1d"
    data["active_manager"]["mount_duration"] = 10
    record = FastRunner(Scenario.model_validate(data), 1).run(0)
    replay = 86400 * (14_400 / 86400) / 2.0
    assert replay == 7200
    assert record.failovers == (12,)
    assert record.downtime == pytest.approx((12 * (replay + 10) + 12 * 10,))


def test_same_seed_same_records_on_any_backend():
    """A fast study is a function of scenario, seed and replicas: 1 or 2 workers give the same records."""
    scenario = n_copies(2, failures={"servers": {"time_to_failure": "10d", "time_to_repair": "1d"}, "replica_duration": "1y"})
    serial = availability(scenario, replicas=24, seed=5, method="fast", confidence=LEVEL)
    pooled = availability(scenario, replicas=24, seed=5, method="fast", workers=2)
    assert serial.records == pooled.records
    other = availability(scenario, replicas=24, seed=6, method="fast", confidence=LEVEL)
    assert other.records != serial.records


def test_refuses_what_it_cannot_play_with_every_reason():
    """Dynamic quorum and copies added later are refused together, before any replica runs."""
    data = n_copies(2).model_dump(mode="json")
    data["dag"]["dynamic_quorum"] = True
    data["databases"][0]["copies"][1]["added"] = False
    with pytest.raises(NotFast) as refused:
        availability(Scenario.model_validate(data), replicas=2, method="fast", confidence=LEVEL)
    assert len(refused.value.reasons) == 2
    assert "dynamic_quorum" in refused.value.reasons[0]


def test_result_says_what_it_leaves_out():
    """A fast study's table, replica table and summary leave out what needs copy queues, and say so."""
    result = availability(n_copies(2), replicas=4, method="fast", confidence=LEVEL)
    assert not set(NOT_MODELLED) & set(result.table.metric)
    assert {"unavailability", "failovers", "below_two_healthy_copies", "quorum_losses"} <= set(result.table.metric)
    assert not [c for c in result.replica_figures.columns if c.startswith(("lossy", "logs_lost", "messages_lost"))]
    assert result.summary["method"] == "fast"
    assert result.summary["left_out"] == list(LEFT_OUT)
    assert not result.protocols  # no clients in a fast replica
    simulated = availability(n_copies(2), replicas=2)
    assert set(NOT_MODELLED) <= set(simulated.table.metric)


def test_a_replica_counts_quorum_losses():
    """Three members, no witness: every time a second server fails while one is down, quorum is lost."""
    record = FastRunner(n_copies(3), 3).run(0)
    # Reconstruct from the same draws: quorum lost exactly when the count of down servers reaches 2.
    assert record.quorum_losses >= 0
    result = availability(n_copies(3), replicas=200, seed=3, method="fast", confidence=LEVEL)
    losses = np.array([r.quorum_losses for r in result.records], dtype=float)
    downtime = np.array([r.downtime[0] for r in result.records])
    # Down time starts only with a quorum loss: a replica without one has none.
    assert np.all(downtime[losses == 0] == 0)
    assert np.all(downtime[losses > 0] > 0)


_LAWS = st.sampled_from([
    "12h",
    "3d",
    {"distribution": "weibull", "shape": 0.7, "scale": "2d"},
    {"distribution": "weibull", "shape": 3, "scale": "1d"},
])  # fmt: skip
_REPAIRS = st.sampled_from(["1h", {"distribution": "lognormal", "median": "1h", "p95": "6h"}, {"distribution": "fixed", "value": "3h"}])


@st.composite
def _failure_models(draw):
    failures: dict = {"servers": {"time_to_failure": draw(_LAWS), "time_to_repair": draw(_REPAIRS)}, "replica_duration": "20d"}
    if draw(st.booleans()):
        failures["database_volumes"] = {"time_to_failure": draw(_LAWS), "time_to_repair": draw(_REPAIRS)}
    if draw(st.booleans()):
        failures["store_crashes"] = {"time_to_failure": "2d", "time_to_repair": "2m"}
    if draw(st.booleans()):
        failures["maintenance"] = {"servers": {"every": "2d", "duration": "1h", "drain": "10m"}}
    crews = draw(st.sampled_from([None, 1, 2]))
    if crews is not None:
        failures["repair_crews"] = crews
    return failures


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 4), failures=_failure_models(), logs=st.sampled_from([0, 14_400]), index=st.integers(0, 50))
def test_any_failure_model_plays_within_its_bounds(n, failures, logs, index):
    """Any laws, crews, store crashes and maintenance: a replica is the same when played again,
    its times lie within the replica, and with no logs and instant failovers a database is down
    only while it has fewer than two usable copies (at most one, and that one cannot mount)."""
    data = n_copies(n, failures=failures).model_dump(mode="json", exclude_none=True)
    data["databases"][0]["logs_per_day"] = logs
    runner = FastRunner(Scenario.model_validate(data), 7)
    record = runner.run(index)
    assert record == runner.run(index)
    assert 0 <= record.below_two_healthy[0] <= record.duration + 1e-6
    assert 0 <= record.downtime[0] <= record.duration + 1e-6  # instant failovers: no seconds added
    assert record.failovers[0] <= record.failure_actions
    if logs == 0:
        assert record.downtime[0] <= record.below_two_healthy[0] + 1e-6


def _two_servers_one_site(*, failures: dict, timings: dict | None = None, logs_per_day: float = 0) -> Scenario:
    """Two copies of each of two databases on two servers in one site with a witness;
    Active Manager's default timings unless ``timings`` says; no logs unless ``logs_per_day``."""
    data = {
        "name": "two-servers",
        "sites": [{"name": "A"}],
        "dag": {"witness": {"host": "FSW", "site": "A"}},
        "servers": [{"name": "MBX1", "site": "A"}, {"name": "MBX2", "site": "A"}],
        "databases": [
            {"name": "DB1", "mailboxes": 100, "logs_per_day": logs_per_day,
             "copies": [{"server": "MBX1", "activation_preference": 1}, {"server": "MBX2", "activation_preference": 2}]},
            {"name": "DB2", "mailboxes": 100, "logs_per_day": logs_per_day,
             "copies": [{"server": "MBX2", "activation_preference": 1}, {"server": "MBX1", "activation_preference": 2}]},
        ],
        "client_access": {"protocols": {}},
        "failures": failures,
    }
    if timings:
        data["active_manager"] = timings
    return Scenario.model_validate(data)
