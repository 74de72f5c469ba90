"""`dagsim availability`: output files, text, plots and refusals with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from availability_scenarios import n_copies
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def invoke(*args: str):
    return CliRunner().invoke(app, ["availability", *args])


@pytest.fixture
def small(tmp_path) -> Path:
    """Two copies, client protocols on, 2-day replicas."""
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(n_copies(2, protocols=True, length="2d").model_dump(mode="json")))
    return path


def test_writes_tidy_table_replicas_summary_and_plots(small, tmp_path):
    """--out writes availability.csv (one row per database x metric), replicas, summary.json and plots."""
    out = tmp_path / "out"
    result = invoke(str(small), "--years", "0.05", "--out", str(out), "--plots", "--format", "parquet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "availability.csv")
    assert list(table.columns) == ["scope", "database", "metric", "unit", "estimate", "low", "high", "events", "method"]
    assert not table.duplicated(["scope", "database", "metric"]).any()
    assert set(table.scope) == {"database", "dag"}
    assert {"unavailability", "nines", "failovers", "quorum_losses", "user_minutes_outlook"} <= set(table.metric)
    replicas = pd.read_parquet(out / "replicas.parquet")
    assert list(replicas.replica) == list(range(10))  # 0.05 years of 2-day replicas
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replicas"] == 10 and summary["seed"] == 1
    assert summary["resolved_scenario"]["failures"]["replica_duration"] == "2d"
    assert summary["headline"]["low"] <= summary["headline"]["estimate"] <= summary["headline"]["high"]
    for name in ("convergence.png", "downtime.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    assert "unavailability" in result.output and "DAG-years/s" in result.output


def test_no_clients_leaves_out_user_minutes(small, tmp_path):
    """--no-clients skips client outage analysis: no user-minute rows."""
    result = invoke(str(small), "--years", "0.02", "--no-clients", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "availability.csv")
    assert not table.metric.str.startswith("user_minutes").any()


def test_zero_events_are_printed_as_upper_bounds(small):
    """A count that never happened is shown as an upper bound, not as 0."""
    result = invoke(str(small), "--years", "0.02")
    line = next(line for line in result.output.splitlines() if line.strip().startswith("lossy_failovers"))
    assert "<=" in line and "upper bound" in line


def test_scenario_without_failures_exits_2():
    """A scenario without a failures: block is refused with status 2 and no traceback."""
    result = invoke(str(SCENARIOS / "quickstart.yaml"))
    assert result.exit_code == 2
    assert "no failures: block" in result.output
    assert "Traceback" not in result.output


def test_invalid_file_reports_located_problems(tmp_path):
    """A broken failures: block gives FILE:LINE:COL path: message lines and status 2."""
    text = (SCENARIOS / "availability-two-copies.yaml").read_text().replace("time_to_repair: 1d", "time_to_repair: 1 fortnight")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = invoke(str(path))
    assert result.exit_code == 2
    assert f"{path}:" in result.output and "failures.servers.time_to_repair" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--years", "5", "--precision", "0.1"], "exclude each other"),
        (["--precision", "1.5"], "between 0 and 1"),
        (["--plots"], "--plots needs --out"),
        (["--fast", "--exact"], "exclude each other"),
    ],
)
def test_bad_option_combinations_exit_2(small, args, message):
    """Contradictory or out-of-range options are refused with status 2."""
    result = invoke(str(small), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_years_beyond_the_cap_is_refused(small):
    """No study may ask for more than 1,000,000 DAG-years."""
    result = invoke(str(small), "--years", "2000000")
    assert result.exit_code == 2


def test_shipped_availability_scenarios_load():
    """Both shipped availability scenarios load with their failure models."""
    two = load_scenario(SCENARIOS / "availability-two-copies.yaml")
    assert two.failures.servers.time_to_failure.mean == 30 * 86400
    pa = load_scenario(SCENARIOS / "availability-preferred-architecture.yaml")
    assert pa.failures.maintenance.servers.every == 30 * 86400
    assert len(pa.servers) == 16 and len(pa.databases) == 100
    assert pa.failures.log_volumes is None  # one disk per copy holds database and logs


def test_fast_prints_what_it_leaves_out_and_writes_no_copy_queue_figures(small, tmp_path):
    """--fast runs the structural replicas: it says so and lists what it leaves out, its table
    has no lossy-failover, log or message rows and no user-minutes, and its summary names the method."""
    result = invoke(str(small), "--fast", "--years", "2", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "method: --fast" in result.output and "copy queues" in result.output
    assert "lossy_failovers" not in result.output
    table = pd.read_csv(tmp_path / "availability.csv")
    assert "unavailability" in set(table.metric)
    assert not table.metric.str.startswith(("lossy", "logs_lost", "messages_lost", "user_minutes")).any()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["method"] == "fast" and summary["replicas"] == 365  # 2 years of 2-day replicas


def test_fast_refuses_dynamic_quorum_with_exit_2(tmp_path):
    """A scenario --fast cannot play is refused with its reasons and status 2, no traceback."""
    data = n_copies(2).model_dump(mode="json")
    data["dag"]["dynamic_quorum"] = True
    path = tmp_path / "dynamic.yaml"
    path.write_text(yaml.safe_dump(data))
    result = invoke(str(path), "--fast", "--years", "1")
    assert result.exit_code == 2
    assert "dynamic_quorum" in result.output and "without --fast" in result.output
    assert "Traceback" not in result.output


def test_a_study_that_would_keep_too_many_records_is_refused():
    """Memory is bounded: a study keeps at most 5,000,000 per-database figures of a kind, so the
    preferred architecture's 100 databases allow 50,000 one-year replicas; more is exit 2."""
    from dagsim.availability import availability

    path = SCENARIOS / "availability-preferred-architecture.yaml"
    result = invoke(str(path), "--fast", "--years", "60000")
    assert result.exit_code == 2
    assert "at most 50,000 replicas" in result.output and "Traceback" not in result.output
    with pytest.raises(ValueError, match="at most 50,000 replicas"):
        availability(load_scenario(path), years=60_000, method="fast")


def test_a_long_simulation_study_suggests_fast_once(small, monkeypatch):
    """A study projected past LONG_STUDY_SECONDS says once, on stderr, that --fast exists;
    a --fast study does not."""
    import dagsim.cli_availability as cli

    monkeypatch.setattr(cli, "LONG_STUDY_SECONDS", 0.0)
    result = CliRunner().invoke(app, ["availability", str(small), "--years", "0.05", "--no-clients"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("--fast plays the same failure model") == 1
    fast = CliRunner().invoke(app, ["availability", str(small), "--years", "0.05", "--fast"])
    assert "--fast plays" not in fast.stderr
