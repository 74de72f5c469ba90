"""`--exact`, `--rare` and `--compare`: the simulation against the Markov model, and the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dagsim.availability import availability, mean_estimate
from dagsim.availability.compare import FAST_YEARS, VERDICT_CONFIDENCE, Answer, _agree, compare
from dagsim.availability.markov import exact_availability
from dagsim.cli import app
from dagsim.config.loader import load_scenario
from dagsim.config.schema import Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FOUR = str(SCENARIOS / "availability-four-copies.yaml")


def invoke(*args: str):
    return CliRunner().invoke(app, ["availability", *args])


def without_logs(path: Path) -> Scenario:
    """The scenario with no mail: every copy stays current, so the mount dial never refuses one."""
    data = load_scenario(path).model_dump(mode="json", exclude_none=True)
    for database in data["databases"]:
        database["mailboxes"] = 0
    data["client_access"] = {"protocols": {}}
    return Scenario.model_validate(data)


def test_simulation_agrees_with_the_chain_when_copies_stay_current():
    """With no logs to miss, the simulated downtime (structure + failover time) is inside crude MC's interval of the exact answer."""
    scenario = without_logs(SCENARIOS / "availability-two-copies.yaml")
    exact = exact_availability(scenario)
    study = availability(scenario, years=100, seed=3, client_outages=False)
    head = study.headline
    assert head.low <= exact.unavailability <= head.high
    failovers = study.table.query("scope == 'dag' and metric == 'failovers'").iloc[0]
    expected = sum(d.failovers_per_year for d in exact.databases)
    assert failovers.low <= expected <= failovers.high


def test_the_mount_dial_makes_the_simulation_differ_and_compare_says_so():
    """With mail, a copy that missed logs is refused by the dial: crude MC sits above the chain, reported as a difference."""
    comparison = compare(load_scenario(SCENARIOS / "availability-two-copies.yaml"), years=100, seed=3)
    answers = {a.method: a for a in comparison.answers}
    assert answers["crude"].low > answers["exact"].value
    verdicts = dict((pair, agree) for pair, agree, _ in comparison.agreement)
    assert verdicts["exact vs crude"] is False
    assert verdicts["exact vs rare"] is True
    # Fast Monte Carlo keeps a copy that missed logs from mounting, as the simulation does:
    # it sides with the simulation, not with the chain.
    assert verdicts["exact vs fast"] is False
    assert verdicts["fast vs crude"] is True


def test_four_copies_all_agree():
    """On the shipped four-copy design exact, rare and crude agree, and fast Monte Carlo's
    99.9 % interval holds the exact answer (failovers make almost all of it: the chain puts an
    outage at a few in a billion of the time)."""
    comparison = compare(load_scenario(FOUR), years=40, seed=1)
    assert [a.method for a in comparison.answers] == ["exact", "rare", "fast", "crude"]
    verdicts = {pair: agree for pair, agree, _ in comparison.agreement}
    assert all(verdicts[pair] for pair in ("exact vs rare", "exact vs crude", "rare vs crude")), comparison.agreement
    exact, fast = comparison.results[0], comparison.results[2]
    assert fast.method == "fast" and fast.years == FAST_YEARS
    wide = mean_estimate([sum(r.downtime) / len(r.downtime) / r.duration for r in fast.records], 0.999)
    assert wide.low <= exact.unavailability <= wide.high
    # Not vacuous, though wider than failovers alone would make it: a replica that meets one of
    # the rare four-copy outages (a day long) carries much of the variance.
    assert wide.high - wide.low < exact.unavailability


def test_cli_exact_prints_figures_and_what_it_leaves_out(tmp_path):
    """--exact prints per-database figures and the list of what the Markov model leaves out; --out writes a tidy table."""
    out = tmp_path / "exact"
    result = invoke(FOUR, "--exact", "--out", str(out))
    assert result.exit_code == 0, result.output
    exact = exact_availability(load_scenario(FOUR))
    assert f"{exact.unavailability:.4g}" in result.output
    assert "leaves out" in result.output and "mount dial" in result.output
    table = pd.read_csv(out / "availability-exact.csv")
    row = table.query("scope == 'dag' and metric == 'unavailability'").iloc[0]
    assert row.estimate == pytest.approx(exact.unavailability, rel=1e-12)
    assert json.loads((out / "summary.json").read_text())["method"] == exact.method


def test_cli_rare_prints_interval_and_effective_sample_size():
    """--rare prints its interval, relative error and effective sample size."""
    result = invoke(FOUR, "--rare", "--max-cycles", "4000")
    assert result.exit_code == 0, result.output
    assert "effective sample size" in result.output
    assert "±" in result.output


def test_cli_compare_writes_the_side_by_side_table(tmp_path):
    """--compare prints the four methods and whether they agree, and writes comparison.csv."""
    out = tmp_path / "cmp"
    result = invoke(FOUR, "--compare", "--years", "4", "--max-cycles", "4000", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "exact vs rare" in result.output
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.method) == ["exact", "rare", "fast", "crude"]


def test_cli_refuses_lognormal_laws_for_exact_with_every_reason():
    """A scenario with lognormal repairs is refused by --exact with exit 2, each class named, and a pointer to Monte Carlo."""
    result = invoke(str(SCENARIOS / "availability-preferred-architecture.yaml"), "--exact")
    assert result.exit_code == 2
    assert "lognormal" in result.output and "failures.servers" in result.output
    assert "maintenance" in result.output
    assert "dagsim availability FILE" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--exact", "--rare"], "exclude each other"),
        (["--exact", "--years", "10"], "--years does not apply"),
        (["--rare", "--workers", "2"], "--workers does not apply"),
        (["--exact", "--precision", "0.1"], "--precision does not apply"),
        (["--rare", "--precision", "2"], "between 0 and 1"),
    ],
)
def test_cli_refuses_options_that_do_not_apply(args, message):
    """Options without effect on the chosen method are errors, not silently ignored."""
    result = invoke(FOUR, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_verdicts_judge_five_pairs_together_on_wider_intervals():
    """A value just outside a 95 % interval but inside the 99 % one agrees: five verdicts at 99 %
    hold together at 95 % (Bonferroni), so a right model is not called different one time in four."""
    assert VERDICT_CONFIDENCE == pytest.approx(0.99)
    exact = Answer("exact", 1.0, 1.0, 1.0, "")
    sampled = Answer("fast", 1.2, 1.05, 1.35, "", 0.98, 1.42)
    agree, why = _agree(exact, sampled)
    assert agree is True and "99%" in why
    agree, _ = _agree(exact, Answer("fast", 1.2, 1.05, 1.35, "", 1.01, 1.42))
    assert agree is False
    # Two intervals: judged on the wide ones too.
    assert _agree(Answer("rare", 1.0, 0.9, 1.1, "", 0.8, 1.2), sampled)[0] is True
    assert _agree(Answer("rare", 0.5, 0.45, 0.55, "", 0.4, 0.6), sampled)[0] is False
