"""Run-time overrides are checked by the scenario rules before a model is built."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config import ScenarioError, load_scenario
from dagsim.config.loader import load_scenario_with_marks
from dagsim.config.run_settings import resolve_run
from dagsim.model.simulation import Simulation

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FAILURE = SCENARIOS / "server-failure.yaml"


def test_per_log_override_of_a_failure_scenario_is_refused_at_the_action():
    """--mode per_log on a server failure scenario names each failure action's line and column."""
    scenario, marks = load_scenario_with_marks(FAILURE)
    with pytest.raises(ScenarioError) as caught:
        resolve_run(scenario, mode="per_log", marks=marks, filename=str(FAILURE))
    problems = caught.value.problems
    assert [p.path for p in problems] == ["timeline[0].action", "timeline[1].action"]
    expected = marks.value(("timeline", 0, "action"))
    assert (problems[0].line, problems[0].column) == (expected.line, expected.column)
    assert "fail_server" in problems[0].message


def test_python_api_refuses_the_same_override():
    """Simulation(..., mode='per_log') raises the same rule problems instead of failing mid-run."""
    with pytest.raises(ScenarioError) as caught:
        Simulation(load_scenario(FAILURE), mode="per_log")
    assert all(p.path.startswith("timeline[") for p in caught.value.problems)


def test_cli_run_with_per_log_exits_2_with_located_problems():
    """dagsim run FILE --mode per_log prints file:line:col problems and exits 2, no traceback."""
    outcome = CliRunner().invoke(app, ["run", str(FAILURE), "--mode", "per_log"])
    assert outcome.exit_code == 2
    assert f"{FAILURE}:" in outcome.output and "timeline[0].action" in outcome.output
    assert "Traceback" not in outcome.output


def test_overrides_are_applied_and_unchanged_settings_return_the_same_scenario():
    """resolve_run applies seed, duration and mode; without changes it returns the scenario itself."""
    scenario = load_scenario(FAILURE)
    assert resolve_run(scenario) is scenario
    resolved = resolve_run(scenario, seed=7, duration=scenario.run.duration / 2)
    assert (resolved.run.seed, resolved.run.duration) == (7, scenario.run.duration / 2)
    assert resolved.timeline == scenario.timeline


def test_unknown_mode_is_a_value_error():
    """A mode other than fluid or per_log is a programming error, as before."""
    with pytest.raises(ValueError):
        resolve_run(load_scenario(FAILURE), mode="batch")


def test_failover_in_flight_at_the_end_is_recorded_in_progress(tmp_path):
    """A server failing 10 s before the end leaves one 'in progress' failover per active database in failovers.csv."""
    scenario = load_scenario(FAILURE)
    failed = scenario.timeline[0]
    end = failed.at + 10.0
    result = Simulation(scenario, duration=end).run()
    active_there = [r for r in result.failover_records if r.source == failed.server]
    assert active_there, "the failed server held active databases"
    assert all(r.outcome == "in progress" and r.mounted is None for r in active_there)
    result.write(tmp_path)
    text = (tmp_path / "failovers.csv").read_text()
    assert text.count("in progress") == len(active_there)


def test_expectation_outcomes_are_exactly_the_domain_outcomes():
    """Every outcome Active Manager can record is one a failover_outcome expectation can name."""
    import typing

    from dagsim.config.expect import Outcome as ExpectOutcome
    from dagsim.domain import Outcome

    assert set(typing.get_args(ExpectOutcome)) == {o.value for o in Outcome}


def test_in_progress_outcome_can_be_checked_by_an_expectation():
    """A failover_outcome expectation of 'in progress' passes on a run that ends mid-failover, 'mounted' fails."""
    from dagsim.config import load_scenario_text
    from dagsim.expectations import evaluate

    scenario = load_scenario(FAILURE)
    failed = scenario.timeline[0]
    result = Simulation(scenario, duration=failed.at + 10.0).run()
    database = next(r.database for r in result.failover_records if r.source == failed.server)
    text = FAILURE.read_text(encoding="utf-8").replace("  duration: 1d", f"  duration: {failed.at + 10.0:.0f}s")
    text = text.replace("  - {at: 12h, action: restore_server, server: RED-MBX1}\n", "")
    text += (
        "expect:\n"
        f"  - {{check: failover_outcome, database: {database}, outcome: in progress}}\n"
        f"  - {{check: failover_outcome, database: {database}, outcome: mounted}}\n"
    )
    short = load_scenario_text(text)
    verdicts = evaluate(short, Simulation(short).run())
    assert [v.passed for v in verdicts] == [True, False]
