"""The pytest plugin: inert unless enabled; then one test item per scenario expectation."""

from __future__ import annotations

from helpers import TWO_MEMBER_FAILOVER

pytest_plugins = ["pytester"]

SCENARIO = TWO_MEMBER_FAILOVER + """\
expect:
  - {check: failover_within, database: DB1, duration: 30s}
  - {check: failover_target, database: DB1, server: MBX2}
  - {check: mounted_at, database: DB1, at: 30m, server: MBX2}
"""
EXPECT_LINE = SCENARIO.splitlines().index("expect:") + 2

# Counts the runs of whole scenarios, to show a file is simulated once for all its items.
COUNTING_CONFTEST = """
from dagsim.model.simulation import Simulation

RUNS = []
_run = Simulation.run

def _counted(self, *args, **kwargs):
    RUNS.append(self.scenario.name)
    return _run(self, *args, **kwargs)

Simulation.run = _counted

def pytest_sessionfinish(session):
    with open("runs.txt", "w") as out:
        out.write(str(len(RUNS)))

def pytest_unconfigure(config):
    Simulation.run = _run  # the inner session runs in this process: leave no patch behind
"""


def _project(pytester, scenario=SCENARIO):
    """A user's repository: a test module and a scenarios/ folder beside it."""
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    folder = pytester.mkdir("scenarios")
    (folder / "failover.yaml").write_text(scenario)
    (folder / "no-expectations.yaml").write_text(scenario.split("expect:")[0])
    return folder


def test_inert_when_not_enabled(pytester):
    """Without the option or ini setting, scenario files beside the tests produce no items."""
    _project(pytester)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "failover.yaml" not in result.stdout.str()
    assert "dagsim scenarios:" not in result.stdout.str()
    collected = pytester.runpytest("--collect-only", "-q", ".", "scenarios")
    assert "expect[" not in collected.stdout.str()


def test_enabled_by_option_one_item_per_expectation(pytester):
    """--dagsim-scenarios collects each expectation of each scenario file as a passing item."""
    _project(pytester)
    result = pytester.runpytest("-v", "--dagsim-scenarios=scenarios")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "scenarios/failover.yaml::expect[[]0[]]-failover_within PASSED*",
            "scenarios/failover.yaml::expect[[]1[]]-failover_target PASSED*",
            "scenarios/failover.yaml::expect[[]2[]]-mounted_at PASSED*",
        ]
    )
    assert "no-expectations.yaml" not in result.stdout.str()


def test_enabled_by_ini_setting(pytester):
    """The ini setting dagsim_scenarios enables the plugin for a plain `pytest` run."""
    _project(pytester)
    pytester.makeini("[pytest]\ndagsim_scenarios = scenarios\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["dagsim scenarios: *scenarios", "*failover.yaml::expect[[]2[]]-mounted_at PASSED*"])


def test_ini_setting_respects_explicit_test_paths(pytester):
    """With the ini setting, `pytest test_plain.py` still runs only that file."""
    _project(pytester)
    pytester.makeini("[pytest]\ndagsim_scenarios = scenarios\n")
    result = pytester.runpytest("test_plain.py")
    result.assert_outcomes(passed=1)


def test_wrong_expectation_fails_with_a_clear_message(pytester):
    """A wrong expectation fails, showing file:line, expected, measured and the failover record."""
    _project(pytester, SCENARIO.replace("duration: 30s}", "duration: 20s}"))
    result = pytester.runpytest("--dagsim-scenarios=scenarios")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"scenarios/failover.yaml:{EXPECT_LINE}: expect[[]0[]] failover_within DB1 failed",
            "  expected: mounted within 20s",
            "  measured: 26s",
            "  failover record behind it:",
            "    DB1 failover (server failure) from MBX1 at 0d 00:10:00: mounted on MBX2",
            "*FAILED scenarios/failover.yaml::expect[[]0[]]-failover_within*",
        ]
    )


def test_invalid_scenario_is_one_failing_item_with_located_problems(pytester):
    """A malformed expect block gives one failing `validate` item listing the located problem."""
    broken = SCENARIO.replace("server: MBX2}\n  - {check: mounted_at", "server: MBX9}\n  - {check: mounted_at")
    assert broken != SCENARIO
    _project(pytester, broken)
    result = pytester.runpytest("--dagsim-scenarios=scenarios")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "invalid scenario file:",
            f"  *failover.yaml:{EXPECT_LINE + 1}:* expect[[]1[]].server: server 'MBX9' is not defined*",
            "*FAILED scenarios/failover.yaml::validate*",
        ]
    )


def test_each_scenario_runs_once_for_all_its_items(pytester):
    """The scenario of a file is simulated once, however many expectation items it has."""
    _project(pytester)
    pytester.makeconftest(COUNTING_CONFTEST)
    result = pytester.runpytest("--dagsim-scenarios=scenarios")
    result.assert_outcomes(passed=4)
    assert (pytester.path / "runs.txt").read_text() == "1"


def test_items_carry_the_dagsim_marker(pytester):
    """Expectation items can be selected with `-m dagsim`."""
    _project(pytester)
    result = pytester.runpytest("--dagsim-scenarios=scenarios", "-m", "dagsim", "--strict-markers")
    result.assert_outcomes(passed=3, deselected=1)
