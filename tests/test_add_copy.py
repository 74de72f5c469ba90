"""Add-MailboxDatabaseCopy: a copy declared ``added: false`` exists only once the timeline adds it."""

from __future__ import annotations

import pytest

import dagsim
from dagsim.config.errors import ScenarioError
from dagsim.model.simulation import Simulation
from dagsim.status import copy_status

GIB = 1024**3  # dagsim's GB


def _scenario(*, added: bool = False, timeline=None, constraint: str = "second_copy", **run) -> dagsim.Scenario:
    """DB1 on A1 (preference 1) and A2, a DR copy on B1 declared as ``added``; a 20 GB database."""
    return dagsim.Scenario.model_validate(
        {
            "sites": [{"name": "A"}, {"name": "B"}, {"name": "W"}],
            "links": [
                {"name": "AB", "sites": ["A", "B"], "bandwidth": "100Mbps"},
                {"name": "AW", "sites": ["A", "W"], "bandwidth": "1Gbps"},
                {"name": "BW", "sites": ["B", "W"], "bandwidth": "1Gbps"},
            ],
            "dag": {"witness": {"host": "FSW", "site": "W"}},
            "servers": [{"name": "A1", "site": "A"}, {"name": "A2", "site": "A"}, {"name": "B1", "site": "B"}],
            "databases": [
                {
                    "name": "DB1", "logs_per_day": 20000, "database_size": "20GB",
                    "data_move_replication_constraint": constraint,
                    "copies": [
                        {"server": "A1", "activation_preference": 1},
                        {"server": "A2", "activation_preference": 2},
                        {"server": "B1", "activation_preference": 3, "added": added},
                    ],
                }  # fmt: skip
            ],
            "timeline": timeline or [],
            "run": {"duration": "1d", **run},
        }
    )


ADD = {"at": "10h", "action": "add_database_copy", "database": "DB1", "server": "B1"}


def test_a_copy_not_yet_added_has_no_queue_no_status_row_and_holds_no_logs():
    """Before add_database_copy the copy is not listed, its queues stay 0, and the active truncates as without it."""
    sim = Simulation(_scenario(timeline=[ADD]))
    sim.run_until(5 * 3600)
    assert list(copy_status(_scenario(timeline=[ADD]), "5h").Name) == ["DB1\\A1", "DB1\\A2"]
    assert sim.replication.queues_of(2) == (0.0, 0.0)
    result = dagsim.simulate(_scenario(timeline=[ADD], duration="9h"))
    two = _scenario(timeline=[], duration="9h").model_dump(mode="json")
    del two["databases"][0]["copies"][2]
    without = dagsim.simulate(dagsim.Scenario.model_validate(two))
    assert result.databases.active_log_volume_peak.iloc[0] == pytest.approx(
        without.databases.active_log_volume_peak.iloc[0], rel=1e-12
    )
    assert not (result.events.database.eq("DB1") & result.events.kind.str.startswith("copy_queue")).any()


def test_adding_a_copy_seeds_it_over_the_wan_then_it_replicates():
    """The added copy is Seeding for size / link rate (20 GiB at 100 Mbit/s, compressed across sites), then current."""
    result = dagsim.simulate(_scenario(timeline=[ADD]))
    events = result.events.set_index("kind")
    assert events.loc["copy_added", "time"] == 10 * 3600
    seconds = events.loc["seeding_completed", "time"] - events.loc["seeding_started", "time"]
    # Nothing else crosses A->B (B1's is the only copy there): the seed has the whole link,
    # each database byte costing compression_ratio on the wire (InterSubnetOnly).
    ratio = _scenario().dag.compression_ratio
    assert seconds == pytest.approx(20 * GIB * ratio / (100e6 / 8), rel=1e-6)
    status = copy_status(_scenario(timeline=[ADD]), "23h").set_index("Name")
    assert status.loc["DB1\\B1", "Status"] == "Healthy" and status.loc["DB1\\B1", "CopyQueueLength"] < 10


def test_a_copy_not_yet_added_is_never_activated():
    """With the other HQ copy suspended, the DR copy that does not exist yet is rejected, with the reason."""
    timeline = [
        {"at": "30m", "action": "suspend_copy", "database": "DB1", "server": "A2"},
        {"at": "1h", "action": "fail_server", "server": "A1"},
    ]
    result = dagsim.simulate(_scenario(timeline=timeline, duration="2h"))
    record = result.failover_records[0]
    assert record.outcome == "no acceptable copy"
    assert any("B1: rejected, the copy has not been added yet" in line for line in record.candidates)


def test_actions_on_a_copy_not_yet_added_are_operator_errors():
    """suspend_copy on a copy that does not exist yet is refused and recorded; the run goes on."""
    timeline = [{"at": "1h", "action": "suspend_copy", "database": "DB1", "server": "B1"}, ADD]
    result = dagsim.simulate(_scenario(timeline=timeline))
    errors = result.events[result.events.kind == "operator_error"]
    assert list(errors.detail) == ["suspend_copy: the copy has not been added yet"]
    assert (result.events.kind == "seeding_completed").any()


def test_the_data_guarantee_ignores_a_copy_not_yet_added():
    """AllCopies waits only for the copies that exist: a move into DB1 never stalls on B1 before it is added."""
    data = _scenario(constraint="all_copies").model_dump(mode="json")
    data["mrs"] = {"batches": [{"name": "M", "target_database": "DB1", "mailboxes": 2, "mailbox_size": "1GB"}]}
    result = dagsim.simulate(dagsim.Scenario.model_validate(data))
    assert (result.moves.status == "Completed").all() and (result.moves.stalls == 0).all()


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d["timeline"].append(ADD), "exists from the start"),
        (lambda d: d["databases"][0]["copies"][0].update(added=False), "must exist from the start"),
        (lambda d: d["timeline"].extend([ADD, {**ADD, "at": "11h"}]), "already added earlier"),
    ],
)
def test_rules_for_adding_copies(change, message):
    """add_database_copy needs a copy declared added: false, once; the preference 1 copy exists from the start."""
    data = _scenario(added=True).model_dump(mode="json")
    if message == "already added earlier":
        data["databases"][0]["copies"][2]["added"] = False
    change(data)
    with pytest.raises(ScenarioError, match=message):
        dagsim.load_scenario_text(__import__("yaml").safe_dump(data))


def test_per_log_mode_refuses_copies_added_later():
    """per_log mode cannot add copies during a run: the scenario is refused at the copy."""
    data = _scenario().model_dump(mode="json")
    data["run"]["mode"] = "per_log"
    with pytest.raises(ScenarioError, match="per_log mode cannot add copies"):
        dagsim.load_scenario_text(__import__("yaml").safe_dump(data))


def test_the_exact_availability_model_refuses_copies_added_later():
    """A Markov model has one fixed set of copies: a copy declared added: false is a reason to refuse."""
    from dagsim.availability.structure import FailureModel, NotMarkovian

    data = _scenario().model_dump(mode="json")
    data["failures"] = {"servers": {"time_to_failure": "30d", "time_to_repair": "4h"}}
    with pytest.raises(NotMarkovian, match="added: false"):
        FailureModel.from_scenario(dagsim.Scenario.model_validate(data))
