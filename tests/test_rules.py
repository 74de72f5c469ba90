"""Semantic rules on structurally valid scenarios: references and Exchange 2013 limits."""

import pytest

from dagsim.config.rules import check_scenario
from dagsim.config.schema import Scenario


def base() -> dict:
    """Two sites, three members, one database with three copies; valid."""
    return {
        "sites": [{"name": "A"}, {"name": "B"}],
        "networks": [{"name": "Mapi", "type": "mapi"}, {"name": "Repl", "type": "replication"}],
        "links": [{"name": "wan", "sites": ["A", "B"], "bandwidth": "100Mbps"}],
        "dag": {"witness": {"host": "FS1", "site": "A"}},
        "servers": [
            {"name": "EX1", "site": "A"},
            {"name": "EX2", "site": "A"},
            {"name": "EX3", "site": "B"},
        ],
        "databases": [
            {
                "name": "DB1",
                "copies": [
                    {"server": "EX1", "activation_preference": 1},
                    {"server": "EX2", "activation_preference": 2},
                    {"server": "EX3", "activation_preference": 3},
                ],
            }
        ],
        "timeline": [{"at": "1h", "action": "fail_link", "link": "wan"}],
        "run": {"duration": "1d"},
    }


def findings(data: dict) -> list[tuple[tuple, str]]:
    return check_scenario(Scenario.model_validate(data))


def many_servers(count: int, edition: str = "enterprise") -> list[dict]:
    return [{"name": f"EX{i}", "site": "A", "edition": edition} for i in range(1, count + 1)]


def test_valid_scenario_has_no_findings():
    """The base scenario breaks no rule."""
    assert findings(base()) == []


@pytest.mark.parametrize(
    ("field", "kind"),
    [("sites", "site"), ("networks", "network"), ("servers", "server"), ("databases", "database")],
)
def test_names_are_unique_per_kind(field, kind):
    """A second item with an existing name (any case) is reported at its name."""
    data = base()
    data[field].append({**data[field][0], "name": data[field][0]["name"].lower()})
    if field == "networks":
        data[field][-1]["type"] = "replication"
    index = len(data[field]) - 1
    assert ((field, index, "name"), f"{kind} names must be unique: "
            f"{data[field][0]['name'].lower()!r} is already {field}[0]") in findings(data)


def test_link_names_are_unique():
    """Two links with one name are reported."""
    data = base()
    data["links"].append({"name": "wan", "sites": ["B", "A"], "bandwidth": "1Gbps"})
    assert [loc for loc, _ in findings(data)] == [("links", 1, "name")]


def test_references_resolve():
    """Undefined sites, networks, members and witness sites are each reported at their place."""
    data = base()
    data["servers"][2]["site"] = "C"
    data["links"][0]["networks"] = ["Repl", "Backup"]
    data["dag"]["members"] = ["EX1", "EX2", "EX3", "EX7"]
    data["dag"]["witness"]["site"] = "Z"
    assert sorted(loc for loc, _ in findings(data)) == sorted(
        [
            ("servers", 2, "site"),
            ("links", 0, "networks", 1),
            ("dag", "members", 3),
            ("dag", "witness", "site"),
        ]
    )


def test_member_listed_twice():
    """A server listed twice as a member is reported at the second listing."""
    data = base()
    data["dag"]["members"] = ["EX1", "EX2", "EX3", "EX2"]
    assert findings(data) == [
        (("dag", "members", 3), "a server joins a DAG once, and 'EX2' is listed twice")
    ]


def test_empty_member_list():
    """An explicit empty member list is reported (and every copy is then off-DAG)."""
    data = base()
    data["dag"]["members"] = []
    result = dict(findings(data))
    assert result[("dag", "members")] == "a DAG has 1 to 16 members, found none"


def test_sixteen_members_are_allowed():
    """16 members is the limit, not over it."""
    data = base()
    data["servers"] = many_servers(16)
    data["databases"][0]["copies"][2]["server"] = "EX16"
    data["sites"] = [{"name": "A"}]
    data["links"] = data["timeline"] = []
    assert findings(data) == []


def test_sixteen_copies_are_allowed():
    """A database may have 16 copies, one per member."""
    data = base()
    data["servers"] = many_servers(16)
    data["databases"][0]["copies"] = [
        {"server": f"EX{i}", "activation_preference": i} for i in range(1, 17)
    ]
    assert findings(data) == []


def test_preferences_must_cover_one_to_n():
    """Preferences {1, 3} for two copies: 3 is out of range."""
    data = base()
    data["databases"][0]["copies"] = data["databases"][0]["copies"][:2]
    data["databases"][0]["copies"][1]["activation_preference"] = 3
    assert findings(data) == [
        (
            ("databases", 0, "copies", 1, "activation_preference"),
            "activation preference must be between 1 and 2 (the number of copies), got 3",
        )
    ]


def test_lag_of_exactly_fourteen_days_is_allowed():
    """14 days is the maximum lag, and allowed; one second more is not."""
    data = base()
    data["databases"][0]["copies"][2]["replay_lag_time"] = "14d"
    assert findings(data) == []
    data["databases"][0]["copies"][2]["truncation_lag_time"] = 14 * 86400 + 1
    assert [loc for loc, _ in findings(data)] == [
        ("databases", 0, "copies", 2, "truncation_lag_time")
    ]


@pytest.mark.parametrize(("edition", "databases", "ok"), [
    ("standard", 5, True),
    ("standard", 6, False),
    ("enterprise", 100, True),
    ("enterprise", 101, False),
])  # fmt: skip
def test_edition_database_limit(edition, databases, ok):
    """Standard hosts at most 5 database copies per server, Enterprise 100."""
    data = base()
    data["servers"][0]["edition"] = edition
    data["databases"] = [
        {"name": f"DB{i}", "copies": [{"server": "EX1", "activation_preference": 1}]}
        for i in range(1, databases + 1)
    ]
    expected = [] if ok else [("servers", 0, "edition")]
    assert [loc for loc, _ in findings(data)] == expected


def test_action_at_the_end_of_the_run_is_allowed():
    """An action exactly at run.duration is inside the run; one after is not."""
    data = base()
    data["timeline"][0]["at"] = "1d"
    assert findings(data) == []
    data["timeline"][0]["at"] = 86401
    assert findings(data) == [
        (("timeline", 0, "at"), "happens after the run ends (at 1d1s, run duration 1d)")
    ]


def test_suspending_and_resuming_a_passive_copy_is_allowed():
    """Suspend and resume of a passive copy (preference > 1) pass the rules."""
    data = base()
    data["timeline"] = [
        {"at": "1h", "action": "suspend_copy", "database": "DB1", "server": "EX2"},
        {"at": "2h", "action": "resume_copy", "database": "DB1", "server": "EX2"},
    ]
    assert findings(data) == []


def test_failure_actions_need_fluid_mode():
    """per_log mode refuses failure and operator actions it cannot play, naming the action."""
    data = base()
    data["run"] = {"mode": "per_log"}
    data["timeline"] = [{"at": "1h", "action": "fail_server", "server": "EX1"}]
    ((loc, message),) = findings(data)
    assert loc == ("timeline", 0, "action")
    assert message.endswith("use mode fluid for fail_server")


def test_wan_partition_names_two_defined_sites():
    """partition_wan must name two different, defined sites."""
    data = base()
    data["timeline"] = [{"at": "1h", "action": "partition_wan", "sites": ["A", "Z"]}]
    ((loc, message),) = findings(data)
    assert loc == ("timeline", 0, "sites", 1)
    assert message.startswith("site 'Z' is not defined")


def test_unresolved_database_and_server_in_one_action_are_both_reported():
    """An action naming an unknown database and an unknown server reports both."""
    data = base()
    data["timeline"] = [{"at": "1h", "action": "suspend_copy", "database": "DB9", "server": "EX9"}]
    assert [loc for loc, _ in findings(data)] == [
        ("timeline", 0, "database"),
        ("timeline", 0, "server"),
    ]


def test_alternate_witness_rules():
    """The alternate witness must not be a member nor the witness host, and its site must exist."""
    data = base()
    data["dag"]["alternate_witness"] = {"host": "ex1", "site": "Q"}
    assert sorted(loc for loc, _ in findings(data)) == [
        ("dag", "alternate_witness", "host"),
        ("dag", "alternate_witness", "site"),
    ]
    data["dag"]["alternate_witness"] = {"host": "fs1", "site": "B"}
    assert findings(data) == [
        (
            ("dag", "alternate_witness", "host"),
            "the alternate witness must be a different host from the witness ('FS1')",
        )
    ]


def test_default_network_is_one_mapi_network():
    """Leaving out `networks` gives the default single MAPI network, which is valid."""
    data = base()
    del data["networks"]
    assert findings(data) == []
