"""Results carry what happened as fields, so no reader has to parse the words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import two_site_scenario

import dagsim
from dagsim.domain import SelectionVerdict

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _run(name: str):
    return dagsim.simulate(dagsim.load_scenario(SCENARIOS / name))


def test_site_and_wan_events_name_their_site_and_links():
    """A site event carries its site; a WAN partition carries every link it took down."""
    result = _run("site-failure-dac.yaml")
    by_kind = {e.kind: e for e in result.event_records}
    assert by_kind["site_failed"].site == "Primary" and by_kind["site_restored"].site == "Primary"
    assert by_kind["wan_partitioned"].links == ("WAN-PRI-SEC",)
    assert by_kind["wan_healed"].links == ("WAN-PRI-SEC",)


def test_move_stall_events_carry_their_batch_and_blocker():
    """Each stall names its batch and the data guarantee's blocker; a resume names the batch only."""
    result = _run("library/data-guarantee-second-copy.yaml")
    stalls = [e for e in result.event_records if e.kind == "move_stalled"]
    resumes = [e for e in result.event_records if e.kind == "move_resumed"]
    assert stalls and resumes
    assert {(e.batch, e.reason) for e in stalls} == {("MOVE", "StalledDueToTarget_MdbReplication")}
    assert {(e.batch, e.reason) for e in resumes} == {("MOVE", "")}


def test_events_csv_writes_the_links_of_an_event_in_one_cell(tmp_path):
    """events.csv has the typed columns, with an event's links separated by spaces."""
    _run("site-failure-dac.yaml").write(tmp_path)
    table = pd.read_csv(tmp_path / "events.csv", keep_default_na=False)
    assert {"site", "links", "batch", "reason"} <= set(table.columns)
    assert table.loc[table.kind == "wan_partitioned", "links"].tolist() == ["WAN-PRI-SEC"]


def test_a_rejected_copy_is_a_verdict_with_its_reason():
    """A suspended copy appears as rejected, with BCSS's reason; the copy it picks is ranked with its criteria set."""
    result = _run("library/exclusion-suspended.yaml")
    (record,) = result.failover_records
    verdicts = {v.server: v for v in record.selection}
    assert verdicts["MBX2"].verdict == SelectionVerdict.REJECTED
    assert verdicts["MBX2"].reason == "copy is suspended" and verdicts["MBX2"].criteria_set is None
    assert verdicts["MBX3"].verdict == SelectionVerdict.RANKED
    assert verdicts["MBX3"].criteria_set == 1 and verdicts["MBX3"].health_check == 1
    assert record.target == "MBX3"


def test_a_dial_refusal_is_a_verdict_with_the_logs_it_would_lose():
    """A copy the mount dial refuses is recorded with the whole logs it would have lost."""
    # The WAN carries 0.2 of the 0.3 logs/s generated: after 75 s the copy is 7 logs behind.
    timeline = [{"at": "75s", "action": "fail_server", "server": "MBX-A"}]
    result = dagsim.simulate(two_site_scenario(witness_site="B", timeline=timeline, duration="1h"))
    (record,) = result.failover_records
    (refused,) = [v for v in record.selection if v.verdict == SelectionVerdict.DIAL_REFUSED]
    assert refused.server == "MBX-B" and refused.logs_lost == 7
    assert "GoodAvailability allows 6" in refused.reason


def test_every_verdict_is_also_said_in_words():
    """The structured verdicts and the lines `dagsim explain` prints describe the same copies."""
    result = _run("library/exclusion-intrasite-only.yaml")
    for record in result.failover_records:
        assert record.selection
        assert [v.text for v in record.selection] == [
            line for line in record.candidates if any(line.startswith(f"{v.server}: ") for v in record.selection)
        ]


def test_log_streams_name_the_links_each_copy_crosses():
    """The result lists each passive copy's stream as routed at the start, with each link's direction and capacity."""
    result = _run("thin-wan.yaml")
    streams = {(s.database, s.server): s for s in result.log_streams}
    remote = [s for s in streams.values() if s.links]
    assert remote and all(len(s.links) == 1 for s in remote)
    hop = remote[0].links[0]
    assert (hop.link, hop.from_site, hop.to_site, hop.forward) == ("WAN-HQ-DR", "HQ", "DR", True)
    assert hop.capacity == pytest.approx(20e6 / 8)
    local = [s for s in streams.values() if not s.links]
    assert local and all(s.bytes_per_log == 1024**2 for s in local)  # compressed only between sites


def test_hourly_rates_are_the_generation_profile_of_each_database():
    """hourly_rates holds logs/s per database and hour; a day of them is the database's daily logs."""
    result = _run("thin-wan.yaml")
    assert result.hourly_rates.shape == (len(result.scenario.databases), 24)
    # thin-wan.yaml: 1,250 mailboxes x 150 messages a day / 5 messages per 1 MiB log, per database.
    assert result.hourly_rates.sum(axis=1) * 3600 == pytest.approx([1250 * 150 / 5] * 4)


def test_readers_of_a_result_do_not_rebuild_the_model():
    """plots, history, verdicts and text import nothing from dagsim.model."""
    import ast
    import inspect

    from dagsim import history, plots, text, verdicts

    for module in (plots, history, verdicts, text):
        tree = ast.parse(inspect.getsource(module))
        imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not [m for m in imported if m.startswith("dagsim.model")], module.__name__
