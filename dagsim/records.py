"""Immutable records that model components emit and results hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dagsim.domain import Outcome

__all__ = [
    "CandidateVerdict",
    "ClientOutageRecord",
    "CopyStats",
    "DatabaseStats",
    "DecisionRecord",
    "EventRecord",
    "FailoverRecord",
    "LinkHop",
    "LinkRecord",
    "LogStream",
    "format_clock",
]


@dataclass(frozen=True, slots=True)
class EventRecord:
    """Something that happened at a simulated moment, in Exchange's words."""

    time: float
    kind: str
    database: str = ""
    server: str = ""
    detail: str = ""
    site: str = ""  # a site event's site
    links: tuple[str, ...] = ()  # every link a link or WAN event took down or brought back
    batch: str = ""  # an MRS event's batch
    reason: str = ""  # why a move stalled


@dataclass(frozen=True, slots=True)
class CopyStats:
    """Queue statistics of one database copy over a whole run (queues in logs)."""

    database: str
    server: str
    activation_preference: int
    replay_lag_time: float
    copy_queue_peak: float
    copy_queue_mean: float
    time_copy_queue_above_10: float
    replay_queue_peak: float
    replay_queue_mean: float
    time_replay_queue_above_50: float
    log_volume_peak: float


@dataclass(frozen=True, slots=True)
class DatabaseStats:
    """What the active copy of a database did over a run."""

    database: str
    logs_generated: float
    active_log_volume_peak: float
    log_volume_capacity: float


def format_clock(seconds: float) -> str:
    """Simulated time as ``'2d 09:30:00'`` (day count from the run's start, then the clock)."""
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}d {hours:02d}:{minutes:02d}:{secs:02d}"


@dataclass(frozen=True, slots=True)
class CandidateVerdict:
    """Best copy and server selection's verdict on one copy, as fields (``text`` says it in words).

    ``verdict`` is a :class:`dagsim.domain.SelectionVerdict` value. A ranked copy has the
    ``criteria_set`` it met and the server ``health_check`` it passed (1 = All Healthy); a
    rejected copy has the ``reason``; a copy whose mount dial refused the loss has
    ``logs_lost`` and the dial's words in ``reason``.
    """

    server: str
    verdict: str
    criteria_set: int | None = None
    health_check: int | None = None
    reason: str = ""
    logs_lost: int | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class FailoverRecord:
    """One failover or switchover of one database, phase by phase (times in seconds).

    ``outcome`` is ``"mounted"`` when a copy was mounted, otherwise what happened instead
    (``"no acceptable copy"``: left dismounted; ``"switchover refused"``: still mounted on
    the source; ``"in progress"``: the run ended before it finished). Phases that did not
    happen are ``None``.
    """

    database: str
    kind: str  # "failover", "switchover", or "remount" (a failover that mounted on the server it left)
    cause: str
    source: str
    target: str | None
    outcome: Outcome  # a str: compares equal to its words
    failure: float
    detected: float | None
    selection_done: float | None
    last_logs_copied: float | None
    replay_done: float | None
    mounted: float | None
    logs_lost: float
    messages_lost: float
    messages_redelivered: float
    candidates: tuple[str, ...]  # best copy selection's verdict on every copy, in words
    selection: tuple[CandidateVerdict, ...] = ()  # the same verdicts as fields, in the order tried

    @property
    def outage(self) -> float | None:
        """From the failure (or the switchover's start) until the database was mounted again."""
        return None if self.mounted is None else self.mounted - self.failure


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One step of Active Manager's reasoning about a database: its ``kind`` (a
    :class:`dagsim.domain.Decision` value) and ``facts`` as fields, and ``text``, the same
    in an administrator's words."""

    time: float
    database: str
    kind: str
    text: str
    facts: tuple[tuple[str, Any], ...] = ()

    def fact(self, name: str) -> Any:
        """The value of one fact (KeyError if this decision has no such fact)."""
        for key, value in self.facts:
            if key == name:
                return value
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class ClientOutageRecord:
    """What one protocol's users of one database felt after one interruption (seconds).

    Statistics are over the clients that noticed (their requests failed); clients whose
    next request came after the recovery are not counted. A client still failing when the
    run ends counts until the end of the run.
    """

    database: str
    protocol: str
    cause: str
    start: float
    min: float
    median: float
    p95: float
    max: float
    mean: float
    affected_mailboxes: float
    user_minutes: float


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """Log-shipping demand on one direction of an inter-site link, against its bandwidth.

    Demand is what the copies shipping over the link generate, after network compression,
    not what they were granted: above the bandwidth their copy queues grow. ``copies`` are
    the copies (``DB\\server``) that shipped over it at the peak.
    """

    link: str
    from_site: str
    to_site: str
    capacity: float  # bytes/s
    peak_demand: float  # bytes/s
    peak_at: float  # s
    copies: tuple[str, ...]

    @property
    def utilization(self) -> float:
        """Peak demand as a fraction of the bandwidth."""
        return self.peak_demand / self.capacity if self.capacity > 0 else 0.0


@dataclass(frozen=True, slots=True)
class LinkHop:
    """One direction of an inter-site link that a log stream crosses."""

    link: str
    from_site: str
    to_site: str
    capacity: float  # bytes/s
    forward: bool  # from the link's first site to its second


@dataclass(frozen=True, slots=True)
class LogStream:
    """A passive copy's log stream as routed at the start of the run, every network up."""

    database: str
    server: str  # the passive copy's server
    bytes_per_log: float  # on the wire, after network compression
    links: tuple[LinkHop, ...]  # the inter-site links crossed, in travel order

