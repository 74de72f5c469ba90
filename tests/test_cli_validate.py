"""`dagsim validate` and `dagsim schema`: located problems, exit status 2, no tracebacks."""

import json
import re
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.cli_common import _load_or_exit

VALID = """\
sites: [{name: A}]
servers:
  - {name: EX1, site: A}
  - {name: EX2, site: A}
databases:
  - name: DB1
    copies:
      - {server: EX1, activation_preference: 1}
      - {server: EX2, activation_preference: 2}
"""

# Three problems: an unknown key (line 1), an undefined server (line 4) and a bad duration.
INVALID = """\
sitez: [{name: B}]
sites: [{name: A}]
servers:
  - {name: EX1, site: A, replay_rate: fast}
databases:
  - name: DB1
    copies:
      - {server: EX1, activation_preference: 1, replay_lag_time: 3 fortnights}
"""

PROBLEM_LINE = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+):(?P<column>\d+) (?P<path>\S+): (?P<message>.+)$")

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.yaml").write_text(VALID)
    (tmp_path / "bad.yaml").write_text(INVALID)
    return tmp_path


def test_valid_file_is_ok(files):
    """A valid file prints `FILE: ok` and exits 0."""
    result = runner.invoke(app, ["validate", str(files / "good.yaml")])
    assert result.exit_code == 0
    assert result.stdout == f"{files / 'good.yaml'}: ok\n"
    assert result.stderr == ""


def test_invalid_file_reports_every_problem_located(files):
    """An invalid file prints each problem as `file:line:col path: message` on stderr, exit 2."""
    bad = str(files / "bad.yaml")
    result = runner.invoke(app, ["validate", bad])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    matches = [PROBLEM_LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [(m["file"], m["line"], m["column"], m["path"]) for m in matches] == [
        (bad, "1", "1", "sitez"),
        (bad, "4", "39", "servers[0].replay_rate"),
        (bad, "8", "66", "databases[0].copies[0].replay_lag_time"),
    ]
    assert "did you mean 'sites'?" in lines[0]
    assert "Traceback" not in result.output


def test_several_files_are_all_checked(files):
    """Valid, invalid and missing files are all reported, and any failure gives exit 2."""
    missing = files / "missing.yaml"
    result = runner.invoke(
        app, ["validate", str(files / "bad.yaml"), str(missing), str(files / "good.yaml")]
    )
    assert result.exit_code == 2
    assert result.stdout == f"{files / 'good.yaml'}: ok\n"
    assert f"{missing}: file not found" in result.stderr.splitlines()
    assert len(result.stderr.splitlines()) == 4


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("sites: [A\n", "YAML syntax error"),
        ("", "the file is empty"),
        ("- a\n- b\n", "a scenario must be a mapping"),
        ("sites: !!python/object/apply:os.system [echo hi]\n", "unsupported YAML tag"),
    ],
)
def test_unreadable_yaml_is_a_located_problem(tmp_path, content, fragment):
    """YAML that cannot become a scenario gives located problems, never a traceback."""
    path = tmp_path / "s.yaml"
    path.write_text(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert all(PROBLEM_LINE.match(line) for line in lines), lines
    assert fragment in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_directory_is_reported_not_crashed_on(tmp_path):
    """A directory given as a file is a one-line error with exit 2."""
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path}: is a directory, not a scenario file\n"


def test_schema_prints_json_schema():
    """`dagsim schema` prints a JSON Schema document describing scenario files."""
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "dagsim scenario"
    assert "databases" in schema["properties"]
    assert set(schema["required"]) == {"sites", "servers", "databases"}
    assert schema["additionalProperties"] is False


def test_load_or_exit_returns_the_scenario(files):
    """_load_or_exit gives the scenario of a valid file."""
    assert _load_or_exit(files / "good.yaml").databases[0].name == "DB1"


def test_load_or_exit_prints_problems_and_exits_2(files, capsys):
    """_load_or_exit prints every problem to stderr and raises typer.Exit(2)."""
    with pytest.raises(typer.Exit) as info:
        _load_or_exit(files / "bad.yaml")
    assert info.value.exit_code == 2
    assert len(capsys.readouterr().err.splitlines()) == 3


def test_python_dash_m_dagsim(files):
    """`python -m dagsim validate` works as a real process: ok is 0, problems are 2."""
    good = subprocess.run(
        [sys.executable, "-m", "dagsim", "validate", str(files / "good.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (good.returncode, good.stdout) == (0, f"{files / 'good.yaml'}: ok\n")
    bad = subprocess.run(
        [sys.executable, "-m", "dagsim", "validate", str(files / "bad.yaml"), "nope.yaml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr + bad.stdout
    lines = bad.stderr.splitlines()
    assert lines[-1] == "nope.yaml: file not found"
    assert all(PROBLEM_LINE.match(line) for line in lines[:-1]) and len(lines) == 4
