"""The bad-input corpus, end to end through the command line: exit 2, the right line, no traceback."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dagsim.cli import app

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
ROWS = list(csv.DictReader((CORPUS / "manifest.csv").open()))
runner = CliRunner()


def _located_lines(output: str, name: str) -> list[int]:
    return [int(m.group(1)) for m in re.finditer(rf"^{re.escape(name)}:(\d+):\d+ ", output, re.MULTILINE)]


def test_corpus_is_large_and_every_file_has_an_expected_line():
    """The corpus holds at least 60 defective files and the manifest names each one once."""
    files = sorted(p.name for p in CORPUS.glob("*.yaml"))
    assert len(files) >= 60
    assert sorted(row["file"] for row in ROWS) == files


def test_the_base_of_the_corpus_is_valid():
    """Every corpus file departs from a scenario that is itself valid, so each holds one defect."""
    result = runner.invoke(app, ["validate", str(CORPUS / "base.yaml.txt")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_validate_reports_the_defect_at_its_line(row, monkeypatch):
    """`dagsim validate` exits 2 and locates a problem at the manifest's line, inside the file."""
    monkeypatch.chdir(CORPUS)
    result = runner.invoke(app, ["validate", row["file"]])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = _located_lines(result.output, row["file"])
    assert int(row["line"]) in lines, result.output
    length = max(1, len((CORPUS / row["file"]).read_bytes().splitlines()))
    assert all(1 <= line <= length + 1 for line in lines), result.output


@pytest.mark.parametrize("row", ROWS, ids=[row["file"] for row in ROWS])
def test_run_refuses_the_defect_and_writes_nothing(row, monkeypatch, tmp_path):
    """`dagsim run --out` exits 2 at the same line and leaves no output folder behind."""
    monkeypatch.chdir(CORPUS)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", row["file"], "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert int(row["line"]) in _located_lines(result.output, row["file"]), result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_check_reports_every_corpus_file_and_exits_2():
    """`dagsim check` on the corpus folder reports each defective file and exits 2, no traceback."""
    result = runner.invoke(app, ["check", str(CORPUS)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    for row in ROWS:
        assert f"{row['file']}:" in result.output, row["file"]
