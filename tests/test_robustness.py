"""Hostile input: every number finite and bounded, outputs all or nothing, no traceback anywhere."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dagsim.cli as cli
import dagsim.expectations
from dagsim.cli import app
from dagsim.config import Scenario, ScenarioError, load_scenario, load_scenario_text
from dagsim.config.loader import MAX_FILE_BYTES
from dagsim.config.rules import per_log_log_copies, sample_times, sampled_values
from dagsim.config.schema import MAX_PER_LOG_LOG_COPIES, MAX_SAMPLE_TIMES, MAX_SAMPLED_VALUES
from dagsim.config.units import format_duration, parse_bandwidth, parse_duration, parse_size
from dagsim.model.simulation import Simulation
from dagsim.output import dump_json, staged_folder

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
BASE = (ROOT / "tests" / "bad_inputs" / "base.yaml.txt").read_text()
DIGITS = "9" * 400
runner = CliRunner()


def _with(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("parse", "text", "limit"),
    [
        (parse_duration, f"{DIGITS}m", "1000y"),
        (parse_bandwidth, f"{DIGITS}Gbps", "1Tbps"),
        (parse_size, f"{DIGITS}TB", "1PB"),
    ],
)
def test_huge_unit_values_are_refused_with_the_limit(parse, text, limit):
    """A 400-digit value with a unit is an error naming the physical limit, not infinity."""
    with pytest.raises(ValueError, match=f"at most {limit}"):
        parse(text)


def test_format_duration_never_raises_on_non_finite_values():
    """Formatting infinity or NaN gives text, not OverflowError."""
    assert format_duration(math.inf) and format_duration(math.nan)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", str(QUICKSTART), "--duration", f"{DIGITS}h"],
        ["run", str(QUICKSTART), "--duration", "1e400"],
        ["status", str(QUICKSTART), "--at", f"{DIGITS}s"],
        ["report", str(QUICKSTART), "--at", f"{DIGITS}m"],
        ["run", str(QUICKSTART), "--seed", DIGITS],
    ],
)
def test_huge_command_line_values_exit_2_without_traceback(argv, tmp_path):
    """Overflowing --duration, --at and --seed values are usage errors (exit 2), not tracebacks."""
    result = runner.invoke(app, [*argv, "--out", str(tmp_path / "out")] if argv[0] == "run" else argv)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


def test_duration_override_beyond_the_run_limit_is_located_at_run_duration():
    """--duration 500y is refused at run.duration with the override named, before any model is built."""
    result = runner.invoke(app, ["run", str(QUICKSTART), "--duration", "500y"])
    assert result.exit_code == 2
    line = next(text for text in result.output.splitlines() if "run.duration" in text)
    assert line.startswith(f"{QUICKSTART}:") and "at most 100y" in line and "(run settings: duration=" in line


def test_numbers_written_as_1e9_are_numbers_and_bounded():
    """YAML 1.1 reads 1e9 as text; dagsim takes it as the number and applies the bound to it."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(_with("messages_per_day: 100,", "messages_per_day: 1e9,"), "m.yaml")
    assert "less than or equal to 100000" in str(caught.value)
    scenario = load_scenario_text(_with("messages_per_day: 100,", "messages_per_day: 2e2,"), "m.yaml")
    assert scenario.databases[0].message_profile.messages_per_day == 200.0


@pytest.mark.parametrize("key", ["mailboxes: 500", "same_subnet_threshold: 5", "seed: 1"])
@pytest.mark.parametrize("boolean", ["yes", "on", "true"])
def test_yaml_booleans_are_not_integers(key, boolean):
    """mailboxes: yes, same_subnet_threshold: on, seed: true are type errors at their line, not 1."""
    name = key.split(":")[0]
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(_with(key, f"{name}: {boolean}"), "b.yaml")
    [problem] = caught.value.problems
    assert problem.path.endswith(name) and "valid integer" in problem.message
    assert problem.line == BASE.splitlines().index(next(l for l in BASE.splitlines() if key in l)) + 1


def test_sample_limits_say_the_count_the_limit_and_a_remedy():
    """A sample interval that would record too much is refused with the count, the limit and a usable interval."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(_with("sample_interval: 5m", "sample_interval: 10ms"), "s.yaml")
    [problem] = caught.value.problems
    assert problem.path == "run.sample_interval"
    assert "2,160,001 samples" in problem.message and f"{MAX_SAMPLE_TIMES:,}" in problem.message
    suggested = parse_duration(problem.message.split("at least ")[1].split(" ")[0])
    fixed = load_scenario_text(_with("sample_interval: 5m", f"sample_interval: {suggested * 1.01}s"), "s.yaml")
    assert sample_times(fixed) <= MAX_SAMPLE_TIMES


def test_sampled_values_are_bounded_over_many_copies():
    """Many copies sampled often are refused by the values limit even when the sample count is allowed."""
    scenario = load_scenario(ROOT / "scenarios" / "preferred-architecture.yaml")
    copies = sum(len(d.copies) for d in scenario.databases)
    interval = scenario.run.duration * copies / MAX_SAMPLED_VALUES / 2  # twice the values allowed
    data = scenario.model_dump(mode="json")
    data["run"]["sample_interval"] = interval
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(json.dumps(data), "pa.yaml")
    assert any(p.path == "run.sample_interval" and f"{MAX_SAMPLED_VALUES:,}" in p.message for p in caught.value.problems)
    data["run"]["sample_interval"] = interval * 2.1
    assert sampled_values(load_scenario_text(json.dumps(data), "pa.yaml")) <= MAX_SAMPLED_VALUES


def test_per_log_runs_are_bounded_by_log_copies():
    """per_log mode over years of every log is refused at run.mode; a day of the same DAG is allowed."""
    text = _with("  - {at: 1h, action: fail_server, server: MBX1}\n  - {at: 2h, action: restore_server, server: MBX1}\n", "")
    text = text.replace("timeline:\n", "").replace("sample_interval: 5m", "sample_interval: 1h\n  mode: per_log")
    day = load_scenario_text(text, "p.yaml")
    assert per_log_log_copies(day) <= MAX_PER_LOG_LOG_COPIES
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text.replace("duration: 6h", "duration: 3y"), "p.yaml")
    assert [p.path for p in caught.value.problems] == ["run.mode"]


def test_a_minimal_log_volume_runs_to_the_end():
    """The smallest log volume allowed (one log) fills and the run still completes and reports it."""
    scenario = load_scenario_text(_with("log_volume_size: 100GB", "log_volume_size: 1MB"), "v.yaml")
    outcome = Simulation(scenario).run()
    assert outcome.duration == scenario.run.duration
    assert "log_volume_full" in set(outcome.events["kind"])


def test_json_outputs_are_strict_and_provenance_loads_back(tmp_path):
    """summary.json and provenance.json hold no NaN/Infinity, and the provenance scenario validates to the same scenario."""
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(QUICKSTART), "--out", str(out)]).exit_code == 0

    def refuse(token: str) -> float:
        raise AssertionError(f"non-standard JSON token {token}")

    json.loads((out / "summary.json").read_text(), parse_constant=refuse)
    provenance = json.loads((out / "provenance.json").read_text(), parse_constant=refuse)
    assert Scenario.model_validate(provenance["scenario"]) == load_scenario(QUICKSTART)
    assert dump_json({"x": math.inf, "y": [math.nan, 1.0]}) == '{\n  "x": null,\n  "y": [\n    null,\n    1.0\n  ]\n}\n'


def test_failed_write_leaves_no_folder_and_no_staging(tmp_path):
    """An error while a result folder is written leaves nothing at --out and no staging folder."""
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), staged_folder(target) as folder:
        (folder / "summary.json").write_text("{}")
        raise RuntimeError("the run failed half way")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_into_an_existing_folder_changes_nothing(tmp_path):
    """An error while rewriting a reused folder leaves the previous run's files exactly as they were."""
    target = tmp_path / "out"
    with staged_folder(target) as folder:
        (folder / "a.csv").write_text("first")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(RuntimeError), staged_folder(target) as folder:
        (folder / "a.csv").write_text("second")
        raise RuntimeError("failed")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_reused_out_holds_exactly_one_runs_files_and_keeps_foreign_files(tmp_path):
    """A run without --plots into a folder of a run with plots removes the old plots, not the user's files."""
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(QUICKSTART), "--out", str(out), "--plots"]).exit_code == 0
    assert any(p.suffix == ".png" for p in out.iterdir())
    (out / "my-notes.txt").write_text("mine")
    assert runner.invoke(app, ["run", str(QUICKSTART), "--out", str(out)]).exit_code == 0
    names = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert not any(name.endswith(".png") for name in names)
    assert "my-notes.txt" in names and "summary.json" in names
    fresh = tmp_path / "fresh"
    assert runner.invoke(app, ["run", str(QUICKSTART), "--out", str(fresh)]).exit_code == 0
    assert names - {"my-notes.txt"} == {p.name for p in fresh.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("command", [["run"], ["report"]])
def test_out_that_is_the_wrong_kind_of_path_is_a_clean_error(command, tmp_path):
    """run --out naming a file, or report --out naming a folder, exits 2 before running, no traceback."""
    wrong = tmp_path / "taken.txt"
    wrong.write_text("keep me")
    if command == ["report"]:
        wrong = tmp_path
    result = runner.invoke(app, [*command, str(QUICKSTART), "--out", str(wrong)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "--out" in result.output
    assert (tmp_path / "taken.txt").read_text() == "keep me"


def test_check_goes_on_after_a_file_whose_run_breaks(tmp_path, monkeypatch):
    """One scenario whose run raises is reported as failed; the files after it are still checked."""
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text(
            _with("run:", "expect:\n  - {check: failover_target, database: DB1, server: MBX2}\nrun:")
        )
    real = dagsim.expectations.check_file

    def breaks_on_b(path, *args, **kwargs):
        if Path(path).name == "b.yaml":
            raise ZeroDivisionError("division by zero")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(dagsim.expectations, "check_file", breaks_on_b)
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "b.yaml: failed: dagsim: internal error (ZeroDivisionError" in result.output
    assert "a.yaml: 1 expectations, all passed" in result.output
    assert "c.yaml: 1 expectations, all passed" in result.output


def test_console_script_reports_a_defect_in_one_line(monkeypatch, capsys):
    """An unexpected exception in a command ends with one 'internal error' line and exit 1, no traceback."""

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(cli, "_try_load_marked", broken)
    monkeypatch.setattr(sys, "argv", ["dagsim", "validate", str(QUICKSTART)])
    monkeypatch.delenv("DAGSIM_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "internal error (KeyError" in err and "Traceback" not in err
    monkeypatch.setenv("DAGSIM_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main()


def test_oversized_file_is_refused_before_it_is_read(tmp_path):
    """A file over the size limit is refused with the limit in the message, at line 1."""
    big = tmp_path / "big.yaml"
    with big.open("w") as fh:
        fh.write(BASE)
        fh.write("# padding\n" * (MAX_FILE_BYTES // 10 + 10))
    result = runner.invoke(app, ["validate", str(big)])
    assert result.exit_code == 2
    assert f"{big}:1:1" in result.output and "5 MB" in result.output


def test_installed_console_script_never_prints_a_traceback(tmp_path):
    """The real `dagsim` process on a corpus of bad files exits 2 with no Python traceback."""
    corpus = ROOT / "tests" / "bad_inputs"
    files = sorted(str(p) for p in corpus.glob("yaml-*.yaml"))
    env = {**os.environ, "DAGSIM_DEBUG": ""}
    done = subprocess.run(
        [sys.executable, "-m", "dagsim", "validate", *files], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.count(".yaml:") >= len(files)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--seed", DIGITS[:30]], "run.seed"),
        (["--years", "0.5"], "two replicas"),
        (["--precision", "0.1", "--max-years", "1"], "two replicas"),
    ],
)
def test_availability_options_out_of_range_exit_2(options, says):
    """availability refuses a seed beyond 64 bits and a study too short for an interval, exit 2, no traceback."""
    scenario = ROOT / "scenarios" / "availability-two-copies.yaml"
    result = runner.invoke(app, ["availability", str(scenario), *options])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert says in result.output
