"""The Mailbox Replication Service: move requests that write logs on their target (docs/mrs.md).

A migration batch queues ``mailboxes`` move requests; up to ``max_concurrent`` are in
progress at once. A request in progress copies its mailbox while it is not stalled, at
``transfer_rate`` slowed by its items (``mailbox_items`` at ``item_rate``), then copies by an
incremental sync the mail that arrived meanwhile, and everything it copies becomes
transaction logs on the target database
(``log_factor`` logs of 1 MiB per MiB moved, *assumption*), which every copy of that
database must then receive: that is how moves load the replication network.

The data guarantee (``DatabaseSpec.data_move_replication_constraint``) is checked every
``data_guarantee_check_period`` while requests move: when the target's passive copies do not
satisfy it the requests stall (``StalledDueToTarget_MdbReplication``) and check again every
``stall_retry_interval``; a request stalled longer than ``max_stall_time`` at once fails. A
passive copy *qualifies* when it runs and receives logs (not failed, suspended or seeding),
its copy queue is under 10 logs and, unless it is lagged, its replay queue holds less than
10 minutes of the database's generation (docs/mrs.md). Constraints: ``none`` (never waits),
``second_copy`` (one qualifying copy), ``second_datacenter`` (one in another site than the
active copy), ``all_datacenters`` (one in every site holding passive copies), ``all_copies``.

While the source or target database is not mounted (a failover), its requests wait
(``StalledDueToTarget_MdbAvailability`` / ``StalledDueToSource_MdbAvailability``) and resume
from what they had copied once it is mounted again, on whichever copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dagsim.config.mrs import MoveBatchSpec
from dagsim.model.topology import LOG_BYTES
from dagsim.text import move_timeout_detail

__all__ = ["MailboxReplicationService", "MoveRecord"]

QUALIFYING_COPY_QUEUE = 10.0
REPLAY_WINDOW = 600.0  # seconds of generation a non-lagged copy's replay queue may hold


@dataclass(frozen=True, slots=True)
class MoveRecord:
    """One move request as Get-MoveRequestStatistics would show it at the end of the run."""

    request: str
    batch: str
    source_database: str
    target_database: str
    status: str
    """Queued, InProgress, AutoSuspended, CompletionInProgress, Completed or Failed."""
    status_detail: str
    percent_complete: float
    bytes_transferred: float
    started: float
    """Seconds; NaN when it never started."""
    finished: float
    """Seconds; NaN when it has not completed (or failed)."""
    stalled: float
    """Seconds spent stalled, for any reason."""
    stalls: int

    @property
    def throughput(self) -> float:
        """Bytes per second from start to finish (NaN when unfinished)."""
        span = self.finished - self.started
        return self.bytes_transferred / span if span > 0 else math.nan


class _MoveTraffic:
    """The logs a batch's moves write on the target database: a rate set as moves start and stall."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, float]] = [(0.0, 0.0)]

    def set(self, t: float, rate: float) -> None:
        if self.changes[-1][0] == t:
            self.changes[-1] = (t, rate)
        else:
            self.changes.append((t, rate))

    def rate(self, t: float) -> float:
        for when, rate in reversed(self.changes):
            if when <= t:
                return rate
        return 0.0

    def next_change(self, t: float) -> float:
        return math.inf  # changes are announced when they happen (engine.workload_changed)

    def integral(self, t0: float, t1: float) -> float:
        total = 0.0
        for i, (when, rate) in enumerate(self.changes):
            end = self.changes[i + 1][0] if i + 1 < len(self.changes) else math.inf
            lo, hi = max(when, t0), min(end, t1)
            if hi > lo:
                total += rate * (hi - lo)
        return total


MRS_STREAM = 0x4D5253  # spawn-key prefix of mailbox size draws ("MRS")


def _sizes(batch, seed: int, index: int) -> list[float]:
    """Each request's mailbox size: ``mailbox_size``, or lognormal with that median and
    ``mailbox_size_p95``, drawn from the run's seed (batch ``index`` has its own stream)."""
    if batch.mailbox_size_p95 is None:
        return [float(batch.mailbox_size)] * batch.mailboxes
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(MRS_STREAM, index))))
    sigma = math.log(batch.mailbox_size_p95 / batch.mailbox_size) / _Z95
    return [float(x) for x in batch.mailbox_size * np.exp(sigma * rng.standard_normal(batch.mailboxes))]


_Z95 = 1.6448536269514722  # standard normal 95th percentile


class _Move:
    __slots__ = (
        "copied", "counted", "detail", "finished", "index", "rate", "size", "stall_since", "stalled", "stalls",
        "started", "status", "synced",
    )  # fmt: skip

    def __init__(self, index: int, size: float, rate: float) -> None:
        self.index = index
        self.size = size
        self.rate = rate  # bytes/s while copying, items included
        self.synced = False  # the incremental sync after the initial copy has been planned
        self.status = "Queued"
        self.detail = "Queued"
        self.copied = 0.0
        self.started = math.nan
        self.finished = math.nan
        self.stalled = 0.0
        self.stalls = 0
        self.stall_since: float | None = None
        self.counted: tuple = ()

    @property
    def copying_detail(self) -> str:
        return "IncrementalSync" if self.synced else "CopyingMessages"


def _move_rate(batch, size: float) -> float:
    """Bytes/s of one move: ``transfer_rate`` for the bytes plus ``item_rate`` for the items
    (a mailbox's items scale with its size)."""
    seconds = size / batch.transfer_rate
    if batch.mailbox_items:
        seconds += batch.mailbox_items * (size / batch.mailbox_size) / batch.item_rate
    return size / seconds


def _changes_per_second(batch, scenario) -> float:
    """Bytes a mailbox receives per second while its initial copy runs (what the incremental sync copies)."""
    if batch.mailbox_changes_per_day is not None:
        return batch.mailbox_changes_per_day / 86400.0
    if batch.request_type != "move":
        return 0.0  # a .pst does not change while it is imported; an export needs no sync
    database = scenario.database(batch.source_database or batch.target_database)
    profile = database.message_profile
    return profile.messages_per_day * profile.average_message_size / 86400.0


class MailboxReplicationService:
    """Runs every migration batch of the scenario inside one simulation."""

    def __init__(self, sim) -> None:
        self.sim = sim
        self.spec = sim.scenario.mrs
        self.batches: list[tuple[MoveBatchSpec, _MoveTraffic, list[_Move]]] = []
        self.in_progress: dict[tuple[str, str], int] = {}  # ("target database", name) -> requests copying
        names = [d.name for d in sim.scenario.databases]
        for batch in self.spec.batches:
            traffic = _MoveTraffic()
            if batch.request_type != "export":  # an export reads its source and writes .pst files
                sim.workload.add_source(names.index(batch.target_database), traffic)
            moves = [
                _Move(i, size, _move_rate(batch, size)) for i, size in enumerate(_sizes(batch, sim.seed, len(self.batches)))
            ]
            self.batches.append((batch, traffic, moves))

    def start(self) -> None:
        for batch, traffic, moves in self.batches:
            self.sim.env.process(self._batch(batch, traffic, moves))

    # ------------------------------------------------------------------ MRS limits
    def _limits(self, batch) -> list[tuple[tuple[str, str], int]]:
        """The MRS throttles a new request of ``batch`` counts against, with their limits."""
        sim, spec = self.sim, self.spec
        names = [d.name for d in sim.scenario.databases]
        out = []
        for database, db_limit, server_limit, side in (
            (batch.target_database, spec.max_active_moves_per_target_database, spec.max_active_moves_per_target_server, "target"),
            (batch.source_database, spec.max_active_moves_per_source_database, spec.max_active_moves_per_source_server, "source"),
        ):
            if database is None:
                continue
            server = sim.manager.server_of(sim.manager.active_row(names.index(database)))
            out += [((f"{side} database", database), db_limit), ((f"{side} server", server), server_limit)]
        return out

    def _take_slot(self, batch, move: _Move) -> bool:
        limits = self._limits(batch)
        if any(self.in_progress.get(key, 0) >= limit for key, limit in limits):
            return False
        for key, _ in limits:
            self.in_progress[key] = self.in_progress.get(key, 0) + 1
        move.counted = tuple(key for key, _ in limits)
        return True

    def _free_slot(self, move: _Move) -> None:
        for key in move.counted:
            self.in_progress[key] -= 1
        move.counted = ()

    # ------------------------------------------------------------------ the guarantee
    def _blocker(self, batch) -> str | None:
        """Why the batch's requests cannot move now (None: they can)."""
        sim = self.sim
        am = sim.manager
        names = [d.name for d in sim.scenario.databases]
        if batch.source_database is not None and not am.is_mounted(names.index(batch.source_database)):
            return "StalledDueToSource_MdbAvailability"
        if batch.target_database is None:
            return None  # an export: no target database, no data guarantee
        target = names.index(batch.target_database)
        if not am.is_mounted(target):
            return "StalledDueToTarget_MdbAvailability"
        constraint = sim.scenario.databases[target].data_move_replication_constraint
        if constraint == "none":
            return None
        active = am.active_row(target)
        active_site = sim.topology.site_of(am.server_of(active))
        passive = [r for r in am.rows_of(target) if r != active and not am.health[r].absent]
        if not passive:
            return None
        rate = float(sim.workload.rates(sim.env.now)[target])
        ok = {r: self._qualifies(r, rate) for r in passive}
        site = {r: sim.topology.site_of(am.server_of(r)) for r in passive}
        if constraint == "second_copy":
            met = any(ok.values())
        elif constraint == "second_datacenter":
            met = any(ok[r] for r in passive if site[r] != active_site)
        elif constraint == "all_datacenters":
            met = all(any(ok[r] for r in passive if site[r] == s) for s in set(site.values()))
        else:  # all_copies
            met = all(ok.values())
        return None if met else "StalledDueToTarget_MdbReplication"

    def _qualifies(self, row: int, rate: float) -> bool:
        engine = self.sim.replication
        if engine.halted[row] or not engine.has_route[row]:
            return False
        copy_queue, replay_queue = engine.queues_of(row)
        if copy_queue >= QUALIFYING_COPY_QUEUE:
            return False
        lagged = self.sim.layout.replay_lag[row] > 0
        return lagged or replay_queue <= rate * REPLAY_WINDOW + 1.0

    # ------------------------------------------------------------------ a batch
    def _batch(self, batch, traffic: _MoveTraffic, moves: list[_Move]):
        sim, env = self.sim, self.sim.env
        if batch.start > env.now:
            yield env.timeout(batch.start - env.now)
        where = batch.target_database or batch.source_database
        sim.record(
            "move_batch_started",
            where,
            facts={"batch": batch.name, "requests": len(moves), "request_type": batch.request_type},
            batch=batch.name,
        )
        waiting = list(moves)
        active: list[_Move] = []
        completing: list[tuple[float, _Move]] = []
        suspended: list[_Move] = []
        moving_rate = 0.0
        last = env.now
        blocker: str | None = None
        changes = _changes_per_second(batch, sim.scenario)
        while waiting or active or completing or suspended:
            now = env.now
            elapsed = now - last
            last = now
            # What happened over the last interval, at the state decided at its start.
            for move in active:
                if blocker is None:
                    move.copied = min(move.copied + move.rate * elapsed, move.size)
                else:
                    move.stalled += elapsed
            # Within a microsecond of copying is done: float time cannot step finer than that.
            for move in [m for m in active if m.copied >= m.size - m.rate * 1e-6]:
                if not move.synced:
                    # The initial copy is done: the mail that arrived meanwhile is copied next.
                    move.synced = True
                    delta = changes * (now - move.started)
                    if delta > move.rate * 1e-3:
                        move.copied = move.size
                        move.size += delta
                        move.detail = move.copying_detail if move.stall_since is None else move.detail
                        continue
                active.remove(move)
                self._free_slot(move)
                move.copied = move.size
                if batch.suspend_when_ready_to_complete:
                    move.status, move.detail = "AutoSuspended", "AutoSuspended"
                    suspended.append(move)
                else:
                    move.status, move.detail = "CompletionInProgress", "CompletionInProgress"
                    completing.append((now + batch.completion_time, move))
            if suspended and batch.complete_after is not None and now >= batch.complete_after:
                for move in suspended:
                    move.status, move.detail = "CompletionInProgress", "CompletionInProgress"
                    completing.append((now + batch.completion_time, move))
                suspended.clear()
            for due, move in [c for c in completing if c[0] <= now + 1e-9]:
                completing.remove((due, move))
                move.status, move.detail, move.finished = "Completed", "Completed", now
            while waiting and len(active) < batch.max_concurrent and self._take_slot(batch, waiting[0]):
                move = waiting.pop(0)
                move.status, move.detail, move.started = "InProgress", "CopyingMessages", now
                active.append(move)
            # The data guarantee, and stalls that went on too long.
            new_blocker = self._blocker(batch) if active else None
            if new_blocker != blocker:
                for move in active:
                    if new_blocker is None:
                        move.stall_since = None
                        move.status, move.detail = "InProgress", move.copying_detail
                    elif move.stall_since is None:
                        move.stall_since = now
                        move.stalls += 1
                        move.detail = new_blocker
                    else:
                        move.detail = new_blocker
                kind = "move_stalled" if new_blocker is not None else "move_resumed"
                if active:
                    facts = {"batch": batch.name} | ({} if new_blocker is None else {"blocker": new_blocker})
                    sim.record(kind, where, facts=facts, batch=batch.name, reason=new_blocker or "")
                blocker = new_blocker
            if blocker is not None:
                for move in active:
                    if move.stall_since is None:
                        move.stall_since, move.stalls, move.detail = now, move.stalls + 1, blocker
            for move in [m for m in active if m.stall_since is not None and now - m.stall_since >= self.spec.max_stall_time]:
                active.remove(move)
                self._free_slot(move)
                move.status, move.detail, move.finished = "Failed", move_timeout_detail(blocker), now
                facts = {"batch": batch.name, "request": move.index + 1}
                sim.record("move_failed", where, facts=facts, batch=batch.name)
            writes = batch.request_type != "export"
            rate = 0.0 if blocker is not None or not writes else sum(m.rate for m in active) * batch.log_factor / LOG_BYTES
            if rate != moving_rate:
                moving_rate = rate
                traffic.set(now, rate)
                sim.replication.workload_changed()
            # When to look again: a check, a move finishing its copy, a completion, the operator.
            wake = now + (self.spec.data_guarantee_check_period if blocker is None else self.spec.stall_retry_interval)
            if blocker is None and active:
                wake = min(wake, now + min((m.size - m.copied) / m.rate for m in active))
            if completing:
                wake = min(wake, min(due for due, _ in completing))
            if suspended and batch.complete_after is not None:
                wake = min(wake, max(batch.complete_after, now))
            if suspended and batch.complete_after is None and not (waiting or active or completing):
                break  # auto-suspended until an operator completes them: nothing more happens
            if not active and not completing and not waiting:
                if not suspended:
                    break
            yield env.timeout(max(wake - now, 1e-6))
        done = sum(1 for m in moves if m.status == "Completed")
        facts = {"batch": batch.name, "done": done, "requests": len(moves)}
        sim.record("move_batch_completed", where, facts=facts, batch=batch.name)

    # ------------------------------------------------------------------ results
    def records(self) -> tuple[MoveRecord, ...]:
        out = []
        for batch, _, moves in self.batches:
            for move in moves:
                out.append(
                    MoveRecord(
                        request=f"{batch.name}-{move.index + 1:05d}",
                        batch=batch.name,
                        source_database=batch.source_database or "",
                        target_database=batch.target_database or "",
                        status=move.status,
                        status_detail=move.detail,
                        percent_complete=round(100.0 * move.copied / move.size, 3),
                        bytes_transferred=move.copied,
                        started=move.started,
                        finished=move.finished,
                        stalled=move.stalled,
                        stalls=move.stalls,
                    )
                )
        return tuple(out)
