"""`dagsim new`: generated scenarios are valid, warning-free and laid out like the preferred architecture."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config.loader import load_scenario, load_scenario_with_marks
from dagsim.config.plausibility import plausibility_warnings
from dagsim.generate import new_scenario_text

runner = CliRunner()

SHAPES = [
    {"sites": 2, "servers": 8, "databases": 40, "copies": 4, "lagged": 1},
    {"sites": 2, "servers": 16, "databases": 100, "copies": 4, "lagged": 1},
    {"sites": 3, "servers": 9, "databases": 30, "copies": 3, "lagged": 0},
    {"sites": 1, "servers": 4, "databases": 10, "copies": 3, "lagged": 1},
    {"sites": 2, "servers": 4, "databases": 7, "copies": 2, "lagged": 0},
]


def _generated(tmp_path, **options):
    path = tmp_path / "new.yaml"
    path.write_text(new_scenario_text(**options))
    return path


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(f"{k[:2]}{v}" for k, v in s.items()))
def test_generated_scenario_validates_strictly(tmp_path, shape):
    """`dagsim new` output passes `dagsim validate --strict` (no error, no plausibility warning)."""
    path = tmp_path / "new.yaml"
    made = runner.invoke(app, ["new", "--out", str(path), *[f"--{k}={v}" for k, v in shape.items()]])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["validate", "--strict", str(path)])
    assert checked.exit_code == 0 and checked.output.strip() == f"{path}: ok"


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(f"{k[:2]}{v}" for k, v in s.items()))
def test_layout_is_balanced_like_the_preferred_architecture(tmp_path, shape):
    """Each server is preference 1 for the same number of databases (±1); half the copies stay
    at home; lagged copies take the highest preferences; copies are spread over the sites."""
    scenario = load_scenario(_generated(tmp_path, **shape))
    site_of = {s.name: s.site for s in scenario.servers}
    first = Counter(next(c.server for c in d.copies if c.activation_preference == 1) for d in scenario.databases)
    per_server = [first.get(s.name, 0) for s in scenario.servers]
    assert max(per_server) - min(per_server) <= 1
    for database in scenario.databases:
        copies = sorted(database.copies, key=lambda c: c.activation_preference)
        assert [c.activation_preference for c in copies] == list(range(1, shape["copies"] + 1))
        assert len({c.server for c in copies}) == len(copies)
        home = site_of[copies[0].server]
        at_home = sum(site_of[c.server] == home for c in copies)
        assert at_home == (shape["copies"] if shape["sites"] == 1 else math.ceil(shape["copies"] / 2))
        lagged = [c.activation_preference for c in copies if c.replay_lag_time > 0]
        assert lagged == list(range(shape["copies"] - shape["lagged"] + 1, shape["copies"] + 1))


def test_without_a_witness_site_the_witness_warning_says_so(tmp_path):
    """--no-witness-site puts the witness in the first datacenter, which validate warns about."""
    path = _generated(tmp_path, witness_site=False)
    scenario, marks = load_scenario_with_marks(path)
    [warning] = plausibility_warnings(scenario, marks, str(path))
    assert warning.path == "dag.witness.site"


def test_new_prints_to_stdout_and_refuses_to_overwrite(tmp_path):
    """Without --out the scenario goes to stdout; an existing --out needs --force."""
    printed = runner.invoke(app, ["new", "--databases", "2", "--servers", "2", "--copies", "2"])
    assert printed.exit_code == 0 and "  - name: DB001" in printed.output and "  - name: DB003" not in printed.output
    path = tmp_path / "mine.yaml"
    path.write_text("my own file")
    refused = runner.invoke(app, ["new", "--out", str(path)])
    assert refused.exit_code == 2 and "--force" in refused.output and path.read_text() == "my own file"
    forced = runner.invoke(app, ["new", "--out", str(path), "--force"])
    assert forced.exit_code == 0 and load_scenario(path).name == "new-dag"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--servers", "20"], "--servers: a DAG has 1 to 16 mailbox servers"),
        (["--copies", "9"], "--copies: each copy needs its own server"),
        (["--lagged", "4"], "--lagged: 0 to 3 lagged copies"),
        (["--sites", "2", "--copies", "1"], "--copies: a DAG over several sites needs at least 2"),
        (["--wan", "200"], "--wan: write a unit"),
        (["--wan", "fast"], "--wan:"),
        (["--servers", "4", "--databases", "200"], "Exchange 2013 mounts at most 100 databases per server"),
    ],
)
def test_impossible_options_are_refused_by_name(options, says):
    """Options no valid scenario has exit with status 2 and a message naming the option."""
    result = runner.invoke(app, ["new", *options])
    assert result.exit_code == 2 and says in result.output


def test_a_name_that_needs_quoting_round_trips(tmp_path):
    """A scenario name with YAML punctuation is quoted, and loads back unchanged."""
    path = _generated(tmp_path, name="east: west #2", databases=2, servers=2, copies=2)
    assert load_scenario(path).name == "east: west #2"
