"""The failover cluster under a DAG: which servers run, who can talk, quorum, DAC and the PAM.

Servers and witness hosts go down and come back, networks split, an operator stops and
restores a site; after every such change :meth:`Cluster.refresh` recomputes connectivity,
quorum (docs/active-manager.md#quorum-and-the-witness), the DACP bits and where the Primary Active Manager runs, and records
what changed.

The cluster configuration (members and witness) is versioned. An operator's
Restore-/Start-DatabaseAvailabilityGroup makes a new version that reaches only the members
the operator's partition can talk to; a member that was down or cut off keeps the version it
had, and learns the newest one when it can talk to a member holding it. A partition whose
members hold an old version counts votes by that version, and can hold quorum at the same
time as the rest of the DAG: a *stale partition*, the split brain that DAC prevents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import simpy

from dagsim.config.schema import Scenario
from dagsim.domain import MountBlocker
from dagsim.model.quorum import ClusterState, DacState, Quorum, explain_quorum, quorum
from dagsim.model.recorder import Recorder
from dagsim.model.state import DagState, HostChanged, NicChanged, StateChange
from dagsim.model.topology import Topology
from dagsim.text import blocker_text

__all__ = ["Cluster", "StalePartition"]


@dataclass(frozen=True, slots=True)
class StalePartition:
    """Members that hold quorum by an old version of the cluster configuration."""

    members: frozenset[str]
    """Running DAG members in the partition."""
    version: int
    """The configuration version they hold (the current one is higher)."""
    quorum: Quorum
    """Their quorum, counted by that version."""
    witness: str | None
    """The witness that version names."""
    as_of: float
    """When the best-informed of them last heard from the cluster that now holds quorum:
    what they know of where databases are active dates from then."""


class Cluster:
    """Host state, connectivity, quorum, DACP bits and the PAM role for one run."""

    def __init__(
        self, env: simpy.Environment, scenario: Scenario, topology: Topology, recorder: Recorder, state: DagState
    ) -> None:
        self.env = env
        self.scenario = scenario
        self.topology = topology
        self.recorder = recorder
        # Hosts' power and NICs, the stopped servers and the current members and witness are
        # the run's DagState; the cluster follows their changes and derives connectivity,
        # quorum and the PAM from them.
        self.state = state
        dag = scenario.dag
        self.dag_members = tuple(scenario.member_names)
        self.primary_witness = dag.witness.host if dag.witness else None
        self.alternate_witness = dag.alternate_witness.host if dag.alternate_witness else None
        # Windows Server 2012 R2 dynamic quorum / dynamic witness (dag.dynamic_quorum): who
        # votes now. None: static votes, every member and the witness when their count is even.
        self.dynamic_quorum = dag.dynamic_quorum
        self.node_votes: frozenset[str] | None = frozenset(self.members) if self.dynamic_quorum else None
        self.witness_votes: bool | None = (
            len(self.members) % 2 == 0 and self.witness is not None if self.dynamic_quorum else None
        )
        self.hosts = list(state.host_up)
        self.host_up = state.host_up
        self.stopped = state.stopped  # Stop-DatabaseAvailabilityGroup's StoppedMailboxServers
        self.knows_stopped: set[str] = set()  # stopped servers that know it
        self.dac = DacState(self.dag_members, enabled=dag.datacenter_activation_mode == "dag_only")
        self.groups: tuple[frozenset[str], ...] = ()
        self.version = 0
        self._configurations: list[tuple[tuple[str, ...], str | None]] = [(tuple(self.members), self.witness)]
        self.member_version = dict.fromkeys(self.dag_members, 0)
        # When each member last was in the partition that holds quorum (inf: it still is).
        self.contact = dict.fromkeys(self.dag_members, math.inf)
        self.stale_partitions: tuple[StalePartition, ...] = ()
        self.just_lost_contact: list[str] = []  # members that left the quorum partition at the last refresh
        self.quorum: Quorum | None = None
        self.pam: str | None = None
        self._pam_ready = env.event()
        self._electing = False
        self.refresh(record=False)
        state.subscribe(self._state_changed)

    @property
    def members(self) -> list[str]:
        """The cluster's nodes now (Restore-DatabaseAvailabilityGroup evicts stopped ones)."""
        return self.state.members

    @property
    def witness(self) -> str | None:
        """The witness server of the current configuration."""
        return self.state.witness

    # --------------------------------------------------------------- host state
    def _state_changed(self, change: StateChange) -> None:
        """A host's power or NIC changed in the run's state: the topology's NICs follow, and a
        member's DACP bit on a start or stop."""
        match change:
            case HostChanged(host, up):
                for network in self.topology.networks:
                    self._apply_nic(host, network)
                if host in self.dag_members:
                    if up:
                        self.dac.server_started(host)
                    else:
                        self.dac.server_stopped(host)
            case NicChanged(host, network):
                self._apply_nic(host, network)

    def _apply_nic(self, host: str, network: str) -> None:
        self.topology.set_nic_up(host, network, self.state.nic_up(host, network))

    def up(self, host: str) -> bool:
        return self.state.up(host)

    def sites_hosts(self, site: str) -> list[str]:
        return [h for h in self.hosts if self.topology.site_of(h) == site]

    # ------------------------------------------------------------- operator
    def site_members(self, site: str) -> list[str]:
        """The DAG members in ``site`` (what Stop-DatabaseAvailabilityGroup of the site stops)."""
        return [s for s in self.dag_members if self.topology.site_of(s) == site]

    def stopped_in(self, site: str) -> list[str]:
        """The stopped DAG members in ``site`` (what Start-DatabaseAvailabilityGroup starts)."""
        return [s for s in self.site_members(site) if s in self.stopped]

    def stop_site(self, site: str) -> list[str]:
        """Stop-DatabaseAvailabilityGroup: the site's members are stopped."""
        servers = self.site_members(site)
        # *assumption*: a server running when it is stopped learns it at once (the stopped list
        # lives in Active Directory); one that is down learns it when it rejoins the DAG.
        self.knows_stopped.update(s for s in servers if self.up(s))
        self.state.stop_servers(servers)
        return servers

    def restore_site(self, site: str) -> list[str]:
        """Restore-DatabaseAvailabilityGroup: evict stopped servers, switch to the alternate witness."""
        evicted = [m for m in self.members if m in self.stopped]
        witness = self.alternate_witness if self.alternate_witness is not None else self.witness
        self.state.set_configuration([m for m in self.members if m not in self.stopped], witness)
        self._new_configuration()
        return evicted

    def start_site(self, site: str) -> list[str]:
        """Start-DatabaseAvailabilityGroup: stopped servers of the site rejoin the cluster."""
        servers = self.stopped_in(site)
        self.knows_stopped.difference_update(servers)
        self.state.start_servers(servers)
        members = [m for m in self.dag_members if m in self.members or m in servers]
        self.state.set_configuration(members, self.primary_witness if not self.stopped else self.witness)
        self._new_configuration()
        return servers

    def _new_configuration(self) -> None:
        """The operator's change is a new configuration version, written to the cluster
        database of every running member that can talk to a running member of the new
        configuration; the others keep theirs until they meet a member that has it."""
        self.version += 1
        self._configurations.append((tuple(self.members), self.witness))
        for m in self.dag_members:
            if self.up(m) and any(self.up(n) and (n == m or self.talk(m, n)) for n in self.members):
                self.member_version[m] = self.version

    # ------------------------------------------------------------- derived state
    def refresh(self, *, record: bool = True) -> None:
        """Recompute connectivity, quorum, DACP bits and the PAM after any change."""
        self.groups = self._connectivity()
        self._share_configuration()
        running = frozenset(h for h, up in self.host_up.items() if up)
        members = tuple(self.members)
        witness = self.witness if self.witness not in members else None
        before = self.quorum
        state = self._state(members, witness, running)
        self.quorum = quorum(state)
        if self.dynamic_quorum and self.quorum.held:
            # While quorum holds, a member that left the cluster loses its vote and one that is
            # back gets it again; the witness votes only when that leaves an even node count.
            self.node_votes = frozenset(self.quorum.members)
            self.witness_votes = len(self.node_votes) % 2 == 0 and witness is not None and witness in running
            state = self._state(members, witness, running)
            self.quorum = quorum(state)
        if record and before is not None and before.held != self.quorum.held:
            kind = "quorum_regained" if self.quorum.held else "quorum_lost"
            self.recorder.event(self.env.now, kind, facts={"explanation": explain_quorum(state, self.quorum)})
        # "Every DAG member" means every started member: Stop-DAG is how an operator lets the
        # survivors set their DACP bits without the lost site.
        started = [m for m in self.dag_members if m not in self.stopped]
        for server in self.dac.refresh(self.groups, running, started) if started else ():
            if record and self.dac.enabled:
                self.recorder.event(self.env.now, "dacp_bit_set", server=server)
        self.just_lost_contact = []
        for m in self.dag_members:
            if m in self.quorum.members:
                self.contact[m] = math.inf
            elif self.contact[m] == math.inf:
                self.contact[m] = self.env.now
                self.just_lost_contact.append(m)
        before_stale = {p.members for p in self.stale_partitions}
        self.stale_partitions = self._stale_partitions(running)
        for p in self.stale_partitions:
            if record and p.members not in before_stale:
                facts = {
                    "members": p.members, "version": p.version, "current": self.version,
                    "votes": p.quorum.votes, "needed": p.quorum.needed,
                }  # fmt: skip
                self.recorder.event(self.env.now, "stale_quorum", server=min(p.members), facts=facts)
        self._check_pam(record)

    def _share_configuration(self) -> None:
        """Members that can talk to each other end up holding the newest configuration among them."""
        for group in self.groups:
            inside = [m for m in self.dag_members if m in group and self.host_up[m]]
            if inside:
                newest = max(self.member_version[m] for m in inside)
                for m in inside:
                    self.member_version[m] = newest

    def _stale_partitions(self, running: frozenset[str]) -> tuple[StalePartition, ...]:
        found = []
        for group in self.groups:
            inside = frozenset(m for m in self.dag_members if m in group and self.host_up[m])
            if not inside:
                continue
            version = self.member_version[min(inside)]
            if version == self.version:
                continue
            members, witness = self._configurations[version]
            witness = witness if witness not in members else None
            up = running
            if witness is not None and witness == self.witness and self.quorum is not None and self.quorum.witness_vote:
                up = running - {witness}  # the current cluster holds the witness lock
            state = ClusterState(members=members, witness=witness, up=up, groups=(group,))
            held = quorum(state)
            if held.held and held.members <= inside:
                as_of = max(self.contact[m] for m in inside)
                found.append(StalePartition(inside, version, held, witness, as_of))
        return tuple(found)

    def stale_partition_of(self, server: str) -> StalePartition | None:
        """The stale partition ``server`` is in, if any."""
        return next((p for p in self.stale_partitions if server in p.members), None)

    def _local_blocker(self, server: str) -> str | None:
        """What stops a server from mounting whichever partition it is in: DAC, its MAPI network."""
        if not self.dac.may_mount(server):
            return blocker_text(MountBlocker.DACP_BIT_0)
        mapi = self.topology.mapi_network
        if mapi is not None and (server, mapi) in self.state.nic_failed:
            return blocker_text(MountBlocker.MAPI_DOWN)
        return None

    def stale_mount_blocker(self, server: str) -> str | None:
        """Why Active Manager on ``server``, in a stale partition, may not mount (None: it may)."""
        if self.stale_partition_of(server) is None:
            return blocker_text(MountBlocker.NO_QUORUM_PARTITION)
        if server in self.knows_stopped:
            return blocker_text(MountBlocker.SERVER_STOPPED)
        return self._local_blocker(server)

    def _state(self, members: tuple[str, ...], witness: str | None, running: frozenset[str]) -> ClusterState:
        return ClusterState(
            members=members, witness=witness, up=running, groups=self.groups,
            node_votes=self.node_votes, witness_votes=self.witness_votes,
        )  # fmt: skip

    def _connectivity(self) -> tuple[frozenset[str], ...]:
        """Groups of running hosts that can talk on any DAG network (cluster heartbeats use all)."""
        parent = {h: h for h in self.hosts if self.host_up[h]}

        def find(h: str) -> str:
            while parent[h] != h:
                parent[h] = parent[parent[h]]
                h = parent[h]
            return h

        witness_hosts = {self.primary_witness, self.alternate_witness} - {None} - set(self.dag_members)
        for network in self.topology.networks:
            for group in self.topology.partitions(network):
                servers = [h for h in group if h in parent and h not in witness_hosts]
                for other in servers[1:]:
                    parent[find(other)] = find(servers[0])
        groups: dict[str, set[str]] = {}
        for host in parent:
            if host not in witness_hosts:
                groups.setdefault(find(host), set()).add(host)
        # A witness is not a router: it joins every group that can reach it.
        for members in groups.values():
            for witness in witness_hosts:
                if witness is not None and self.host_up.get(witness) and any(
                    self.topology.reachable(m, witness) for m in members
                ):
                    members.add(witness)
        return tuple(frozenset(g) for g in groups.values())

    def talk(self, a: str, b: str) -> bool:
        """Whether two running hosts can reach each other on some network."""
        return any(a in g and b in g for g in self.groups)

    def in_quorum(self, server: str) -> bool:
        return self.quorum is not None and server in self.quorum.members

    def mount_blocker(self, server: str) -> str | None:
        """Why Active Manager on ``server`` may not mount a database now (None: it may)."""
        if not self.up(server):
            return blocker_text(MountBlocker.SERVER_DOWN)
        if server in self.stopped:
            return blocker_text(MountBlocker.SERVER_STOPPED)
        if server not in self.members:
            return blocker_text(MountBlocker.NOT_A_MEMBER)
        if not self.in_quorum(server):
            return blocker_text(MountBlocker.NO_QUORUM)
        return self._local_blocker(server)

    # ------------------------------------------------------------------ PAM
    def _check_pam(self, record: bool) -> None:
        if self.pam is not None and self.in_quorum(self.pam):
            return
        lost = self.pam
        if lost is not None:
            self.pam = None
            self._pam_ready = self.env.event()
            if record:
                self.recorder.event(self.env.now, "pam_lost", server=lost)
        if not self._electing:
            candidate = self._pam_candidate()
            if candidate is None:
                return
            if lost is None and self.env.now == 0 and not record:
                self._become_pam(candidate, record=False)
                return
            self._electing = True
            self.env.process(self._elect())

    def _pam_candidate(self) -> str | None:
        if self.quorum is None or not self.quorum.held:
            return None
        return next((m for m in self.members if m in self.quorum.members), None)

    def _elect(self):
        # The cluster group (and with it the PAM role) moves to another node after a delay.
        yield self.env.timeout(self.scenario.active_manager.pam_move_delay)
        self._electing = False
        candidate = self._pam_candidate()
        if candidate is not None and self.pam is None:
            self._become_pam(candidate, record=True)

    def _become_pam(self, server: str, *, record: bool) -> None:
        self.pam = server
        if record:
            self.recorder.event(self.env.now, "pam_moved", server=server)
        if not self._pam_ready.triggered:
            self._pam_ready.succeed()

    def pam_ready(self) -> simpy.Event:
        """An event that fires once a Primary Active Manager is running."""
        return self._pam_ready
