"""Every sentence dagsim writes about a run: terminal renderings of results, and the words
for what the model found.

The model names what happened as fields — a :class:`~dagsim.domain.Decision` with its
facts (:func:`decision_text`), a :class:`~dagsim.domain.Cause`, a selection
:class:`~dagsim.domain.Rejection`, a :class:`~dagsim.domain.MountBlocker`, an event's kind
and facts (:func:`event_detail`) — and the functions here say it, so that wording lives in
one place and no reader ever parses it back. pandas and the result type are imported only
where tables are rendered, so that the model's kernels can use this module cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from dagsim.config.units import format_duration, short_duration
from dagsim.domain import (
    COPY_QUEUE_THRESHOLD,
    REPLAY_QUEUE_THRESHOLD,
    Cause,
    Decision,
    EventKind,
    MountBlocker,
    Rejection,
)
from dagsim.records import format_clock

if TYPE_CHECKING:
    import pandas as pd

    from dagsim.results import RunResult

__all__ = [
    "NO_COPY_TEXT",
    "blocker_text",
    "cause_text",
    "decision_text",
    "dial_refusal_text",
    "event_detail",
    "move_timeout_detail",
    "quorum_text",
    "ranked_text",
    "rejected_text",
    "rejection_text",
    "render_client_outages",
    "render_explain",
    "render_failovers",
    "render_run",
    "selection_order_text",
]

_GB = 1024**3


def render_run(
    result: RunResult, *, wall_seconds: float | None = None, max_events: int = 30, out: str | None = None
) -> str:
    """The summary `dagsim run` prints: what ran, per-copy queues, then the events.

    ``out`` is the folder the files go to, if any, so the text can point at events.csv.
    """
    lines = [
        f"scenario {result.scenario.name}: {result.mode} mode, seed {result.seed}, "
        f"{format_duration(result.duration)} simulated"
        + (f" in {wall_seconds:.2f} s ({result.engine_events:,} engine events)" if wall_seconds is not None else ""),
        "",
        "Copy and replay queues (logs); time above the 10 / 50 log thresholds of best copy selection;",
        "log volume peak: the most this copy's own log volume held",
        _copies_table(result).to_string(index=False),
        *_active_note(result),
        "",
        "Active copies' log volumes",
        _databases_table(result).to_string(index=False),
    ]
    if result.link_records:
        from dagsim.verdicts import link_verdicts

        lines += ["", "Inter-site links: peak log-shipping demand (after compression) against bandwidth"]
        lines += [f"  {line}" for line in link_verdicts(result)]
    if result.move_records:
        from dagsim.verdicts import move_verdicts

        lines += ["", "Mailbox moves (migration batches; every request in moves.csv with --out)"]
        lines += [f"  {line}" for line in move_verdicts(result)]
    if result.failover_records:
        lines += ["", "Failovers and switchovers (time of each phase after the failure)", render_failovers(result.failover_records)]
    if result.client_outage_records:
        lines += [
            "",
            "Client-perceived outage (over the clients that noticed; per database in client_outages.csv)",
            render_client_outages(result),
            f"Total: {result.user_minutes():,.1f} user-minutes of outage",
        ]
    events = result.event_records
    where = f"{out}/events.csv" if out is not None else "events.csv with --out DIR"
    if max_events == 0:
        lines += ["", f"Events: {len(events)} (listed in {where}; --events N prints the first N)"]
        return "\n".join(lines)
    lines += ["", f"Events ({len(events)})"]
    if not events:
        lines.append("  none")
    for event in events[:max_events]:
        who = "\\".join(part for part in (event.database, event.server) if part)
        lines.append(f"  {format_clock(event.time)}  {event.kind:<26} {who:<18} {event.detail}")
    if len(events) > max_events:
        lines.append(f"  ... {len(events) - max_events} more (see {where})")
    return "\n".join(lines)


def render_summary(result: RunResult, *, wall_seconds: float | None = None) -> str:
    """`dagsim run --quiet`: what ran and the verdicts, without the tables and events."""
    from dagsim.verdicts import link_verdicts

    lines = [
        f"scenario {result.scenario.name}: {result.mode} mode, seed {result.seed}, "
        f"{format_duration(result.duration)} simulated" + (f" in {wall_seconds:.2f} s" if wall_seconds is not None else "")
    ]
    lines += link_verdicts(result)
    if result.move_records:
        from dagsim.verdicts import move_verdicts

        lines += move_verdicts(result)
    passive = [c for c, active in zip(result.copy_records, result.active_copies, strict=True) if not active]
    above = [c for c in passive if c.copy_queue_peak > 10]
    if above:
        longest = max(c.time_copy_queue_above_10 for c in above)
        noun = "passive copy" if len(passive) == 1 else "passive copies"
        verb = "exceeds" if len(above) == 1 else "exceed"
        lines.append(f"{len(above)} of {len(passive)} {noun} {verb} 10 logs, for up to {short_duration(longest)}")
    else:
        lines.append(f"every passive copy keeps its copy queue under 10 logs ({len(passive)} copies)")
    records = result.failover_records
    if records:
        mounted = [r for r in records if r.mounted is not None]
        lossy = [r for r in mounted if r.logs_lost > 0]
        lines.append(
            f"{len(records)} failovers and switchovers: {len(mounted)} mounted, {len(lossy)} lossy, "
            f"{sum(r.logs_lost for r in records):,.0f} logs lost"
        )
    if result.client_outage_records:
        lines.append(f"client outage: {result.user_minutes():,.1f} user-minutes")
    return "\n".join(lines)


def _copies_table(result: RunResult) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for record, active in zip(result.copy_records, result.active_copies, strict=True):
        if active:
            continue
        rows.append(
            {
                "Copy": f"{record.database}\\{record.server}",
                "Pref": record.activation_preference,
                "Lag": format_duration(record.replay_lag_time) if record.replay_lag_time else "",
                "CQ peak": f"{record.copy_queue_peak:,.0f}",
                "CQ mean": f"{record.copy_queue_mean:,.1f}",
                "CQ>10": format_duration(record.time_copy_queue_above_10),
                "RQ peak": f"{record.replay_queue_peak:,.0f}",
                "RQ mean": f"{record.replay_queue_mean:,.1f}",
                "RQ>50": format_duration(record.time_replay_queue_above_50),
                "Log volume peak": f"{record.log_volume_peak / _GB:,.2f} GB",
            }
        )
    return pd.DataFrame(rows)


def _active_note(result: RunResult) -> list[str]:
    """Which copies the passive-copy table leaves out: the active ones at the end of the run."""
    active = [f"{c.database}\\{c.server}" for c, is_active in zip(result.copy_records, result.active_copies, strict=True) if is_active]
    if not active:
        return []
    shown = ", ".join(active[:8]) + (f" and {len(active) - 8} more" if len(active) > 8 else "")
    return [f"Not listed: the active copies at the end of the run ({shown}); their log volumes are below."]


def _databases_table(result: RunResult) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "Database": d.database,
                "Logs generated": f"{d.logs_generated:,.0f}",
                "Log volume peak": f"{d.active_log_volume_peak / _GB:,.2f} GB",
                "Capacity": f"{d.log_volume_capacity / _GB:,.0f} GB",
                "Peak use": f"{d.active_log_volume_peak / d.log_volume_capacity:.1%}",
            }
            for d in result.database_records
        ]
    )


def _offset(value: float | None, start: float) -> str:
    return "-" if value is None else short_duration(value - start)


def render_failovers(records) -> str:
    """The failover table: each phase's time after the failure, the target and what was lost."""
    import pandas as pd

    rows = [
        {
            "Time": format_clock(r.failure),
            "Database": r.database,
            "Kind": r.kind,
            "Cause": r.cause,
            "From": r.source,
            "To": r.target or "-",
            "Outcome": r.outcome,
            "Detected": _offset(r.detected, r.failure),
            "Selected": _offset(r.selection_done, r.failure),
            "LastLogs": _offset(r.last_logs_copied, r.failure),
            "Replayed": _offset(r.replay_done, r.failure),
            "Mounted": _offset(r.mounted, r.failure),
            "LogsLost": f"{r.logs_lost:,.0f}",
            "MsgsRedelivered": f"{r.messages_redelivered:,.0f}",
        }
        for r in records
    ]
    return pd.DataFrame(rows).to_string(index=False)


def render_explain(result: RunResult, database: str) -> str:
    """Active Manager's decisions about one database, in order, then its failover records."""
    lines = [f"Active Manager and {database} in scenario {result.scenario.name}:"]
    decisions = [d for d in result.decision_records if d.database == database]
    events = [e for e in result.event_records if e.database == database and e.kind in _EXPLAINED_EVENTS]
    # Within one second: what happened to the database, then Active Manager's reasoning, then
    # the outcome that reasoning led to (blocked, refused, mounted).
    merged = sorted(
        [(d.time, 1, d.text) for d in decisions]
        + [(e.time, 2 if e.kind in _OUTCOME_EVENTS else 0, _event_text(e)) for e in events],
        key=lambda item: (item[0], item[1]),
    )
    if not merged:
        lines.append("  Nothing happened to this database: no failure, switchover or dismount.")
    for time, _, text in merged:
        lines.append(f"  {format_clock(time)}  {text}")
    return "\n".join(lines)


_OUTCOME_EVENTS = frozenset({"database_mounted", "failover_blocked", "switchover_failed", "switchover_refused"})
_EXPLAINED_EVENTS = frozenset(
    {"database_dismounted", "database_mounted", "failover_blocked", "switchover_failed", "switchover_refused", "log_volume_full"}
)


def _event_text(event) -> str:
    words = event.kind.replace("_", " ")
    where = f" on {event.server}" if event.server else ""
    return f"[{words}{where}] {event.detail}".rstrip()


def render_client_outages(result: RunResult) -> str:
    """Client outage per interruption and protocol, pooled over the databases it touched."""
    frame = result.client_outages
    grouped = frame.groupby(["start", "cause", "protocol"], sort=False)
    table = grouped.agg(
        databases=("database", "nunique"),
        min=("min", "min"),
        median=("median", "median"),
        p95=("p95", "max"),
        max=("max", "max"),
        users=("affected_mailboxes", "sum"),
        user_minutes=("user_minutes", "sum"),
    ).reset_index()
    # A client still failing when the run ends counts until then: its outage did not end.
    ends = frame.assign(open=frame["start"] + frame["max"] >= result.duration - 1e-6)
    table["ended"] = ends.groupby(["start", "cause", "protocol"], sort=False)["open"].any().map(
        {True: "not by run end", False: "yes"}
    ).to_numpy()
    table["start"] = table["start"].map(format_clock)
    for column in ("min", "median", "p95", "max"):
        table[column] = table[column].map(short_duration)
    table["users"] = table["users"].map(lambda v: f"{v:,.0f}")
    table["user_minutes"] = table["user_minutes"].map(lambda v: f"{v:,.1f}")
    return table.rename(columns={"start": "Time", "cause": "Cause", "protocol": "Protocol"}).to_string(index=False)


def _number(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


# ---------------------------------------------------------------- causes
_CAUSES: dict[Cause, Callable[..., str]] = {
    Cause.SERVER_FAILURE: lambda: "server failure",
    Cause.SERVER_RESTORED: lambda: "server restored",
    Cause.SITE_FAILURE: lambda site: f"site {site} failure",
    Cause.SITE_RESTORED: lambda site: f"site {site} restored",
    Cause.LINK_FAILED: lambda link: f"link {link} failed",
    Cause.LINK_RESTORED: lambda link: f"link {link} restored",
    Cause.WAN_PARTITION: lambda a, b: f"WAN partition between {a} and {b}",
    Cause.WAN_HEALED: lambda: "WAN healed",
    Cause.MAPI_FAILURE: lambda: "MAPI network failure",
    Cause.MAPI_RESTORED: lambda: "MAPI network restored",
    Cause.REPLICATION_FAILURE: lambda: "replication network failure",
    Cause.REPLICATION_RESTORED: lambda: "replication network restored",
    Cause.WITNESS_FAILURE: lambda: "witness failure",
    Cause.WITNESS_RESTORED: lambda: "witness restored",
    Cause.CAS_FAILURE: lambda server: f"CAS {server} failure",
    Cause.CAS_RESTORED: lambda server: f"CAS {server} restored",
    Cause.LOAD_BALANCER_FAILURE: lambda site: f"load balancer of {site} failure",
    Cause.LOAD_BALANCER_RESTORED: lambda: "load balancer restored",
    Cause.DAG_STOPPED: lambda site: f"Stop-DatabaseAvailabilityGroup {site}",
    Cause.DAG_RESTORED: lambda site: f"Restore-DatabaseAvailabilityGroup {site}",
    Cause.DAG_STARTED: lambda site: f"Start-DatabaseAvailabilityGroup {site}",
    Cause.STORE_CRASH: lambda: "Information Store crash",
    Cause.DATABASE_VOLUME_FAILED: lambda: "database volume failed",
    Cause.LOG_VOLUME_FAILED: lambda: "log volume failed",
    Cause.LOG_VOLUME_FULL: lambda: "log volume full",
    Cause.CANNOT_STAY_MOUNTED: lambda cause, blocker: f"{cause}: {blocker}",
    Cause.OPERATOR_SWITCHOVER: lambda: "operator switchover",
    Cause.SERVER_SWITCHOVER: lambda server: f"server switchover of {server}",
    Cause.REDISTRIBUTION: lambda: "RedistributeActiveDatabases.ps1 -BalanceDbsByActivationPreference",
    Cause.HEALTH_RESPONDER: lambda server: f"Managed Availability failover responder on {server}",
    Cause.DISMOUNT_DATABASE: lambda: "Dismount-Database",
    Cause.SWITCHOVER_DISMOUNT: lambda: "switchover",
    Cause.HEALTH_DISMOUNT: lambda: "Managed Availability failover",
}


def move_timeout_detail(blocker: str | None) -> str:
    """A move request's StatusDetail when the data guarantee kept it stalled too long."""
    return f"DataGuaranteeTimeout ({blocker})"


def cause_text(kind: Cause, /, **facts: Any) -> str:
    """What started a failover, switchover or dismount, in the words failovers.csv shows."""
    return _CAUSES[kind](**facts)


# ---------------------------------------------------------------- quorum
def quorum_text(
    *,
    held: bool,
    members: list[str],
    votes: int,
    needed: int,
    total: int,
    witness: str | None,
    witness_counted: bool,
    witness_votes: bool,
    dynamic_node_votes: int | None,
    no_members: bool,
    largest: tuple[list[str], int, bool] | None,
) -> str:
    """Who holds quorum and why, or why nobody does: ``dynamic_node_votes`` is the node
    votes under dynamic quorum (None: static votes); ``largest`` the largest partition's
    members, votes and whether the witness voted for it, when quorum is lost."""
    if dynamic_node_votes is not None:
        model = f"dynamic quorum: {dynamic_node_votes} node votes" + (f" and the witness {witness}" if witness_votes else "")
    elif witness_votes:
        model = f"node and file share majority, witness {witness}"
    else:
        model = "node majority"
    if held:
        if witness_counted:
            with_witness = f" including the witness {witness}"
        elif witness_votes:
            with_witness = " without the witness"
        else:
            with_witness = ""
        return f"Quorum held by {', '.join(members)} with {votes} of {total} votes{with_witness} ({needed} needed, {model})."
    if no_members:
        return "Quorum lost: the cluster has no members."
    if largest is None:
        best = "no member is running"
    else:
        names, partition_votes, witness_voted = largest
        best = (
            f"the largest partition ({', '.join(names)}) has {partition_votes} of {total} votes"
            + (" including the witness" if witness_voted else "")
        )
    return (
        f"Quorum lost: {best}, {needed} needed ({model}); "
        "every database in the DAG is dismounted until enough voters return or an operator "
        "restores quorum (a datacenter switchover)."
    )


# ---------------------------------------------------------------- best copy and server selection
_BLOCKERS: dict[MountBlocker, str] = {
    MountBlocker.SERVER_DOWN: "server is down",
    MountBlocker.SERVER_STOPPED: "server is stopped (Stop-DatabaseAvailabilityGroup)",
    MountBlocker.NOT_A_MEMBER: "server is not a member of the cluster",
    MountBlocker.NO_QUORUM: "server is not in the partition that holds quorum",
    MountBlocker.NO_QUORUM_PARTITION: "server is not in a partition that holds quorum",
    MountBlocker.DACP_BIT_0: "DACP bit is 0 (datacenter activation coordination)",
    MountBlocker.MAPI_DOWN: "its MAPI network is down",
}


def blocker_text(blocker: MountBlocker) -> str:
    """Why a server may not mount, in words."""
    return _BLOCKERS[blocker]


_REJECTIONS: dict[Rejection, Callable[..., str]] = {
    Rejection.EXCLUDED: lambda blocker: blocker,
    Rejection.UNREACHABLE: lambda: "server unreachable",
    Rejection.SUSPENDED: lambda: "copy is suspended",
    Rejection.ACTIVATION_SUSPENDED: lambda: "activation is suspended",
    Rejection.POLICY_BLOCKED: lambda: "DatabaseCopyAutoActivationPolicy is Blocked",
    Rejection.POLICY_INTRASITE_ONLY: lambda: (
        "DatabaseCopyAutoActivationPolicy is IntrasiteOnly and the copy is in another site"
    ),
    Rejection.MAXIMUM_ACTIVE_DATABASES: lambda limit: f"server is at MaximumActiveDatabases ({limit})",
    Rejection.INELIGIBLE_STATUS: lambda status, switchover: (
        f"status {status} is not eligible for activation" + (" (skip_health_checks skips it)" if switchover else "")
    ),
    Rejection.LAG_PRECHECK: lambda copy_queue, replay_queue: (
        f"switchover pre-check: copy queue {_number(copy_queue)} / replay queue {_number(replay_queue)} logs, "
        f"not under {COPY_QUEUE_THRESHOLD} / {REPLAY_QUEUE_THRESHOLD} (skip_lag_checks skips it)"
    ),
    Rejection.CLIENT_EXPERIENCE_PRECHECK: lambda content_index: (
        f"switchover pre-check: content index {content_index} is not Healthy "
        "(skip_client_experience_checks skips it)"
    ),
    Rejection.NOT_HEALTHIER: lambda health, source_health: (
        f"server health {health} is not better than the source's {source_health}, "
        "as a failover started by Managed Availability requires"
    ),
    Rejection.LESS_HEALTHY: lambda health, source_health: (
        f"server health {health} is worse than the source's {source_health} (no server health check passes)"
    ),
    Rejection.NO_HEALTH_CHECK: lambda: "no server health check passes",
}


def rejection_text(rejection: Rejection, /, **facts: Any) -> str:
    """Why selection rejected a copy, in words."""
    return _REJECTIONS[rejection](**facts)


def rejected_text(server: str, reason: str) -> str:
    return f"{server}: rejected, {reason}."


def selection_order_text(*, switchover: bool, by_preference: bool) -> str:
    """How selection sorted the copies it kept."""
    if switchover:
        return "Sorted by activation preference (a switchover), ties by copy queue length."
    if by_preference:
        return "Sorted by activation preference (a server with a copy uses Lossless), ties by copy queue length."
    return (
        "Sorted by copy queue length (every server with a copy uses a lossy mount dial), "
        "ties by activation preference."
    )


NO_COPY_TEXT = "No copy can be activated."


def ranked_text(
    *,
    server: str,
    criteria_set: int,
    content_index: str,
    copy_queue: float,
    replay_queue: float,
    index_state: str | None,
    short_copy_queue: bool,
    short_replay_queue: bool,
    preferred_limit: int | None,
    server_health: str,
    health_check: str | None,
) -> str:
    """A ranked copy: the criteria set it met and what that set asks; a server at its
    MaximumPreferredActiveDatabases (``preferred_limit``) or passing only a later server
    health check (``health_check``) says so."""
    parts = []
    if index_state is not None:
        parts.append(f"content index {index_state}")
    if short_copy_queue:
        parts.append(f"copy queue {_number(copy_queue)} < {COPY_QUEUE_THRESHOLD}")
    if short_replay_queue:
        parts.append(f"replay queue {_number(replay_queue)} < {REPLAY_QUEUE_THRESHOLD}")
    if not parts:
        parts.append(
            f"any eligible copy: content index {content_index}, "
            f"copy queue {_number(copy_queue)}, replay queue {_number(replay_queue)}"
        )
    preferred = (
        f"; server at MaximumPreferredActiveDatabases ({preferred_limit}), so after the others"
        if preferred_limit is not None
        else ""
    )
    health = "" if health_check is None else f"; server health {server_health}: passes {health_check}"
    return f"{server}: criteria set {criteria_set} ({', '.join(parts)}){preferred}{health}"


def dial_refusal_text(*, dial: str, allowed: float, lost: int) -> str:
    """The mount dial's refusal of a copy that would lose ``lost`` logs (a verdict's reason)."""
    return f"would lose {lost} logs; AutoDatabaseMountDial {dial} allows {allowed:g}"


# ---------------------------------------------------------------- Active Manager's reasoning
def _lost(lost: float) -> str:
    return f"; {lost:.0f} logs lost." if lost else "; no logs lost."


_DECISIONS: dict[Decision, Callable[..., str]] = {
    Decision.DETECTED: lambda source, cause, seconds: (
        f"Active Manager detected the failure of {source} ({cause}) after {format_duration(seconds)}."
    ),
    Decision.NO_QUORUM: lambda: "The DAG has no quorum: no database can be mounted.",
    Decision.WAITING_FOR_PAM: lambda: "Waiting for the Primary Active Manager role to move to a running server.",
    Decision.SELECTION: lambda pam: f"Best copy and server selection on the PAM ({pam}):",
    # The lines of best copy selection are said by dagsim.model.selection with each verdict.
    Decision.SELECTION_ORDER: lambda line: "  " + line,
    Decision.CANDIDATE: lambda server, line: "  " + line,
    Decision.NO_CANDIDATE: lambda line: "  " + line,
    Decision.DIAL_REFUSED: lambda server, lost, dial, allowed: (
        f"{server}: {dial_refusal_text(dial=dial, allowed=allowed, lost=lost)}, so try the next copy."
    ),
    Decision.NO_ACCEPTABLE_COPY: lambda database: (
        f"No copy of {database} can be mounted: it stays dismounted until one can."
    ),
    Decision.ACLL_FAILED: lambda source, seconds, server, missing: (
        f"Attempt copy last logs from {source} failed after {format_duration(seconds)}: "
        f"its logs cannot be read; {server} is missing {missing} logs."
    ),
    Decision.LAST_LOGS_COPIED: lambda logs, source, server: f"Copied the last {logs:.0f} logs from {source} to {server}.",
    Decision.REPLAY: lambda server, logs, seconds: f"{server} replays {logs:.0f} logs ({format_duration(seconds)}).",
    Decision.CANNOT_MOUNT: lambda server, database, blocker: (
        f"{server} can no longer mount {database}: {blocker}; selecting again."
    ),
    Decision.MOUNTED: lambda database, server, seconds, switchover, lost: (
        f"Mounted {database} on {server} {format_duration(seconds)} after the "
        f"{'switchover began' if switchover else 'failure'}" + _lost(lost)
    ),
    Decision.CANNOT_KEEP_MOUNTED: lambda server, database, blocker: (
        f"{server} can no longer keep {database} mounted: {blocker}."
    ),
    Decision.SAFETY_NET_RESUBMITS: lambda messages, lost_messages, too_old: (
        f"Safety Net resubmits {messages:.0f} of {lost_messages:.0f} lost messages"
        + (f"; {too_old:.0f} logs are older than SafetyNetHoldTime" if too_old else "")
        + "."
    ),
    Decision.SAFETY_NET_UNAVAILABLE: lambda server, wait: (
        f"Safety Net on {server} is unavailable: the resubmit waits for it, or for the shadow "
        f"Safety Net after {format_duration(wait)}."
    ),
    Decision.SAFETY_NET_BACK: lambda server: f"Safety Net on {server} is back: it resubmits the lost mail.",
    Decision.SHADOW_SAFETY_NET: lambda server: (
        f"The shadow Safety Net resubmits the lost mail ({server} is still down)."
    ),
    Decision.SWITCHOVER_REFUSED: lambda database: f"Switchover of {database} refused: it is already moving.",
    Decision.NO_ACCEPTABLE_TARGET: lambda database, source: (
        f"No acceptable target: {database} stays mounted on {source}."
    ),
    Decision.REDISTRIBUTE_SKIPPED: lambda database, target, limit: (
        f"RedistributeActiveDatabases.ps1 leaves {database} where it is: {target} is at "
        f"MaximumPreferredActiveDatabases ({limit})."
    ),
    Decision.STALE_PARTITION_MOUNT: lambda pam, remount, server, lost: (
        f"The Primary Active Manager of a partition with a stale cluster configuration ({pam}) "
        f"{_stale_how(remount)} {server}" + (f", losing {lost:.0f} logs" if lost else "") + "."
    ),
    Decision.STALE_PARTITION_DISMOUNT: lambda server, database, seconds: (
        f"{server} dismounts {database}, mounted for {format_duration(seconds)} in a "
        "stale partition: its copy has diverged and must resynchronize."
    ),
}


def decision_text(kind: Decision, /, **facts: Any) -> str:
    """One step of Active Manager's reasoning, from its kind and facts, in an administrator's words."""
    return _DECISIONS[kind](**facts)


# ------------------------------------------------------------------ events
# An event's ``detail``: the model records a kind and its facts, and the words are made here.
def _switchover_requested(cmdlet: str, parameter: str = "") -> str:
    return f"{cmdlet} {parameter}" if parameter else cmdlet


def _copy_resumed(cmdlet: str = "", attempt: int = 0) -> str:
    """Resumed by an operator's ``cmdlet``, or by AutoReseed's resume ``attempt``."""
    return cmdlet or f"AutoReseed resume attempt {attempt} succeeded"


def _seeded_by(via: str) -> str:
    """``via``: the cmdlet that seeds the copy, or AutoReseed (onto a spare volume)."""
    return "AutoReseed onto a spare volume" if via == "AutoReseed" else via


def _seeding_started(via: str, size: float, seconds: float) -> str:
    return f"{_seeded_by(via)}: {size / _GB:.0f} GB, {seconds / 3600:.1f} h at the seeding rate if the network allows"


def _stale_how(remount: bool) -> str:
    return "remounted on" if remount else "failed over to"


def _database_mounted(via: str, server: str = "", source: str = "", remount: bool = False) -> str:
    """``via``: a cmdlet, a failover or switchover from ``source``, a remount on ``server``, a
    switchover that failed and remounted on its source, or a stale partition (``remount``:
    it mounted the copy it believed active, rather than failing over)."""
    if via == "remount":
        return f"remounted on {server}"
    if via == "failed switchover":
        return "switchover failed: remounted on the source"
    if via == "stale partition":
        return f"{_stale_how(remount)} {server} by a partition with a stale cluster configuration"
    return f"{via} from {source}" if source else via


def _database_dismounted(cause: str = "", log_volume_full: bool = False, partition_rejoined: bool | None = None) -> str:
    """Dismounted for Active Manager's ``cause``, by a full log volume, or when a stale
    partition's mount ends (it rejoined the cluster, or its server failed)."""
    if log_volume_full:
        return "dismounted: log volume out of space"
    if partition_rejoined is not None:
        if partition_rejoined:
            return "the partition rejoined the cluster and learned its current configuration"
        return "server failure"
    return cause


_OPERATOR_ERRORS: dict[str, Callable[..., str]] = {
    "copy absent": lambda action: f"{action}: the copy has not been added yet",
    "seed active": lambda: "the active copy cannot be seeded",
    "suspend active": lambda: "the active copy cannot be suspended",
    "mount refused": lambda blocker: f"Mount-Database failed: {blocker or 'moving'}",
}


def _operator_error(error: str, **facts: Any) -> str:
    return _OPERATOR_ERRORS[error](**facts)


def _safety_net_resubmitted(server: str, logs: float, shadow: bool) -> str:
    source = "shadow Safety Net" if shadow else f"Safety Net on {server}"
    return f"{source} resubmits {logs:,.1f} logs of lost mail"


def _stale_quorum(members: Iterable[str], version: int, current: int, votes: int, needed: int) -> str:
    return (
        f"{', '.join(sorted(members))} hold quorum by configuration version {version} "
        f"(current {current}): {votes} of its voters, {needed} needed"
    )


def _dag_restored(site: str, evicted: Iterable[str], witness: str | None) -> str:
    return f"Restore-DatabaseAvailabilityGroup {site}: evicted {', '.join(evicted) or 'none'}, witness {witness}"


def _none() -> str:
    return ""


_EVENTS: dict[EventKind, Callable[..., str]] = {
    EventKind.AUTO_RESEED_RESUME_FAILED: lambda attempt: f"resume attempt {attempt} failed",
    EventKind.CAS_FAILED: lambda: "Client Access role stopped",
    EventKind.CAS_RESTORED: _none,
    EventKind.CONTENT_INDEX_CHANGED: lambda state: f"ContentIndexState {state.capitalize()}",
    EventKind.COPY_ACTIVATION_SUSPENDED: lambda: "ActivationSuspended",
    EventKind.COPY_ADDED: lambda: "Add-MailboxDatabaseCopy",
    EventKind.COPY_DISCONNECTED: lambda: "no network path to the active copy",
    EventKind.COPY_FAILED_AND_SUSPENDED: lambda: "cannot resynchronize: volume failed",
    EventKind.COPY_QUEUE_HIGH: lambda column, level: f"{column} rose above {level}",
    EventKind.COPY_QUEUE_NORMAL: lambda column, level: f"{column} back to {level} or below",
    EventKind.COPY_RECONNECTED: lambda: "log shipping resumed",
    EventKind.COPY_RESUMED: _copy_resumed,
    EventKind.COPY_RESYNCHRONIZED: lambda logs: f"discarded {logs:.0f} diverged logs",
    EventKind.COPY_SUSPENDED: lambda: "Suspend-MailboxDatabaseCopy",
    EventKind.DACP_BIT_SET: lambda: "DACP bit set to 1",
    EventKind.DAG_RESTORED: _dag_restored,
    EventKind.DAG_STARTED: lambda site, servers: f"Start-DatabaseAvailabilityGroup {site}: {', '.join(servers)}",
    EventKind.DAG_STOPPED: lambda site, servers: f"Stop-DatabaseAvailabilityGroup {site}: {', '.join(servers)}",
    EventKind.DATABASE_DISMOUNTED: _database_dismounted,
    EventKind.DATABASE_MOUNTED: _database_mounted,
    EventKind.DATABASE_VOLUME_FAILED: _none,
    EventKind.DATABASE_VOLUME_RESTORED: _none,
    EventKind.FAILOVER_BLOCKED: lambda: "no acceptable copy",
    EventKind.LINK_FAILED: lambda link: f"link {link}",
    EventKind.LINK_RESTORED: lambda link: f"link {link}",
    EventKind.LOAD_BALANCER_FAILED: lambda site: f"site {site}",
    EventKind.LOAD_BALANCER_RESTORED: lambda site: f"site {site}",
    EventKind.LOG_VOLUME_FAILED: _none,
    # A scripted log_volume_full says nothing more; one the engine saw fill up says whose it was.
    EventKind.LOG_VOLUME_FULL: lambda filled=False: "the active copy's log volume is full" if filled else "",
    EventKind.LOG_VOLUME_RESTORED: _none,
    EventKind.MAPI_NETWORK_FAILED: lambda server, network: f"{server} lost {network}",
    EventKind.MAPI_NETWORK_RESTORED: _none,
    EventKind.MOVE_BATCH_COMPLETED: lambda batch, done, requests: f"batch {batch}: {done} of {requests} completed",
    EventKind.MOVE_BATCH_STARTED: lambda batch, requests, request_type: (
        f"batch {batch}: {requests} {request_type} requests"
    ),
    EventKind.MOVE_FAILED: lambda batch, request: f"batch {batch}: request {request} stalled too long",
    EventKind.MOVE_RESUMED: lambda batch: f"batch {batch}: data guarantee met",
    EventKind.MOVE_STALLED: lambda batch, blocker: f"batch {batch}: {blocker}",
    EventKind.NAMESPACE_SWITCHED: lambda site, to_site: f"{site} namespace now points to {to_site}",
    EventKind.OPERATOR_ERROR: _operator_error,
    EventKind.PAM_LOST: lambda: "Primary Active Manager role lost",
    EventKind.PAM_MOVED: lambda: "Primary Active Manager role",
    # The explanation is quorum_text's, made from the cluster's votes by dagsim.model.quorum.
    EventKind.QUORUM_LOST: lambda explanation: explanation,
    EventKind.QUORUM_REGAINED: lambda explanation: explanation,
    EventKind.REPLAY_QUEUE_HIGH: lambda column, level: f"{column} rose above {level}",
    EventKind.REPLAY_QUEUE_NORMAL: lambda column, level: f"{column} back to {level} or below",
    EventKind.REPLICATION_NETWORK_FAILED: lambda networks: ", ".join(networks),
    EventKind.REPLICATION_NETWORK_RESTORED: lambda networks: ", ".join(networks),
    EventKind.SAFETY_NET_RESUBMITTED: _safety_net_resubmitted,
    EventKind.SEEDING_COMPLETED: _seeded_by,
    EventKind.SEEDING_STARTED: _seeding_started,
    EventKind.SERVER_FAILED: _none,
    EventKind.SERVER_HEALTH_CHANGED: lambda level, failover: level + ("; Failover responder" if failover else ""),
    EventKind.SERVER_RESTORED: _none,
    EventKind.SHIPPING_NETWORK_CHANGED: lambda old, new: f"log shipping moved from {old} to {new}",
    EventKind.SITE_FAILED: lambda site: f"site {site} lost power",
    EventKind.SITE_RESTORED: lambda site: f"site {site} has power again",
    EventKind.SPLIT_BRAIN: lambda stale, current: (
        f"mounted on {stale} (stale partition) and on {current} (current cluster)"
    ),
    EventKind.STALE_QUORUM: _stale_quorum,
    EventKind.STORE_CRASHED: lambda restart_after: f"restarts after {restart_after:g}s",
    EventKind.STORE_RESTARTED: _none,
    EventKind.SWITCHOVER_FAILED: lambda: "no acceptable target",
    EventKind.SWITCHOVER_REFUSED: lambda: "already moving",
    EventKind.SWITCHOVER_REQUESTED: _switchover_requested,
    EventKind.WAN_HEALED: lambda sites: f"links between {sites[0]} and {sites[1]} are back",
    EventKind.WAN_PARTITIONED: lambda sites: f"every link between {sites[0]} and {sites[1]} is down",
    EventKind.WITNESS_FAILED: lambda witness: "" if witness else "the DAG has no witness",
    EventKind.WITNESS_RESTORED: lambda witness: "" if witness else "the DAG has no witness",
}


def event_detail(kind: EventKind | str, **facts: Any) -> str:
    """An event's ``detail`` sentence, from its kind and the facts the model recorded it with."""
    return _EVENTS[EventKind(kind)](**facts)
