"""Mailbox moves: transfer times, the data guarantee, failovers and failures, computed by hand."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from typer.testing import CliRunner

import dagsim
from dagsim.cli import app
from dagsim.config.schema import Scenario

MIB = 1024**2
GIB = 1024**3


def scenario(
    constraint: str = "second_copy",
    *,
    wan: str = "10Gbps",
    mailboxes: int = 1,
    concurrent: int = 2,
    rate: str = "80Mbps",
    local_copy: bool = False,
    timeline: list | None = None,
    max_stall: str = "30m",
) -> Scenario:
    """DB1 active on A1, a passive copy on B1 over the WAN (and one on A2 with ``local_copy``); no mail."""
    servers = [{"name": "A1", "site": "A"}, {"name": "B1", "site": "B"}]
    copies = [{"server": "A1", "activation_preference": 1}, {"server": "B1", "activation_preference": 2}]
    if local_copy:
        servers.append({"name": "A2", "site": "A"})
        copies.append({"server": "A2", "activation_preference": 3})
    return Scenario.model_validate(
        {
            "name": "moves",
            "sites": [{"name": "A"}, {"name": "B"}, {"name": "W"}],
            "links": [
                {"name": "AB", "sites": ["A", "B"], "bandwidth": wan},
                {"name": "AW", "sites": ["A", "W"], "bandwidth": "1Gbps"},
                {"name": "BW", "sites": ["B", "W"], "bandwidth": "1Gbps"},
            ],
            "dag": {"witness": {"host": "FSW", "site": "W"}},
            "servers": servers,
            "databases": [{"name": "DB1", "logs_per_day": 0, "data_move_replication_constraint": constraint, "copies": copies}],
            "client_access": {"protocols": {}},
            "mrs": {
                "batches": [
                    {"name": "M", "target_database": "DB1", "mailboxes": mailboxes, "mailbox_size": "2GB",
                     "max_concurrent": concurrent, "transfer_rate": rate}  # fmt: skip
                ],
                "max_stall_time": max_stall,
            },
            "timeline": timeline or [],
            "run": {"duration": "1d"},
        }
    )


def test_one_move_takes_size_over_rate_plus_completion():
    """A move of S bytes at r bytes/s that never stalls completes at S / r + the completion time."""
    result = dagsim.simulate(scenario())
    move = result.moves.iloc[0]
    assert move.status == "Completed" and move.stalls == 0
    assert move.finished == pytest.approx(2 * GIB / (80e6 / 8) + 60, rel=1e-9)
    assert move.bytes_transferred == pytest.approx(2 * GIB)
    assert move.throughput == pytest.approx(2 * GIB / move.finished)


def test_concurrency_limit_queues_the_rest():
    """Four moves, two at a time: the second pair starts when the first finishes copying."""
    result = dagsim.simulate(scenario(mailboxes=4))
    copy = 2 * GIB / (80e6 / 8)
    started = sorted(result.moves.started)
    assert started == pytest.approx([0, 0, copy, copy], abs=1e-5)
    assert result.moves.finished.max() == pytest.approx(2 * copy + 60, abs=1e-5)


def test_moved_bytes_become_logs_on_the_target():
    """Every moved MiB is one log written on the target database (log_factor 1)."""
    result = dagsim.simulate(scenario(mailboxes=3))
    generated = result.databases.set_index("database").logs_generated["DB1"]
    assert generated == pytest.approx(3 * 2 * GIB / MIB, rel=1e-6)


def test_second_copy_stalls_at_the_first_check_after_the_remote_queue_reaches_10():
    """On a thin WAN the remote copy queue grows at (move logs - link share); the moves stall at the
    first data-guarantee check (every 5 s) after it reaches 10 logs."""
    s = scenario(wan="50Mbps", mailboxes=2)
    result = dagsim.simulate(s)
    ratio = s.dag.compression_ratio
    growth = 2 * (80e6 / 8) / MIB - (50e6 / 8) / (ratio * MIB)  # logs/s
    first = 10 / growth
    expected = math.ceil(first / 5) * 5
    stalls = result.events[result.events.kind == "move_stalled"]
    assert stalls.time.iloc[0] == pytest.approx(expected, abs=1e-6)
    assert "StalledDueToTarget_MdbReplication" in stalls.detail.iloc[0]
    assert (result.moves.stalls > 0).all()


def test_constraint_none_never_stalls():
    """Under DataMoveReplicationConstraint None the moves never wait, however far the copy falls behind."""
    result = dagsim.simulate(scenario("none", wan="50Mbps", mailboxes=2))
    assert (result.moves.stalls == 0).all()
    assert result.copies.copy_queue_peak.max() > 1000
    assert not (result.events.kind == "move_stalled").any()


def test_second_datacenter_waits_for_the_remote_copy_second_copy_does_not():
    """With a current copy in the same site, SecondCopy is met; SecondDatacenter waits for the remote copy."""
    same_site = dagsim.simulate(scenario("second_copy", wan="50Mbps", mailboxes=2, local_copy=True))
    other_site = dagsim.simulate(scenario("second_datacenter", wan="50Mbps", mailboxes=2, local_copy=True))
    assert (same_site.moves.stalls == 0).all()
    assert (other_site.moves.stalls > 0).all()
    assert other_site.moves.finished.max() > same_site.moves.finished.max()


def test_a_failover_of_the_target_pauses_the_moves_which_resume_on_the_new_active_copy():
    """The target's server fails mid-move: the moves wait while the database is not mounted and then
    finish from where they were, on the copy that took over."""
    undisturbed = 2 * GIB / (80e6 / 8) + 60
    failure = [{"at": "60s", "action": "fail_server", "server": "A1"}]
    # Three copies: after the failover one passive copy is still current, so SecondCopy holds.
    result = dagsim.simulate(scenario(timeline=failure, local_copy=True))
    move = result.moves.iloc[0]
    assert move.status == "Completed"
    assert move.stalls >= 1
    outage = result.failovers.iloc[0].mounted - 60
    assert result.failovers.iloc[0].target in ("B1", "A2")
    delay = move.finished - undisturbed
    # At most: the outage, plus one check period to notice it, plus one retry interval to resume.
    assert 0 < delay <= outage + 5 + 30 + 1e-6
    assert move.bytes_transferred == pytest.approx(2 * GIB)


def test_a_request_stalled_too_long_fails():
    """With its only passive copy down, a SecondCopy move stalls and fails after max_stall_time."""
    down = [{"at": "0s", "action": "fail_server", "server": "B1"}]
    result = dagsim.simulate(scenario(timeline=down, max_stall="10m"))
    move = result.moves.iloc[0]
    assert move.status == "Failed"
    assert move.status_detail.startswith("DataGuaranteeTimeout")
    assert 600 <= move.finished <= 600 + 30 + 1e-6
    assert (result.events.kind == "move_failed").sum() == 1


def test_rules_name_unknown_databases_and_per_log_mode(tmp_path):
    """A batch naming an unknown database, or moves in per_log mode, is exit 2 with the path."""
    data = scenario().model_dump(mode="json", exclude_none=True)
    data["mrs"]["batches"][0]["target_database"] = "DB9"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "mrs.batches[0].target_database" in result.output and "'DB9'" in result.output
    data["mrs"]["batches"][0]["target_database"] = "DB1"
    data["run"]["mode"] = "per_log"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "fluid mode" in result.output


def test_run_writes_moves_csv_and_a_batch_verdict(tmp_path):
    """`dagsim run --out` writes moves.csv; the summary and the text say how the batch went."""
    path = tmp_path / "moves.yaml"
    path.write_text(yaml.safe_dump(scenario(wan="50Mbps", mailboxes=2).model_dump(mode="json", exclude_none=True)))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "batch M into DB1: 2 of 2 moves completed" in result.output
    import pandas as pd

    moves = pd.read_csv(out / "moves.csv")
    assert list(moves.status) == ["Completed", "Completed"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["moves"][0]["statuses"] == {"Completed": 2}
    assert summary["moves"][0]["stalled_requests"] == 2


def test_moves_plot_shows_requests_in_flight_stalls_and_copy_queues(tmp_path):
    """The moves picture steps up to max_concurrent, shades each stall, draws the target's copy queues;
    write_plots adds moves.png only when the run has moves."""
    from dagsim import plots
    from dagsim.mrs.plot import moves_in_flight

    result = dagsim.simulate(scenario(wan="50Mbps", mailboxes=4))
    ax = moves_in_flight(result)
    in_flight = ax.lines[0].get_ydata()
    assert max(in_flight) == 2 and in_flight[-1] == 0
    stalls = (result.events.kind == "move_stalled").sum()
    assert len(ax.patches) == stalls > 0
    twin = [other for other in ax.figure.axes if other is not ax][0]
    assert any("copy queue DB1\\B1" in line.get_label() for line in twin.lines)
    written = [p.name for p in plots.write_plots(result, tmp_path)]
    assert "moves.png" in written
    quiet = dagsim.simulate("scenarios/server-failure.yaml")
    assert plots.skipped_plots(quiet)["moves"].startswith("the run had no mailbox moves")


def _with_batch(**changes) -> Scenario:
    data = scenario(wan="50Mbps", mailboxes=2, local_copy=True).model_dump(mode="json", exclude_none=True)
    data["databases"].append(
        {"name": "DB2", "logs_per_day": 0, "copies": [{"server": "A2", "activation_preference": 1}, {"server": "B1", "activation_preference": 2}]}
    )
    data["mrs"]["batches"][0].update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del data["mrs"]["batches"][0][key]
    return Scenario.model_validate(data)


def test_an_import_writes_logs_on_its_target_like_a_move():
    """A .pst import writes its bytes as logs on the target database and is held by the data guarantee."""
    result = dagsim.simulate(_with_batch(request_type="import"))
    generated = result.databases.set_index("database").logs_generated["DB1"]
    assert generated == pytest.approx(2 * 2 * GIB / MIB, rel=1e-6)
    from dagsim.verdicts import move_verdicts

    assert "batch M into DB1: 2 of 2 imports completed" in "\n".join(move_verdicts(result))


def test_an_export_writes_no_logs_and_never_waits_for_copies():
    """A .pst export reads its source database: no logs anywhere, no data guarantee, size / rate + completion."""
    result = dagsim.simulate(_with_batch(request_type="export", target_database=None, source_database="DB1"))
    assert result.databases.logs_generated.max() == 0
    assert (result.moves.stalls == 0).all()
    assert result.moves.finished.max() == pytest.approx(2 * GIB / (80e6 / 8) + 60, rel=1e-9)


def test_request_types_need_their_databases():
    """An export names its source and no target; an import names a target and no source."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="export needs source_database"):
        _with_batch(request_type="export", target_database=None)
    with pytest.raises(ValidationError, match="leave out target_database"):
        _with_batch(request_type="export", source_database="DB2")
    with pytest.raises(ValidationError, match="leave out source_database"):
        _with_batch(request_type="import", source_database="DB2")


def test_mrs_limits_hold_across_batches():
    """Two batches into one database share MaxActiveMovesPerTargetMDB: never more requests copying at once."""
    data = scenario(mailboxes=4, concurrent=4).model_dump(mode="json", exclude_none=True)
    second = dict(data["mrs"]["batches"][0], name="N")
    data["mrs"]["batches"].append(second)
    data["mrs"]["max_active_moves_per_target_database"] = 3
    result = dagsim.simulate(Scenario.model_validate(data))
    moves = result.moves
    assert (moves.status == "Completed").all()
    copy = 2 * GIB / (80e6 / 8)
    # Copying spans [started, started + copy): count the overlap at every start.
    overlaps = [((moves.started <= t) & (moves.started + copy > t + 1e-9)).sum() for t in moves.started]
    assert max(overlaps) == 3
    without = dict(data)
    without["mrs"] = dict(data["mrs"], max_active_moves_per_target_database=20)
    free = dagsim.simulate(Scenario.model_validate(without)).moves
    assert max(((free.started <= t) & (free.started + copy > t + 1e-9)).sum() for t in free.started) == 8


def test_lognormal_mailbox_sizes_follow_their_median_and_p95():
    """With mailbox_size_p95, sizes are lognormal: the sample's log-mean and log-sd match ln(median) and
    ln(p95 / median) / 1.645 within four standard errors; the same seed draws the same sizes."""
    import numpy as np

    data = scenario("none", mailboxes=400).model_dump(mode="json", exclude_none=True)
    data["mrs"]["batches"][0]["mailbox_size_p95"] = "8GB"
    s = Scenario.model_validate(data)
    moves = dagsim.simulate(s).moves
    assert (moves.status == "Completed").all()  # every request copied its whole mailbox
    sizes = np.log(moves.bytes_transferred.to_numpy())
    sigma = math.log(4) / 1.6448536269514722
    n = len(sizes)
    assert abs(sizes.mean() - math.log(2 * GIB)) < 4 * sigma / math.sqrt(n)
    assert abs(sizes.std(ddof=1) - sigma) < 4 * sigma / math.sqrt(2 * (n - 1))
    again = np.log(dagsim.simulate(s).moves.bytes_transferred.to_numpy())
    assert np.array_equal(sizes, again)


def test_items_slow_a_move_by_items_over_item_rate():
    """A mailbox of N items at i items/s takes S / r + N / i to copy, and its items scale with its size."""
    data = scenario().model_dump(mode="json", exclude_none=True)
    data["mrs"]["batches"][0].update(mailbox_items=30_000, item_rate=100)
    result = dagsim.simulate(Scenario.model_validate(data))
    assert result.moves.iloc[0].finished == pytest.approx(2 * GIB / (80e6 / 8) + 300 + 60, rel=1e-9)
    assert result.databases.set_index("database").logs_generated["DB1"] == pytest.approx(2 * GIB / MIB, rel=1e-6)


def test_an_incremental_sync_copies_the_mail_that_arrived_during_the_initial_copy():
    """After copying S at r, the sync copies c x S / r more bytes (c per second) at r, then completion."""
    per_day = 864 * MIB  # 10,485.76 bytes/s
    data = scenario().model_dump(mode="json", exclude_none=True)
    data["mrs"]["batches"][0].update(mailbox_changes_per_day=per_day)
    sim = dagsim.model.simulation.Simulation(Scenario.model_validate(data))
    copy = 2 * GIB / (80e6 / 8)
    sim.run_until(copy + 0.01)
    (move,) = [r for r in sim.mrs.records()]
    assert (move.status, move.status_detail) == ("InProgress", "IncrementalSync")
    result = sim.run()
    delta = per_day / 86400 * copy
    record = result.moves.iloc[0]
    assert record.bytes_transferred == pytest.approx(2 * GIB + delta, rel=1e-9)
    assert record.finished == pytest.approx(copy + delta / (80e6 / 8) + 60, rel=1e-9)


def test_null_mailbox_changes_come_from_the_database_message_profile():
    """mailbox_changes_per_day: null uses messages_per_day x average_message_size of the database (150 x 75 KiB)."""
    data = scenario().model_dump(mode="json", exclude_none=True)
    data["mrs"]["batches"][0]["mailbox_changes_per_day"] = None
    result = dagsim.simulate(Scenario.model_validate(data))
    copy = 2 * GIB / (80e6 / 8)
    assert result.moves.iloc[0].bytes_transferred == pytest.approx(2 * GIB + 150 * 75 * 1024 / 86400 * copy, rel=1e-9)


def _verdicts(s: Scenario, expect: list[dict]) -> dict[str, bool]:
    from dagsim.expectations import evaluate

    data = s.model_dump(mode="json", exclude_none=True)
    data["expect"] = expect
    checked = Scenario.model_validate(data)
    verdicts = evaluate(checked, dagsim.simulate(checked))
    return {f"{i}": v.passed for i, v in enumerate(verdicts)}


def test_move_checks_judge_each_request_and_its_stalls():
    """move_completed_within takes each request from its start; move_stalled sees stalls, their reason, or none."""
    copy = 2 * GIB / (80e6 / 8) + 60  # S / r + completion
    quiet = scenario(mailboxes=1)
    assert _verdicts(quiet, [
        {"check": "move_completed_within", "batch": "M", "duration": f"{copy + 1}s"},
        {"check": "move_completed_within", "database": "DB1", "request": 1, "duration": f"{copy - 1}s"},
        {"check": "move_stalled", "batch": "M", "stalled": False},
        {"check": "move_stalled", "database": "DB1"},
    ]) == {"0": True, "1": False, "2": True, "3": False}  # fmt: skip
    thin = scenario(wan="50Mbps", mailboxes=2)
    assert _verdicts(thin, [
        {"check": "move_stalled", "database": "DB1", "reason": "StalledDueToTarget_MdbReplication"},
        {"check": "move_stalled", "batch": "M", "request": 2},
        {"check": "move_stalled", "batch": "M", "reason": "StalledDueToSource"},
    ]) == {"0": True, "1": True, "2": False}  # fmt: skip


def test_move_checks_need_a_batch_or_a_database():
    """A move check naming neither a batch nor a database is refused when the file is read."""
    data = scenario().model_dump(mode="json", exclude_none=True)
    data["expect"] = [{"check": "move_stalled"}]
    with pytest.raises(Exception, match="give batch or database"):
        Scenario.model_validate(data)
