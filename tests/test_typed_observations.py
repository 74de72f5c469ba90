"""Results carry what happened as fields, so no reader has to parse the words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import two_site_scenario

import dagsim
from dagsim.domain import Decision, EventKind, SelectionVerdict

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


def test_a_failovers_decisions_carry_their_kind_and_facts():
    """Each decision of a failover has its kind and the facts its sentence is made of."""
    result = _run("server-failure.yaml")
    record = result.failover_records[0]
    mine = [d for d in result.decision_records if d.database == record.database]
    kinds = [d.kind for d in mine]
    assert kinds[0] == Decision.DETECTED and Decision.MOUNTED in kinds
    assert kinds.index(Decision.SELECTION) < kinds.index(Decision.SELECTION_ORDER) < kinds.index(Decision.CANDIDATE)
    detected = mine[0]
    assert detected.fact("source") == record.source
    assert detected.time + 0 == pytest.approx(record.detected)
    assert detected.fact("seconds") == pytest.approx(record.detected - record.failure)
    mounted = next(d for d in mine if d.kind == Decision.MOUNTED)
    assert mounted.fact("server") == record.target and mounted.fact("lost") == record.logs_lost
    assert {d.fact("server") for d in mine if d.kind == Decision.CANDIDATE} == {v.server for v in record.selection}
    frame = result.decisions
    assert list(frame.columns) == ["time", "database", "kind", "text"]
    assert set(frame["kind"]) <= {k.value for k in Decision}


def test_every_kind_of_decision_can_be_said():
    """Each Decision kind has a sentence, and the sentence is made from the decision's facts."""
    import inspect

    from dagsim.text import _DECISIONS, decision_text

    assert set(_DECISIONS) == set(Decision)
    for kind, say in _DECISIONS.items():
        numbers = {"seconds", "wait", "allowed", "logs", "lost", "messages", "lost_messages", "too_old", "missing"}
        facts = {
            name: 7 if name in numbers else True if name in ("switchover", "remount") else f"<{name}>"
            for name in inspect.signature(say).parameters
        }
        text = decision_text(kind, **facts)
        # A candidate's line already names its server; the server is a fact for readers.
        said = {name for name, value in facts.items() if isinstance(value, str)} - ({"server"} if kind == Decision.CANDIDATE else set())
        assert text and all(f"<{name}>" in text for name in said), kind


def test_the_model_records_decisions_by_kind_not_by_sentence():
    """No call to decide() in the model passes words: the first argument after the database is a Decision."""
    import ast

    package = Path(dagsim.__file__).resolve().parent / "model"
    calls = 0
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "decide":
                calls += 1
                kind = node.args[1]
                assert isinstance(kind, (ast.Attribute, ast.Name)), f"{path.name}:{node.lineno}"
                assert not any(isinstance(a, (ast.JoinedStr, ast.Constant)) and isinstance(getattr(a, "value", None), str)
                               for a in node.args), f"{path.name}:{node.lineno}"  # fmt: skip
    assert calls >= 20


def test_every_rejection_blocker_and_cause_can_be_said():
    """Each Rejection, MountBlocker and Cause has its words in text.py, made from its facts."""
    import inspect

    from dagsim.domain import Cause, MountBlocker, Rejection
    from dagsim.text import _CAUSES, _REJECTIONS, blocker_text, cause_text, rejection_text

    assert set(_REJECTIONS) == set(Rejection) and set(_CAUSES) == set(Cause)
    assert all(blocker_text(blocker) for blocker in MountBlocker)
    for table, say in ((_REJECTIONS, rejection_text), (_CAUSES, cause_text)):
        for kind, words in table.items():
            facts = {
                name: 17 if name in ("copy_queue", "replay_queue", "limit") else f"<{name}>"
                for name in inspect.signature(words).parameters
            }
            text = say(kind, **facts)
            assert text and all(str(value) in text for name, value in facts.items() if name != "switchover"), kind


_EVENT_FACTS = {
    "attempt": 2, "level": 10, "logs": 3.5, "restart_after": 120.0, "size": 2e11, "seconds": 1e4, "done": 3,
    "requests": 4, "request": 2, "version": 2, "current": 3, "votes": 2, "needed": 3, "failover": True,
    "shadow": False, "filled": True, "log_volume_full": False, "partition_rejoined": True,
    "members": ("MBX1", "MBX2"), "evicted": ("MBX3",), "servers": ("MBX1",), "networks": ("Repl",), "sites": ("A", "B"),
}  # fmt: skip


def test_every_kind_of_event_has_its_words():
    """Each EventKind has a template in dagsim/text.py, and it words plausible facts as a str."""
    import inspect

    from dagsim.domain import EventKind
    from dagsim.text import _EVENTS, _OPERATOR_ERRORS, event_detail

    assert set(_EVENTS) == set(EventKind)
    for kind, say in _EVENTS.items():
        if kind == EventKind.OPERATOR_ERROR:
            continue
        names = [p.name for p in inspect.signature(say).parameters.values() if p.kind is not p.VAR_KEYWORD]
        facts = {name: _EVENT_FACTS.get(name, f"<{name}>") for name in names}
        if kind == EventKind.SERVER_HEALTH_CHANGED:
            facts["level"] = "Unhealthy"
        assert isinstance(event_detail(kind.value, **facts), str), kind
    for error, say in _OPERATOR_ERRORS.items():
        facts = {name: f"<{name}>" for name in inspect.signature(say).parameters}
        assert event_detail(EventKind.OPERATOR_ERROR, error=error, **facts), error


def test_one_kind_recorded_from_several_places_keeps_each_wording():
    """The facts a call site passes pick the wording its event had when the site wrote it."""
    from dagsim.text import event_detail

    assert event_detail("switchover_requested", cmdlet="Move-ActiveMailboxDatabase") == "Move-ActiveMailboxDatabase"
    assert (
        event_detail("switchover_requested", cmdlet="Move-ActiveMailboxDatabase", parameter="-Server")
        == "Move-ActiveMailboxDatabase -Server"
    )
    assert event_detail("database_mounted", via="failover", source="MBX1", server="MBX2") == "failover from MBX1"
    assert event_detail("database_mounted", via="remount", server="MBX2") == "remounted on MBX2"
    assert event_detail("database_mounted", via="Mount-Database", server="MBX2") == "Mount-Database"
    assert event_detail("database_dismounted", cause="server failure") == "server failure"
    assert event_detail("database_dismounted", log_volume_full=True) == "dismounted: log volume out of space"
    assert event_detail("copy_resumed", attempt=2) == "AutoReseed resume attempt 2 succeeded"
    assert event_detail("seeding_completed", via="AutoReseed") == "AutoReseed onto a spare volume"
    assert event_detail("witness_failed", witness=None) == "the DAG has no witness"
    assert event_detail("operator_error", error="mount refused", blocker=None) == "Mount-Database failed: moving"


_RECORDING_CALLS = {"event": 1, "record": 0}  # the position of the kind in each recording call


def _worded_event_calls(source: str) -> list[int]:
    """Lines of recording calls that pass words: an f-string anywhere, or a string constant
    as an argument, apart from the kind."""
    import ast

    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name not in _RECORDING_CALLS:
            continue
        kind = _RECORDING_CALLS[name]
        arguments = [a for i, a in enumerate(node.args) if i != kind] + [k.value for k in node.keywords]
        constant = any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in arguments)
        fstring = any(isinstance(n, ast.JoinedStr) for a in arguments for n in ast.walk(a))
        if constant or fstring:
            lines.append(node.lineno)
    return lines


def test_the_model_records_events_by_facts_not_by_sentence():
    """No call that records an event in the model or MRS passes words: text.py makes the detail."""
    package = Path(dagsim.__file__).resolve().parent
    paths = [*package.glob("model/*.py"), *package.glob("mrs/*.py")]
    worded = {f"{path.name}:{line}" for path in paths for line in _worded_event_calls(path.read_text())}
    assert worded == set()


def test_the_event_check_finds_a_sentence_passed_as_detail():
    """The check above flags an f-string or a constant detail, and lets facts and a kind through."""
    source = (
        'recorder.event(now, "store_crashed", server=s, detail=f"restarts after {t:g}s")\n'
        'sim.record("cas_failed", server, "Client Access role stopped")\n'
        'record("auto_reseed_resume_failed", database, server, facts={"attempt": attempt})\n'
        'self.recorder.event(now, f"{kind}_high", database, server, facts={"column": c, "level": 10})\n'
    )
    assert _worded_event_calls(source) == [1, 2]


def test_recorded_events_read_as_they_did():
    """A server failure's events keep their details, now worded by dagsim/text.py."""
    result = _run("server-failure.yaml")
    said = {(e.kind, e.database, e.server): e.detail for e in result.event_records}
    assert said["database_dismounted", "DB01", "RED-MBX1"] == "server failure"
    assert said["database_mounted", "DB01", "RED-MBX2"] == "failover from RED-MBX1"
    assert said["pam_lost", "", "RED-MBX1"] == "Primary Active Manager role lost"
    assert said["copy_queue_high", "DB02", "RED-MBX1"] == "CopyQueueLength rose above 10"
    assert said["copy_disconnected", "DB01", "DUB-MBX1"] == "no network path to the active copy"


def test_operator_commands_and_store_crashes_read_as_they_did():
    """A store crash, switchovers and operator errors keep their details."""
    timeline = [
        {"at": "1h", "action": "crash_store", "server": "MBX-A", "restart_after": "2m"},
        {"at": "3h", "action": "switchover_database", "database": "DB1", "target": "MBX-A"},
        {"at": "5h", "action": "switchover_server", "server": "MBX-A"},
        {"at": "7h", "action": "suspend_copy", "database": "DB1", "server": "MBX-B"},
    ]
    result = dagsim.simulate(two_site_scenario(timeline=timeline))
    said = [(e.kind, e.detail) for e in result.event_records if "queue" not in e.kind]
    assert said[:7] == [
        ("store_crashed", "restarts after 120s"),
        ("database_dismounted", "Information Store crash"),
        ("store_restarted", ""),
        ("database_mounted", "failover from MBX-A"),
        ("copy_reconnected", "log shipping resumed"),
        ("switchover_requested", "Move-ActiveMailboxDatabase"),
        ("switchover_failed", "no acceptable target"),
    ]
    assert said[7:] == [
        ("switchover_requested", "Move-ActiveMailboxDatabase -Server"),
        ("operator_error", "the active copy cannot be suspended"),
    ]


# f-strings the model may still build: identifiers and keys, not sentences.
_IDENTIFIERS = {
    "dagsim/model/fluid.py": {"f'{kind}_high'", "f'{kind}_normal'"},
    "dagsim/model/per_log.py": {"f'{kind}_high'", "f'{kind}_normal'"},
    "dagsim/model/quorum.py": {"f'DacState(enabled={self._enabled}, {bits})'", "f'{m}={b}'"},
    "dagsim/model/simulation.py": {"f'{names[r][0]}\\\\{names[r][1]}'"},
    "dagsim/model/state.py": {"f'{database}\\\\{server}'"},
    "dagsim/mrs/service.py": {"f'{side} database'", "f'{side} server'", "f'{batch.name}-{move.index + 1:05d}'", "f'05d'"},
}


def _sentences_built(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text())
    raised = {id(sub) for node in ast.walk(tree) if isinstance(node, (ast.Raise, ast.Assert)) for sub in ast.walk(node)}
    return {ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) and id(n) not in raised}


def test_the_model_builds_no_sentences():
    """Outside error messages, the model and the mailbox replication service format no text but identifiers; text.py words the rest."""
    root = Path(dagsim.__file__).resolve().parent
    found = {}
    for path in sorted([*root.glob("model/*.py"), *root.glob("mrs/*.py")]):
        if path.name in ("invariants.py", "plot.py"):  # violation messages; a figure's labels
            continue
        rel = f"dagsim/{path.relative_to(root).as_posix()}"
        extra = _sentences_built(path) - _IDENTIFIERS.get(rel, set())
        if extra:
            found[rel] = sorted(extra)
    assert found == {}


def test_the_sentence_check_sees_an_f_string(tmp_path):
    """The check above finds an f-string sentence and ignores one inside raise."""
    source = tmp_path / "m.py"
    source.write_text("x = f'{a} failed'\ndef g():\n    raise ValueError(f'bad {b}')\n")
    assert _sentences_built(source) == {"f'{a} failed'"}


def _recorded_kinds_and_facts() -> list[tuple[str, int, str, set[str] | None]]:
    """Each call in the model that records an event with a literal kind: (file, line, kind,
    the fact names it passes, or None when they are built elsewhere)."""
    import ast

    def literal_keys(node: ast.AST) -> set[str] | None:
        if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
            return {k.value for k in node.keys}  # type: ignore[union-attr]
        return None

    root = Path(dagsim.__file__).resolve().parent
    found = []
    for path in sorted([*root.glob("model/*.py"), *root.glob("mrs/*.py")]):
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef):
                continue
            # facts = {...} assigned in the same function before the call
            assigned = sorted(
                (node.lineno, node.targets[0].id, literal_keys(node.value))
                for node in ast.walk(function)
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            )
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                position = {"event": 1, "record": 0}.get(node.func.attr)
                if position is None or len(node.args) <= position:
                    continue
                kind = node.args[position]
                if not (isinstance(kind, ast.Constant) and isinstance(kind.value, str)):
                    continue
                facts = next((k.value for k in node.keywords if k.arg == "facts"), None)
                names: set[str] | None
                if facts is None:
                    names = set()
                elif isinstance(facts, ast.Name):
                    earlier = [keys for line, name, keys in assigned if name == facts.id and line <= node.lineno]
                    names = earlier[-1] if earlier else None
                else:
                    names = literal_keys(facts)
                found.append((path.name, node.lineno, kind.value, names))
    return found


def test_every_recorded_event_passes_the_facts_its_words_need():
    """Each place that records an event passes exactly facts its template accepts, so no run can fail wording one."""
    import inspect

    from dagsim.text import _EVENTS

    calls = _recorded_kinds_and_facts()
    assert len(calls) >= 50
    wrong = []
    for file, line, kind, names in calls:
        if names is None:
            continue
        try:
            inspect.signature(_EVENTS[EventKind(kind)]).bind(**dict.fromkeys(names))
        except TypeError as error:
            wrong.append(f"{file}:{line} {kind}: {error}")
    assert wrong == []
