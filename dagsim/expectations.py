"""Judge a run against the ``expect:`` block of its scenario.

Each expectation is measured on the run's results — failover records, events, copy
statistics, client outages, and the copy status table at chosen moments — and gives a
:class:`Verdict`: passed or not, the expected and the measured value as text, where the
expectation is written, and the failover record behind it when there is one. ``dagsim check``
and the pytest plugin print verdicts; nothing here prints.

Typical use::

    from dagsim.expectations import check_file
    checked = check_file("scenarios/library/mount-dial-thresholds.yaml")
    for verdict in checked.verdicts:
        print(verdict.line_text())
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from os import PathLike
from typing import Any

from dagsim.config.expect import (
    LAST,
    Candidate,
    ClientOutageP95Under,
    CopyQueuePeakUnder,
    EventCheck,
    Expectation,
    FailoverCheck,
    FailoverCount,
    FailoverOutcome,
    FailoverPhase,
    FailoverTarget,
    FailoverWithin,
    LogsLost,
    LogsLostAtMost,
    MessagesLost,
    MessagesRedelivered,
    MountedAt,
    NoSplitBrain,
    QuorumLost,
)
from dagsim.config.failures import copy_name
from dagsim.config.loader import Marks, load_scenario_with_marks
from dagsim.config.schema import Scenario
from dagsim.config.units import format_duration
from dagsim.domain import SelectionVerdict
from dagsim.history import mount_intervals
from dagsim.records import EventRecord, FailoverRecord, format_clock
from dagsim.results import RunResult

__all__ = ["FileCheck", "Verdict", "check_file", "describe_failover", "evaluate", "run_for_checks"]

# Float dust: a failover of 26.000000001 s is within 26 s.
_EPS = 1e-6


@dataclass(frozen=True)
class Verdict:
    """One expectation, judged: what was expected, what the run measured, and where it is written."""

    index: int
    expectation: Expectation
    passed: bool
    expected: str
    measured: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    record: FailoverRecord | None = None

    @property
    def name(self) -> str:
        """The check and what it is about, e.g. ``failover_within DB1 (switchover 2)``."""
        return _name(self.expectation)

    @property
    def where(self) -> str:
        """``file:line`` of the expectation (``expect[i]`` when the scenario has no file)."""
        if self.file is not None and self.line is not None:
            return f"{self.file}:{self.line}"
        return f"expect[{self.index}]"

    @property
    def status(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def line_text(self) -> str:
        """One line: ``PASS  file:line  name: expected ..., measured ...``."""
        return f"{self.status}  {self.where}  {self.name}: expected {self.expected}, measured {self.measured}"

    def report(self) -> str:
        """Several lines for a failure message: where, expected, measured, the failover record."""
        lines = [
            f"{self.where}: expect[{self.index}] {self.name} {'passed' if self.passed else 'failed'}",
            f"  expected: {self.expected}",
            f"  measured: {self.measured}",
        ]
        if self.record is not None:
            lines.append("  failover record behind it:")
            lines += ["    " + line for line in describe_failover(self.record).splitlines()]
        return "\n".join(lines)


@dataclass(frozen=True)
class FileCheck:
    """A scenario file, its run (None when it has no expectations) and the verdicts."""

    file: str
    scenario: Scenario
    result: RunResult | None
    verdicts: tuple[Verdict, ...]
    seconds: float = 0.0  # wall-clock time of the run and the checks

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def failures(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.passed)


def check_file(path: str | PathLike[str]) -> FileCheck:
    """Load a scenario file, run it if it has expectations, and judge each one.

    Raises :class:`~dagsim.config.ScenarioError` (every problem, located) for an invalid
    file and :class:`OSError` for one that cannot be read.
    """
    file = str(path)
    scenario, marks = load_scenario_with_marks(path)
    if not scenario.expect:
        return FileCheck(file, scenario, None, ())
    started = time.perf_counter()
    result = run_for_checks(scenario)
    verdicts = evaluate(scenario, result, file=file, marks=marks)
    return FileCheck(file, scenario, result, verdicts, time.perf_counter() - started)


def run_for_checks(scenario: Scenario) -> RunResult:
    """Run ``scenario`` once for its expectations, reading the copy status at the moments they
    name on the way (only no_split_brain's moments, every event, need a second run)."""
    from dagsim.model.simulation import Simulation
    from dagsim.status import status_table

    return Simulation(scenario).run(observe_at=_named_moments(scenario), observer=status_table)


def evaluate(
    scenario: Scenario,
    result: RunResult,
    *,
    file: str | None = None,
    marks: Marks | None = None,
) -> tuple[Verdict, ...]:
    """Judge every expectation of ``scenario`` against ``result`` (a run of that scenario).

    ``file`` and ``marks`` (from :func:`~dagsim.config.loader.load_scenario_with_marks`) let
    each verdict say where its expectation is written.
    """
    run = _Run(scenario, result)
    run.status.update(result.copy_status)
    run.probe(t for expectation in scenario.expect for t in _moments(expectation, run))
    verdicts = []
    for index, expectation in enumerate(scenario.expect):
        passed, expected, measured, record = _EVALUATORS[expectation.check](expectation, run)
        line = column = None
        if marks is not None:
            position = marks.value(("expect", index))
            line, column = position.line, position.column
        verdicts.append(Verdict(index, expectation, passed, expected, measured, file, line, column, record))
    return tuple(verdicts)


def describe_failover(record: FailoverRecord) -> str:
    """A failover record in a few lines: what, when, each phase, what was lost, BCSS's verdicts."""
    head = f"{record.database} {record.kind} ({record.cause}) from {record.source} at {format_clock(record.failure)}: "
    head += f"{record.outcome}" + (f" on {record.target}" if record.outcome == "mounted" and record.target else "")
    phases = [
        ("detected", record.detected),
        ("selected", record.selection_done),
        ("last logs", record.last_logs_copied),
        ("replayed", record.replay_done),
        ("mounted", record.mounted),
    ]
    done = [f"{label} +{_seconds(t - record.failure)}" for label, t in phases if t is not None]
    lines = [
        head,
        "phases after the failure: " + (", ".join(done) or "none"),
        f"logs lost {_number(record.logs_lost)}, messages lost {record.messages_lost:,.0f}, "
        f"redelivered by Safety Net {record.messages_redelivered:,.0f}",
    ]
    if record.candidates:
        lines.append("best copy selection:")
        lines += ["  " + line for line in record.candidates]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the run


class _Run:
    """A result and what evaluators derive from it (copy status at chosen moments)."""

    def __init__(self, scenario: Scenario, result: RunResult) -> None:
        self.scenario = scenario
        self.result = result
        self.status: dict[float, Any] = {}

    def failovers(self, database: str | None, kind: str | None = None) -> list[FailoverRecord]:
        """Failover records in the order the failures happened."""
        found = [
            r
            for r in self.result.failover_records
            if (database is None or r.database == database) and (kind is None or r.kind == kind)
        ]
        return sorted(found, key=lambda r: r.failure)

    def latest_failover(self, database: str, before: float) -> FailoverRecord | None:
        earlier = [r for r in self.failovers(database) if r.failure <= before]
        return earlier[-1] if earlier else None

    def events(self, kind: str) -> list[EventRecord]:
        return [e for e in self.result.event_records if e.kind == kind]

    def probe(self, moments: Iterable[float]) -> None:
        """The copy status table at each moment, from one more run of the scenario.

        As with ``dagsim status --at``, the table at a moment shows the state before the
        events scheduled at that very instant.
        """
        wanted = sorted({min(max(t, 0.0), self.result.duration) for t in moments} - set(self.status))
        if not wanted:
            return
        from dagsim.status import status_tables

        self.status.update(status_tables(self.result, wanted))

    def mounted_at(self, database: str, moment: float) -> tuple[list[str], list[str]]:
        """(servers whose copy of ``database`` is Mounted, ``server Status`` of every copy)."""
        table = self.status[min(max(moment, 0.0), self.result.duration)]
        server_of = {copy_name(database, c.server): c.server for c in self.scenario.database(database).copies}
        rows = table[table["Name"].isin(list(server_of))]
        servers = [server_of[name] for name in rows["Name"]]
        mounted = [s for s, status in zip(servers, rows["Status"], strict=True) if status == "Mounted"]
        every = [f"{s} {status}" for s, status in zip(servers, rows["Status"], strict=True)]
        return mounted, every


Evaluation = tuple[bool, str, str, FailoverRecord | None]


def _named_moments(scenario: Scenario) -> list[float]:
    """Moments the expectations name before any run (``mounted_at``'s ``at``)."""
    return [e.at for e in scenario.expect if isinstance(e, MountedAt)]


def _moments(expectation: Expectation, run: _Run) -> list[float]:
    """Moments at which an expectation needs the copy status table."""
    if isinstance(expectation, MountedAt):
        return [expectation.at]
    if isinstance(expectation, NoSplitBrain):
        databases = _split_brain_databases(expectation, run)
        times = [e.time for e in run.result.event_records if e.database in databases or not e.database]
        return [*times, run.result.duration]
    return []


# ---------------------------------------------------------------------------- formatting


def _seconds(seconds: float) -> str:
    """A duration with its fraction: ``26s``, ``8m57.6s``, ``1h30m``."""
    if seconds < 0:
        return "-" + _seconds(-seconds)
    whole_minutes = int((seconds + 5e-4) // 60)
    rest = round(seconds - whole_minutes * 60, 3)
    head = format_duration(whole_minutes * 60) if whole_minutes else ""
    if rest <= 0 and head:
        return head
    return head + f"{rest:.3f}".rstrip("0").rstrip(".") + "s"


def _number(value: float) -> str:
    if math.isinf(value):
        return "infinite"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _tolerance(tolerance: float, unit: Callable[[float], str]) -> str:
    return f" (tolerance {unit(tolerance)})" if tolerance else ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _name(expectation: Expectation) -> str:
    parts: list[str] = [expectation.check]
    if isinstance(expectation, EventCheck):
        parts.append(expectation.kind)
    if isinstance(expectation, ClientOutageP95Under):
        parts.append(expectation.protocol)
    database = getattr(expectation, "database", None)
    server = getattr(expectation, "server", None)
    if isinstance(expectation, Candidate | CopyQueuePeakUnder | EventCheck) and server:
        parts.append(f"{database}\\{server}" if database else server)
    elif database:
        parts.append(database)
    batch = getattr(expectation, "batch", None)
    if batch:
        parts.append(batch)
    if isinstance(expectation, MountedAt):
        parts.append(f"at {format_clock(expectation.at)}")
    qualifiers: list[str] = []
    kind = getattr(expectation, "kind", None)
    if kind and not isinstance(expectation, EventCheck):
        qualifiers.append(kind)
    occurrence = getattr(expectation, "occurrence", None)
    if occurrence is not None:
        qualifiers.append("last" if occurrence == LAST else f"#{occurrence}")
    if qualifiers:
        parts.append(f"({' '.join(qualifiers)})")
    return " ".join(parts)


def _which(expectation: FailoverCheck) -> str:
    kind = expectation.kind or "failover or switchover"
    return f"{kind} of {expectation.database}"


# ---------------------------------------------------------------------------- failover records


def _one_record(expectation: FailoverCheck, run: _Run) -> tuple[FailoverRecord | None, str]:
    """The record an expectation is about, or None and why there is none."""
    records = run.failovers(expectation.database, expectation.kind)
    occurrence = expectation.occurrence
    if not records:
        return None, f"no {_which(expectation)}"
    if occurrence is None:
        return records[0], ""
    if occurrence == LAST:
        return records[-1], ""
    if occurrence > len(records):
        return None, f"only {_plural(len(records), expectation.kind or 'record')} of {expectation.database}"
    return records[occurrence - 1], ""


def _failover_within(expectation: FailoverWithin, run: _Run) -> Evaluation:
    limit, tolerance = expectation.duration, expectation.tolerance
    expected = f"mounted within {_seconds(limit)}{_tolerance(tolerance, _seconds)}"
    record, missing = _one_record(expectation, run)
    if record is None:
        return False, expected, missing, None
    if record.outage is None:
        return False, expected, f"not mounted ({record.outcome})", record
    return record.outage <= limit + tolerance + _EPS, expected, _seconds(record.outage), record


def _failover_target(expectation: FailoverTarget, run: _Run) -> Evaluation:
    expected = f"mounted on {expectation.server}"
    record, missing = _one_record(expectation, run)
    if record is None:
        return False, expected, missing, None
    if record.outcome != "mounted":
        return False, expected, f"not mounted ({record.outcome})", record
    return record.target == expectation.server, expected, f"mounted on {record.target}", record


def _failover_outcome(expectation: FailoverOutcome, run: _Run) -> Evaluation:
    expected = expectation.outcome
    record, missing = _one_record(expectation, run)
    if record is None:
        return False, expected, missing, None
    measured = record.outcome + (f" on {record.target}" if record.outcome == "mounted" else "")
    return record.outcome == expectation.outcome, expected, measured, record


_PHASES = {
    "detection": ("failure", "detected"),
    "selection": ("detected", "selection_done"),
    "last_logs": ("selection_done", "last_logs_copied"),
    "replay": ("last_logs_copied", "replay_done"),
    "mount": ("replay_done", "mounted"),
}


def _failover_phase(expectation: FailoverPhase, run: _Run) -> Evaluation:
    tolerance = expectation.tolerance
    expected = f"{expectation.phase} phase {_seconds(expectation.duration)}{_tolerance(tolerance, _seconds)}"
    record, missing = _one_record(expectation, run)
    if record is None:
        return False, expected, missing, None
    start, end = (getattr(record, name) for name in _PHASES[expectation.phase])
    if start is None or end is None:
        return False, expected, f"no {expectation.phase} phase ({record.outcome})", record
    took = end - start
    return abs(took - expectation.duration) <= tolerance + _EPS, expected, _seconds(took), record


def _failover_count(expectation: FailoverCount, run: _Run) -> Evaluation:
    records = [
        r
        for r in run.failovers(expectation.database, expectation.kind)
        if expectation.outcome is None or r.outcome == expectation.outcome
    ]
    what = expectation.kind or "failover or switchover"
    where = f" of {expectation.database}" if expectation.database else ""
    outcome = f" with outcome '{expectation.outcome}'" if expectation.outcome else ""
    expected = f"{expectation.count} × {what}{where}{outcome}"
    measured = str(len(records))
    if records:
        measured += ": " + ", ".join(f"{r.database} at {format_clock(r.failure)} ({r.outcome})" for r in records[:5])
        measured += ", ..." if len(records) > 5 else ""
    record = records[-1] if records and len(records) != expectation.count else None
    return len(records) == expectation.count, expected, measured, record


def _candidate(expectation: Candidate, run: _Run) -> Evaluation:
    server = expectation.server
    if expectation.criteria_set is not None:
        expected = f"{server} ranked in criteria set {expectation.criteria_set}"
    else:
        expected = f"{server} rejected: {expectation.rejected}"
    record, missing = _one_record(expectation, run)
    if record is None:
        return False, expected, missing, None
    mine = [v for v in record.selection if v.server == server]
    if not mine:
        return False, expected, f"{server} not considered by best copy selection", record
    if expectation.criteria_set is not None:
        passed = mine[0].verdict == SelectionVerdict.RANKED and mine[0].criteria_set == expectation.criteria_set
    else:
        # Rejected by best copy selection, or passed over because its mount dial refused the loss.
        words = (expectation.rejected or "").casefold()  # the schema requires one of the two
        passed = any(v.verdict != SelectionVerdict.RANKED and words in v.reason.casefold() for v in mine)
    return passed, expected, " | ".join(v.text for v in mine), record


def _loss(field: str, unit: str) -> Callable[[Any, _Run], tuple[float | None, str, FailoverRecord | None]]:
    def measure(expectation: Any, run: _Run) -> tuple[float | None, str, FailoverRecord | None]:
        if expectation.occurrence is not None:
            record, missing = _one_record(expectation, run)
            if record is None:
                return None, missing, None
            value = getattr(record, field)
            return value, f"{_number(value)} {unit}", record
        records = run.failovers(expectation.database, expectation.kind)
        total = sum(getattr(r, field) for r in records)
        if not records:
            return total, f"{_number(total)} {unit} (no {_which(expectation)})", None
        worst = max(records, key=lambda r: getattr(r, field))
        count = f" over {_plural(len(records), 'record')}" if len(records) > 1 else ""
        return total, f"{_number(total)} {unit}{count}", worst

    return measure


_LOSS_FIELDS = {
    "logs_lost_at_most": ("logs_lost", "logs", "logs"),
    "logs_lost": ("logs_lost", "logs", "logs"),
    "messages_lost": ("messages_lost", "messages", "messages"),
    "messages_redelivered": ("messages_redelivered", "messages", "messages"),
}


def _loss_check(expectation: LogsLostAtMost | LogsLost | MessagesLost | MessagesRedelivered, run: _Run) -> Evaluation:
    field, value_key, unit = _LOSS_FIELDS[expectation.check]
    target = getattr(expectation, value_key)
    tolerance = expectation.tolerance
    scope = "" if expectation.occurrence is not None else " in total"
    at_most = isinstance(expectation, LogsLostAtMost)
    sign = "<=" if at_most else "="
    expected = f"{sign} {_number(target)} {unit}{scope}{_tolerance(tolerance, _number)}"
    value, measured, record = _loss(field, unit)(expectation, run)
    if value is None:
        return False, expected, measured, record
    passed = value <= target + tolerance + _EPS if at_most else abs(value - target) <= tolerance + _EPS
    return passed, expected, measured, record


# ---------------------------------------------------------------------------- other checks


def _client_outage(expectation: ClientOutageP95Under, run: _Run) -> Evaluation:
    limit, tolerance = expectation.duration, expectation.tolerance
    expected = f"p95 < {_seconds(limit)}{_tolerance(tolerance, _seconds)}"
    matching = [
        r
        for r in run.result.client_outage_records
        if r.protocol == expectation.protocol and (expectation.database is None or r.database == expectation.database)
    ]
    if not matching:
        return True, expected, f"no {expectation.protocol} outage", None
    worst = max(matching, key=lambda r: r.p95)
    measured = (
        f"p95 {_seconds(worst.p95)} ({worst.database}, {worst.cause}, from {format_clock(worst.start)}; "
        f"median {_seconds(worst.median)}, max {_seconds(worst.max)})"
    )
    record = run.latest_failover(worst.database, worst.start)
    return worst.p95 < limit + tolerance, expected, measured, record


def _copy_queue_peak(expectation: CopyQueuePeakUnder, run: _Run) -> Evaluation:
    limit, tolerance = expectation.logs, expectation.tolerance
    expected = f"peak < {_number(limit)} logs{_tolerance(tolerance, _number)}"
    stats = [
        c for c in run.result.copy_records if c.database == expectation.database and c.server == expectation.server
    ]
    if not stats:
        return False, expected, f"no copy {expectation.database}\\{expectation.server} in the results", None
    peak = stats[0].copy_queue_peak
    return peak < limit + tolerance, expected, f"peak {_number(peak)} logs", None


def _quorum_lost(expectation: QuorumLost, run: _Run) -> Evaluation:
    losses = [e.time for e in run.events("quorum_lost")]
    measured = "lost at " + ", ".join(format_clock(t) for t in losses) if losses else "never lost"
    if not expectation.lost:
        return not losses, "never lost", measured, None
    if expectation.at is None:
        return bool(losses), "lost", measured, None
    tolerance = expectation.tolerance
    expected = f"lost at {format_clock(expectation.at)}{_tolerance(tolerance, _seconds)}"
    passed = any(abs(t - expectation.at) <= tolerance + _EPS for t in losses)
    return passed, expected, measured, None


def _mounted_at(expectation: MountedAt, run: _Run) -> Evaluation:
    database, server = expectation.database, expectation.server
    where = f" on {server}" if server else ""
    expected = ("mounted" if expectation.mounted else "not mounted") + where
    mounted, every = run.mounted_at(database, expectation.at)
    if mounted:
        measured = "mounted on " + " and ".join(mounted)
    else:
        measured = "not mounted (" + ", ".join(every) + ")"
    is_mounted = server in mounted if server else bool(mounted)
    record = run.latest_failover(database, expectation.at)
    return is_mounted == expectation.mounted, expected, measured, record


def _split_brain_databases(expectation: NoSplitBrain, run: _Run) -> list[str]:
    if expectation.database:
        return [expectation.database]
    return [d.name for d in run.scenario.databases]


def _no_split_brain(expectation: NoSplitBrain, run: _Run) -> Evaluation:
    databases = _split_brain_databases(expectation, run)
    scope = expectation.database or "every database"
    expected = f"at most one mounted copy of {scope} at any time"
    for database in databases:
        intervals = [(i.server, i.start, i.end) for i in mount_intervals(run.result, database)]
        for i, (a, a0, a1) in enumerate(intervals):
            for b, b0, b1 in intervals[i + 1 :]:
                if a != b and max(a0, b0) < min(a1, b1):
                    start = max(a0, b0)
                    measured = (
                        f"{database} mounted on {a} and {b} from {format_clock(start)} "
                        f"to {format_clock(min(a1, b1))} (events)"
                    )
                    return False, expected, measured, run.latest_failover(database, start)
    for moment in sorted(run.status):
        for database in databases:
            mounted, _ = run.mounted_at(database, moment)
            if len(mounted) > 1:
                measured = f"{database} Mounted on {' and '.join(mounted)} at {format_clock(moment)} (copy status)"
                return False, expected, measured, run.latest_failover(database, moment)
    moments = len(run.status)
    return True, expected, f"at most one (events, and copy status at {_plural(moments, 'moment')})", None


def _event(expectation: EventCheck, run: _Run) -> Evaluation:
    found = [
        e
        for e in run.events(expectation.kind)
        if (expectation.database is None or e.database == expectation.database)
        and (expectation.server is None or e.server == expectation.server)
        and (expectation.contains is None or expectation.contains.casefold() in e.detail.casefold())
    ]
    tolerance = expectation.tolerance
    if expectation.at is not None:
        found = [e for e in found if abs(e.time - expectation.at) <= tolerance + _EPS]
    how_many = "at least 1" if expectation.count is None else str(expectation.count)
    expected = f"{how_many} × {expectation.kind}"
    if expectation.contains:
        expected += f" with {expectation.contains!r} in its detail"
    if expectation.at is not None:
        expected += f" at {format_clock(expectation.at)}{_tolerance(tolerance, _seconds)}"
    if found:
        shown = ", ".join(_event_text(e) for e in found[:5]) + (", ..." if len(found) > 5 else "")
        measured = f"{len(found)}: {shown}"
    else:
        measured = "none"
    passed = bool(found) if expectation.count is None else len(found) == expectation.count
    return passed, expected, measured, None


def _batch(run: _Run, name: str):
    return [r for r in run.result.move_records if r.batch == name]


def _batch_completed_within(expectation, run: _Run) -> Evaluation:
    spec = next(b for b in run.scenario.mrs.batches if b.name == expectation.batch)
    records = _batch(run, expectation.batch)
    expected = f"all {len(records)} requests of batch {expectation.batch} completed by {format_duration(expectation.duration)} after its start"
    done = [r for r in records if r.status == "Completed"]
    if len(done) < len(records):
        return False, expected, f"{len(done)} of {len(records)} completed", None
    took = max((r.finished for r in done), default=spec.start) - spec.start
    return took <= expectation.duration + _EPS, expected, f"completed {format_duration(took)} after its start", None


def _batch_stalls(expectation, run: _Run) -> Evaluation:
    stalls = [e for e in run.events("move_stalled") if e.batch == expectation.batch]
    expected = f"batch {expectation.batch} stalls between {expectation.at_least} and {expectation.at_most} times"
    measured = f"{len(stalls)}" + (f", first at {format_clock(stalls[0].time)} ({stalls[0].reason})" if stalls else "")
    return expectation.at_least <= len(stalls) <= expectation.at_most, expected, measured, None


def _moves(expectation, run: _Run) -> tuple[str, list]:
    """The selected requests and how to name them."""
    batches = [
        b.name for b in run.scenario.mrs.batches
        if (expectation.batch is None or b.name == expectation.batch)
        and (expectation.database is None or expectation.database in (b.target_database, b.source_database))
    ]  # fmt: skip
    records = [r for r in run.result.move_records if r.batch in batches]
    what = f"batch {', '.join(batches)}" if batches else "no batch"
    if expectation.request is not None:
        records = [r for r in records if r.request.endswith(f"-{expectation.request:05d}")]
        what = f"request {expectation.request} of {what}"
    return what, records


def _move_completed_within(expectation, run: _Run) -> Evaluation:
    what, records = _moves(expectation, run)
    expected = f"every request of {what} completed within {format_duration(expectation.duration)} of its start"
    if not records:
        return False, expected, "no such request", None
    late = [r for r in records if r.status != "Completed" or r.finished - r.started > expectation.duration + _EPS]
    longest = max(((r.finished - r.started) for r in records if r.status == "Completed"), default=math.nan)
    measured = (
        f"{len(records) - len(late)} of {len(records)} did"
        + (f"; the longest took {format_duration(longest)}" if longest == longest else "")
    )
    return not late, expected, measured, None


def _move_stalled(expectation, run: _Run) -> Evaluation:
    what, records = _moves(expectation, run)
    reason = f" ({expectation.reason})" if expectation.reason else ""
    expected = f"{what} {'stalled' if expectation.stalled else 'never stalled'}{reason}"
    batches = {r.batch for r in records}
    stalls = [
        e for e in run.events("move_stalled")
        if e.batch in batches and (expectation.reason is None or expectation.reason in e.reason)
    ]  # fmt: skip
    if expectation.request is not None:
        stalled = any(r.stalls > 0 for r in records) and (expectation.reason is None or bool(stalls))
    else:
        stalled = bool(stalls)
    measured = (
        f"{len(stalls)} stalls, first at {format_clock(stalls[0].time)} ({stalls[0].reason})"
        if stalls
        else ("stalled" if stalled else "no stall")
    )
    return stalled == expectation.stalled, expected, measured, None


def _event_text(event: EventRecord) -> str:
    who = "\\".join(part for part in (event.database, event.server) if part)
    detail = f" '{event.detail}'" if event.detail else ""
    return f"{format_clock(event.time)}{' ' + who if who else ''}{detail}"


_EVALUATORS: dict[str, Callable[[Any, _Run], Evaluation]] = {
    "failover_within": _failover_within,
    "failover_target": _failover_target,
    "failover_outcome": _failover_outcome,
    "failover_phase": _failover_phase,
    "failover_count": _failover_count,
    "candidate": _candidate,
    "logs_lost_at_most": _loss_check,
    "logs_lost": _loss_check,
    "messages_lost": _loss_check,
    "messages_redelivered": _loss_check,
    "client_outage_p95_under": _client_outage,
    "copy_queue_peak_under": _copy_queue_peak,
    "quorum_lost": _quorum_lost,
    "mounted_at": _mounted_at,
    "no_split_brain": _no_split_brain,
    "event": _event,
    "batch_completed_within": _batch_completed_within,
    "batch_stalls": _batch_stalls,
    "move_completed_within": _move_completed_within,
    "move_stalled": _move_stalled,
}
