"""Verdicts: the architect's questions about a run, answered in one line each.

Numbers alone leave the reader to work out whether a link is big enough; a verdict says it:
"WAN-AB HQ→DR: peak 122 % of 20 Mbit/s at 0d 09:00:00, short by 4.5 Mbit/s; 4 of 4 copies
behind it exceed 10 logs, for up to 7h12m".
"""

from __future__ import annotations

from typing import Any, Protocol

from dagsim.config.schema import Scenario
from dagsim.config.units import format_duration, short_duration
from dagsim.domain import COPY_QUEUE_THRESHOLD
from dagsim.records import CopyStats, LinkRecord, format_clock

__all__ = ["RunOutcome", "batch_digest", "format_bits", "link_verdict", "link_verdicts", "move_verdicts"]


class RunOutcome(Protocol):
    """What verdicts read of a run; :class:`dagsim.results.RunResult` is one (and this module
    does not import it, because a result's summary is made of verdicts)."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def copy_records(self) -> tuple[CopyStats, ...]: ...
    @property
    def link_records(self) -> tuple[LinkRecord, ...]: ...
    @property
    def move_records(self) -> tuple[Any, ...]: ...


def format_bits(bytes_per_second: float) -> str:
    """A rate in bytes/s as bits per second with a readable unit: ``'245 Mbit/s'``."""
    bits = bytes_per_second * 8.0
    for unit, size in (("Tbit/s", 1e12), ("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bits >= size:
            return f"{bits / size:.3g} {unit}"
    return f"{bits:.3g} bit/s"


def link_verdict(record: LinkRecord, result: RunOutcome) -> str:
    """One line on one link direction: its peak against its bandwidth, and the copies behind it."""
    head = f"{record.link} {record.from_site}→{record.to_site}"
    if record.peak_demand <= 0:
        return f"{head}: no log shipping"
    share = record.utilization
    room = (
        f"headroom {1 / share:.1f}x"
        if share < 1
        else f"short by {format_bits(record.peak_demand - record.capacity)}"
    )
    line = (
        f"{head}: peak {share:.0%} of {format_bits(record.capacity)} at {format_clock(record.peak_at)} "
        f"({format_bits(record.peak_demand)}), {room}; "
    )
    behind = set(record.copies)
    stats = [c for c in result.copy_records if f"{c.database}\\{c.server}" in behind]
    above = [c for c in stats if c.copy_queue_peak > COPY_QUEUE_THRESHOLD]
    if not stats:
        return line + "the peak is seeding traffic; no copy ships logs over it then"
    if not above:
        if len(stats) == 1:
            return line + f"the copy behind it keeps its copy queue under {COPY_QUEUE_THRESHOLD:g} logs"
        return line + f"the {len(stats)} copies behind it keep their copy queues under {COPY_QUEUE_THRESHOLD:g} logs"
    longest = max(c.time_copy_queue_above_10 for c in above)
    longest = round(longest / 60) * 60 if longest >= 600 else round(longest)  # 2h10m, not 2h9m47s
    cause = "" if share >= 1 else " (not for lack of bandwidth: the link never ran short)"
    return line + (
        f"{len(above)} of {len(stats)} {'copy' if len(stats) == 1 else 'copies'} behind it "
        f"{'exceeds' if len(above) == 1 else 'exceed'} {COPY_QUEUE_THRESHOLD:g} logs, "
        f"for up to {format_duration(longest)}{cause}"
    )


def link_verdicts(result: RunOutcome) -> list[str]:
    """A verdict per link direction, in scenario order."""
    return [link_verdict(record, result) for record in result.link_records]


def batch_digest(result: RunOutcome) -> list[dict]:
    """Per migration batch: request counts by status, when the last finished, time stalled."""
    from collections import Counter

    out = []
    for batch in result.scenario.mrs.batches:
        records = [r for r in result.move_records if r.batch == batch.name]
        statuses = Counter(r.status for r in records)
        finished = [r.finished for r in records if r.status == "Completed"]
        stalled = [r for r in records if r.stalls]
        details = Counter(r.status_detail for r in records if r.status not in ("Completed",))
        out.append(
            {
                "batch": batch.name,
                "request_type": batch.request_type,
                "target_database": batch.target_database,
                "source_database": batch.source_database,
                "requests": len(records),
                "statuses": dict(sorted(statuses.items())),
                "last_completed": max(finished) if len(finished) == len(records) and finished else None,
                "bytes": sum(r.bytes_transferred for r in records),
                "stalled_requests": len(stalled),
                "stalled_seconds": sum(r.stalled for r in records),
                "open_details": dict(sorted(details.items())),
            }
        )
    return out


def move_verdicts(result: RunOutcome) -> list[str]:
    """One line per migration batch: how many moved, by when, and how long they stalled."""

    lines = []
    for digest in batch_digest(result):
        done = digest["statuses"].get("Completed", 0)
        into = f"into {digest['target_database']}" if digest["target_database"] else f"out of {digest['source_database']}"
        noun = {"move": "moves", "import": "imports", "export": "exports"}[digest["request_type"]]
        head = f"batch {digest['batch']} {into}: {done} of {digest['requests']} {noun} completed"
        if digest["last_completed"] is not None:
            head += f" by {short_duration(digest['last_completed'])}"
        else:
            rest = ", ".join(f"{n} {status}" for status, n in digest["statuses"].items() if status != "Completed")
            head += f" ({rest})" if rest else ""
        if digest["stalled_requests"]:
            head += (
                f"; {digest['stalled_requests']} stalled, {short_duration(digest['stalled_seconds'])} request-time in all "
                "(data guarantee or a database failing over)"
            )
        lines.append(head)
    return lines
