"""Active Manager: detect a failure, choose a copy, copy the last logs, replay, mount.

Every failover and switchover is a SimPy process that walks the phases of docs/active-manager.md —
detection, best copy and server selection on the Primary Active Manager, attempt copy last
logs (ACLL), the AutoDatabaseMountDial check, replay, mount — records each phase's time in
a :class:`~dagsim.records.FailoverRecord` and narrates its reasoning as decision records.
A failover that finds no acceptable copy leaves the database dismounted and tries again
whenever the DAG's state changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from dagsim.config.schema import Scenario
from dagsim.domain import Cause, Decision, Outcome, SelectionVerdict, whole_logs
from dagsim.model.cluster import Cluster
from dagsim.model.copy_health import Volume
from dagsim.model.engine import ControllableEngine
from dagsim.model.invariants import Invariants
from dagsim.model.layout import Layout
from dagsim.model.recorder import Recorder
from dagsim.model.selection import (
    DIAL_LIMITS,
    SERVER_HEALTH_LEVELS,
    CandidateCopy,
    SwitchoverChecks,
    dial_allows,
    explain,
    select_copies,
    verdicts,
)
from dagsim.model.split_brain import StaleActiveManager
from dagsim.model.state import CopyChanged, DagState, HostChanged, StateChange, StoppedChanged, VolumeFilled
from dagsim.model.topology import Topology
from dagsim.model.workload import Workload, logs_per_day
from dagsim.records import CandidateVerdict, DecisionRecord, FailoverRecord
from dagsim.text import cause_text, decision_text, dial_refusal_text

if TYPE_CHECKING:
    from dagsim.model.client_access import ClientAccess

__all__ = ["ActiveManager"]

_DIAL_NAMES = {
    "lossless": "Lossless",
    "good_availability": "GoodAvailability",
    "best_availability": "BestAvailability",
    "best_effort": "BestEffort",
}


@dataclass
class _Draft:
    """A failover record being filled in as the phases pass."""

    database: str
    kind: str
    cause: str
    source: str
    failure: float
    target: str | None = None
    outcome: Outcome = Outcome.IN_PROGRESS
    detected: float | None = None
    selection_done: float | None = None
    last_logs_copied: float | None = None
    replay_done: float | None = None
    mounted: float | None = None
    logs_lost: float = 0.0
    messages_lost: float = 0.0
    messages_redelivered: float = 0.0
    candidates: list[str] = field(default_factory=list)
    selection: list[CandidateVerdict] = field(default_factory=list)

    def freeze(self) -> FailoverRecord:
        # A failover that ends up mounting the database on the server it left moved nothing.
        remount = self.kind == "failover" and self.target is not None and self.target == self.source
        return FailoverRecord(
            database=self.database,
            kind="remount" if remount else self.kind,
            cause=self.cause,
            source=self.source,
            target=self.target,
            outcome=self.outcome,
            failure=self.failure,
            detected=self.detected,
            selection_done=self.selection_done,
            last_logs_copied=self.last_logs_copied,
            replay_done=self.replay_done,
            mounted=self.mounted,
            logs_lost=self.logs_lost,
            messages_lost=self.messages_lost,
            messages_redelivered=self.messages_redelivered,
            candidates=tuple(self.candidates),
            selection=tuple(self.selection),
        )


@dataclass(frozen=True)
class _Choice:
    row: int
    last_logs: float  # logs ACLL will bring over
    lost: float
    acll_seconds: float
    source_answers: bool = True


CAS_STOPPED_HEALTH = "low_priority_unhealthy"
_VOLUME_FAILED = {
    Volume.DATABASE: "database_volume_failed",
    Volume.LOG: "log_volume_failed",
    Volume.LOG_FULL: "log_volume_full",
}

_VOLUME_CAUSE = {
    Volume.DATABASE: Cause.DATABASE_VOLUME_FAILED,
    Volume.LOG: Cause.LOG_VOLUME_FAILED,
    Volume.LOG_FULL: Cause.LOG_VOLUME_FULL,
}

SHADOW_RESUBMIT_WAIT = 12 * 3600.0
"""A resubmit request whose primary Safety Net stays unavailable this long is served by the
shadow Safety Net (Safety Net in Exchange 2013: 12 hours)."""


class _Redelivery:
    """Safety Net resubmitting lost mail: extra log generation on the new active copy."""

    def __init__(self, start: float, duration: float, logs: float) -> None:
        self.start, self.end = start, start + duration
        self.logs_per_second = logs / duration if duration > 0 else 0.0

    def rate(self, t: float) -> float:
        return self.logs_per_second if self.start <= t < self.end else 0.0

    def next_change(self, t: float) -> float:
        if t < self.start:
            return self.start
        return self.end if t < self.end else math.inf

    def integral(self, t0: float, t1: float) -> float:
        return max(0.0, min(t1, self.end) - max(t0, self.start)) * self.logs_per_second


class ActiveManager:
    """Active Manager of the whole DAG (the PAM and every server's standby role together)."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        layout: Layout,
        topology: Topology,
        workload: Workload,
        engine: ControllableEngine,
        cluster: Cluster,
        recorder: Recorder,
        state: DagState,
        client_access: ClientAccess | None = None,
    ) -> None:
        """``state`` is the run's copy and server state, which Active Manager acts on;
        ``client_access`` hears of every mount and dismount (None: clients are not modelled)."""
        self.env = env
        self.scenario = scenario
        self.layout = layout
        self.topology = topology
        self.workload = workload
        self.engine = engine
        self.cluster = cluster
        self.recorder = recorder
        self.timing = scenario.active_manager
        self.state = state
        # Active Manager changes the run's state only through the state's methods; these are
        # the parts it reads.
        self.health = state.health
        self.store_down = state.store_down
        self.server_health = state.server_health
        self.cas_unhealthy = state.cas_unhealthy
        self.operator_dismounted = state.operator_dismounted
        for row, health in enumerate(self.health):
            if health.absent:
                engine.set_absent(row, True)
                engine.set_copy_running(row, False)
        self.servers = {s.name: s for s in scenario.servers}
        self.busy: set[int] = set()
        self.incoming: dict[str, int] = {}  # databases being activated on each server
        self.pending: dict[int, _Draft] = {}
        # Every failover or switchover whose process is still running, so that one still in
        # flight when the run ends is recorded as "in progress".
        self._in_flight: dict[int, _Draft] = {}
        self._waiting: dict[int, simpy.Process] = {}  # failovers waiting for an acceptable copy
        # Resubmit requests whose primary Safety Net (on the failed server) is down: (database,
        # server, logs of mail); served when it returns, or by the shadow Safety Net later.
        self._held_resubmits: list[list] = []
        self.failovers: list[FailoverRecord] = []
        self.decisions: list[DecisionRecord] = []
        self.invariants = Invariants(env, layout, cluster, engine)
        self.stale = StaleActiveManager(self)
        self._dag_changed = env.event()
        self._messages_per_log = [_messages_per_log(d) for d in scenario.databases]
        self.client_access = client_access
        state.subscribe(self._state_changed)

    # ------------------------------------------------------------------ helpers
    def server_of(self, row: int) -> str:
        return self.layout.copy_names[row][1]

    def database_name(self, d: int) -> str:
        return self.layout.database_names[d]

    def rows_of(self, d: int) -> range:
        return self.layout.rows_of(d)

    def rows_on(self, server: str) -> list[int]:
        return self.layout.rows_on(server)

    def active_row(self, d: int) -> int:
        return int(self.engine.active[d])

    def is_mounted(self, d: int) -> bool:
        return bool(self.engine.mounted[d])

    def health_of(self, server: str) -> str:
        """The server's health for best copy and server selection (the worse of the set level and a stopped CAS role)."""
        level = self.server_health.get(server, "healthy")
        if server in self.cas_unhealthy:
            # *assumption*: the protocol health sets of a stopped Client Access role count as
            # Low-priority components, so the server passes Up to Normal Healthy and only
            # sorts after fully healthy ones.
            level = max(level, CAS_STOPPED_HEALTH, key=SERVER_HEALTH_LEVELS.index)
        return level

    def decide(self, d: int, kind: Decision, **facts: Any) -> None:
        """Record one step of the reasoning about database ``d``: its kind and facts (and
        the sentence :func:`dagsim.text.decision_text` makes of them)."""
        text = decision_text(kind, **facts)
        self.decisions.append(DecisionRecord(self.env.now, self.database_name(d), kind.value, text, tuple(facts.items())))

    def _state_changed(self, change: StateChange) -> None:
        """The run's state changed: the engine's running copies follow their health and
        servers, and failovers waiting for an acceptable copy look again."""
        match change:
            case CopyChanged(rows):
                for row in rows:
                    self._sync_copy(row)
            case HostChanged(host):
                if host in self.servers:
                    self._sync_copies(self.rows_on(host))
            case StoppedChanged(servers):
                self._sync_copies(row for server in servers for row in self.rows_on(server))
            case VolumeFilled(_, row):
                self._sync_copy(row)
        self.recheck_waiting()
        if isinstance(change, VolumeFilled):  # the engine recorded the dismount already
            self.fail_active(change.database, cause_text(Cause.LOG_VOLUME_FULL), self.timing.failure_item_detection, record=False)

    def _sync_copy(self, row: int) -> None:
        """Tell the replication engine whether a copy exists and runs, and whether an active
        copy's logs can be read."""
        health, engine = self.health[row], self.engine
        if health.absent != bool(engine.absent[row]):
            engine.set_absent(row, health.absent)
        if engine.is_active[row]:
            # A failed log volume under the active copy: its logs cannot be read for shipping.
            d = int(self.layout.copy_db[row])
            if bool(engine.source_blocked[d]) != health.log_volume_failed:
                engine.set_source_blocked(d, health.log_volume_failed)
            return
        running = self.state.copy_runs(row)
        if running != (not engine.halted[row]) or health.holds_truncation != bool(engine.suspended[row]):
            engine.set_copy_running(row, running, freeze_truncation=health.holds_truncation)

    def _sync_copies(self, rows: Iterable[int]) -> None:
        """:meth:`_sync_copy` for several copies at one moment, re-planned by the engine once."""
        with self.engine.deferred():
            for row in rows:
                self._sync_copy(row)

    def recheck_waiting(self) -> None:
        """Something in the DAG changed: failovers waiting for an acceptable copy look again."""
        if not self._dag_changed.triggered:
            self._dag_changed.succeed()
        self._dag_changed = self.env.event()

    # ------------------------------------------------------------------ failures
    def store_crashed(self, server: str, restart_after: float) -> None:
        """The Information Store on ``server`` stopped: its active databases fail over, and it
        restarts after ``restart_after`` seconds if the server is still up."""
        self.recorder.event(self.env.now, "store_crashed", server=server, facts={"restart_after": restart_after})
        self.state.set_store_down(server, True)
        for d in range(self.layout.n_databases):
            if self.server_of(self.active_row(d)) == server:
                self.fail_active(d, cause_text(Cause.STORE_CRASH), self.timing.failure_item_detection)
        self.env.process(self._store_restart(server, restart_after))

    def _store_restart(self, server: str, delay: float):
        yield self.env.timeout(delay)
        if server in self.store_down and self.cluster.up(server):
            self.state.set_store_down(server, False)
            self.recorder.event(self.env.now, "store_restarted", server=server)

    def volume_failed(self, row: int, volume: Volume, *, reseed: Callable[[int], None]) -> None:
        """A copy's database or log volume failed, or its log volume filled up. A failed volume
        makes the copy FailedAndSuspended and calls ``reseed`` (AutoReseed); an active copy
        fails over."""
        d = int(self.layout.copy_db[row])
        kind = _VOLUME_FAILED[volume]
        self.recorder.event(self.env.now, kind, self.database_name(d), self.server_of(row))
        active = self.active_row(d) == row
        if volume is Volume.LOG_FULL:
            self.state.update_copy(row, **{volume.flag: True})
        else:
            self.state.update_copy(row, **{volume.flag: True}, failed_and_suspended=True)
            reseed(row)
        if active:
            self.fail_active(d, cause_text(_VOLUME_CAUSE[volume]), self.timing.failure_item_detection)

    def volume_restored(self, row: int, volume: Volume) -> None:
        """A failed volume of a copy is back (a restored log volume also has room again)."""
        d = int(self.layout.copy_db[row])
        kind = "database_volume_restored" if volume is Volume.DATABASE else "log_volume_restored"
        self.recorder.event(self.env.now, kind, self.database_name(d), self.server_of(row))
        if volume is Volume.LOG:
            self.state.update_copy(row, log_volume_failed=False, log_volume_full=False)
        else:
            self.state.update_copy(row, **{volume.flag: False})

    def suspend_copy(self, row: int, *, activation_only: bool) -> None:
        """Suspend-MailboxDatabaseCopy (``-ActivationOnly``: it keeps copying and replaying)."""
        database, server = self.layout.copy_names[row]
        if self.engine.is_active[row]:
            self.recorder.event(self.env.now, "operator_error", database, server, facts={"error": "suspend active"})
            return
        if activation_only:
            self.state.update_copy(row, activation_suspended=True)
            self.recorder.event(self.env.now, "copy_activation_suspended", database, server)
            return
        self.recorder.event(self.env.now, "copy_suspended", database, server)
        self.state.update_copy(row, activation_suspended=True, operator_suspended=True)

    def resume_copy(self, row: int, *, reseed: Callable[[int], None]) -> None:
        """Resume-MailboxDatabaseCopy; a FailedAndSuspended copy whose volume is back is ``reseed``ed."""
        health = self.health[row]
        self.engine.paths.resumed(row)  # before it runs again: it starts on the preferred network
        self.state.update_copy(row, activation_suspended=False, operator_suspended=False)
        if health.failed_and_suspended and not health.volume_failed:
            reseed(row)

    def dismount_database(self, d: int) -> None:
        """Dismount-Database: it stays dismounted, and no failover starts, until Mount-Database."""
        self.state.set_operator_dismounted(d, True)
        self.dismount(d, cause_text(Cause.DISMOUNT_DATABASE))

    def mount_database(self, d: int) -> None:
        """Mount-Database on the active copy's server, if that server may mount it."""
        self.state.set_operator_dismounted(d, False)
        row = self.active_row(d)
        blocker = self.cluster.mount_blocker(self.server_of(row))
        if self.is_mounted(d):
            return
        if blocker is not None or d in self.busy:
            self.recorder.event(
                self.env.now, "operator_error", self.database_name(d), self.server_of(row),
                facts={"error": "mount refused", "blocker": blocker},
            )  # fmt: skip
            return
        self.invariants.check_mount(d, row, automatic=False, lost=0.0, dial="best_effort")
        self.mark_mounted(d, row, "Mount-Database")

    def server_health_changed(self, server: str, level: str, *, failover: bool) -> None:
        """Managed Availability rates ``server`` at ``level``; ``failover``: a Failover responder
        moves its active databases to healthier servers."""
        self.state.set_server_health(server, level)
        facts = {"level": level, "failover": failover}
        self.recorder.event(self.env.now, "server_health_changed", server=server, facts=facts)
        if failover:
            self.env.process(self.health_failover(server))

    def cas_changed(self, server: str, *, up: bool) -> None:
        """The Client Access role on ``server`` stopped or started (Managed Availability sees it)."""
        self.state.set_cas_up(server, up)

    def server_restarted(self, server: str) -> None:
        """``server`` is back: its Information Store runs again (its copies followed its power)."""
        self.state.set_store_down(server, False)

    def resynchronize(self, row: int, *, reseed: Callable[[int], None]) -> None:
        """A returning copy that diverged discards its extra logs, or, on a failed volume, waits
        FailedAndSuspended for ``reseed``."""
        health = self.health[row]
        if health.diverged_logs <= 0:
            return
        database, server = self.layout.copy_names[row]
        if health.volume_failed:
            self.recorder.event(self.env.now, "copy_failed_and_suspended", database, server)
            self.state.update_copy(row, failed_and_suspended=True, diverged_logs=0.0)
            reseed(row)
        else:
            facts = {"logs": health.diverged_logs}
            self.recorder.event(self.env.now, "copy_resynchronized", database, server, facts=facts)
            self.state.update_copy(row, diverged_logs=0.0)

    def copy_added(self, row: int) -> None:
        """Add-MailboxDatabaseCopy: the copy exists from now on (and is seeded next)."""
        database, server = self.layout.copy_names[row]
        # Add-MailboxDatabaseCopy seeds the new copy at once (no -SeedingPostponed).
        self.state.update_copy(row, absent=False, seeding=True)
        self.recorder.event(self.env.now, "copy_added", database, server)

    def copy_resumed(self, row: int, attempt: int) -> None:
        """A FailedAndSuspended copy resumed (AutoReseed's resume ``attempt`` worked)."""
        database, server = self.layout.copy_names[row]
        self.recorder.event(self.env.now, "copy_resumed", database, server, facts={"attempt": attempt})
        self.state.update_copy(row, failed_and_suspended=False)

    def volume_replaced(self, row: int) -> None:
        """AutoReseed gave up the failed disk and formatted a spare in its place."""
        self.state.update_copy(row, database_volume_failed=False, log_volume_failed=False)

    def seeding_started(self, row: int, via: str, size: float, seconds: float) -> None:
        """The copy is being seeded from the active copy (``via`` a cmdlet or AutoReseed, ``size``
        bytes in ``seconds`` at the seeding rate): it neither copies nor replays meanwhile."""
        self.state.update_copy(row, failed_and_suspended=False, seeding=True)
        database, server = self.layout.copy_names[row]
        facts = {"via": via, "size": size, "seconds": seconds}
        self.recorder.event(self.env.now, "seeding_started", database, server, facts=facts)

    def seeding_completed(self, row: int, via: str) -> None:
        """Seeding is done: the copy starts empty at the active copy's position."""
        self.engine.reposition(row)
        self.state.update_copy(row, seeding=False, diverged_logs=0.0)
        database, server = self.layout.copy_names[row]
        self.recorder.event(self.env.now, "seeding_completed", database, server, facts={"via": via})

    def content_index_changed(self, row: int, state: str) -> None:
        """The copy's content index changed state, which best copy selection weighs."""
        self.state.update_copy(row, content_index=state)
        self.recorder.event(
            self.env.now, "content_index_changed", self.database_name(int(self.layout.copy_db[row])),
            self.server_of(row), facts={"state": state},
        )  # fmt: skip

    @property
    def mounted_row(self) -> list[int | None]:
        """Each database's mounted copy, None while it is dismounted. The engine holds which copy
        is active and whether it is mounted; this is read from there, not kept beside it."""
        engine = self.engine
        return [int(row) if mounted else None for row, mounted in zip(engine.active, engine.mounted, strict=True)]

    def mounted_on(self, server: str) -> int:
        """How many databases are mounted on ``server``."""
        engine = self.engine
        rows = engine.active[engine.mounted.astype(bool)]
        return int(np.count_nonzero(self.layout.copy_server[rows] == self.layout.server_names.index(server)))

    def mark_mounted(self, d: int, row: int, via: str, source: str = "") -> None:
        """Mount database ``d`` on ``row``, its active copy; ``via``: Mount-Database, a failover or
        switchover from ``source``, a remount, or a failed switchover (dagsim.text words them)."""
        self.invariants.check_active(d, row)
        self.engine.set_mounted(d, True)
        server = self.server_of(row)
        facts = {"via": via, "source": source, "server": server}
        self.recorder.event(self.env.now, "database_mounted", self.database_name(d), server, facts=facts)
        self.stale.mounted(d, row)
        if self.client_access is not None:
            self.client_access.database_mounted(self.database_name(d), server, self.env.now)

    def dismount(self, d: int, reason: str, *, record: bool = True) -> None:
        """Take database ``d`` offline (``record=False``: the engine already recorded it)."""
        if not self.is_mounted(d):
            return
        self.engine.set_mounted(d, False)
        if record:
            self.recorder.event(
                self.env.now, "database_dismounted", self.database_name(d), self.server_of(self.active_row(d)),
                facts={"cause": reason},
            )  # fmt: skip
        if self.client_access is not None:
            self.client_access.database_dismounted(self.database_name(d), self.env.now, reason)

    def fail_active(self, d: int, cause: str, detection: float, *, record: bool = True) -> None:
        """The active copy of ``d`` stopped serving: dismount it and start a failover."""
        was_mounted = self.is_mounted(d)
        self.dismount(d, cause, record=record)
        if not was_mounted or d in self.busy or d in self.pending:
            return
        draft = _Draft(self.database_name(d), "failover", cause, self.server_of(self.active_row(d)), self.env.now)
        self.env.process(self._failover(d, draft, detection))

    def heartbeat_detection(self, server: str) -> float:
        """Seconds the cluster needs to notice ``server`` stopped answering heartbeats."""
        dag = self.scenario.dag
        site = self.topology.site_of(server)
        same_subnet = any(
            self.cluster.up(m) and m != server and self.topology.site_of(m) == site for m in self.cluster.members
        )
        if same_subnet:
            return dag.same_subnet_delay * dag.same_subnet_threshold
        return dag.cross_subnet_delay * dag.cross_subnet_threshold

    def after_cluster_change(self, cause: str) -> None:
        """Apply quorum, DAC and reachability after hosts or networks changed."""
        self.engine.topology_changed()
        self.cluster.refresh()
        self.stale.lost_contact(self.cluster.just_lost_contact)
        self.stale.refresh()
        for held in [h for h in self._held_resubmits if self.cluster.up(h[1])]:
            self._resubmit(held, Decision.SAFETY_NET_BACK)
        for d in range(self.layout.n_databases):
            if not self.is_mounted(d):
                continue
            server = self.server_of(self.active_row(d))
            blocker = self.cluster.mount_blocker(server)
            if blocker is None:
                continue
            if not self.cluster.up(server):
                continue  # a failed server's databases are handled by its own failure
            detection = self.heartbeat_detection(server)
            self.decide(d, Decision.CANNOT_KEEP_MOUNTED, server=server, database=self.database_name(d), blocker=blocker)
            self.fail_active(d, cause_text(Cause.CANNOT_STAY_MOUNTED, cause=cause, blocker=blocker), detection)
        self.invariants.check_mounted()
        self.recheck_waiting()

    # ------------------------------------------------------------------ failover
    def _failover(self, d: int, draft: _Draft, detection: float):
        self.busy.add(d)
        self._in_flight[d] = draft
        try:
            yield self.env.timeout(detection)
            draft.detected = self.env.now
            self.decide(d, Decision.DETECTED, source=draft.source, cause=draft.cause, seconds=detection)
            while True:
                choice = yield from self._choose(d, draft, automatic=True, override=None)
                if choice is None:
                    draft.outcome = Outcome.NO_ACCEPTABLE_COPY
                    self.decide(d, Decision.NO_ACCEPTABLE_COPY, database=draft.database)
                    self.recorder.event(self.env.now, "failover_blocked", draft.database, draft.source)
                    self.pending[d] = draft
                    process = self.env.active_process
                    assert process is not None  # a failover is a process
                    self._waiting[d] = process
                    try:
                        yield self._dag_changed
                    except simpy.Interrupt:
                        draft.outcome = Outcome.SUPERSEDED  # the only interrupt is an operator switchover
                        self.failovers.append(draft.freeze())
                        return
                    finally:
                        self.pending.pop(d, None)
                        self._waiting.pop(d, None)
                    continue
                done = yield from self._activate(d, draft, choice, automatic=True, override=None)
                if done:
                    return
        finally:
            self.busy.discard(d)
            self._in_flight.pop(d, None)

    def _choose(
        self,
        d: int,
        draft: _Draft,
        *,
        automatic: bool,
        override: str | None,
        target: str | None = None,
        checks: SwitchoverChecks | None = None,
        health_triggered: bool = False,
    ):
        """Wait for a PAM, run best copy selection, and pick the first copy the dial accepts."""
        if self.cluster.quorum is None or not self.cluster.quorum.held:
            self.decide(d, Decision.NO_QUORUM)
            return None
        pam = self.cluster.pam_ready()
        if not pam.triggered:
            self.decide(d, Decision.WAITING_FOR_PAM)
            yield pam
        yield self.env.timeout(self.timing.selection_duration)
        draft.selection_done = self.env.now
        source_row = self.active_row(d)
        source = self.server_of(source_row)
        selection = select_copies(
            self._candidates(d, exclude=source_row if not automatic or health_triggered else None, only=target),
            source_site=self.topology.site_of(source),
            dials_of_all_copies=[self.servers[self.server_of(r)].auto_database_mount_dial for r in self.rows_of(d)],
            automatic=automatic,
            checks=checks,
            # A server that is down is less healthy than any running one.
            source_health=self.health_of(source) if self.cluster.up(source) else None,
            health_triggered=health_triggered,
        )
        lines = explain(selection)
        draft.candidates = lines
        draft.selection = verdicts(selection)
        self.decide(d, Decision.SELECTION, pam=self.cluster.pam)
        self.decide(d, Decision.SELECTION_ORDER, line=lines[0])
        for verdict in draft.selection:
            self.decide(d, Decision.CANDIDATE, server=verdict.server, line=verdict.text)
        if not selection.order:
            self.decide(d, Decision.NO_CANDIDATE, line=lines[-1])
        for ranked in selection.order:
            row = self.layout.copy_row(draft.database, ranked.copy.server)
            choice = self._acll_plan(d, source_row, row)
            dial = override or ranked.copy.mount_dial
            lost = whole_logs(choice.lost)
            if not dial_allows(dial, lost):
                facts = {"server": ranked.copy.server, "lost": lost, "dial": _DIAL_NAMES[dial], "allowed": DIAL_LIMITS[dial]}
                text = decision_text(Decision.DIAL_REFUSED, **facts)
                draft.candidates.append(text)
                draft.selection.append(
                    CandidateVerdict(
                        ranked.copy.server,
                        SelectionVerdict.DIAL_REFUSED.value,
                        criteria_set=ranked.criteria_set,
                        health_check=ranked.health_check,
                        reason=dial_refusal_text(dial=_DIAL_NAMES[dial], allowed=DIAL_LIMITS[dial], lost=lost),
                        logs_lost=lost,
                        text=text,
                    )
                )
                self.decide(d, Decision.DIAL_REFUSED, **facts)
                continue
            return choice
        return None

    def _candidates(self, d: int, *, exclude: int | None, only: str | None) -> list[CandidateCopy]:
        copies = []
        active = self.active_row(d)
        for row in self.rows_of(d):
            server = self.server_of(row)
            if only is not None and server != only:
                continue
            if row == exclude:
                continue
            spec = self.servers[server]
            health = self.health[row]
            cq, rq = self.engine.queues_of(row)
            if row == active:
                # The old active copy holds every log of its own: if it comes back, it is the best copy.
                status = "Healthy" if not (health.volume_failed or health.log_volume_full) else "Failed"
                cq = rq = 0.0
            else:
                status = health.passive_status(
                    server_up=self.cluster.up(server), connected=bool(self.engine.has_route[row])
                )
            excluded = self.cluster.mount_blocker(server) if self.cluster.up(server) else None
            if server in self.store_down:
                excluded = "Information Store is not running"
            if health.absent:
                excluded = "the copy has not been added yet (add_database_copy)"
            active_here = self.incoming.get(server, 0) + self.mounted_on(server)
            copies.append(
                CandidateCopy(
                    server=server,
                    site=self.topology.site_of(server),
                    activation_preference=int(self.layout.copy_preference[row]),
                    status=status,
                    copy_queue=whole_logs(cq),
                    replay_queue=whole_logs(rq),
                    content_index=health.content_index.capitalize(),
                    suspended=health.operator_suspended,
                    activation_suspended=health.activation_suspended,
                    reachable=self.cluster.up(server) and (self.cluster.pam is None or self.cluster.talk(self.cluster.pam, server)),
                    auto_activation_policy=spec.database_copy_auto_activation_policy,
                    mount_dial=spec.auto_database_mount_dial,
                    active_databases=active_here,
                    maximum_active_databases=spec.maximum_active_databases,
                    maximum_preferred_active_databases=spec.maximum_preferred_active_databases,
                    excluded=excluded,
                    server_health=self.health_of(server),
                )
            )
        return copies

    def _acll_plan(self, d: int, source_row: int, row: int) -> _Choice:
        """Attempt copy last logs: what the chosen copy can still fetch from the old active."""
        if row == source_row:
            return _Choice(row, 0.0, 0.0, 0.0)
        cq, _ = self.engine.queues_of(row)
        source = self.server_of(source_row)
        target = self.server_of(row)
        readable = not self.health[source_row].log_volume_failed and self.cluster.up(source)
        route = self.topology.shipping_route(source, target) if readable else None
        if route is None:
            return _Choice(row, 0.0, cq, self.timing.acll_timeout, source_answers=False)
        seconds = route.latency + cq * self.topology.bytes_per_log(route) / route.bottleneck if cq > 0 else 0.0
        return _Choice(row, cq, 0.0, seconds)

    def _activate(self, d: int, draft: _Draft, choice: _Choice, *, automatic: bool, override: str | None):
        """ACLL, replay and mount on the chosen copy; False if the copy became unusable meanwhile."""
        row = choice.row
        server = self.server_of(row)
        draft.target = server
        # Count the database against the target's MaximumActiveDatabases from the moment it is chosen.
        self.incoming[server] = self.incoming.get(server, 0) + 1
        try:
            mounted = yield from self._bring_online(d, draft, choice, automatic=automatic, override=override)
        finally:
            self.incoming[server] -= 1
        return mounted

    def _bring_online(self, d: int, draft: _Draft, choice: _Choice, *, automatic: bool, override: str | None):
        row = choice.row
        server = self.server_of(row)
        if choice.acll_seconds:
            yield self.env.timeout(choice.acll_seconds)
        draft.last_logs_copied = self.env.now
        if not choice.source_answers:
            self.decide(
                d, Decision.ACLL_FAILED, source=draft.source, seconds=choice.acll_seconds, server=server,
                missing=whole_logs(choice.lost),
            )  # fmt: skip
        elif choice.last_logs:
            self.decide(d, Decision.LAST_LOGS_COPIED, logs=choice.last_logs, source=draft.source, server=server)
        _, replay_queue = self.engine.queues_of(row)
        replay_logs = replay_queue + choice.last_logs
        # The server's replay rate, but no faster than one database replays when activated.
        rate = min(self.servers[server].replay_rate, self.scenario.databases[d].activation_replay_rate)
        if replay_logs > 0:
            self.decide(d, Decision.REPLAY, server=server, logs=replay_logs, seconds=replay_logs / rate)
            yield self.env.timeout(replay_logs / rate)
        draft.replay_done = self.env.now
        yield self.env.timeout(self.timing.mount_duration)
        blocker = self._still_mountable(d, row)
        if blocker is not None:
            self.decide(d, Decision.CANNOT_MOUNT, server=server, database=draft.database, blocker=blocker)
            return False
        with self.engine.deferred():  # one re-plan for the new roles, the mount and the old copy
            # A partly written log is not a log yet: losses count whole logs, as copy queues do.
            lost = whole_logs(self.engine.activate(d, row, last_logs_copied=choice.last_logs))
            self._sync_copy(row)  # the new active copy's logs can be read, or not
            dial = override or self.servers[server].auto_database_mount_dial
            self.invariants.check_mount(d, row, automatic=automatic, lost=lost, dial=dial)
            if server != draft.source:
                self.mark_mounted(d, row, draft.kind, draft.source)
            else:
                self.mark_mounted(d, row, "remount")
            old = self.layout.copy_row(draft.database, draft.source)
            if old != row:
                self.state.update_copy(old, diverged_logs=self.health[old].diverged_logs + lost)
        draft.mounted = self.env.now
        draft.outcome = Outcome.MOUNTED
        draft.logs_lost = lost
        if lost > 0:
            self._safety_net(d, draft, lost)
        self.decide(
            d, Decision.MOUNTED, database=draft.database, server=server, seconds=draft.mounted - draft.failure,
            switchover=draft.kind != "failover", lost=lost,
        )  # fmt: skip
        self.failovers.append(draft.freeze())
        self.recheck_waiting()
        return True

    def _still_mountable(self, d: int, row: int) -> str | None:
        server = self.server_of(row)
        if server in self.store_down:
            return "Information Store is not running"
        health = self.health[row]
        if health.volume_failed or health.log_volume_full:
            return "its volume failed"
        if self.is_mounted(d) and self.active_row(d) != row:
            return "another copy is mounted"
        return self.cluster.mount_blocker(server)

    def _safety_net(self, d: int, draft: _Draft, lost: float) -> None:
        """Ask transport's Safety Net to resubmit what the lost logs held (docs/active-manager.md#after-a-lossy-failover-safety-net-resync-reseed)."""
        transport = self.scenario.transport
        per_log = self._messages_per_log[d]
        draft.messages_lost = lost * per_log
        # Only mail newer than the hold time is still in Safety Net.
        recent = self.engine.logs_generated_since(d, draft.failure - transport.safety_net_hold_time, draft.failure)
        within = min(lost, recent)
        draft.messages_redelivered = within * per_log * transport.transport_share
        if draft.messages_redelivered <= 0:
            return
        self.decide(
            d, Decision.SAFETY_NET_RESUBMITS, messages=draft.messages_redelivered, lost_messages=draft.messages_lost,
            too_old=0.0 if within >= lost else lost - within,
        )  # fmt: skip
        held = [d, draft.source, draft.messages_redelivered / per_log]
        if self.cluster.up(draft.source):
            self._resubmit(held, None)
            return
        # Safety Net keeps mail on the server that processed it (*assumption*: the failed
        # source, a multi-role server); while it is down the request waits, and after
        # SHADOW_RESUBMIT_WAIT it becomes a shadow resubmit request served by the shadow
        # Safety Net (Safety Net in Exchange 2013).
        self.decide(d, Decision.SAFETY_NET_UNAVAILABLE, server=draft.source, wait=SHADOW_RESUBMIT_WAIT)
        self._held_resubmits.append(held)
        self.env.process(self._shadow_resubmit(held))

    def _shadow_resubmit(self, held: list):
        yield self.env.timeout(SHADOW_RESUBMIT_WAIT)
        if held in self._held_resubmits:
            self._resubmit(held, Decision.SHADOW_SAFETY_NET, shadow=True)

    def _resubmit(self, held: list, note: Decision | None, *, shadow: bool = False) -> None:
        d, server, logs = held
        if held in self._held_resubmits:
            self._held_resubmits.remove(held)
        if note is not None:
            self.decide(d, note, server=server)
        self.recorder.event(
            self.env.now, "safety_net_resubmitted", self.database_name(d), server,
            facts={"server": server, "logs": logs, "shadow": shadow},
        )  # fmt: skip
        burst = _Redelivery(self.env.now, self.scenario.transport.redelivery_duration, logs)
        self.workload.add_source(d, burst)
        self.engine.workload_changed()

    def records(self) -> list[FailoverRecord]:
        """Finished failovers and switchovers, those waiting for an acceptable copy, then any in progress."""
        waiting = list(self.pending.values())
        moving = [draft for draft in self._in_flight.values() if all(draft is not w for w in waiting)]
        return self.failovers + [draft.freeze() for draft in waiting + moving]

    # ------------------------------------------------------------------ switchovers
    def switchover(
        self,
        d: int,
        target: str | None,
        override: str | None,
        cause: str | None = None,
        checks: SwitchoverChecks | None = None,
        health_triggered: bool = False,
    ):
        """Move-ActiveMailboxDatabase; a process. Leaves the database on its source if it cannot move.

        Without ``override`` the switchover is lossless (Move-ActiveMailboxDatabase's default);
        ``"none"`` uses the target server's AutoDatabaseMountDial. ``health_triggered``: the move
        is a Managed Availability Failover responder's, so selection is automatic (activation
        policies apply, targets must be healthier than the source) and the record a failover.
        """
        override = None if health_triggered else _switchover_dial(override)
        kind = "failover" if health_triggered else "switchover"
        waiting = self._waiting.get(d)
        if waiting is not None and not self.is_mounted(d):
            # The operator takes over a failover that found no acceptable copy.
            waiting.interrupt("operator switchover")
            yield self.env.timeout(0)
        if d in self.busy:
            self.decide(d, Decision.SWITCHOVER_REFUSED, database=self.database_name(d))
            self.recorder.event(self.env.now, "switchover_refused", self.database_name(d))
            return
        self.busy.add(d)
        was_mounted = self.is_mounted(d)
        source_row = self.active_row(d)
        cause = cause if cause is not None else cause_text(Cause.OPERATOR_SWITCHOVER)
        draft = _Draft(self.database_name(d), kind, cause, self.server_of(source_row), self.env.now)
        draft.detected = self.env.now
        self._in_flight[d] = draft
        try:
            choice = yield from self._choose(
                d, draft, automatic=health_triggered, override=override, target=target, checks=checks,
                health_triggered=health_triggered,
            )  # fmt: skip
            if choice is None:
                draft.outcome = Outcome.SWITCHOVER_REFUSED
                self.decide(d, Decision.NO_ACCEPTABLE_TARGET, database=draft.database, source=draft.source)
                self.recorder.event(self.env.now, "switchover_failed", draft.database, draft.source)
                if health_triggered:
                    draft.outcome = Outcome.NO_HEALTHIER_COPY
                self.failovers.append(draft.freeze())
                return
            if was_mounted:
                self.dismount(d, cause_text(Cause.HEALTH_DISMOUNT if health_triggered else Cause.SWITCHOVER_DISMOUNT))
                yield self.env.timeout(self.timing.dismount_duration)
            choice = self._acll_plan(d, source_row, choice.row)
            done = yield from self._activate(d, draft, choice, automatic=health_triggered, override=override)
            if not done and was_mounted and self.cluster.mount_blocker(draft.source) is None:
                self.invariants.check_mount(d, source_row, automatic=False, lost=0.0, dial="lossless")
                self.mark_mounted(d, source_row, "failed switchover")
                draft.outcome = Outcome.SWITCHOVER_FAILED
                self.failovers.append(draft.freeze())
        finally:
            self.busy.discard(d)
            self._in_flight.pop(d, None)

    def redistribute(self):
        """RedistributeActiveDatabases.ps1 -BalanceDbsByActivationPreference: move every mounted
        database whose active copy is not its preference-1 copy back there, one after another."""
        for d in range(self.layout.n_databases):
            rows = self.rows_of(d)
            first = min(rows, key=lambda r: int(self.layout.copy_preference[r]))
            if self.is_mounted(d) and self.active_row(d) != first and self.cluster.up(self.server_of(first)):
                target = self.server_of(first)
                limit = self.servers[target].maximum_preferred_active_databases
                active_there = self.mounted_on(target)
                if limit is not None and active_there >= limit:
                    # Set-MailboxServer: MaximumPreferredActiveDatabases is honoured when rebalancing.
                    self.decide(d, Decision.REDISTRIBUTE_SKIPPED, database=self.database_name(d), target=target, limit=limit)
                    continue
                yield from self.switchover(
                    d, self.server_of(first), None, cause=cause_text(Cause.REDISTRIBUTION)
                )

    def health_failover(self, server: str):
        """A Managed Availability Failover responder on ``server``: move each of its active
        databases to a healthier server, one after another; a database with no such copy stays."""
        for d in range(self.layout.n_databases):
            if self.is_mounted(d) and self.server_of(self.active_row(d)) == server:
                yield from self.switchover(
                    d, None, None, cause=cause_text(Cause.HEALTH_RESPONDER, server=server), health_triggered=True
                )

    def switchover_server(self, server: str, override: str | None = None, checks: SwitchoverChecks | None = None):
        """Move every database active on ``server`` elsewhere, one after another."""
        for d in range(self.layout.n_databases):
            if self.is_mounted(d) and self.server_of(self.active_row(d)) == server:
                yield from self.switchover(d, None, override, cause=cause_text(Cause.SERVER_SWITCHOVER, server=server), checks=checks)


def _switchover_dial(override: str | None) -> str | None:
    """The dial a switchover mounts with: lossless unless -MountDialOverride says otherwise;
    ``none`` defers to the target server's AutoDatabaseMountDial (returned as None)."""
    if override is None:
        return "lossless"
    return None if override == "none" else override


def _messages_per_log(database) -> float:
    """Messages that one log of this database carries, from its message profile."""
    logs = logs_per_day(database)
    if database.mailboxes and logs > 0:
        return database.mailboxes * database.message_profile.messages_per_day / logs
    return 5.0

