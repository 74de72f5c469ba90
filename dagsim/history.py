"""Who had each database mounted when, derived once from a run's records.

Plots, the report and expectations all read mount history from here, so they cannot
disagree about when a database was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagsim.domain import EventKind

if TYPE_CHECKING:
    from dagsim.results import RunResult

__all__ = ["ActiveSpan", "MountInterval", "active_spans", "mount_intervals", "outage_seconds"]


@dataclass(frozen=True, slots=True)
class MountInterval:
    """``server`` had the database mounted from ``start`` to ``end`` (seconds)."""

    server: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class ActiveSpan:
    """From ``start`` to ``end`` the database's active copy was on ``server``, mounted or not."""

    start: float
    end: float
    server: str
    mounted: bool


def _changes(result: RunResult, database: str) -> list[tuple[float, int, str, bool]]:
    """(time, order, server, mounted) for every mount and dismount of ``database``, in order."""
    end = result.duration
    changes: list[tuple[float, int, str, bool]] = []
    for order, event in enumerate(result.event_records):
        if event.database != database:
            continue
        if event.kind in (EventKind.DATABASE_MOUNTED, EventKind.DATABASE_DISMOUNTED):
            changes.append((min(max(event.time, 0.0), end), order, event.server, event.kind == EventKind.DATABASE_MOUNTED))
    # A switchover dismounts its source once the target is chosen, without a dismount event
    # (ordered before the events of the same moment).
    for record in result.failover_records:
        if (
            record.database == database
            and record.kind == "switchover"
            and record.mounted is not None
            and record.target != record.source
            and record.selection_done is not None
        ):
            changes.append((min(max(record.selection_done, 0.0), end), -1, record.source, False))
    changes.sort(key=lambda c: (c[0], c[1]))
    return changes


def _first_server(result: RunResult, database: str) -> str:
    # Every database starts mounted on its activation preference 1 copy.
    spec = result.scenario.database(database)
    return min(spec.copies, key=lambda c: c.activation_preference).server


def mount_intervals(result: RunResult, database: str) -> list[MountInterval]:
    """Every stretch during which a server had ``database`` mounted; two overlap only in a split brain."""
    opened: dict[str, float] = {_first_server(result, database): 0.0}
    intervals = []
    for moment, _, server, mounted in _changes(result, database):
        if mounted:
            opened.setdefault(server, moment)
        elif server in opened:
            intervals.append(MountInterval(server, opened.pop(server), moment))
    intervals += [MountInterval(server, start, result.duration) for server, start in opened.items()]
    return sorted(intervals, key=lambda i: (i.start, i.end, i.server))


def active_spans(result: RunResult, database: str) -> list[ActiveSpan]:
    """The run cut where the active copy or its mount changes: which server, and mounted or not.

    While a database is dismounted its active copy stays on the server it was last mounted
    on; in a split brain the copy mounted last counts as the active one.
    """
    end = result.duration
    server = _first_server(result, database)
    mounted_on = [server]  # servers with the database mounted, the latest last
    spans: list[ActiveSpan] = []
    t = 0.0
    for moment, _, where, mounted in _changes(result, database):
        if moment > t:
            spans.append(ActiveSpan(t, moment, server, bool(mounted_on)))
            t = moment
        if where in mounted_on:
            mounted_on.remove(where)
        if mounted:
            mounted_on.append(where)
        server = mounted_on[-1] if mounted_on else (where or server)
    if end > t or not spans:
        spans.append(ActiveSpan(t, end, server, bool(mounted_on)))
    return _merged(spans)


def _merged(spans: list[ActiveSpan]) -> list[ActiveSpan]:
    merged: list[ActiveSpan] = []
    for span in spans:
        last = merged[-1] if merged else None
        if last is not None and (last.server, last.mounted) == (span.server, span.mounted) and last.end == span.start:
            merged[-1] = ActiveSpan(last.start, span.end, span.server, span.mounted)
        else:
            merged.append(span)
    return merged


def outage_seconds(result: RunResult, database: str) -> float:
    """How long ``database`` had no mounted copy during the run."""
    return sum(s.end - s.start for s in active_spans(result, database) if not s.mounted)
