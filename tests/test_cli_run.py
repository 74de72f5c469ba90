"""`dagsim run` and `dagsim status`: summaries, result files, copy status, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import two_site_scenario
from typer.testing import CliRunner

import dagsim
from dagsim.cli import app

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
THIN_WAN = ROOT / "scenarios" / "thin-wan.yaml"

runner = CliRunner()


def _write(tmp_path: Path, scenario: dagsim.Scenario) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
    return path


def test_run_prints_summary_and_writes_results(tmp_path):
    """`dagsim run --out` prints per-copy queues and writes summary, events, series and provenance."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(THIN_WAN), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "DB1\\DR-MBX1" in result.output
    assert "copy_queue_high" in result.output
    names = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert names == {
        "summary.json", "provenance.json", "events.csv", "copies.csv", "failovers.csv", "client_outages.csv",
        "queues.csv", "log_volume.csv",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 1 and summary["mode"] == "fluid"
    dr = next(c for c in summary["copies"] if c["server"] == "DR-MBX1" and c["database"] == "DB1")
    assert 2000 < dr["copy_queue_peak"] < 3000
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["scenario"]["name"] == "thin-wan"
    assert {"dagsim", "simpy", "numpy", "pydantic"} <= set(provenance["versions"])
    queues = pd.read_csv(out / "queues.csv")
    assert list(queues.columns) == ["time", "database", "server", "copy_queue", "replay_queue"]
    assert queues["copy_queue"].max() == pytest.approx(dr["copy_queue_peak"], rel=0.01)


def test_same_seed_writes_identical_files(tmp_path):
    """Two runs of the same scenario and seed write byte-identical result files."""
    outputs = []
    for name in ("first", "second"):
        out = tmp_path / name
        assert runner.invoke(app, ["run", str(QUICKSTART), "--seed", "7", "--out", str(out)]).exit_code == 0
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0]["summary.json"])["seed"] == 7


def test_run_overrides_duration_and_mode(tmp_path):
    """--duration and --mode override the scenario's run settings."""
    path = _write(tmp_path, two_site_scenario(duration="12h"))
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--duration", "2h", "--mode", "per_log", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["duration"] == 7200 and summary["mode"] == "per_log"


def test_run_rejects_bad_duration_without_traceback():
    """A malformed --duration is a one-line error with exit status 2."""
    result = runner.invoke(app, ["run", str(QUICKSTART), "--duration", "soon"])
    assert result.exit_code == 2
    assert "--duration" in result.output and "Traceback" not in result.output


def test_run_of_invalid_file_reports_problems(tmp_path):
    """`dagsim run` on a broken scenario prints its located problems and exits with 2."""
    path = tmp_path / "broken.yaml"
    path.write_text("sites: [{name: A}]\nservers: [{name: M1, site: B}]\ndatabases: []\n")
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3:12 databases:" in result.output


def test_status_shows_copy_status_table():
    """`dagsim status --at` prints each copy's Status and queue lengths at that moment."""
    result = runner.invoke(app, ["status", str(QUICKSTART), "--at", "14h30m", "--format", "csv"])
    assert result.exit_code == 0, result.output
    from io import StringIO

    table = pd.read_csv(StringIO(result.output)).set_index("Name")
    assert table.loc["DB05\\RED-MBX2", "Status"] == "Suspended"
    assert table.loc["DB05\\RED-MBX2", "CopyQueueLength"] == 1500  # half an hour at 3,000 logs/h
    assert table.loc["DB05\\RED-MBX1", "Status"] == "Mounted"
    assert table.loc["DB01\\RED-MBX2", "Status"] == "Healthy"


def test_status_after_end_of_run_is_an_error():
    """--at beyond run.duration is refused with exit status 2."""
    result = runner.invoke(app, ["status", str(QUICKSTART), "--at", "3d"])
    assert result.exit_code == 2
    assert "after the end of the run" in result.output


def test_copy_status_reports_disconnected_copy_and_inspected_time():
    """A copy cut off from its active copy is DisconnectedAndHealthy; its last inspected log is older."""
    timeline = [{"at": "1h", "action": "fail_link", "link": "wan"}]
    table = dagsim.copy_status(two_site_scenario(link_logs_per_second=5, timeline=timeline), at=2 * 3600)
    row = table.set_index("Name").loc["DB1\\MBX-B"]
    assert row["Status"] == "DisconnectedAndHealthy"
    assert row["CopyQueueLength"] == 1080  # an hour at 0.3 logs/s
    assert row["LastInspectedLogTime"] == "0d 01:00:00"


def test_activation_only_suspension_is_shown():
    """Suspending activation only keeps the copy Healthy but ActivationSuspended."""
    timeline = [{"at": "1h", "action": "suspend_copy", "database": "DB1", "server": "MBX-B", "activation_only": True}]
    table = dagsim.copy_status(two_site_scenario(link_logs_per_second=5, timeline=timeline), at=2 * 3600)
    row = table.set_index("Name").loc["DB1\\MBX-B"]
    assert row["Status"] == "Healthy" and bool(row["ActivationSuspended"])


def test_readme_test_command_is_what_ci_runs():
    """The README's Quickstart test command is the command .ci/run executes."""
    readme = (ROOT / "README.md").read_text()
    command = "python3 -m venv .venv && .venv/bin/pip install -q '.[test]' && .venv/bin/python -m pytest"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()


def _failure_scenario(tmp_path: Path) -> Path:
    from helpers import three_site_scenario

    scenario = three_site_scenario(timeline=[{"at": "10m", "action": "fail_server", "server": "MBX1"}])
    return _write(tmp_path, scenario)


def test_run_prints_failover_table(tmp_path):
    """`dagsim run` prints one failover row with the phase offsets after the failure."""
    result = runner.invoke(app, ["run", str(_failure_scenario(tmp_path))])
    assert result.exit_code == 0, result.output
    table = result.output.split("Failovers and switchovers")[1]
    row = next(line for line in table.splitlines() if line.strip().startswith("0d 00:10:00"))
    assert "MBX1" in row and "MBX2" in row and "mounted" in row
    assert row.split()[-7:-2] == ["5s", "6s", "16s", "16s", "26s"]


def test_explain_narrates_active_manager_decisions(tmp_path):
    """`dagsim explain --database` tells detection, selection with reasons, and the mount, in order."""
    result = runner.invoke(app, ["explain", str(_failure_scenario(tmp_path)), "--database", "DB1"])
    assert result.exit_code == 0, result.output
    text = result.output
    steps = [
        "detected the failure of MBX1",
        "Best copy and server selection",
        "MBX1: rejected, server unreachable",
        "criteria set 1",
        "Attempt copy last logs from MBX1 failed after 10s",
        "Mounted DB1 on MBX2 26s after the failure",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)


def test_explain_unknown_database_is_an_error(tmp_path):
    """`dagsim explain` with a database the scenario lacks exits with 2 and lists the real ones."""
    result = runner.invoke(app, ["explain", str(_failure_scenario(tmp_path)), "--database", "DB9"])
    assert result.exit_code == 2
    assert "DB1" in result.output


def test_run_with_plots_writes_pictures(tmp_path):
    """`dagsim run --out DIR --plots` writes one PNG per plot kind next to the result files."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(ROOT / "scenarios" / "server-failure.yaml"), "--out", str(out), "--plots"])
    assert result.exit_code == 0, result.output
    pictures = sorted(p.name for p in out.glob("*.png"))
    assert pictures == ["anatomy.png", "generation.png", "queues.png", "timeline.png"]
    assert all((out / name).read_bytes().startswith(b"\x89PNG") for name in pictures)


def test_run_plots_without_out_is_an_error():
    """--plots without --out says where pictures would go and exits with 2."""
    result = runner.invoke(app, ["run", str(QUICKSTART), "--plots"])
    assert result.exit_code == 2 and "--out" in result.output


def test_report_writes_self_contained_html(tmp_path):
    """`dagsim report` writes one HTML file with the failover table and embedded images."""
    path = tmp_path / "r.html"
    scenario = ROOT / "scenarios" / "server-failure.yaml"
    result = runner.invoke(app, ["report", str(scenario), "--out", str(path), "--at", "10h1m"])
    assert result.exit_code == 0, result.output
    html = path.read_text()
    assert "Failovers and switchovers" in html and "data:image/png;base64," in html
    assert "RED-MBX1" in html and "0d 10:01:00" in html


def test_report_rejects_a_time_after_the_run(tmp_path):
    """`dagsim report --at` beyond the run is a clear error with exit status 2."""
    result = runner.invoke(app, ["report", str(QUICKSTART), "--out", str(tmp_path / "r.html"), "--at", "2d"])
    assert result.exit_code == 2 and "after the end of the run" in result.output
