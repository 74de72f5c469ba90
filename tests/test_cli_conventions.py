"""Command-line conventions: -h, --version, clock times for --at, case-insensitive database names."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import dagsim
from dagsim.cli import app
from dagsim.config.units import parse_moment

runner = CliRunner()
SERVER_FAILURE = str(Path(__file__).resolve().parent.parent / "scenarios" / "server-failure.yaml")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_the_version(flag):
    """--version and -V print 'dagsim X.Y.Z' and exit 0."""
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0 and result.output.strip() == f"dagsim {dagsim.__version__}"


@pytest.mark.parametrize("args", [["-h"], ["run", "-h"], ["new", "-h"]])
def test_short_help_flag_works_everywhere(args):
    """-h prints the same help as --help, for the tool and for each command."""
    short, long = runner.invoke(app, args), runner.invoke(app, [*args[:-1], "--help"])
    assert short.exit_code == 0 and "Usage:" in short.output and short.output == long.output


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("16:00", 57600.0), ("0d 16:00:00", 57600.0), ("1d 09:30", 120600.0), ("16h", 57600.0), ("1d2h30m", 95400.0), ("09:30:15", 34215.0)],
)
def test_moments_accept_durations_and_clock_times(text, seconds):
    """A moment is a duration from the start or a clock time as dagsim prints it."""
    assert parse_moment(text) == seconds


@pytest.mark.parametrize("text", ["25:00", "16:60", "16:5", "noon", "-1h"])
def test_impossible_moments_are_refused(text):
    """Clock times out of range and text that is neither form are errors, not guesses."""
    with pytest.raises(ValueError):
        parse_moment(text)


def test_status_at_a_clock_time_equals_the_same_duration():
    """`status --at 16:00` and `--at 0d 16:00:00` print what `--at 16h` prints."""
    outputs = [runner.invoke(app, ["status", SERVER_FAILURE, "--at", at, "--format", "csv"]) for at in ("16h", "16:00", "0d 16:00:00")]
    assert all(o.exit_code == 0 for o in outputs)
    assert outputs[0].output == outputs[1].output == outputs[2].output
    refused = runner.invoke(app, ["status", SERVER_FAILURE, "--at", "25:00"])
    assert refused.exit_code == 2 and "--at: invalid clock time '25:00'" in refused.output


def test_copy_status_takes_text_times():
    """dagsim.copy_status accepts at='16h' and at='16:00' as well as seconds."""
    scenario = dagsim.load_scenario(SERVER_FAILURE)
    by_seconds = dagsim.copy_status(scenario, at=16 * 3600)
    assert by_seconds.equals(dagsim.copy_status(scenario, at="16h"))
    assert by_seconds.equals(dagsim.copy_status(scenario, at="16:00"))


def test_database_names_are_case_insensitive_in_explain():
    """`explain --database db01` explains DB01, as Exchange names are case-insensitive."""
    lower, exact = (runner.invoke(app, ["explain", SERVER_FAILURE, "--database", name]) for name in ("db01", "DB01"))
    assert lower.exit_code == 0 and lower.output == exact.output and "DB01" in lower.output


@pytest.mark.parametrize(("seconds", "text"), [(26, "26s"), (2.5, "2.5s"), (2640, "44m"), (2850, "47m30s"), (7800, "2h10m"), (0.0, "0s")])
def test_table_durations_read_as_durations(seconds, text):
    """Failover phases and client outages print as 26s / 44m / 2h10m, not raw seconds."""
    from dagsim.text import short_duration

    assert short_duration(seconds) == text


def test_events_zero_prints_the_count_and_where_they_are(tmp_path):
    """--events 0 lists none but says how many and where; with --out the hint names that folder."""
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", SERVER_FAILURE, "--events", "0", "--out", str(out)])
    assert result.exit_code == 0
    assert f"Events: 48 (listed in {out}/events.csv; --events N prints the first N)" in result.output
    assert "copy_disconnected" not in result.output
    some = runner.invoke(app, ["run", SERVER_FAILURE, "--events", "2"])
    assert "... 46 more (see events.csv with --out DIR)" in some.output


def test_an_outage_still_running_at_the_end_is_flagged():
    """A client outage that has not ended when the run ends says so."""
    from test_client_access import _scenario

    from dagsim.text import render_client_outages

    result = dagsim.simulate(_scenario([{"at": "3h", "action": "fail_load_balancer", "site": "A"}]))
    table = render_client_outages(result)
    assert "not by run end" in table
    healed = dagsim.simulate(
        _scenario([{"at": "1h", "action": "fail_load_balancer", "site": "A"}, {"at": "1h5m", "action": "restore_load_balancer", "site": "A"}])
    )
    assert "not by run end" not in render_client_outages(healed) and " yes" in render_client_outages(healed)


def test_ctrl_c_exits_130_and_leaves_no_output(tmp_path, monkeypatch, capfd):
    """Ctrl-C during a run prints one line, exits 130 and leaves no --out folder or staging files."""
    import sys

    from dagsim.cli import main
    from dagsim.model.simulation import Simulation

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "run", interrupted)
    out = tmp_path / "results"
    monkeypatch.setattr(sys, "argv", ["dagsim", "run", SERVER_FAILURE, "--out", str(out)])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 130
    assert "interrupted; no results were written" in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_keep_exit_status_2_through_main(monkeypatch, capsys):
    """An unknown option is a usage error with status 2 from the console script, not an internal error."""
    import sys

    from dagsim.cli import main

    monkeypatch.setattr(sys, "argv", ["dagsim", "run", SERVER_FAILURE, "--bogus"])
    with pytest.raises(SystemExit) as stopped:
        main()
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "No such option: --bogus" in err and "internal error" not in err


def test_check_lists_only_failures_unless_verbose():
    """`dagsim check` prints each file's summary and its failed expectations; -v lists the passes too."""
    library = str(Path(SERVER_FAILURE).parent / "library" / "quorum-odd-members.yaml")
    quiet, verbose = runner.invoke(app, ["check", library]), runner.invoke(app, ["check", "-v", library])
    assert quiet.exit_code == verbose.exit_code == 0
    assert "PASS" not in quiet.output and "all passed" in quiet.output
    assert verbose.output.count("PASS") == 7


def test_help_shows_boolean_flags_as_flags():
    """Flags appear as `--plots`, without a `<bool>` value placeholder."""
    text = runner.invoke(app, ["run", "--help"]).output
    assert "--plots" in text and "<bool>" not in text


def test_run_result_repr_is_one_short_line():
    """A RunResult prints as one line naming the scenario and what happened, not its arrays."""
    result = dagsim.simulate(SERVER_FAILURE)
    text = repr(result)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("RunResult(scenario='server-failure', mode='fluid', seed=") and "failovers=" in text


def test_run_quiet_prints_the_verdicts_without_tables_or_events():
    """`dagsim run --quiet` prints what ran and the verdicts; the copy table and the events are left out."""
    quiet = runner.invoke(app, ["run", "-q", SERVER_FAILURE])
    assert quiet.exit_code == 0
    assert "WAN-RED-DUB Redmond→Dublin: peak" in quiet.output
    assert "2 failovers and switchovers: 2 mounted, 0 lossy, 0 logs lost" in quiet.output
    assert "CQ peak" not in quiet.output and "Events" not in quiet.output


def test_explain_puts_an_outcome_after_the_reasoning_of_the_same_second():
    """`explain` prints 'failover blocked' after the selection lines that led to it, not before."""
    path = str(Path(SERVER_FAILURE).parent / "library" / "failover-vs-switchover-without-target.yaml")
    lines = runner.invoke(app, ["explain", path, "--database", "DB1"]).output.splitlines()
    blocked = next(i for i, line in enumerate(lines) if "[failover blocked" in line)
    selection = next(i for i, line in enumerate(lines) if "Best copy and server selection" in line)
    assert selection < blocked
    assert lines.index(next(line for line in lines if "[database dismounted" in line)) < selection


def test_plots_say_why_a_picture_was_skipped(tmp_path):
    """`run --plots` on a run without failovers writes no anatomy picture and says why."""
    thin = str(Path(SERVER_FAILURE).parent / "thin-wan.yaml")
    result = runner.invoke(app, ["run", thin, "--out", str(tmp_path / "o"), "--plots", "--events", "0"])
    assert result.exit_code == 0
    assert "no anatomy picture: the run had no failover or switchover to dissect" in result.output
    assert not (tmp_path / "o" / "anatomy.png").exists() and (tmp_path / "o" / "queues.png").exists()
