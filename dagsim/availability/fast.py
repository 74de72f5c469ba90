"""Fast Monte Carlo: the failure model's structure played over replicas, a DAG-year in milliseconds.

A replica here does not run the simulation. It draws the same kind of failure and repair
process as :mod:`~dagsim.availability.timeline` (any time-to-failure and repair laws,
first-in-first-out repair crews, the rolling maintenance schedule) and follows, transition
by transition, the model that ``--exact`` and ``--rare`` solve
(:mod:`~dagsim.availability.structure`):

* a copy is *usable* while its server may mount (a running DAG member in the partition
  that holds quorum: :class:`~dagsim.availability.structure.MountOracle`) and its own store
  and volumes are up;
* a database writes logs while it is mounted, at its day's mean rate. A usable copy of a
  mounted database receives them and is current (*assumption*: it catches up at once, and
  nothing is lost in flight); a copy that cannot receive misses them. A copy missing more
  logs than its server's AutoDatabaseMountDial allows (6 for GoodAvailability) is not
  mounted: the database waits for one that has them, as the simulation's mount dial makes it;
* the active copy is followed: when it stops being usable and another copy is, the database
  fails over to the usable copy with the best activation preference (no failback) and is
  down for the failover's duration from the Active Manager timings
  (:func:`~dagsim.availability.structure.failover_seconds`); when no copy may mount it is
  down until one may, and the outage ends with selection and mount;
* best copy selection takes copies without a replay lag first; a lagged copy is activated
  only when no other may mount, and replays its lag first (its lag's worth of logs at the
  database's activation replay rate);
* a maintenance window first switches the server's active databases over to their best
  usable copy elsewhere (down for the dismount and the mount), then takes the server down
  for its duration. Move-ActiveMailboxDatabase's lag pre-check refuses a lagged target; a
  database with no other usable copy stays on the source, and fails over when it goes down.

What it leaves out (:data:`LEFT_OUT`) is mostly what the Markov model leaves out: copy
queues as they fill and drain (so no failover is lossy here), DAC, lagged copies' replay,
the PAM's move. The full simulation (``dagsim availability`` without ``--fast``) models
those at about a thousand times the cost.

Randomness: replica ``i`` of a study with seed ``s`` draws every duration, in a fixed order,
from ``SeedSequence(s, spawn_key=(FAST_STREAM, i))``; a replica is a pure function of
(scenario, seed, index), whatever the backend.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from dagsim.availability.markov import LEFT_OUT as MARKOV_LEFT_OUT
from dagsim.availability.replica import ReplicaRecord
from dagsim.availability.structure import SHARED_CLASSES, Component, MountOracle, failover_seconds
from dagsim.availability.timeline import MAX_ACTIONS_PER_REPLICA, _Component, _transitions, maintenance_windows
from dagsim.config.failures import COMPONENT_CLASSES, MaintenanceSpec, component_failures, component_names, copy_name
from dagsim.config.schema import Scenario
from dagsim.model.selection import DIAL_LIMITS

__all__ = ["FAST_STREAM", "LEFT_OUT", "NOT_MODELLED", "FastRunner", "NotFast", "refuse_unplayable"]

FAST_STREAM = 0x4641_5354  # spawn-key prefix of fast replicas ("FAST")

LEFT_OUT = (
    "copy queues as they fill and drain: a copy is current while it can receive logs from the "
    "mounted copy and catches up at once when it can again (no resync time, nothing lost in "
    "flight, so no failover is lossy); only while the database is down does a copy that missed "
    "more logs than its server's AutoDatabaseMountDial allows wait",
    MARKOV_LEFT_OUT[1],  # DAC
    "Replay Lag Manager, and a lagged copy's replay queue as it refills: it is taken as full "
    "(the lag's worth of logs) whenever the copy is activated",
    *MARKOV_LEFT_OUT[3:],
)
"""What the simulation models and a fast replica does not (docs/availability.md).

Unlike the Markov chain, a fast replica plays maintenance windows and any laws, keeps a copy
that missed logs from mounting and replays a lagged copy before it mounts; like it, it
leaves out the scenario's scripted timeline."""

NOT_MODELLED = ("lossy_failovers", "logs_lost", "messages_lost")
"""Metrics a fast study cannot estimate: they need copy queues."""

_LOCAL_CLASSES = ("store_crashes", "database_volumes", "log_volumes")
# Restarting the Information Store is the service manager's job, not a repair crew's.
_NO_CREW = frozenset({"store_crashes"})
_FAIL, _REPAIRED, _MAINTENANCE, _DOWN, _UP = range(5)  # the steps of timeline._transitions
_MEMO_LIMIT = 100_000


class NotFast(ValueError):
    """The scenario asks for something a fast replica cannot play."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("; ".join(reasons))


def refuse_unplayable(scenario: Scenario) -> None:
    """Raise :class:`NotFast` with every reason a fast replica cannot play ``scenario``."""
    reasons = []
    if scenario.failures is None:
        reasons.append("the scenario has no failures: block")
    if scenario.dag.dynamic_quorum:
        reasons.append("dag.dynamic_quorum: votes depend on the order of failures, not only on what is down")
    if any(not c.added for d in scenario.databases for c in d.copies):
        reasons.append("copies declared added: false change the DAG during the run")
    if reasons:
        raise NotFast(reasons)


class FastRunner:
    """Plays fast replicas of one scenario; build once per study (and per worker process)."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        refuse_unplayable(scenario)
        spec = scenario.failures
        assert spec is not None  # refused above otherwise
        self.scenario = scenario
        self.seed = seed
        self.spec = spec
        self.duration = float(spec.replica_duration)
        crews = spec.repair_crews
        # Client Access failures cost users, not mounts: they matter only by occupying crews.
        self.components: list[tuple[str, str, object, object]] = []
        for kind in COMPONENT_CLASSES:
            if not (kind in SHARED_CLASSES or kind in _LOCAL_CLASSES or crews is not None):
                continue
            for name in component_names(scenario, kind):
                figures = component_failures(spec, kind, name)
                if figures is not None:
                    self.components.append((kind, name, figures.time_to_failure, figures.time_to_repair))
        self.oracle = MountOracle(scenario)
        servers = self.oracle.servers
        server_index = {s: k for k, s in enumerate(servers)}
        self.databases = tuple(d.name for d in scenario.databases)
        copy_db: list[int] = []
        copy_server: list[int] = []
        rank_key: list[int] = []
        copy_of: dict[str, int] = {}
        dial_of = {s.name: DIAL_LIMITS[s.auto_database_mount_dial] for s in scenario.servers}
        replay_of = {s.name: s.replay_rate for s in scenario.servers}
        # A lagged copy replays its lag before it mounts (docs/active-manager.md): its replay
        # queue taken as full, the lag's worth of logs at the mean rate (assumption).
        self.replay_seconds: list[float] = []
        lagged: list[bool] = []
        # Logs a copy misses per second while it cannot receive them (the day's mean rate,
        # an assumption: the hourly profile is left out), and how many it may miss and mount.
        self.copy_rate: list[float] = []
        self.copy_dial: list[float] = []
        for d, database in enumerate(scenario.databases):
            for copy in database.copies:
                copy_of[copy_name(database.name, copy.server)] = len(copy_db)
                copy_db.append(d)
                copy_server.append(server_index[copy.server])
                rank_key.append(copy.activation_preference)
                self.copy_rate.append(database.generated_logs_per_day / 86400.0)
                self.copy_dial.append(dial_of[copy.server])
                lagged.append(copy.replay_lag_time > 0)
                rate = min(replay_of[copy.server], database.activation_replay_rate)
                self.replay_seconds.append(copy.replay_lag_time * self.copy_rate[-1] / rate)
        self.n_db = len(self.databases)
        self.copy_db = np.array(copy_db, dtype=np.intp)
        self.copy_server = np.array(copy_server, dtype=np.intp)
        # Scenario order keeps each database's copies together: reduceat sums them per database.
        self.starts = np.searchsorted(self.copy_db, np.arange(self.n_db))
        # Best copy selection prefers a short replay queue (its first criteria sets), so lagged
        # copies come after the others, each group by activation preference.
        self.by_preference = [
            sorted(np.flatnonzero(self.copy_db == d).tolist(), key=lambda c: (lagged[c], rank_key[c], c))
            for d in range(self.n_db)
        ]
        self.copy_server_list = copy_server
        # Move-ActiveMailboxDatabase's lag pre-check refuses a lagged target (replay queue >= 50).
        self.switchover_targets = [[(o, copy_server[o]) for o in order if not lagged[o]] for order in self.by_preference]
        # Per component: the copies it stops (local classes) or the shared pair it takes down.
        self.local_copies: list[list[int]] = []
        self.server_of: list[int] = []
        for kind, name, _, _ in self.components:
            if kind == "store_crashes":
                self.local_copies.append(np.flatnonzero(self.copy_server == server_index[name]).tolist())
            elif kind in ("database_volumes", "log_volumes"):
                self.local_copies.append([copy_of[name]])
            else:
                self.local_copies.append([])
            self.server_of.append(server_index[name] if kind in ("servers", "store_crashes") else -1)
        site_of = self.oracle.server_site
        self.site_of_server = [site_of[s] for s in servers]
        members = set(scenario.member_names)
        self.peers = [
            [p for p, other in enumerate(servers) if other != s and site_of[other] == site_of[s] and other in members]
            for s in servers
        ]
        self.seconds_peer = {kind: failover_seconds(scenario, _kind(kind), True) for kind in COMPONENT_CLASSES}
        self.seconds_alone = {kind: failover_seconds(scenario, _kind(kind), False) for kind in COMPONENT_CLASSES}
        timing = scenario.active_manager
        self.outage_end = timing.selection_duration + timing.mount_duration
        self.switchover_seconds = timing.dismount_duration + timing.mount_duration
        self._memo: dict[frozenset, _Shared] = {}
        # The rolling schedule, as timeline._transitions yields it: (time, step, -1 - server, 0).
        self.random_spec = spec.model_copy(update={"maintenance": MaintenanceSpec()})
        window = spec.maintenance.servers
        self.maintenance: list[tuple[float, int, int, float]] = []
        if window is not None:
            for start, k in maintenance_windows(spec, len(scenario.servers), self.duration):
                for at, step in ((start, _MAINTENANCE), (start + window.drain, _DOWN), (start + window.drain + window.duration, _UP)):
                    if at < self.duration:
                        self.maintenance.append((at, step, -1 - k, 0.0))
            self.maintenance.sort(key=itemgetter(0))
        self.no_counts = (0,) * self.n_db
        self.no_amounts = (0.0,) * self.n_db

    def _shared(self, down: frozenset) -> _Shared:
        """What the shared components in ``down`` being failed leave usable."""
        hit = self._memo.get(down)
        if hit is None:
            mounting = self.oracle.mounting(down)
            ok = np.array([s in mounting for s in self.oracle.servers], dtype=bool)[self.copy_server]
            hit = _Shared(ok, bool(mounting), *_usable(ok, self.starts))
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[down] = hit
        return hit

    def run(self, index: int) -> ReplicaRecord:
        """Replica ``index``: its drawn failures followed through the structure."""
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(FAST_STREAM, index))))
        components = [_Component(kind, name, ttf, ttr, rng) for kind, name, ttf, ttr in self.components]
        drawn = _transitions(components, self.random_spec, self.scenario, self.duration)
        # The maintenance schedule is the same in every replica: merged in, not queued again.
        return _Replica(self, index).play(heapq.merge(self.maintenance, drawn, key=itemgetter(0)))


def _kind(kind: str) -> Component:
    return Component(kind, "", 1.0, 1.0, False)


def _usable(usable: np.ndarray, starts: np.ndarray) -> tuple[list[bool], np.ndarray, np.ndarray]:
    """(usable as a list, usable copies per database, databases below two usable copies)."""
    counts = np.add.reduceat(usable.view(np.int8), starts, dtype=np.intp) if len(usable) else np.zeros(0, dtype=np.intp)
    return usable.tolist(), counts, counts < 2


@dataclass(frozen=True, slots=True)
class _Shared:
    """A state of the shared components: which copies' servers may mount, and what follows
    when no local component is down (the usual case, so kept with the state)."""

    ok: np.ndarray
    any_mounting: bool
    ok_list: list[bool]
    counts: np.ndarray
    below: np.ndarray


class _Replica:
    """The state of one fast replica while its transitions are played."""

    def __init__(self, runner: FastRunner, index: int) -> None:
        self.r = runner
        self.index = index
        n_copies = len(runner.copy_db)
        n_servers = len(runner.oracle.servers)
        self.reasons = [0] * n_servers  # a server is down while its failure or maintenance lasts
        self.down_pairs: set[tuple[str, str]] = set()
        self.local_down = np.zeros(n_copies, dtype=np.intp)
        self.local_ok = np.ones(n_copies, dtype=bool)
        self.locals_down = 0  # local components down now; while none is, the shared state says all
        self.shared = runner._shared(frozenset())
        self.usable = usable = self.shared.ok
        self.usable_list = self.shared.ok_list
        self.active_copy = np.array([next((c for c in order if usable[c]), -1) for order in runner.by_preference], dtype=np.intp)
        self.down_since = np.where(self.active_copy < 0, 0.0, np.nan)
        # Logs are written only while a database is mounted: its clock is its mounted time so
        # far. A copy that cannot receive holds the logs up to ``seen`` on that clock; one that
        # can, or the active copy, holds them all.
        self.mounted_total = np.zeros(runner.n_db)
        self.mounted_since = np.where(self.active_copy >= 0, 0.0, np.nan)
        self.seen = np.zeros(n_copies)
        self.n_down = int((self.active_copy < 0).sum())  # databases down now
        self.active_list: list[int] = self.active_copy.tolist()  # the same, read one at a time
        self.active_on: list[set[int]] = [set() for _ in range(n_servers)]
        for d, c in enumerate(self.active_list):
            if c >= 0:
                self.active_on[runner.copy_server_list[c]].add(d)
        self.below = self.shared.below
        self.below_since = np.where(self.below, 0.0, np.nan)
        self.downtime = [0.0] * runner.n_db  # a list: added to one database at a time
        self.below_time = np.zeros(runner.n_db)
        self.failovers = np.zeros(runner.n_db, dtype=np.intp)
        self.quorum_losses = 0
        self.transitions = 0

    def play(self, transitions) -> ReplicaRecord:
        r = self.r
        # The transitions do not carry an Information Store's restart: it comes back after the
        # ``restart`` its crash drew, without a crew.
        restarts: list[tuple[float, int]] = []
        for time, step, index, restart in transitions:
            while restarts and restarts[0][0] <= time:
                at, crashed = heapq.heappop(restarts)
                self._apply(at, _REPAIRED, crashed)
            if index >= 0 and step == _FAIL and r.components[index][0] in _NO_CREW:
                heapq.heappush(restarts, (time + restart, index))
            self._apply(time, step, index)
        for at, crashed in sorted(restarts):
            if at < r.duration:
                self._apply(at, _REPAIRED, crashed)
        return self._record()

    def _apply(self, time: float, step: int, index: int) -> None:
        """One transition: a component failing or repaired, or a maintenance step (index < 0)."""
        r = self.r
        self.transitions += 1
        if self.transitions > MAX_ACTIONS_PER_REPLICA:
            raise ValueError(f"a replica produced more than {MAX_ACTIONS_PER_REPLICA:,} failure transitions")
        if index < 0:
            server = -1 - index
            if step == _MAINTENANCE:
                self._drain(server)
                return
            self._server_reason(server, step == _DOWN)
            self._settle(time, "servers", server, step == _DOWN)
            return
        kind, name = r.components[index][0], r.components[index][1]
        down = step == _FAIL
        copies = r.local_copies[index]
        if copies:
            self.local_down[copies] += 1 if down else -1
            self.local_ok[copies] = self.local_down[copies] == 0
            self.locals_down += 1 if down else -1
        elif kind == "servers":
            self._server_reason(r.server_of[index], down)
        elif kind in SHARED_CLASSES:
            if down:
                self.down_pairs.add((kind, name))
            else:
                self.down_pairs.discard((kind, name))
            self._shared_changed()
        else:
            return  # a Client Access server or load balancer: it only held a crew
        # Only a failure can take a copy away, except that a repaired link or site may move quorum.
        self._settle(time, kind, r.server_of[index], down or kind in ("sites", "links", "witness"))

    def _server_reason(self, server: int, down: bool) -> None:
        was = self.reasons[server]
        self.reasons[server] += 1 if down else -1
        if (was == 0) != (self.reasons[server] == 0):
            pair = ("servers", self.r.oracle.servers[server])
            if down:
                self.down_pairs.add(pair)
            else:
                self.down_pairs.discard(pair)
            self._shared_changed()

    def _shared_changed(self) -> None:
        mounting_before = self.shared.any_mounting
        self.shared = self.r._shared(frozenset(self.down_pairs))
        if mounting_before and not self.shared.any_mounting:
            self.quorum_losses += 1

    def _drain(self, server: int) -> None:
        """Maintenance begins: switch the server's active databases to their best usable copy elsewhere."""
        r = self.r
        if self.reasons[server] or (("sites", r.site_of_server[server]) in self.down_pairs):
            return  # a server that is down has no active database to move
        moving = self.active_on[server]
        if not moving:
            return
        usable = self.usable_list
        downtime, seconds = self.downtime, r.switchover_seconds
        for d in sorted(moving):
            for o, where in r.switchover_targets[d]:
                if usable[o] and where != server:
                    self._move(d, o)
                    downtime[d] += seconds
                    break

    def _move(self, d: int, copy: int) -> None:
        """Database ``d`` is now active on ``copy`` (-1: down)."""
        servers = self.r.copy_server_list
        old = self.active_list[d]
        if old >= 0:
            self.active_on[servers[old]].discard(d)
        if copy >= 0:
            self.active_on[servers[copy]].add(d)
        self.active_copy[d] = self.active_list[d] = copy

    def _peer_up(self, server: int) -> bool:
        r = self.r
        pairs = self.down_pairs
        return any(not self.reasons[p] and ("sites", r.site_of_server[p]) not in pairs for p in r.peers[server])

    def _settle(self, now: float, kind: str, server: int, worse: bool) -> None:
        """After a transition: integrate the below-two time, move or take down databases.

        ``worse``: the transition may have taken a copy away (otherwise, with no database
        down, no active copy can have been lost)."""
        r = self.r
        shared = self.shared
        if self.locals_down == 0:
            usable, usable_list, counts, below = shared.ok, shared.ok_list, shared.counts, shared.below
        else:
            usable = shared.ok & self.local_ok
            usable_list, counts, below = _usable(usable, r.starts)
        stopped = (self.usable & ~usable).nonzero()[0] if worse and usable is not self.usable else ()
        if len(stopped):
            # Copies that stop receiving keep the logs written so far, if their database is mounted.
            dbs = r.copy_db[stopped]
            since = self.mounted_since[dbs]
            mounted = ~np.isnan(since)
            self.seen[stopped[mounted]] = self.mounted_total[dbs[mounted]] + now - since[mounted]
        self.usable, self.usable_list = usable, usable_list
        if below is not self.below:
            changed = below != self.below
            if changed.any():
                started = changed & below
                ended = changed & ~below
                self.below_since[started] = now
                self.below_time[ended] += now - self.below_since[ended]
            self.below = below
        if not worse and self.n_down == 0:
            return
        active = self.active_copy
        lost = ((active < 0) | ~usable[active]).nonzero()[0]  # usable[-1] is read only where active < 0
        for d in lost.tolist():
            c = self.active_list[d]
            if counts[d] == 0:
                if c >= 0:
                    self._unmount(d, now)
                continue
            if c >= 0:
                # The database was mounted until now: every copy that can receive is current.
                target = next(o for o in r.by_preference[d] if usable_list[o])
                self._move(d, target)
                self.failovers[d] += 1
                peer = kind == "servers" and server >= 0 and self._peer_up(server)
                self.downtime[d] += (r.seconds_peer if peer else r.seconds_alone)[kind] + r.replay_seconds[target]
                continue
            # Down: only a copy missing no more logs than its server's mount dial allows mounts.
            written = self.mounted_total[d]
            seen, rate, dial = self.seen, r.copy_rate, r.copy_dial
            target = next(
                (o for o in r.by_preference[d] if usable_list[o] and rate[o] * (written - seen[o]) <= dial[o] + 1e-9), -1
            )
            if target >= 0:
                self._move(d, target)
                self.downtime[d] += now - self.down_since[d] + r.outage_end + r.replay_seconds[target]
                self.down_since[d] = np.nan
                self.mounted_since[d] = now
                self.n_down -= 1

    def _unmount(self, d: int, now: float) -> None:
        """Database ``d`` has no copy to mount: it is down, and writes no logs, from ``now``."""
        self.down_since[d] = now
        self.n_down += 1
        self._move(d, -1)
        self.mounted_total[d] += now - self.mounted_since[d]
        self.mounted_since[d] = np.nan

    def _record(self) -> ReplicaRecord:
        r = self.r
        end = r.duration
        downtime = np.array(self.downtime)
        open_down = ~np.isnan(self.down_since)
        downtime[open_down] += end - self.down_since[open_down]
        self.below_time[self.below] += end - self.below_since[self.below]
        return ReplicaRecord(
            index=self.index,
            duration=end,
            failure_actions=self.transitions,
            downtime=tuple(downtime.tolist()),
            below_two_healthy=tuple(self.below_time.tolist()),
            failovers=tuple(int(x) for x in self.failovers),
            # Not modelled; one shared tuple, so a batch of records pickles it once.
            lossy_failovers=r.no_counts,
            logs_lost=r.no_amounts,
            messages_lost=r.no_amounts,
            user_minutes=(),
            quorum_losses=self.quorum_losses,
        )
