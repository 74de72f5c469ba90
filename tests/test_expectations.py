"""The `expect:` block: located validation errors, and each check measured and judged on a run."""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest
from pydantic import TypeAdapter

import dagsim
from dagsim.config import ScenarioError, load_scenario_text
from dagsim.config.expect import Expectation
from dagsim.expectations import check_file, evaluate
from dagsim.records import ClientOutageRecord, EventRecord

# Three members in three sites. DB1 fails over from MBX1 to MBX3 at 00:10 (MBX2 is suspended):
# 5 s detection + 1 s selection + 10 s ACLL timeout + 10 s mount = 26 s. At 00:40 an operator
# switches it over to MBX2: 1 s selection + 5 s dismount + last logs + 10 s mount.
BASE = """\
sites: [{name: A}, {name: B}, {name: C}]
networks: [{name: MapiNetwork, type: mapi}]
links:
  - {name: WAN-A-B, sites: [A, B], bandwidth: 1Gbps, latency: 10ms}
  - {name: WAN-A-C, sites: [A, C], bandwidth: 1Gbps, latency: 10ms}
  - {name: WAN-B-C, sites: [B, C], bandwidth: 1Gbps, latency: 50ms}
servers:
  - {name: MBX1, site: A}
  - {name: MBX2, site: B}
  - {name: MBX3, site: C}
databases:
  - name: DB1
    logs_per_day: 11520
    copies:
      - {server: MBX1, activation_preference: 1}
      - {server: MBX2, activation_preference: 2}
      - {server: MBX3, activation_preference: 3}
timeline:
  - {at: 1m, action: suspend_copy, database: DB1, server: MBX2}
  - {at: 10m, action: fail_server, server: MBX1}
  - {at: 20m, action: resume_copy, database: DB1, server: MBX2}
  - {at: 40m, action: switchover_database, database: DB1, target: MBX2}
run: {duration: 1h}
"""
BASE_LINES = BASE.count("\n")
EXPECTATION = TypeAdapter(Expectation)


@cache
def _base():
    scenario = load_scenario_text(BASE)
    return scenario, dagsim.simulate(scenario)


def _judge(**fields):
    """The verdict of one expectation on the base run."""
    scenario, result = _base()
    expectation = EXPECTATION.validate_python(fields)
    (verdict,) = evaluate(scenario.model_copy(update={"expect": (expectation,)}), result)
    return verdict


def _problems(expect_block: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(BASE + "expect:\n" + expect_block, filename="s.yaml")
    return [str(problem) for problem in caught.value.problems]


# ---------------------------------------------------------------- validation
def test_malformed_expect_block_reports_every_problem_located():
    """Unknown keys, unknown checks, missing keys and bad values each point at their line and dotted path."""
    lines = [
        "  - {check: failover_within, database: DB1, duration: 30s}",
        "  - {check: failover_within, databse: DB1, duration: 30s}",
        "  - {check: failover_witin, database: DB1, duration: 30s}",
        "  - {check: logs_lost_at_most, database: DB1, logs: 3 logs}",
    ]
    first = BASE_LINES + 2  # the line of expect[0]
    problems = _problems("".join(line + "\n" for line in lines))
    assert problems == [
        f"s.yaml:{first + 1}:5 expect[1].database: missing required key 'database'",
        f"s.yaml:{first + 1}:{lines[1].index('databse') + 1} expect[1].databse: unknown key 'databse'; "
        "did you mean 'database'?",
        f"s.yaml:{first + 2}:{lines[2].index('failover_witin') + 1} expect[2].check: unknown check "
        "'failover_witin'; did you mean 'failover_within'? (valid checks: failover_within, failover_target, "
        "failover_outcome, failover_phase, failover_count, candidate, logs_lost_at_most, logs_lost, messages_lost, "
        "messages_redelivered, client_outage_p95_under, copy_queue_peak_under, quorum_lost, mounted_at, "
        "no_split_brain, event, batch_completed_within, batch_stalls, move_completed_within, move_stalled)",
        f"s.yaml:{first + 3}:{lines[3].index('3 logs') + 1} expect[3].logs: should be a valid number, got '3 logs'",
    ]


def test_references_in_expectations_must_resolve():
    """A database or server an expectation names must exist, and `at` must fall within the run."""
    lines = [
        "  - {check: mounted_at, database: DB1, at: 5m}",
        "  - {check: failover_target, database: DB9, server: MBX2}",
        "  - {check: copy_queue_peak_under, database: DB1, server: MBX7, logs: 10}",
        "  - {check: mounted_at, database: DB1, at: 2h}",
    ]
    first = BASE_LINES + 2
    problems = _problems("".join(line + "\n" for line in lines))
    assert problems == [
        f"s.yaml:{first + 1}:{lines[1].index('DB9') + 1} expect[1].database: database 'DB9' is not defined "
        "(references must resolve); did you mean 'DB1'?",
        f"s.yaml:{first + 2}:{lines[2].index('MBX7') + 1} expect[2].server: server 'MBX7' is not defined "
        "(references must resolve); did you mean 'MBX3'?",
        f"s.yaml:{first + 3}:{lines[3].index('2h') + 1} expect[3].at: is after the run ends (at 2h, run duration 1h)",
    ]


def test_server_without_a_copy_of_the_database_is_rejected():
    """An expectation about a copy on a server that holds none of the database is an error."""
    text = BASE.replace("      - {server: MBX3, activation_preference: 3}\n", "").replace(
        "  - {at: 40m, action: switchover_database, database: DB1, target: MBX2}\n", ""
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text + "expect:\n  - {check: failover_target, database: DB1, server: MBX3}\n", "s.yaml")
    assert [p.path for p in caught.value.problems] == ["expect[0].server"]
    assert caught.value.problems[0].message == "database 'DB1' has no copy on server 'MBX3'"


def test_value_rules_of_single_checks():
    """Occurrence, criteria set, quorum `at` and event kinds are checked with plain-words messages."""
    problems = _problems(
        "  - {check: failover_target, database: DB1, server: MBX2, occurrence: 0}\n"
        "  - {check: candidate, database: DB1, server: MBX2}\n"
        "  - {check: quorum_lost, lost: false, at: 10m}\n"
        "  - {check: event, kind: quorum_lots}\n"
    )
    messages = [p.split(": ", 1)[1] for p in problems]
    assert messages == [
        "occurrence is a number from 1 (the first) or 'last', got 0",
        "give exactly one of criteria_set (1 to 10) or rejected (words of the reason)",
        "'at' says when quorum is lost; it cannot go with lost: false",
        "unknown event kind 'quorum_lots'; did you mean 'quorum_lost'?",
    ]
    assert [p.split(" ")[1].rstrip(":") for p in problems] == [
        "expect[0].occurrence",
        "expect[1]",
        "expect[2]",
        "expect[3].kind",
    ]


def test_per_log_mode_has_no_failovers_to_check():
    """In per_log mode, checks on Active Manager's records are rejected; copy queue checks are not."""
    text = BASE.split("timeline:")[0] + "run: {duration: 1h, mode: per_log}\n"
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(
            text
            + "expect:\n"
            + "  - {check: copy_queue_peak_under, database: DB1, server: MBX2, logs: 10}\n"
            + "  - {check: failover_within, database: DB1, duration: 30s}\n",
            "s.yaml",
        )
    (problem,) = caught.value.problems
    assert problem.path == "expect[1].check"
    assert problem.message == "per_log mode has no Active Manager; use mode fluid to check failover_within"


def test_expectations_round_trip_through_json():
    """A scenario with expectations dumps to JSON (provenance) and validates back unchanged."""
    scenario = load_scenario_text(
        BASE + "expect:\n  - {check: failover_target, database: DB1, server: MBX2, occurrence: last}\n"
        "  - {check: failover_within, database: DB1, duration: 1m30s, tolerance: 500ms}\n"
    )
    again = dagsim.Scenario.model_validate(scenario.model_dump(mode="json"))
    assert again.expect == scenario.expect
    assert scenario.model_dump(mode="json")["expect"][0]["occurrence"] == "last"


# ---------------------------------------------------------------- a wrong expectation
def test_wrong_expectation_fails_with_expected_measured_and_line(tmp_path):
    """A failover slower than expected fails, showing expected, measured, file:line and the failover record."""
    path = tmp_path / "slow.yaml"
    path.write_text(BASE + "expect:\n  - {check: failover_within, database: DB1, duration: 20s}\n")
    (verdict,) = check_file(path).verdicts
    assert not verdict.passed
    assert verdict.expected == "mounted within 20s"
    assert verdict.measured == "26s"
    assert verdict.where == f"{path}:{BASE_LINES + 2}"
    assert verdict.line_text() == (
        f"FAIL  {path}:{BASE_LINES + 2}  failover_within DB1: expected mounted within 20s, measured 26s"
    )
    report = verdict.report()
    assert "failover record behind it:" in report
    assert "DB1 failover (server failure) from MBX1 at 0d 00:10:00: mounted on MBX3" in report
    assert "MBX2: rejected, copy is suspended." in report


# ---------------------------------------------------------------- each check
def test_failover_within_and_its_tolerance():
    """failover_within passes at or above the measured outage, and a tolerance widens the limit."""
    assert _judge(check="failover_within", database="DB1", duration="26s").passed
    assert not _judge(check="failover_within", database="DB1", duration="25s").passed
    assert _judge(check="failover_within", database="DB1", duration="25s", tolerance="1s").passed


def test_failover_checks_select_by_kind_and_occurrence():
    """kind and occurrence pick the record: the first by default, `last`, or a number."""
    assert _judge(check="failover_target", database="DB1", server="MBX3").passed
    assert _judge(check="failover_target", database="DB1", server="MBX2", occurrence="last").passed
    assert _judge(check="failover_target", database="DB1", server="MBX2", kind="switchover").passed
    wrong = _judge(check="failover_target", database="DB1", server="MBX2")
    assert (wrong.passed, wrong.measured) == (False, "mounted on MBX3")
    missing = _judge(check="failover_target", database="DB1", server="MBX2", occurrence=3)
    assert (missing.passed, missing.measured) == (False, "only 2 records of DB1")


def test_failover_outcome_phase_and_count():
    """Outcome, the duration of one phase and the number of records are measured from the records."""
    assert _judge(check="failover_outcome", database="DB1", outcome="mounted").passed
    assert not _judge(check="failover_outcome", database="DB1", outcome="no acceptable copy").passed
    assert _judge(check="failover_phase", database="DB1", phase="last_logs", duration="10s").passed
    switchover_mount = _judge(check="failover_phase", database="DB1", kind="switchover", phase="mount", duration="9s")
    assert (switchover_mount.passed, switchover_mount.measured) == (False, "10s")
    assert _judge(check="failover_count", database="DB1", count=2).passed
    assert _judge(check="failover_count", kind="switchover", count=1).passed
    assert not _judge(check="failover_count", count=0).passed


def test_candidate_verdicts():
    """candidate matches best copy selection's criteria set, or the words of a rejection."""
    assert _judge(check="candidate", database="DB1", server="MBX3", criteria_set=1).passed
    assert not _judge(check="candidate", database="DB1", server="MBX3", criteria_set=2).passed
    assert _judge(check="candidate", database="DB1", server="MBX2", rejected="copy is suspended").passed
    assert not _judge(check="candidate", database="DB1", server="MBX2", rejected="activation is suspended").passed


def test_loss_checks_total_over_the_run():
    """Logs and messages lost are totals over the database's records unless an occurrence is named."""
    assert _judge(check="logs_lost_at_most", database="DB1", logs=0).passed
    assert _judge(check="logs_lost", database="DB1", logs=0, occurrence=1).passed
    wrong = _judge(check="logs_lost", database="DB1", logs=3)
    assert (wrong.passed, wrong.expected, wrong.measured) == (False, "= 3 logs in total", "0 logs over 2 records")
    assert _judge(check="messages_redelivered", database="DB1", messages=0).passed


def test_copy_queue_peak_under():
    """copy_queue_peak_under compares the copy's peak copy queue with the limit."""
    scenario, result = _base()
    (stats,) = [c for c in result.copy_records if (c.database, c.server) == ("DB1", "MBX2")]
    assert stats.copy_queue_peak > 10  # suspended from 00:01 to 00:20
    assert _judge(check="copy_queue_peak_under", database="DB1", server="MBX2", logs=stats.copy_queue_peak + 1).passed
    verdict = _judge(check="copy_queue_peak_under", database="DB1", server="MBX2", logs=10)
    assert not verdict.passed and verdict.measured.startswith("peak ")


def test_quorum_lost_both_ways():
    """quorum_lost: false passes when quorum is kept; lost: true then fails with 'never lost'."""
    assert _judge(check="quorum_lost", lost=False).passed
    verdict = _judge(check="quorum_lost")
    assert (verdict.passed, verdict.measured) == (False, "never lost")


def test_mounted_at_reads_the_copy_status_table():
    """mounted_at sees the source before the failure, nothing during it, and the target after."""
    assert _judge(check="mounted_at", database="DB1", at="9m", server="MBX1").passed
    assert _judge(check="mounted_at", database="DB1", at="10m10s", mounted=False).passed
    assert _judge(check="mounted_at", database="DB1", at="11m", server="MBX3").passed
    wrong = _judge(check="mounted_at", database="DB1", at="11m", server="MBX2")
    assert (wrong.passed, wrong.measured) == (False, "mounted on MBX3")
    assert wrong.record is not None and wrong.record.target == "MBX3"


def test_no_split_brain_passes_and_catches_two_mounted_copies():
    """no_split_brain passes on the run, and fails when the events show a second copy mounted."""
    scenario, result = _base()
    check = EXPECTATION.validate_python({"check": "no_split_brain"})
    with_check = scenario.model_copy(update={"expect": (check,)})
    assert evaluate(with_check, result)[0].passed
    rogue = EventRecord(12 * 60.0, "database_mounted", "DB1", "MBX2", "a rogue mount")
    events = tuple(sorted([*result.event_records, rogue], key=lambda e: e.time))
    broken = dataclasses.replace(result, event_records=events)
    (verdict,) = evaluate(with_check, broken)
    assert not verdict.passed
    assert verdict.measured == "DB1 mounted on MBX3 and MBX2 from 0d 00:12:00 to 0d 00:40:01 (events)"


def test_event_check_filters_and_counts():
    """event matches kind, names, detail words and time, and counts exactly when asked."""
    assert _judge(check="event", kind="server_failed", server="MBX1", at="10m", count=1).passed
    assert _judge(check="event", kind="copy_suspended", database="DB1", contains="suspend-mailboxdatabasecopy").passed
    assert not _judge(check="event", kind="server_failed", at="11m").passed
    assert not _judge(check="event", kind="database_mounted", count=1).passed
    assert _judge(check="event", kind="quorum_lost", count=0).passed


def test_client_outage_p95_under_reads_client_outage_records():
    """client_outage_p95_under takes the worst p95 of the protocol's records; none means no outage."""
    scenario, result = _base()
    outage = ClientOutageRecord(
        database="DB1", protocol="owa", cause="server failure", start=600.0, min=20.0, median=40.0, p95=90.0,
        max=120.0, mean=45.0, affected_mailboxes=100.0, user_minutes=75.0,
    )  # fmt: skip
    with_outage = dataclasses.replace(result, client_outage_records=(outage,))

    def judge(**fields):
        expectation = EXPECTATION.validate_python({"check": "client_outage_p95_under", **fields})
        return evaluate(scenario.model_copy(update={"expect": (expectation,)}), with_outage)[0]

    assert judge(protocol="owa", duration="91s").passed
    slow = judge(protocol="owa", database="DB1", duration="1m")
    assert not slow.passed and slow.measured.startswith("p95 1m30s (DB1, server failure")
    assert slow.record is not None and slow.record.target == "MBX3"
    assert judge(protocol="owa", duration="1m", tolerance="31s").passed
    assert judge(protocol="pop", duration="1s").measured == "no pop outage"


def test_the_documented_event_kinds_are_exactly_the_recorded_ones():
    """docs/expectations.md lists every EventKind and nothing else, and the recorder refuses other kinds."""
    import re
    from pathlib import Path

    from dagsim.domain import EventKind
    from dagsim.model.recorder import Recorder

    text = (Path(__file__).parent.parent / "docs" / "expectations.md").read_text()
    paragraph = text[text.index("`event` kinds are the `kind` column") : text.index("An unknown kind is an")]
    assert set(re.findall(r"`([a-z_]+)`", paragraph)) - {"event", "kind"} == {k.value for k in EventKind}
    from dagsim.model.layout import Layout

    layout = Layout.from_scenario(dagsim.load_scenario(Path(__file__).parent.parent / "scenarios" / "quickstart.yaml"))
    recorder = Recorder(layout, 3600.0, 300.0)
    recorder.event(1.0, "server_failed", server="MBX1")
    assert recorder.events[0].kind == "server_failed"
    with pytest.raises(ValueError):
        recorder.event(2.0, "server_fialed")
