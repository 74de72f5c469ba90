"""Loading scenario files: every problem reported at once, each at its line and column."""

import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dagsim.config import (
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    load_scenario_text,
)
from dagsim.config.loader import load_scenario_data

# Line numbers in the cases below refer to this text (line 1 is `name: two-site`).
BASE = """\
name: two-site
sites:
  - name: A
  - name: B
networks:
  - name: MapiNet
    type: mapi
  - name: ReplNet
    type: replication
links:
  - name: wan
    sites: [A, B]
    bandwidth: 200Mbps
    latency: 20ms
dag:
  name: DAG1
  witness:
    host: FS1
    site: A
servers:
  - name: EX1
    site: A
  - name: EX2
    site: A
  - name: EX3
    site: B
databases:
  - name: DB1
    mailboxes: 500
    copies:
      - server: EX1
        activation_preference: 1
      - server: EX2
        activation_preference: 2
      - server: EX3
        activation_preference: 3
        replay_lag_time: 1d
timeline:
  - at: 1h
    action: fail_link
    link: wan
  - at: 2h
    action: restore_link
    link: wan
run:
  duration: 1d
"""

SERVERS_BLOCK = """\
servers:
  - name: EX1
    site: A
  - name: EX2
    site: A
  - name: EX3
    site: B
"""


def edited(old: str, new: str) -> str:
    """BASE with the first `old` replaced; fails loudly if `old` is not there."""
    assert old in BASE, f"test setup: {old!r} is not in BASE"
    return BASE.replace(old, new, 1)


def servers(count: int) -> str:
    return "servers:\n" + "".join(f"  - {{name: EX{i}, site: A}}\n" for i in range(1, count + 1))


def copies(count: int) -> str:
    return "    copies:\n" + "".join(
        f"      - {{server: EX{i}, activation_preference: {i}}}\n" for i in range(1, count + 1)
    )


BASE_COPIES = BASE[BASE.index("    copies:\n") : BASE.index("timeline:")]
MEMBERS_17 = "  members: [" + ", ".join(f"EX{i}" for i in range(1, 18)) + "]\n"
SIX_STANDARD_DATABASES = "".join(
    f"  - name: DB{i}\n    copies: [{{server: EX1, activation_preference: 1}}]\n" for i in range(2, 7)
)
DISTRIBUTION_23 = "    hourly_distribution: [" + ", ".join(["4"] * 23) + "]\n"
DISTRIBUTION_SUM_24 = "    hourly_distribution: [" + ", ".join(["1"] * 24) + "]\n"

# (id, scenario text, line, column, path, message fragment)
MALFORMED = [
    ("unknown top-level key", edited("  duration: 1d\n", "  duration: 1d\ncolour: blue\n"),
     47, 1, "colour", "unknown key 'colour'"),
    ("top-level typo suggests the key", edited("timeline:", "timline:"),
     38, 1, "timline", "unknown key 'timline'; did you mean 'timeline'?"),
    ("unknown nested key with did-you-mean", edited("bandwidth: 200Mbps", "bandwith: 200Mbps"),
     13, 5, "links[0].bandwith", "unknown key 'bandwith'; did you mean 'bandwidth'?"),
    ("misspelt key also leaves the real one missing", edited("bandwidth: 200Mbps", "bandwith: 200Mbps"),
     11, 5, "links[0].bandwidth", "missing required key 'bandwidth'"),
    ("bad duration", edited("latency: 20ms", "latency: 20 lightyears"),
     14, 14, "links[0].latency", "expected a duration such as '30s', got '20 lightyears'"),
    ("bad bandwidth unit", edited("200Mbps", "200Mbs"),
     13, 16, "links[0].bandwidth", "unknown bandwidth unit 'Mbs'"),
    ("missing required field", edited("  - name: EX3\n    site: B\n", "  - name: EX3\n"),
     25, 5, "servers[2].site", "missing required key 'site'"),
    ("wrong type", edited("mailboxes: 500", "mailboxes: lots"),
     29, 16, "databases[0].mailboxes", "should be a valid integer, got 'lots'"),
    ("section of the wrong type", edited("run:\n  duration: 1d\n", "run: 5\n"),
     45, 6, "run", "should be a mapping of keys to values, got 5"),
    ("value out of schema range", edited("  duration: 1d\n", "  duration: 1d\n  seed: -1\n"),
     47, 9, "run.seed", "should be greater than or equal to 0, got -1"),
    ("literal choice", edited("type: replication", "type: backup"),
     9, 11, "networks[1].type", "should be 'mapi' or 'replication', got 'backup'"),
    ("duplicate key", edited("    mailboxes: 500\n", "    mailboxes: 500\n    mailboxes: 600\n"),
     30, 5, "databases[0].mailboxes", "duplicate key 'mailboxes' (first at line 29)"),
    ("YAML syntax error", edited("  name: DAG1", "  name: DAG1: x"),
     16, 13, "<document>", "YAML syntax error: mapping values are not allowed here"),
    ("unclosed flow list", edited("sites: [A, B]", "sites: [A, B"),
     12, 12, "<document>", "while parsing a flow sequence: expected ',' or ']'"),
    ("top level is not a mapping", "- sites\n- servers\n",
     1, 1, "<document>", "a scenario must be a mapping"),
    ("empty file", "# nothing yet\n",
     1, 1, "<document>", "the file is empty"),
    ("unknown action", edited("action: fail_link", "action: reboot_everything"),
     40, 13, "timeline[0].action", "unknown action 'reboot_everything' (valid actions: fail_link, restore_link,"),
    ("misspelt action suggests one", edited("action: fail_link", "action: fail_lnk"),
     40, 13, "timeline[0].action", "did you mean 'fail_link'?"),
    ("action missing its field", edited("    action: fail_link\n    link: wan\n", "    action: fail_link\n"),
     39, 5, "timeline[0].link", "missing required key 'link'"),
    ("unknown key in an action", edited("    action: fail_link\n    link: wan\n", "    action: fail_link\n    lnk: wan\n"),
     41, 5, "timeline[0].lnk", "unknown key 'lnk'; did you mean 'link'?"),
    ("action without an action key", edited("    action: fail_link\n", ""),
     39, 5, "timeline[0].action", "missing required key 'action' (valid actions: fail_link,"),
    ("hourly distribution of 23 values", edited("    mailboxes: 500\n", "    mailboxes: 500\n" + DISTRIBUTION_23),
     30, 26, "databases[0].hourly_distribution", "needs 24 hourly values (one per hour of the day), got 23"),
    ("distribution not summing to 1 or 100", edited("    mailboxes: 500\n", "    mailboxes: 500\n" + DISTRIBUTION_SUM_24),
     30, 26, "databases[0].hourly_distribution", "must sum to 1 or 100, got 24"),
    ("base-60 YAML number", edited("at: 1h", "at: 1:30"),
     39, 9, "timeline[0].at", "YAML reads 1:30 as the number 90"),
    ("YAML boolean as a name", edited("  - name: B\n", "  - name: no\n"),
     4, 11, "sites[1].name", "write it in quotes: 'no'"),
    ("17 members", edited(SERVERS_BLOCK, servers(17)).replace("  name: DAG1\n", "  name: DAG1\n" + MEMBERS_17),
     17, 100, "dag.members[16]", "a DAG has at most 16 members (Exchange 2013 limit), found 17"),
    ("17 servers as default members", edited(SERVERS_BLOCK, servers(17)),
     37, 5, "servers[16]", "a DAG has at most 16 members"),
    ("17 copies", edited(SERVERS_BLOCK, servers(17)).replace(BASE_COPIES, copies(17)),
     58, 9, "databases[0].copies[16]", "a database has at most 16 copies (Exchange 2013 limit), found 17"),
    ("two copies on one server", edited("      - server: EX2", "      - server: EX1"),
     33, 17, "databases[0].copies[1].server", "at most one copy per server: 'EX1' already holds copies[0]"),
    ("duplicate activation preference", edited("activation_preference: 2", "activation_preference: 3"),
     36, 32, "databases[0].copies[2].activation_preference", "activation preferences must be unique"),
    ("activation preference out of range", edited("activation_preference: 3", "activation_preference: 4"),
     36, 32, "databases[0].copies[2].activation_preference", "must be between 1 and 3 (the number of copies), got 4"),
    ("lag over 14 days", edited("replay_lag_time: 1d", "replay_lag_time: 15d"),
     37, 26, "databases[0].copies[2].replay_lag_time", "replay lag time is at most 14 days"),
    ("truncation lag over 14 days", edited("replay_lag_time: 1d", "truncation_lag_time: 3w"),
     37, 30, "databases[0].copies[2].truncation_lag_time", "truncation lag time is at most 14 days"),
    ("undefined server reference", edited("      - server: EX3", "      - server: EX9"),
     35, 17, "databases[0].copies[2].server", "server 'EX9' is not defined"),
    ("undefined site", edited("    site: B", "    site: C"),
     26, 11, "servers[2].site", "site 'C' is not defined"),
    ("undefined site differing in case", edited("    site: B", "    site: b"),
     26, 11, "servers[2].site", "did you mean 'B'?"),
    ("link between one site", edited("sites: [A, B]", "sites: [A, A]"),
     12, 12, "links[0].sites", "a link joins two different sites"),
    ("undefined link in timeline", edited("    link: wan\n  - at: 2h", "    link: lan\n  - at: 2h"),
     41, 11, "timeline[0].link", "link 'lan' is not defined"),
    ("copy on a non-member", edited("  name: DAG1\n", "  name: DAG1\n  members: [EX1, EX2]\n"),
     36, 17, "databases[0].copies[2].server", "a copy must be on a DAG member, and 'EX3' is not a member"),
    ("edition limit exceeded",
     edited("  - name: EX1\n    site: A\n", "  - name: EX1\n    site: A\n    edition: standard\n")
     .replace("timeline:", SIX_STANDARD_DATABASES + "timeline:"),
     23, 14, "servers[0].edition", "standard edition supports at most 5 databases per server, and 'EX1' hosts copies of 6"),
    ("no MAPI network", edited("type: mapi", "type: replication"),
     6, 3, "networks", "a DAG has exactly one MAPI network, found none"),
    ("two MAPI networks", edited("type: replication", "type: mapi"),
     9, 11, "networks[1].type", "a DAG has exactly one MAPI network, and 'MapiNet' is already"),
    ("duplicate server name", edited("  - name: EX2", "  - name: ex1"),
     23, 11, "servers[1].name", "server names must be unique: 'ex1' is already servers[0]"),
    ("witness on a member", edited("host: FS1", "host: EX2"),
     18, 11, "dag.witness.host", "the file share witness must not be a DAG member"),
    ("alternate witness on the witness host",
     edited("    site: A\nservers:", "    site: A\n  alternate_witness: {host: FS1, site: B}\nservers:"),
     20, 29, "dag.alternate_witness.host", "must be a different host from the witness"),
    ("timeline after the run ends", edited("at: 2h", "at: 2d"),
     42, 9, "timeline[1].at", "happens after the run ends (at 2d, run duration 1d)"),
    ("switching over to an undefined server",
     edited("    action: restore_link\n    link: wan\n",
            "    action: switchover_database\n    database: DB1\n    target: EX4\n"),
     45, 13, "timeline[1].target", "server 'EX4' is not defined (references must resolve); did you mean 'EX3'?"),
    ("suspending on an undefined server", edited("    action: restore_link\n    link: wan\n",
                                                 "    action: suspend_copy\n    database: DB1\n    server: FS1\n"),
     45, 13, "timeline[1].server", "server 'FS1' is not defined"),
    ("suspending a copy that does not exist",
     edited("    action: restore_link\n    link: wan\n", "    action: suspend_copy\n    database: DB1\n    server: EX4\n")
     .replace("    site: B\ndatabases:", "    site: B\n  - name: EX4\n    site: B\ndatabases:"),
     47, 13, "timeline[1].server", "database 'DB1' has no copy on server 'EX4'"),
    ("resuming an undefined database", edited("    action: restore_link\n    link: wan\n",
                                              "    action: resume_copy\n    database: DB2\n    server: EX2\n"),
     44, 15, "timeline[1].database", "database 'DB2' is not defined"),
]  # fmt: skip


def problems_of(text: str, filename: str = "s.yaml") -> tuple[Problem, ...]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, filename)
    return info.value.problems


def only(problems: tuple[Problem, ...], path: str) -> Problem:
    matching = [p for p in problems if p.path == path]
    assert len(matching) == 1, f"expected one problem at {path}, got:\n" + "\n".join(map(str, problems))
    return matching[0]


def test_base_scenario_is_valid():
    """The base text every malformed case starts from loads without problems."""
    scenario = load_scenario_text(BASE)
    assert [s.name for s in scenario.servers] == ["EX1", "EX2", "EX3"]
    assert scenario.databases[0].copies[2].replay_lag_time == 86400.0
    assert scenario.links[0].bandwidth == 25e6


@pytest.mark.parametrize(
    ("text", "line", "column", "path", "fragment"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_scenario_is_located(text, line, column, path, fragment):
    """Each malformed scenario reports its problem at the exact line, column and path."""
    problem = only(problems_of(text), path)
    assert fragment in problem.message
    assert (problem.line, problem.column) == (line, column), str(problem)
    assert problem.file == "s.yaml"


def test_messages_carry_no_pydantic_noise():
    """Problem messages have no 'Value error,' prefix, no URLs and no Python class names."""
    text = edited("latency: 20ms", "latency: soon").replace("run:\n  duration: 1d\n", "run: []\n")
    messages = [p.message for p in problems_of(text)]
    assert len(messages) == 2
    for message in messages:
        assert "Value error" not in message
        assert "http" not in message
        assert "RunSpec" not in message


def test_all_problems_are_reported_at_once():
    """A file with several structural problems reports all of them, sorted by position."""
    text = (
        edited("bandwidth: 200Mbps", "bandwith: 200Mbps")
        .replace("latency: 20ms", "latency: 20 lightyears")
        .replace("mailboxes: 500", "mailboxes: lots")
        .replace("action: fail_link", "action: explode")
        .replace("timeline:", "timline: []\ntimeline:")
    )
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (11, "links[0].bandwidth"),
        (13, "links[0].bandwith"),
        (14, "links[0].latency"),
        (29, "databases[0].mailboxes"),
        (38, "timline"),
        (41, "timeline[0].action"),
    ]


def test_all_rule_problems_are_reported_at_once():
    """A structurally valid file breaking several rules reports every rule violation."""
    text = (
        edited("type: replication", "type: mapi")
        .replace("      - server: EX3", "      - server: EX9")
        .replace("replay_lag_time: 1d", "replay_lag_time: 15d")
        .replace("at: 2h", "at: 2d")
    )
    assert [p.path for p in problems_of(text)] == [
        "networks[1].type",
        "databases[0].copies[2].server",
        "databases[0].copies[2].replay_lag_time",
        "timeline[1].at",
    ]


def test_problem_str_is_file_line_column_path_message():
    """A problem prints as `file:line:col path: message`."""
    problem = Problem("a.yaml", 3, 7, "servers[0].site", "site 'X' is not defined")
    assert str(problem) == "a.yaml:3:7 servers[0].site: site 'X' is not defined"


def test_scenario_error_lists_problems_one_per_line():
    """ScenarioError's text is its problems, one per line, and it survives pickling."""
    error = ScenarioError([Problem("a.yaml", 1, 1, "x", "one"), Problem("a.yaml", 2, 1, "y", "two")])
    assert str(error) == "a.yaml:1:1 x: one\na.yaml:2:1 y: two"
    assert pickle.loads(pickle.dumps(error)).problems == error.problems


def test_valid_file_loads_frozen_models(tmp_path):
    """A valid file loads into frozen models: assigning to any of them raises."""
    path = tmp_path / "ok.yaml"
    path.write_text(BASE)
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    with pytest.raises(ValidationError, match="frozen"):
        scenario.name = "other"
    with pytest.raises(ValidationError, match="frozen"):
        scenario.databases[0].copies[0].activation_preference = 2
    assert isinstance(scenario.servers, tuple)


def test_file_problems_name_the_file(tmp_path):
    """Problems from load_scenario carry the path as given."""
    path = tmp_path / "bad.yaml"
    path.write_text(edited("    site: B", "    site: C"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}:26:11 servers[2].site: site 'C' is not defined (references must resolve)"


def test_missing_file_raises_file_not_found(tmp_path):
    """A file that does not exist is an OSError, not a scenario problem."""
    with pytest.raises(FileNotFoundError):
        load_scenario(tmp_path / "nope.yaml")


def test_non_utf8_file_is_a_located_problem(tmp_path):
    """Bytes that are not UTF-8 are reported at their line instead of crashing."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("name: two-site", "name: caf\xe9").encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (1, 10)
    assert "not UTF-8" in problem.message


def test_unsafe_tags_are_refused():
    """Python object tags are not constructed: the safe loader reports them as problems."""
    problem = only(problems_of(edited("name: two-site", "name: !!python/object/apply:os.system [ls]")), "name")
    assert (problem.line, problem.column) == (1, 7)
    assert "unsupported YAML tag" in problem.message


def test_alias_bombs_are_refused_quickly():
    """Nested aliases that would expand to billions of values give one problem."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    (problem,) = problems_of("\n".join(levels) + "\n")
    assert "too many values" in problem.message


def test_anchors_and_merge_keys_work():
    """Anchors, aliases and `<<` merges are expanded, explicit keys win over merged ones."""
    text = edited(
        "      - server: EX2\n        activation_preference: 2\n",
        "      - &copy {server: EX2, activation_preference: 2, replay_lag_time: 1h}\n",
    ).replace(
        "      - server: EX3\n        activation_preference: 3\n        replay_lag_time: 1d\n",
        "      - <<: *copy\n        server: EX3\n        activation_preference: 3\n",
    )
    copies = load_scenario_text(text).databases[0].copies
    assert [(c.server, c.activation_preference, c.replay_lag_time) for c in copies[1:]] == [
        ("EX2", 2, 3600.0),
        ("EX3", 3, 3600.0),
    ]


def test_yaml_off_is_accepted_for_dac_mode():
    """`datacenter_activation_mode: off` (a YAML 1.1 boolean) means DAC off."""
    text = edited("  name: DAG1\n", "  name: DAG1\n  datacenter_activation_mode: off\n")
    assert load_scenario_text(text).dag.datacenter_activation_mode == "off"


def test_idle_database_is_valid():
    """A database with neither mailboxes nor logs_per_day is idle, not an error."""
    scenario = load_scenario_text(edited("    mailboxes: 500\n", ""))
    assert scenario.databases[0].mailboxes == 0
    assert scenario.databases[0].logs_per_day is None


def test_load_scenario_data_gives_marks(tmp_path):
    """load_scenario_data returns plain data and 1-based positions of values and keys."""
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    data, marks = load_scenario_data(path)
    assert data["databases"][0]["copies"][2]["server"] == "EX3"
    position = marks.value(("databases", 0, "copies", 2, "server"))
    assert (position.line, position.column) == (35, 17)
    key = marks.key(("links", 0, "bandwidth"))
    assert (key.line, key.column) == (13, 5)


_NOISE = st.sampled_from(list(":-[]{}&*!|>'\"#,? \n\t") + ["<<: ", "&a ", "*a", "!!binary ", "17", "no", "- "])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 6), _NOISE), min_size=1, max_size=4))
def test_mangled_files_never_crash(edits):
    """Random damage to a valid file yields a scenario or located problems, never a crash."""
    text = BASE
    for position, deleted, inserted in edits:
        position = min(position, len(text))
        text = text[:position] + inserted + text[position + deleted :]
    try:
        load_scenario_text(text, "m.yaml")
    except ScenarioError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.line >= 1 and problem.column >= 1 and problem.path and problem.message
