"""Best copy and server selection (BCSS): which passive copy Active Manager tries to activate.

When the active copy of a database fails (or an operator moves it), the Primary Active
Manager looks at every other copy of that database and decides which to try first. It
drops copies that cannot or may not be activated, sorts the rest (by copy queue length,
or by activation preference when any server uses the Lossless mount dial) and then
prefers copies meeting the best of ten criteria sets built from the content index state,
the copy queue and the replay queue (docs/active-manager.md#best-copy-and-server-selection-bcss). Exchange 2013 puts four server health
checks in front of those sets (All Healthy, Up to Normal Healthy, All Better than Source,
Same as Source), from Managed Availability's view of each server.

Everything here is pure: frozen candidates in, a frozen :class:`Selection` out. Whether
the chosen copy may then mount is the ``AutoDatabaseMountDial`` question, answered by
:func:`dial_allows` once the caller knows how many logs are still missing after ACLL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dagsim.domain import COPY_QUEUE_THRESHOLD, REPLAY_QUEUE_THRESHOLD, Rejection, SelectionVerdict, whole_logs
from dagsim.records import CandidateVerdict
from dagsim.text import NO_COPY_TEXT, ranked_text, rejected_text, rejection_text, selection_order_text

__all__ = [
    "DIAL_LIMITS",
    "ELIGIBLE_STATUSES",
    "HEALTH_CHECKS",
    "SERVER_HEALTH_LEVELS",
    "CandidateCopy",
    "Ranked",
    "Rejected",
    "Selection",
    "SwitchoverChecks",
    "criteria_set",
    "dial_allows",
    "explain",
    "health_check",
    "missing_logs_allowed",
    "select_copies",
    "verdicts",
]

# Logs that may be missing when a copy mounts, per AutoDatabaseMountDial (best_effort is
# only reachable through a switchover's MountDialOverride).
DIAL_LIMITS: dict[str, float] = {
    "lossless": 0,
    "good_availability": 6,
    "best_availability": 12,
    "best_effort": math.inf,
}

ELIGIBLE_STATUSES = frozenset(
    {"Healthy", "DisconnectedAndHealthy", "DisconnectedAndResynchronizing", "SeedingSource"}
)

CONTENT_INDEX_STATES = frozenset({"Healthy", "Crawling", "Failed"})
AUTO_ACTIVATION_POLICIES = frozenset({"unrestricted", "intrasite_only", "blocked"})

# A server's health as Managed Availability reports it, best first: every monitoring
# component healthy; only Low-priority components unhealthy; a Normal-priority one
# unhealthy; a High-priority one unhealthy (*assumption*: Exchange names the checks, not a
# scale, so dagsim ranks a server by the highest priority of its unhealthy components).
SERVER_HEALTH_LEVELS: tuple[str, ...] = (
    "healthy",
    "low_priority_unhealthy",
    "normal_priority_unhealthy",
    "high_priority_unhealthy",
)
# The Exchange 2013 server health checks, best first (Active Manager: best copy and server
# selection).
HEALTH_CHECKS: tuple[str, ...] = ("All Healthy", "Up to Normal Healthy", "All Better than Source", "Same as Source")

BY_COPY_QUEUE = "copy queue length"
BY_PREFERENCE = "activation preference"

# Criteria sets 1..10 as (content index required or None, CQ < 10 required, RQ < 50 required).
_CRITERIA: tuple[tuple[str | None, bool, bool], ...] = (
    ("Healthy", True, True),
    ("Crawling", True, True),
    ("Healthy", False, True),
    ("Crawling", False, True),
    (None, False, True),
    ("Healthy", True, False),
    ("Crawling", True, False),
    ("Healthy", False, False),
    ("Crawling", False, False),
    (None, False, False),
)
COPY_QUEUE_LIMIT = COPY_QUEUE_THRESHOLD
REPLAY_QUEUE_LIMIT = REPLAY_QUEUE_THRESHOLD


@dataclass(frozen=True, slots=True)
class CandidateCopy:
    """One passive copy of the database, as the PAM sees it at selection time."""

    server: str
    site: str
    activation_preference: int
    status: str
    copy_queue: float
    replay_queue: float
    content_index: str = "Healthy"
    suspended: bool = False
    activation_suspended: bool = False
    reachable: bool = True
    auto_activation_policy: str = "unrestricted"
    mount_dial: str = "good_availability"
    active_databases: int = 0
    maximum_active_databases: int | None = None
    maximum_preferred_active_databases: int | None = None
    excluded: str | None = None
    server_health: str = "healthy"

    @property
    def over_preferred(self) -> bool:
        """The server already has MaximumPreferredActiveDatabases active databases or more."""
        limit = self.maximum_preferred_active_databases
        return limit is not None and self.active_databases >= limit

    def __post_init__(self) -> None:
        # A typo here would silently change the outcome, so refuse it.
        if self.content_index not in CONTENT_INDEX_STATES:
            raise ValueError(f"{self.server}: unknown content index state {self.content_index!r}")
        if self.auto_activation_policy not in AUTO_ACTIVATION_POLICIES:
            raise ValueError(
                f"{self.server}: unknown auto activation policy {self.auto_activation_policy!r}"
            )
        missing_logs_allowed(self.mount_dial)
        _health_rank(self.server_health)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A copy worth trying, the server health check it passes and the first (best) criteria set it meets."""

    copy: CandidateCopy
    criteria_set: int
    health_check: int = 1


@dataclass(frozen=True, slots=True)
class Rejected:
    """A copy BCSS dropped, with the reason an Exchange admin would recognise."""

    server: str
    reason: str


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome of BCSS: copies to try in order, and those dropped."""

    order: tuple[Ranked, ...]
    rejected: tuple[Rejected, ...]
    sorted_by: str
    switchover: bool = False

    def best(self) -> Ranked | None:
        """The copy to try first, or None when no copy may be activated."""
        return self.order[0] if self.order else None


def missing_logs_allowed(dial: str) -> float:
    """How many logs may be missing for a mount under ``dial``."""
    try:
        return DIAL_LIMITS[dial]
    except KeyError:
        raise ValueError(
            f"unknown AutoDatabaseMountDial {dial!r}; expected one of {', '.join(DIAL_LIMITS)}"
        ) from None


def dial_allows(dial: str, missing_logs: float) -> bool:
    """True if a copy missing ``missing_logs`` logs may mount under ``dial``."""
    return missing_logs <= missing_logs_allowed(dial)


def _health_rank(level: str) -> int:
    try:
        return SERVER_HEALTH_LEVELS.index(level)
    except ValueError:
        raise ValueError(
            f"unknown server health {level!r}; expected one of {', '.join(SERVER_HEALTH_LEVELS)}"
        ) from None


def health_check(server_health: str, source_health: str | None) -> int | None:
    """The first Exchange 2013 server health check (1..4) a candidate's server passes.

    ``source_health`` is the health of the server the database leaves, or None when that
    server is down (every running server is then better than it). None means the candidate
    passes no check: its server is less healthy than the source and not Up to Normal Healthy.
    """
    rank = _health_rank(server_health)
    source = len(SERVER_HEALTH_LEVELS) if source_health is None else _health_rank(source_health)
    if rank == 0:
        return 1
    if rank == 1:
        return 2
    if rank < source:
        return 3
    if rank == source:
        return 4
    return None


def criteria_set(copy: CandidateCopy) -> int:
    """The first of the ten criteria sets (1 best .. 10 any) that ``copy`` meets."""
    for number, (index_state, short_copy_queue, short_replay_queue) in enumerate(_CRITERIA, 1):
        if index_state is not None and copy.content_index != index_state:
            continue
        if short_copy_queue and not copy.copy_queue < COPY_QUEUE_LIMIT:
            continue
        if short_replay_queue and not copy.replay_queue < REPLAY_QUEUE_LIMIT:
            continue
        return number
    raise AssertionError("criteria set 10 accepts every copy")


@dataclass(frozen=True)
class SwitchoverChecks:
    """Move-ActiveMailboxDatabase's pre-checks of the target copy, each skippable by its switch.

    Lag: copy queue under 10 and replay queue under 50 logs (``-SkipLagChecks``); client
    experience: content index Healthy (``-SkipClientExperienceChecks``); health: the copy's
    status is one a copy can be activated from (``-SkipHealthChecks`` lets an operator
    activate a Failed copy; never a suspended or unreachable one).
    """

    skip_lag_checks: bool = False
    skip_client_experience_checks: bool = False
    skip_health_checks: bool = False


def _precheck(copy: CandidateCopy, checks: SwitchoverChecks) -> str | None:
    if not checks.skip_lag_checks and (
        copy.copy_queue >= COPY_QUEUE_LIMIT or copy.replay_queue >= REPLAY_QUEUE_LIMIT
    ):
        return rejection_text(
            Rejection.LAG_PRECHECK, copy_queue=whole_logs(copy.copy_queue), replay_queue=whole_logs(copy.replay_queue)
        )
    if not checks.skip_client_experience_checks and copy.content_index != "Healthy":
        return rejection_text(Rejection.CLIENT_EXPERIENCE_PRECHECK, content_index=copy.content_index)
    return None


def _rejection(copy: CandidateCopy, source_site: str, automatic: bool, *, skip_health: bool = False) -> str | None:
    if copy.excluded is not None:
        return rejection_text(Rejection.EXCLUDED, blocker=copy.excluded)
    if not copy.reachable:
        return rejection_text(Rejection.UNREACHABLE)
    if copy.suspended:
        return rejection_text(Rejection.SUSPENDED)
    if copy.activation_suspended:
        return rejection_text(Rejection.ACTIVATION_SUSPENDED)
    # The auto-activation policy restricts Active Manager only; an operator's
    # Move-ActiveMailboxDatabase may still target the copy.
    if automatic and copy.auto_activation_policy == "blocked":
        return rejection_text(Rejection.POLICY_BLOCKED)
    if (
        automatic
        and copy.auto_activation_policy == "intrasite_only"
        and copy.site != source_site
    ):
        return rejection_text(Rejection.POLICY_INTRASITE_ONLY)
    limit = copy.maximum_active_databases
    if limit is not None and copy.active_databases >= limit:
        return rejection_text(Rejection.MAXIMUM_ACTIVE_DATABASES, limit=limit)
    if copy.status not in ELIGIBLE_STATUSES and not skip_health:
        return rejection_text(Rejection.INELIGIBLE_STATUS, status=copy.status, switchover=not automatic)
    return None


def select_copies(
    candidates: Sequence[CandidateCopy],
    *,
    source_site: str,
    dials_of_all_copies: Sequence[str],
    automatic: bool = True,
    checks: SwitchoverChecks | None = None,
    source_health: str | None = "healthy",
    health_triggered: bool = False,
) -> Selection:
    """Run BCSS over the passive copies of one database.

    ``source_site`` is the site of the failed (or switched-from) active copy.
    ``dials_of_all_copies`` holds the AutoDatabaseMountDial of every server with a copy of
    the database, the source and rejected copies included: one Lossless server anywhere
    switches the sort to activation preference. ``automatic`` is False for an operator
    switchover, which ignores DatabaseCopyAutoActivationPolicy, sorts by activation
    preference and applies ``checks`` (Move-ActiveMailboxDatabase's pre-checks).

    ``source_health`` is the source server's Managed Availability health (None: the server
    is down). ``health_triggered`` marks a failover started by a Managed Availability
    responder, for which the target's server must be healthier than the source's.
    Copies are ordered by the health check their server passes first, then by criteria
    set (*assumption*: Exchange lists the health checks "in addition to" the criteria sets
    without stating which comes first; putting health first never prefers a server that
    Managed Availability considers worse).
    """
    servers = [c.server for c in candidates]
    if len(set(servers)) != len(servers):
        raise ValueError(f"a database has at most one copy per server; got {servers}")
    for dial in dials_of_all_copies:
        missing_logs_allowed(dial)

    if source_health is not None:
        _health_rank(source_health)
    kept: list[CandidateCopy] = []
    tiers: dict[str, int] = {}
    rejected: list[Rejected] = []
    skip_health = not automatic and checks is not None and checks.skip_health_checks
    for copy in candidates:
        reason = _rejection(copy, source_site, automatic, skip_health=skip_health)
        if reason is None and not automatic:
            reason = _precheck(copy, checks or SwitchoverChecks())
        tier = health_check(copy.server_health, source_health)
        if reason is None and health_triggered and source_health is not None:
            if _health_rank(copy.server_health) >= _health_rank(source_health):
                reason = rejection_text(Rejection.NOT_HEALTHIER, health=copy.server_health, source_health=source_health)
        if reason is None and tier is None:
            if skip_health:
                tier = len(HEALTH_CHECKS)
            else:
                reason = rejection_text(Rejection.LESS_HEALTHY, health=copy.server_health, source_health=source_health)
        if reason is None and tier is not None:
            kept.append(copy)
            tiers[copy.server] = tier
        else:
            rejected.append(Rejected(copy.server, reason or rejection_text(Rejection.NO_HEALTH_CHECK)))

    if "lossless" in dials_of_all_copies or not automatic:
        sorted_by = BY_PREFERENCE
        kept.sort(key=lambda c: (c.activation_preference, c.copy_queue))
    else:
        sorted_by = BY_COPY_QUEUE
        kept.sort(key=lambda c: (c.copy_queue, c.activation_preference))

    ranked = [Ranked(c, criteria_set(c), tiers[c.server]) for c in kept]
    # Stable sort: within one criteria set the BCSS sort order above is kept, except that a
    # server at its MaximumPreferredActiveDatabases comes after the others (*assumption*:
    # Exchange documents that BCSS honours the soft limit, not its exact place in the order).
    ranked.sort(key=lambda r: (r.health_check, r.criteria_set, r.copy.over_preferred))
    return Selection(tuple(ranked), tuple(rejected), sorted_by, switchover=not automatic)


def _spell(ranked: Ranked) -> str:
    copy = ranked.copy
    index_state, short_copy_queue, short_replay_queue = _CRITERIA[ranked.criteria_set - 1]
    return ranked_text(
        server=copy.server,
        criteria_set=ranked.criteria_set,
        content_index=copy.content_index,
        copy_queue=copy.copy_queue,
        replay_queue=copy.replay_queue,
        index_state=index_state,
        short_copy_queue=short_copy_queue,
        short_replay_queue=short_replay_queue,
        preferred_limit=copy.maximum_preferred_active_databases if copy.over_preferred else None,
        server_health=copy.server_health,
        health_check=None if ranked.health_check == 1 else HEALTH_CHECKS[ranked.health_check - 1],
    )


def explain(selection: Selection) -> list[str]:
    """One sentence per line: the sort used, each rejected copy, each ranked copy in order."""
    lines = [selection_order_text(switchover=selection.switchover, by_preference=selection.sorted_by == BY_PREFERENCE)]
    lines += [v.text for v in verdicts(selection)]
    if not selection.order:
        lines.append(NO_COPY_TEXT)
    return lines


def verdicts(selection: Selection) -> list[CandidateVerdict]:
    """Each copy's verdict as fields: the rejected copies first, then the ranked ones in order."""
    rejected = [
        CandidateVerdict(r.server, SelectionVerdict.REJECTED.value, reason=r.reason, text=rejected_text(r.server, r.reason))
        for r in selection.rejected
    ]
    ranked = [
        CandidateVerdict(
            r.copy.server,
            SelectionVerdict.RANKED.value,
            criteria_set=r.criteria_set,
            health_check=r.health_check,
            text=_spell(r),
        )
        for r in selection.order
    ]
    return rejected + ranked
