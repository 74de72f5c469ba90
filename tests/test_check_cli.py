"""`dagsim check`: runs scenarios with expectations, prints PASS/FAIL lines, exits 0, 1 or 2."""

from __future__ import annotations

from helpers import TWO_MEMBER_FAILOVER
from typer.testing import CliRunner

from dagsim.cli import app

runner = CliRunner()

SCENARIO = TWO_MEMBER_FAILOVER
EXPECT_LINE = SCENARIO.count("\n") + 2


def _write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_passing_expectations_exit_0(tmp_path):
    """Every expectation met: one PASS line each, with file:line and measured beside expected; exit 0."""
    path = _write(
        tmp_path,
        "ok.yaml",
        SCENARIO + "expect:\n"
        "  - {check: failover_within, database: DB1, duration: 30s}\n"
        "  - {check: failover_target, database: DB1, server: MBX2}\n",
    )
    result = runner.invoke(app, ["check", "-v", str(path)])
    assert result.exit_code == 0, result.output
    assert f"  PASS  {path}:{EXPECT_LINE}  failover_within DB1: expected mounted within 30s, measured 26s" in (
        result.stdout.splitlines()
    )
    passed = f"  PASS  {path}:{EXPECT_LINE + 1}  failover_target DB1: expected mounted on MBX2, measured mounted on MBX2"
    assert passed in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "2 passed, 0 failed in 1 scenario files"


def test_wrong_expectation_fails_with_expected_measured_location_and_record(tmp_path):
    """A deliberately wrong expectation prints FAIL, expected vs measured, file:line and the failover record; exit 1."""
    path = _write(
        tmp_path,
        "wrong.yaml",
        SCENARIO + "expect:\n"
        "  - {check: failover_target, database: DB1, server: MBX2}\n"
        "  - {check: failover_within, database: DB1, duration: 20s}\n",
    )
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    failed = f"  FAIL  {path}:{EXPECT_LINE + 1}  failover_within DB1: expected mounted within 20s, measured 26s"
    assert failed in lines
    failed_at = lines.index(failed)
    assert lines[failed_at + 1].strip() == "failover record behind it:"
    assert lines[failed_at + 2].strip() == "DB1 failover (server failure) from MBX1 at 0d 00:10:00: mounted on MBX2"
    assert f"{path}: 2 expectations, 1 failed" in result.stdout
    assert lines[-1] == "1 passed, 1 failed in 1 scenario files"


def test_folder_is_searched_recursively_and_files_without_expectations_are_skipped(tmp_path):
    """A folder is searched for *.yaml at any depth; files without expectations are named as skipped."""
    _write(tmp_path, "plain.yaml", SCENARIO)
    nested = _write(tmp_path, "deep/er/nested.yaml", SCENARIO + "expect:\n  - {check: quorum_lost, lost: false}\n")
    result = runner.invoke(app, ["check", "-v", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'plain.yaml'}: no expectations, skipped" in result.stdout.splitlines()
    assert f"  PASS  {nested}:{EXPECT_LINE}  quorum_lost: expected never lost, measured never lost" in (
        result.stdout.splitlines()
    )
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed in 1 scenario files; 1 without expectations skipped"


def test_invalid_file_exits_2_with_located_problems(tmp_path):
    """A malformed expect block is reported as file:line:col path: message on stderr, and the exit status is 2."""
    bad = _write(tmp_path, "bad.yaml", SCENARIO + "expect:\n  - {check: failover_target, database: DB9, server: MBX2}\n")
    good = _write(
        tmp_path, "good.yaml", SCENARIO + "expect:\n  - {check: failover_target, database: DB1, server: MBX1}\n"
    )
    result = runner.invoke(app, ["check", str(bad), str(good)])
    assert result.exit_code == 2
    column = "  - {check: failover_target, database: DB9".index("DB9") + 1
    assert result.stderr.splitlines() == [
        f"{bad}:{EXPECT_LINE}:{column} expect[0].database: database 'DB9' is not defined (references must resolve); "
        "did you mean 'DB1'?"
    ]
    # The other file is still checked (and its wrong expectation still reported).
    assert f"  FAIL  {good}:{EXPECT_LINE}  failover_target DB1: expected mounted on MBX1, measured mounted on MBX2" in (
        result.stdout.splitlines()
    )


def test_missing_path_exits_2(tmp_path):
    """A path that does not exist is reported and the exit status is 2."""
    result = runner.invoke(app, ["check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / 'nope.yaml'}: file not found\n"
