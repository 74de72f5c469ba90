"""Active Manager in a stale partition: the split brain that DAC exists to prevent.

After a datacenter switchover (Stop-, Restore-DatabaseAvailabilityGroup) the failed site's
servers still hold the old cluster configuration. If they come back while the WAN is down,
they can hold quorum by it (2 members + the primary witness = 3 of 5 votes) and, with DAC
off, their Primary Active Manager acts on what it last knew: it mounts the databases it
believed active on its own servers, and fails the others over to its own copies by best
copy selection, with the copy queues they had when contact was lost. The rest of the DAG
meanwhile serves the same databases: two mounted copies. With DAC on, their DACP bits are 0
and nothing mounts (docs/active-manager.md#quorum-and-the-witness).

When the partition can talk to the current cluster again it learns the new configuration,
its mounts end, and each copy it mounted holds writes the real active copy never saw: it is
diverged and resynchronizes when it rejoins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from dagsim.domain import Decision, whole_logs
from dagsim.model.cluster import StalePartition
from dagsim.model.selection import DIAL_LIMITS, CandidateCopy, select_copies

if TYPE_CHECKING:
    import simpy

    from dagsim.config.schema import ActiveManagerSpec, Scenario, ServerSpec
    from dagsim.model.cluster import Cluster
    from dagsim.model.copy_health import CopyHealth
    from dagsim.model.engine import ControllableEngine
    from dagsim.model.invariants import Invariants
    from dagsim.model.layout import Layout
    from dagsim.model.recorder import Recorder
    from dagsim.model.state import DagState
    from dagsim.model.topology import Topology

__all__ = ["ManagerView", "StaleActiveManager"]


class ManagerView(Protocol):
    """What the stale partition's Primary Active Manager uses of the DAG's Active Manager,
    which owns it (typed by shape, so this module does not import active_manager)."""

    @property
    def env(self) -> simpy.Environment: ...
    @property
    def scenario(self) -> Scenario: ...
    @property
    def timing(self) -> ActiveManagerSpec: ...
    @property
    def layout(self) -> Layout: ...
    @property
    def topology(self) -> Topology: ...
    @property
    def cluster(self) -> Cluster: ...
    @property
    def engine(self) -> ControllableEngine: ...
    @property
    def recorder(self) -> Recorder: ...
    @property
    def invariants(self) -> Invariants: ...
    @property
    def health(self) -> Sequence[CopyHealth]: ...
    @property
    def state(self) -> DagState: ...
    @property
    def servers(self) -> Mapping[str, ServerSpec]: ...
    @property
    def mounted_row(self) -> Sequence[int | None]: ...
    def server_of(self, row: int) -> str: ...
    def database_name(self, d: int) -> str: ...
    def rows_of(self, d: int) -> range: ...
    def rows_on(self, server: str) -> list[int]: ...
    def decide(self, d: int, kind: Decision, **facts: Any) -> None: ...


class StaleActiveManager:
    """What Active Manager does in partitions that hold quorum by an old configuration."""

    def __init__(self, manager: ManagerView) -> None:
        self.am = manager
        self.mounts: dict[int, tuple[int, float]] = {}  # database -> (row, since)
        self.activations: list[tuple[float, int, int]] = []  # (time, database, row) of every mount
        self.snapshots: dict[int, float] = {}  # row -> copy queue when its server lost contact
        self._acting: set[frozenset[str]] = set()

    # ------------------------------------------------------------ bookkeeping
    def mounted(self, d: int, row: int) -> None:
        """The current cluster mounted ``d`` on ``row``: remember it, and flag a split brain."""
        self.activations.append((self.am.env.now, d, row))
        held = self.mounts.get(d)
        if held is not None and held[0] != row:
            self._split_brain(d, held[0], row)

    def lost_contact(self, servers: list[str]) -> None:
        """Remember the copy queues of these servers' copies as they leave the quorum partition."""
        am = self.am
        for server in servers:
            for row in am.rows_on(server):
                self.snapshots[row] = am.engine.queues_of(row)[0]

    def believed_active(self, d: int, as_of: float) -> int:
        """The row that served ``d`` at ``as_of``, as a partition cut off then remembers it."""
        row = int(self.am.layout.initial_active[d])
        for moment, database, mounted in self.activations:
            if moment > as_of:
                break
            if database == d:
                row = mounted
        return row

    # ------------------------------------------------------------ reacting
    def refresh(self) -> None:
        """After a cluster change: end mounts outside any stale partition, start new partitions' PAMs."""
        cluster = self.am.cluster
        for d, (row, since) in list(self.mounts.items()):
            server = self.am.server_of(row)
            if cluster.stale_mount_blocker(server) is not None:
                self._end(d, row, since, server)
        live = {p.members for p in cluster.stale_partitions}
        self._acting &= live
        for partition in cluster.stale_partitions:
            if partition.members not in self._acting:
                self._acting.add(partition.members)
                self.am.env.process(self._act(partition))

    def _act(self, partition: StalePartition):
        am = self.am
        timing = am.timing
        # The cluster group, and with it the PAM role, comes online in the partition.
        yield am.env.timeout(am.scenario.active_manager.pam_move_delay)
        if partition.members not in {p.members for p in am.cluster.stale_partitions}:
            return
        pam = next(m for m in am.cluster.dag_members if m in partition.members)
        for d in range(am.layout.n_databases):
            if d in self.mounts:
                continue
            believed = self.believed_active(d, partition.as_of)
            if am.server_of(believed) in partition.members:
                am.env.process(self._mount(d, believed, 0.0, timing.mount_duration, pam, remount=True))
                continue
            plan = self._failover_plan(d, believed, partition)
            if plan is not None:
                row, lost = plan
                # ACLL cannot reach the old active copy: it waits for its timeout.
                seconds = timing.selection_duration + timing.acll_timeout + timing.mount_duration
                am.env.process(self._mount(d, row, lost, seconds, pam, remount=False))

    def _failover_plan(self, d: int, believed: int, partition: StalePartition) -> tuple[int, float] | None:
        """Best copy selection among the partition's copies, by the queues they had when cut off."""
        am = self.am
        candidates = []
        for row in am.rows_of(d):
            server = am.server_of(row)
            if row == believed or server not in partition.members:
                continue
            health = am.health[row]
            spec = am.servers[server]
            candidates.append(
                CandidateCopy(
                    server=server,
                    site=am.topology.site_of(server),
                    activation_preference=int(am.layout.copy_preference[row]),
                    status="Failed" if health.volume_failed or health.log_volume_full else "Healthy",
                    copy_queue=whole_logs(self.snapshots.get(row, 0.0)),
                    replay_queue=0.0,
                    content_index=health.content_index.capitalize(),
                    suspended=health.operator_suspended,
                    activation_suspended=health.activation_suspended,
                    auto_activation_policy=spec.database_copy_auto_activation_policy,
                    mount_dial=spec.auto_database_mount_dial,
                    excluded=am.cluster.stale_mount_blocker(server),
                )
            )
        selection = select_copies(
            candidates,
            source_site=am.topology.site_of(am.server_of(believed)),
            dials_of_all_copies=[am.servers[am.server_of(r)].auto_database_mount_dial for r in am.rows_of(d)],
            source_health=None,
        )
        for ranked in selection.order:
            if ranked.copy.copy_queue <= DIAL_LIMITS[ranked.copy.mount_dial]:
                return am.layout.copy_row(am.database_name(d), ranked.copy.server), float(ranked.copy.copy_queue)
        return None

    def _mount(self, d: int, row: int, lost: float, seconds: float, pam: str, *, remount: bool):
        am = self.am
        yield am.env.timeout(seconds)
        server = am.server_of(row)
        if d in self.mounts or am.cluster.stale_mount_blocker(server) is not None:
            return
        self.mounts[d] = (row, am.env.now)
        name = am.database_name(d)
        am.decide(d, Decision.STALE_PARTITION_MOUNT, pam=pam, remount=remount, server=server, lost=lost)
        facts = {"via": "stale partition", "remount": remount, "server": server}
        am.recorder.event(am.env.now, "database_mounted", name, server, facts=facts)
        current = am.mounted_row[d]
        if current is not None and current != row:
            self._split_brain(d, row, current)

    def _split_brain(self, d: int, stale_row: int, row: int) -> None:
        am = self.am
        stale = am.server_of(stale_row)
        facts = {"stale": stale, "current": am.server_of(row)}
        event = am.recorder.event(am.env.now, "split_brain", am.database_name(d), stale, facts=facts)
        am.invariants.record_split_brain(d, stale, event.detail)

    def _end(self, d: int, row: int, since: float, server: str) -> None:
        am = self.am
        del self.mounts[d]
        facts = {"partition_rejoined": am.cluster.up(server)}  # or its server failed
        am.recorder.event(am.env.now, "database_dismounted", am.database_name(d), server, facts=facts)
        # *assumption*: every log the database generated meanwhile may have been written to
        # this copy too; the count only has to make the copy resynchronize.
        diverged = max(1.0, am.engine.logs_generated_since(d, since, am.env.now))
        am.decide(d, Decision.STALE_PARTITION_DISMOUNT, server=server, database=am.database_name(d), seconds=am.env.now - since)
        am.state.update_copy(row, diverged_logs=am.health[row].diverged_logs + diverged)

    def serves(self, d: int, row: int) -> bool:
        """Whether a stale partition has ``d`` mounted on ``row``."""
        held = self.mounts.get(d)
        return held is not None and held[0] == row
