"""The ``expect:`` block of a scenario: assertions on the results of its run.

Each expectation is a mapping whose ``check`` key selects its kind (as ``action`` selects a
timeline action); its other keys say what to measure and the expected value, in the same
units as the rest of the file. Quantities accept a ``tolerance`` in the unit of the value.
The models here only describe structure; :mod:`dagsim.config.rules` checks that the names
they use resolve, and :mod:`dagsim.expectations` measures and judges them.

This module must not import :mod:`dagsim.config.schema` (the schema imports it).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

from dagsim.config.units import MAX_NUMBER, Count, Duration, Number
from dagsim.domain import EventKind as _Kind

__all__ = [
    "EVENT_KINDS",
    "LAST",
    "Expectation",
    "ExpectationSpec",
    "FailoverCheck",
]

# The same naming rule as dagsim.config.schema.Name (repeated: the schema imports this module).
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]

# Client protocols, as in client_access.protocols of the schema.
Protocol = Literal["outlook", "owa", "eas", "ews", "imap", "pop"]

# FailoverRecord.outcome, as Active Manager writes it.
# The values of dagsim.domain.Outcome (a test keeps the two equal); a Literal keeps the
# scenario schema and its dump plain strings.
Outcome = Literal[
    "mounted",
    "no acceptable copy",
    "no acceptable copy; superseded by operator switchover",
    "switchover refused",
    "switchover failed; remounted on the source",
    "no healthier copy; stays on the source",
    "in progress",
]

# Phases of a failover record: each from the end of the previous one (docs/active-manager.md#best-copy-and-server-selection-bcss).
Phase = Literal["detection", "selection", "last_logs", "replay", "mount"]

# Every kind of event a run records, from dagsim.domain: a typo in an `event` check would
# otherwise pass silently with `count: 0`.
EVENT_KINDS = tuple(kind.value for kind in _Kind)


def _event_kind(value: object) -> object:
    if isinstance(value, str) and value not in EVENT_KINDS:
        close = difflib.get_close_matches(value, EVENT_KINDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (see docs/expectations.md for the list)"
        raise ValueError(f"unknown event kind {value!r}{hint}")
    return value


EventKind = Annotated[str, BeforeValidator(_event_kind), WithJsonSchema({"enum": list(EVENT_KINDS)})]

LAST = -1  # the stored value of `occurrence: last`


def _occurrence(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == "last":
        return LAST
    if isinstance(value, bool) or not isinstance(value, int) or (value < 1 and value != LAST):
        raise ValueError(f"occurrence is a number from 1 (the first) or 'last', got {value!r}")
    return value


Occurrence = Annotated[
    int,
    BeforeValidator(_occurrence),
    PlainSerializer(lambda v: "last" if v == LAST else v, when_used="json"),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"const": "last"}]}),
]
Logs = Annotated[Number, Field(ge=0, description="a number of 1 MiB transaction logs")]
Messages = Annotated[Number, Field(ge=0, description="a number of messages")]


class ExpectationSpec(BaseModel):
    """Base of every expectation: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)


class FailoverCheck(ExpectationSpec):
    """Selects one failover record of a database: the first by default, or by ``occurrence``."""

    database: Name
    kind: Literal["failover", "switchover", "remount"] | None = Field(
        default=None,
        description="only failovers, switchovers or remounts (a failover that mounted the database again "
        "on the server it left); default: all",
    )
    occurrence: Occurrence | None = Field(
        default=None, description="which record of the database (1 = first, 'last'); default: the first"
    )


class _LossCheck(FailoverCheck):
    """Totals over every failover record of the database, or one record with ``occurrence``."""

    occurrence: Occurrence | None = Field(
        default=None, description="one record (1 = first, 'last'); default: the total over the run"
    )


class FailoverWithin(FailoverCheck):
    """The failover mounts the database within ``duration`` of the failure (FailoverRecord.outage)."""

    check: Literal["failover_within"]
    duration: Duration
    tolerance: Duration = 0.0


class FailoverTarget(FailoverCheck):
    """The failover ends with the database mounted on ``server``."""

    check: Literal["failover_target"]
    server: Name


class FailoverOutcome(FailoverCheck):
    """How the failover or switchover ended, in Active Manager's words."""

    check: Literal["failover_outcome"]
    outcome: Outcome


class FailoverPhase(FailoverCheck):
    """One phase of the failover takes ``duration`` (± ``tolerance``)."""

    check: Literal["failover_phase"]
    phase: Phase
    duration: Duration
    tolerance: Duration = 0.0


class FailoverCount(ExpectationSpec):
    """Exactly ``count`` failover records (of a database, of a kind, with an outcome)."""

    check: Literal["failover_count"]
    count: Count = Field(ge=0, le=MAX_NUMBER)
    database: Name | None = None
    kind: Literal["failover", "switchover"] | None = None
    outcome: Outcome | None = None


class Candidate(FailoverCheck):
    """Best copy selection's verdict on one copy: the criteria set it met, or why it was passed
    over (rejected by best copy selection, or refused by its server's AutoDatabaseMountDial)."""

    check: Literal["candidate"]
    server: Name
    criteria_set: Count | None = Field(default=None, ge=1, le=10)
    rejected: str | None = Field(
        default=None, min_length=1, description="words of the reason the copy was rejected or passed over"
    )

    @model_validator(mode="after")
    def _one_verdict(self) -> Candidate:
        if (self.criteria_set is None) == (self.rejected is None):
            raise ValueError("give exactly one of criteria_set (1 to 10) or rejected (words of the reason)")
        return self


class LogsLostAtMost(_LossCheck):
    """At most ``logs`` logs lost."""

    check: Literal["logs_lost_at_most"]
    logs: Logs
    tolerance: Logs = 0.0


class LogsLost(_LossCheck):
    """Exactly ``logs`` logs lost (± ``tolerance``)."""

    check: Literal["logs_lost"]
    logs: Logs
    tolerance: Logs = 0.0


class MessagesLost(_LossCheck):
    """``messages`` messages lost with the lost logs (± ``tolerance``)."""

    check: Literal["messages_lost"]
    messages: Messages
    tolerance: Messages = 0.0


class MessagesRedelivered(_LossCheck):
    """Safety Net resubmits ``messages`` messages (± ``tolerance``)."""

    check: Literal["messages_redelivered"]
    messages: Messages
    tolerance: Messages = 0.0


class ClientOutageP95Under(ExpectationSpec):
    """The 95th percentile of the client-perceived outage of a protocol stays under ``duration``."""

    check: Literal["client_outage_p95_under"]
    protocol: Protocol
    duration: Duration
    database: Name | None = Field(default=None, description="default: every database")
    tolerance: Duration = 0.0


class CopyQueuePeakUnder(ExpectationSpec):
    """The copy queue of one database copy stays under ``logs`` over the whole run."""

    check: Literal["copy_queue_peak_under"]
    database: Name
    server: Name
    logs: Logs
    tolerance: Logs = 0.0


class QuorumLost(ExpectationSpec):
    """The DAG loses quorum (``lost: true``, optionally ``at`` a time) or never does (``lost: false``)."""

    check: Literal["quorum_lost"]
    lost: bool = True
    at: Duration | None = None
    tolerance: Duration = 0.0

    @model_validator(mode="after")
    def _at_needs_lost(self) -> QuorumLost:
        if self.at is not None and not self.lost:
            raise ValueError("'at' says when quorum is lost; it cannot go with lost: false")
        return self


class MountedAt(ExpectationSpec):
    """At time ``at`` the database is (not) mounted, optionally on ``server`` (copy status)."""

    check: Literal["mounted_at"]
    database: Name
    at: Duration
    server: Name | None = None
    mounted: bool = True


class NoSplitBrain(ExpectationSpec):
    """No database is ever mounted on two servers at once."""

    check: Literal["no_split_brain"]
    database: Name | None = Field(default=None, description="default: every database")


class EventCheck(ExpectationSpec):
    """Events of a kind happen (at least once, or exactly ``count`` times), optionally ``at`` a time."""

    check: Literal["event"]
    kind: EventKind
    database: Name | None = None
    server: Name | None = None
    contains: str | None = Field(default=None, min_length=1, description="words the event's detail contains")
    count: Count | None = Field(default=None, ge=0, le=MAX_NUMBER, description="exactly this many; default: at least one")
    at: Duration | None = None
    tolerance: Duration = 0.0


class BatchCompletedWithin(ExpectationSpec):
    """Every request of a migration batch completed within ``duration`` of the batch's start."""

    check: Literal["batch_completed_within"]
    batch: str = Field(min_length=1, max_length=64, description="the name of a batch in mrs.batches")
    duration: Duration


class BatchStalls(ExpectationSpec):
    """A migration batch stalled (data guarantee or a failover) at most ``at_most`` times."""

    check: Literal["batch_stalls"]
    batch: str = Field(min_length=1, max_length=64, description="the name of a batch in mrs.batches")
    at_most: Count = Field(ge=0, le=MAX_NUMBER)
    at_least: Count = Field(default=0, ge=0, le=MAX_NUMBER)


class _MoveSelection(ExpectationSpec):
    """Which move requests a check is about: a batch, the batches into or out of a database,
    and optionally one request (its number in the batch, 1 first)."""

    batch: str | None = Field(default=None, min_length=1, max_length=64, description="a batch in mrs.batches")
    database: Name | None = Field(default=None, description="the batches whose target (or source) is this database")
    request: Count | None = Field(default=None, ge=1, le=1_000_000, description="one request: its number in the batch")

    @model_validator(mode="after")
    def _something(self) -> _MoveSelection:
        if self.batch is None and self.database is None:
            raise ValueError("name the moves: give batch or database")
        return self


class MoveCompletedWithin(_MoveSelection):
    """Each selected move request completed within ``duration`` of its own start."""

    check: Literal["move_completed_within"]
    duration: Duration


class MoveStalled(_MoveSelection):
    """Some selected move request stalled (``stalled: false``: none did), for ``reason`` if given."""

    check: Literal["move_stalled"]
    stalled: bool = True
    reason: str | None = Field(
        default=None, min_length=1, description="words of the StatusDetail, e.g. StalledDueToTarget_MdbReplication"
    )


Expectation = Annotated[
    FailoverWithin
    | FailoverTarget
    | FailoverOutcome
    | FailoverPhase
    | FailoverCount
    | Candidate
    | LogsLostAtMost
    | LogsLost
    | MessagesLost
    | MessagesRedelivered
    | ClientOutageP95Under
    | CopyQueuePeakUnder
    | QuorumLost
    | MountedAt
    | NoSplitBrain
    | EventCheck
    | BatchCompletedWithin
    | BatchStalls
    | MoveCompletedWithin
    | MoveStalled,
    Field(discriminator="check"),
]
