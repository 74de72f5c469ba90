"""`dagsim size`: WAN bandwidth and copy counts against answers computed here."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from availability_scenarios import n_copies
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config.schema import Scenario
from dagsim.sizing import size_copies, size_wan, with_copies

MIB = 1024**2
DAY = 86400.0


def two_sites(hourly: list[float], logs_per_day: float, databases: int = 2, compression: str = "disabled") -> Scenario:
    """Active copies in site A, one passive copy each in site B, over the link AB."""
    return Scenario.model_validate(
        {
            "name": "wan",
            "sites": [{"name": "A"}, {"name": "B"}],
            "links": [{"name": "AB", "sites": ["A", "B"], "bandwidth": "1Gbps"}],
            "dag": {"witness": {"host": "FSW", "site": "A"}, "network_compression": compression},
            "servers": [{"name": "A1", "site": "A"}, {"name": "B1", "site": "B"}],
            "databases": [
                {
                    "name": f"DB{i + 1}",
                    "logs_per_day": logs_per_day,
                    "hourly_distribution": [h / sum(hourly) for h in hourly],
                    "copies": [{"server": "A1", "activation_preference": 1}, {"server": "B1", "activation_preference": 2}],
                }
                for i in range(databases)
            ],
            "client_access": {"protocols": {}},
            "run": {"duration": "1d"},
        }
    )


def test_flat_generation_needs_k_copies_times_the_log_rate():
    """Flat generation g logs/s and k remote copies: the link needs k·g·(1 MiB), less the 10 logs a day may build."""
    logs_per_day = 40_000.0
    result = size_wan(two_sites([1] * 24, logs_per_day), "AB", tolerance=0.002)
    g = logs_per_day / DAY
    k = 2
    # Each copy gets C / k; its queue after the day is (g - C / (k MiB)) * T logs, under 10 iff:
    expected = k * MIB * (g - 10 / DAY)
    assert result.required == pytest.approx(expected, rel=0.003)
    assert result.static_peak == pytest.approx(k * g * MIB, rel=1e-9)
    assert result.static_mean == pytest.approx(k * g * MIB, rel=1e-9)


def test_compression_scales_the_answer():
    """With InterSubnetOnly compression each log puts compression_ratio MiB on the link."""
    logs_per_day = 40_000.0
    plain = size_wan(two_sites([1] * 24, logs_per_day), "AB", tolerance=0.002)
    packed = size_wan(two_sites([1] * 24, logs_per_day, compression="inter_subnet_only"), "AB", tolerance=0.002)
    ratio = Scenario.model_fields["dag"].default.compression_ratio
    assert packed.bytes_per_log == pytest.approx(ratio * MIB)
    assert packed.required == pytest.approx(plain.required * ratio, rel=0.005)


def test_a_peak_hour_is_absorbed_by_the_queue_limit():
    """One peak hour and a limit of L logs: the answer is k·MiB·(p − L/3600), between the mean and peak figures."""
    hourly = [1.0] * 24
    hourly[10] = 6.0  # the 10:00 hour carries six times the others
    logs_per_day = 58_000.0
    limit = 400.0
    result = size_wan(two_sites(hourly, logs_per_day), "AB", max_copy_queue=limit, tolerance=0.002)
    k = 2
    share = [h / sum(hourly) for h in hourly]
    peak = logs_per_day * share[10] / 3600  # logs/s in the peak hour
    base = logs_per_day * share[0] / 3600
    expected = k * MIB * (peak - limit / 3600)
    assert expected / k > base * MIB  # the queue drains after the peak hour: the formula holds
    assert result.static_mean < result.required < result.static_peak
    assert result.required == pytest.approx(expected, rel=0.004)


def test_what_if_rows_report_queue_time_and_logs_at_risk():
    """Below the answer the copies fall behind (and would lose logs on a site failure); above it they do not."""
    logs_per_day = 40_000.0
    scenario = two_sites([1] * 24, logs_per_day)
    need = 2 * MIB * logs_per_day / DAY
    result = size_wan(scenario, "AB", what_if=(need * 0.9, need * 1.1))
    short, ample = result.what_if
    behind = (logs_per_day / DAY - 0.9 * logs_per_day / DAY) * DAY  # per copy, by the end of the day
    assert not short.meets and short.peak_copy_queue == pytest.approx(behind, rel=0.01)
    assert short.logs_lost_on_site_failure == math.floor(short.peak_copy_queue + 1e-9)
    assert short.time_above_10 > 20 * 3600
    assert ample.meets and ample.peak_copy_queue < 1 and ample.logs_lost_on_site_failure == 0


def volume_copies(servers: int, crews: int | None = None) -> Scenario:
    """``servers`` servers, one database with one copy; only database volumes fail; instant failovers."""
    failures = {"database_volumes": {"time_to_failure": "30d", "time_to_repair": "1d"}, "replica_duration": "1y"}
    if crews is not None:
        failures["repair_crews"] = crews
    data = n_copies(servers, failures=failures).model_dump(mode="json", exclude_none=True)
    data["databases"][0]["copies"] = data["databases"][0]["copies"][:1]
    return Scenario.model_validate(data)


def test_copies_answer_for_independent_repairs_is_the_smallest_n_with_q_to_the_n_below_target():
    """Independent repairs: n copies are down q^n of the time; the answer is the first n under the target."""
    q = 1 / 31
    target = 1 - (q**3 + q**4) / 2  # between three and four copies
    result = size_copies(volume_copies(5), target)
    assert result.answer == 4
    assert [p.unavailability for p in result.points] == pytest.approx([q, q**2, q**3, q**4], rel=1e-9)
    assert [p.verdict for p in result.points] == ["misses", "misses", "misses", "meets"]


def test_copies_answer_with_one_crew_follows_the_birth_death_chain():
    """One repair crew: all n copies down has the birth-death chain's probability, so more copies may be needed."""
    r = 1 / 30  # λ / μ

    def all_down(n: int) -> float:
        weights = [math.factorial(n) // math.factorial(n - j) * r**j for j in range(n + 1)]
        return weights[-1] / sum(weights)

    target = 1 - (all_down(3) + (1 / 31) ** 3) / 2  # independent repairs would stop at 3 copies
    assert all_down(3) > (1 / 31) ** 3
    result = size_copies(volume_copies(5, crews=1), target)
    expected = next(n for n in range(1, 6) if all_down(n) <= 1 - target)
    assert result.answer == expected == 4
    assert result.points[2].unavailability == pytest.approx(all_down(3), rel=1e-9)


def test_fast_judges_other_laws_at_the_steady_state_of_their_means():
    """--fast: lognormal disk repairs rule out the Markov methods; fast Monte Carlo judges each count,
    and n copies on independent disks are down u^n of the time, u = E[TTR] / (E[TTF] + E[TTR])."""
    data = volume_copies(5).model_dump(mode="json", exclude_none=True)
    data["failures"]["database_volumes"]["time_to_repair"] = {"distribution": "lognormal", "median": "1d", "p95": "3d"}
    scenario = Scenario.model_validate(data)
    sigma = math.log(3) / 1.6448536269514722
    mean_repair = DAY * math.exp(sigma**2 / 2)
    u = mean_repair / (30 * DAY + mean_repair)
    target = 1 - (u**2 + u**3) / 2  # two copies miss it, three meet it
    result = size_copies(scenario, target, years=400, seed=4, fast=True)
    assert [p.method for p in result.points] == ["fast", "fast", "fast"]
    assert result.answer == 3
    for n, point in enumerate(result.points, 1):
        # The 95 % interval widened to 99.9 %: a right estimator misses once in a thousand.
        assert abs(point.unavailability - u**n) <= (point.high - point.low) / 2 * 3.291 / 1.960


def test_new_copies_go_to_the_other_site_first():
    """Adding copies spreads a database over sites before doubling up in one."""
    scenario = two_sites([1] * 24, 1000.0)
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["servers"] += [{"name": "A2", "site": "A"}, {"name": "B2", "site": "B"}]
    data["databases"] = data["databases"][:1]
    data["databases"][0]["copies"] = data["databases"][0]["copies"][:1]  # only A1
    grown = with_copies(Scenario.model_validate(data), 3)
    copies = grown.databases[0].copies
    assert [c.server for c in copies] == ["A1", "B1", "A2"]
    assert [c.activation_preference for c in copies] == [1, 2, 3]


def invoke(*args: str):
    return CliRunner().invoke(app, ["size", *args])


def test_cli_size_wan_prints_both_answers_and_refuses_unknown_links(tmp_path):
    """`dagsim size wan` prints the dynamic and static figures; a misspelt link is exit 2 with a suggestion."""
    path = tmp_path / "wan.yaml"
    path.write_text(yaml.safe_dump(two_sites([1] * 24, 40_000.0).model_dump(mode="json")))
    result = invoke("wan", str(path), "--link", "AB", "--what-if", "5Mbps,20Mbps")
    assert result.exit_code == 0, result.output
    assert "needed (dynamic)" in result.output and "static, peak hour" in result.output
    assert result.output.count("meets") + result.output.count("misses") >= 2
    wrong = invoke("wan", str(path), "--link", "ABB")
    assert wrong.exit_code == 2 and "did you mean 'AB'" in wrong.output


def test_cli_size_copies_answers_and_refuses_a_bad_target():
    """`dagsim size copies --target 99.9999` names the count; a target above 100 % is exit 2."""
    scenario = str(Path(__file__).resolve().parent.parent / "scenarios" / "availability-four-copies.yaml")
    result = invoke("copies", scenario, "--target", "99.9999")
    assert result.exit_code == 0, result.output
    assert "answer: 3 copies per database" in result.output
    bad = invoke("copies", scenario, "--target", "120")
    assert bad.exit_code == 2 and "between 0 and 100" in bad.output


def test_cli_size_copies_fast_judges_the_preferred_architecture(tmp_path):
    """`--fast` sizes a scenario with lognormal repairs and patching, which the Markov methods
    refuse, by fast Monte Carlo: every count tried is judged "fast"."""
    scenario = str(Path(__file__).resolve().parent.parent / "scenarios" / "availability-preferred-architecture.yaml")
    result = invoke("copies", scenario, "--target", "90", "--fast", "--years", "20", "--max-copies", "2")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.strip()[:1].isdigit()]
    assert rows and all(row[1] == "fast" for row in rows)


def test_the_daily_mean_is_a_floor_however_large_the_limit():
    """A limit no one-day run can reach still leaves the mean: below it the queue grows every day."""
    hourly = [1.0] * 24
    hourly[10] = 6.0
    result = size_wan(two_sites(hourly, 40_000.0), "AB", max_copy_queue=1e9, tolerance=0.002)
    assert result.static_mean < result.static_peak / 1.1
    assert result.required == pytest.approx(result.static_mean, rel=0.003)
    assert result.required >= result.static_mean * (1 - 1e-12)


def test_a_recovery_point_objective_sizes_the_link_by_the_age_of_missing_mail():
    """One peak hour of p logs/s drained at c logs/s per copy leaves mail 3600 (p - c) / c s old at worst;
    an RPO of R needs c = 3600 p / (3600 + R)."""
    hourly = [1.0] * 24
    hourly[10] = 6.0
    logs_per_day = 58_000.0
    rpo = 1800.0
    result = size_wan(two_sites(hourly, logs_per_day), "AB", rpo=rpo, tolerance=0.002)
    peak = logs_per_day * 6 / sum(hourly) / 3600
    expected = 2 * MIB * 3600 * peak / (3600 + rpo)
    assert result.static_mean < expected < result.static_peak
    assert result.required == pytest.approx(expected, rel=0.01)
    point = max(result.points, key=lambda p: p.bandwidth if p.meets else -1)
    assert point.recovery_point <= rpo


def two_datacenters() -> Scenario:
    """Two members in each of two datacenters, the witness beside DC1's; servers and sites fail."""
    return Scenario.model_validate(
        {
            "name": "two-datacenters",
            "sites": [{"name": "DC1"}, {"name": "DC2"}],
            "links": [{"name": "WAN", "sites": ["DC1", "DC2"], "bandwidth": "1Gbps", "latency": "10ms"}],
            "dag": {"witness": {"host": "FSW", "site": "DC1"}},
            "servers": [{"name": n, "site": s} for n, s in (("M1", "DC1"), ("M2", "DC1"), ("M3", "DC2"), ("M4", "DC2"))],
            "databases": [
                {"name": "DB1", "copies": [{"server": "M1", "activation_preference": 1}, {"server": "M3", "activation_preference": 2}]}
            ],
            "failures": {
                "servers": {"time_to_failure": "3y", "time_to_repair": "1d"},
                "sites": {"time_to_failure": "2y", "time_to_repair": "8h"},
                "replica_duration": "1y",
            },
            "client_access": {"protocols": {}},
        }
    )


def test_a_third_site_for_the_witness_can_change_the_answer():
    """With the witness beside DC1's members, losing DC1 loses quorum whatever the copies (about 8h / 2y
    of the time); in a third site the survivors keep quorum and a DR copy serves."""
    from dagsim.availability.markov import exact_availability
    from dagsim.sizing.copies import with_witness_in_third_site

    scenario = two_datacenters()
    site_down = (8 / 24) / (2 * 365 + 8 / 24)
    assert exact_availability(with_copies(scenario, 4)).structural_unavailability > site_down
    result = size_copies(scenario, 0.9999)
    assert result.answer is None
    assert result.third_site_answer is not None
    moved = with_witness_in_third_site(scenario)
    expected = next(n for n in range(1, 5) if exact_availability(with_copies(moved, n)).unavailability <= 1e-4)
    assert result.third_site_answer == expected
    assert with_witness_in_third_site(moved) is None  # already in a site without members


def test_lagged_alternative_is_judged_by_monte_carlo():
    """--lagged judges the answer's count with its last copy lagged, by crude Monte Carlo, and says so."""
    from dagsim.availability.study import availability

    result = size_copies(volume_copies(3), 0.99, lagged=7 * DAY, years=10, seed=2)
    assert result.answer == 2
    point = result.lagged
    assert point.method == "crude" and point.copies == 2
    grown = with_copies(volume_copies(3), 2)
    data = grown.model_dump(mode="json", exclude_none=True)
    data["databases"][0]["copies"][-1]["replay_lag_time"] = 7 * DAY
    direct = availability(Scenario.model_validate(data), years=10, seed=2, client_outages=False).headline
    assert direct.value is not None
    assert (point.unavailability, point.low, point.high) == (direct.value, direct.low, direct.high)


def test_cli_refuses_bad_duration_options(tmp_path):
    """--rpo that is not a duration and --lagged beyond 14 days are exit 2 with the option named."""
    path = tmp_path / "wan.yaml"
    path.write_text(yaml.safe_dump(two_sites([1] * 24, 40_000.0).model_dump(mode="json")))
    rpo = invoke("wan", str(path), "--link", "AB", "--rpo", "soon")
    assert rpo.exit_code == 2 and "--rpo" in rpo.output
    scenario = str(Path(__file__).resolve().parent.parent / "scenarios" / "availability-two-copies.yaml")
    lagged = invoke("copies", scenario, "--target", "99.9", "--lagged", "20d")
    assert lagged.exit_code == 2 and "--lagged must be positive and at most 14d" in lagged.output
