"""The state of one run's DAG that is not the flow of logs: one owner, changed by its methods.

One :class:`DagState` per run, made by the simulation and handed to every component that
reads or changes it. It holds

- the **roles**: each database's active copy and whether it is mounted (per database), and
  which copies are active (per copy) — numpy arrays the replication engine computes with;
- each copy's **health** (:class:`~dagsim.model.copy_health.CopyHealth`);
- each host's **power and NICs**, the servers Stop-DatabaseAvailabilityGroup stopped, and
  the cluster's current **members and witness**;
- each server's Information Store, Managed Availability health and Client Access role, and
  the databases an operator dismounted.

Nothing else writes these. Every change goes through a method here, which checks what must
hold, makes the change and tells the subscribers with a typed :data:`StateChange`; that is how
the cluster's NICs, the engine's running copies and anything else derived from this state
follow it, without callers having to remember to keep them in step
(docs/design.md#who-owns-what). What each member knows of the configuration (its
version), quorum, the DAC bits and the PAM, and the engine's queues, are derived from this
state and the run's history, and stay with the cluster and the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields

import numpy as np

from dagsim.config.schema import Scenario
from dagsim.model.copy_health import CopyHealth
from dagsim.model.layout import Layout

__all__ = [
    "CopyChanged",
    "DagState",
    "DatabaseChanged",
    "HostChanged",
    "MembershipChanged",
    "NicChanged",
    "RoleChanged",
    "ServerChanged",
    "StateChange",
    "StoppedChanged",
    "VolumeFilled",
]


@dataclass(frozen=True, slots=True)
class CopyChanged:
    """The health of these copies changed."""

    rows: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VolumeFilled:
    """The log volume of ``row``, the active copy of ``database``, ran out of space."""

    database: int
    row: int


@dataclass(frozen=True, slots=True)
class HostChanged:
    """A host lost or regained power."""

    host: str
    up: bool


@dataclass(frozen=True, slots=True)
class StoppedChanged:
    """Stop- or Start-DatabaseAvailabilityGroup stopped or started these servers."""

    servers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MembershipChanged:
    """Restore- or Start-DatabaseAvailabilityGroup changed the cluster's members or witness."""

    members: tuple[str, ...]
    witness: str | None


@dataclass(frozen=True, slots=True)
class NicChanged:
    """A host's NIC on a network failed or came back."""

    host: str
    network: str


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """``row`` became the active copy of ``database``."""

    database: int
    row: int


@dataclass(frozen=True, slots=True)
class DatabaseChanged:
    """A database was mounted or dismounted, or an operator dismounted or mounted it."""

    database: int


@dataclass(frozen=True, slots=True)
class ServerChanged:
    """A server's Information Store, Managed Availability health or Client Access role changed."""

    server: str


StateChange = CopyChanged | VolumeFilled | HostChanged | StoppedChanged | MembershipChanged | NicChanged | RoleChanged | DatabaseChanged | ServerChanged
Subscriber = Callable[[StateChange], None]

_COPY_FLAGS = frozenset(f.name for f in fields(CopyHealth)) - {"notes"}


@dataclass
class DagState:
    """Roles, copy health, hosts and server state of one run."""

    layout: Layout
    health: list[CopyHealth]
    host_up: dict[str, bool]
    server_health: dict[str, str]
    active: np.ndarray = field(init=False)  # each database's active copy (row)
    is_active: np.ndarray = field(init=False)  # per copy
    mounted: np.ndarray = field(init=False)  # per database
    members: list[str] = field(default_factory=list)  # the cluster's nodes now
    witness: str | None = None  # the witness server of the current configuration
    nic_failed: set[tuple[str, str]] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)  # Stop-DatabaseAvailabilityGroup's StoppedMailboxServers
    store_down: set[str] = field(default_factory=set)  # servers whose Information Store is not running
    # Managed Availability's view of each server (server_health), as set from the timeline; a
    # stopped Client Access role makes its protocol health sets unhealthy as well.
    cas_unhealthy: set[str] = field(default_factory=set)
    operator_dismounted: np.ndarray = field(init=False)  # Dismount-Database
    _subscribers: list[Subscriber] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        layout = self.layout
        self.active = layout.initial_active.copy()
        self.is_active = np.zeros(layout.n_copies, dtype=bool)
        self.is_active[self.active] = True
        self.mounted = np.ones(layout.n_databases, dtype=bool)
        self.operator_dismounted = np.zeros(layout.n_databases, dtype=bool)

    @classmethod
    def from_scenario(cls, scenario: Scenario, layout: Layout) -> DagState:
        """Everything up and healthy, every database mounted on its activation preference 1
        copy; copies declared ``added: false`` absent until added."""
        health = [CopyHealth() for _ in range(layout.n_copies)]
        for row, (database, server) in enumerate(layout.copy_names):
            spec = next(c for c in scenario.database(database).copies if c.server == server)
            health[row].absent = not spec.added
        dag = scenario.dag
        servers = [s.name for s in scenario.servers]
        witnesses = [w.host for w in (dag.witness, dag.alternate_witness) if w is not None and w.host not in servers]
        return cls(
            layout=layout,
            health=health,
            host_up=dict.fromkeys([*servers, *witnesses], True),
            server_health={s.name: "healthy" for s in scenario.servers},
            members=list(scenario.member_names),
            witness=dag.witness.host if dag.witness else None,
        )

    # ------------------------------------------------------------------ reading
    def up(self, host: str) -> bool:
        return self.host_up.get(host, False)

    def copy_runs(self, row: int) -> bool:
        """Whether a passive copy copies and replays logs: its health allows it, its server
        runs and takes part in the DAG (a stopped server does not, until started)."""
        server = self.layout.copy_names[row][1]
        return self.health[row].running(self.up(server)) and server not in self.stopped

    # ------------------------------------------------------------------ subscribing
    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber`` after every change, in the order of subscription."""
        self._subscribers.append(subscriber)

    def _notify(self, change: StateChange) -> None:
        for subscriber in self._subscribers:
            subscriber(change)

    # ------------------------------------------------------------------ copies
    def update_copy(self, row: int, **flags: bool | float | str) -> None:
        """Set health flags of one copy (names of :class:`CopyHealth`'s fields)."""
        unknown = set(flags) - _COPY_FLAGS
        if unknown:
            raise ValueError(f"no such copy health flag: {', '.join(sorted(unknown))}")
        health = self.health[row]
        if flags.get("operator_suspended") and self.is_active[row]:
            raise ValueError(f"{self._copy(row)}: the active copy cannot be suspended")
        for name, value in flags.items():
            setattr(health, name, value)
        self._notify(CopyChanged((row,)))

    def log_volume_filled(self, database: int) -> None:
        """The active copy's log volume of ``database`` is full: a failure item."""
        row = int(self.active[database])
        self.health[row].log_volume_full = True
        self._notify(VolumeFilled(database, row))

    # ------------------------------------------------------------------ roles and mounts
    def activate(self, database: int, row: int) -> None:
        """Make ``row`` the active copy of ``database``."""
        if int(self.layout.copy_db[row]) != database:
            raise ValueError(f"{self._copy(row)} is not a copy of {self.layout.database_names[database]}")
        if self.health[row].absent:
            raise ValueError(f"{self._copy(row)} has not been added and cannot be activated")
        self.is_active[self.active[database]] = False
        self.active[database] = row
        self.is_active[row] = True
        self._notify(RoleChanged(database, row))

    def set_mounted(self, database: int, mounted: bool) -> None:
        """Mount or dismount ``database`` on its active copy."""
        self.mounted[database] = mounted
        self._notify(DatabaseChanged(database))

    def set_operator_dismounted(self, database: int, dismounted: bool) -> None:
        """Dismount-Database (True) or Mount-Database (False) was run for ``database``."""
        self.operator_dismounted[database] = dismounted
        self._notify(DatabaseChanged(database))

    # ------------------------------------------------------------------ hosts
    def set_host_up(self, host: str, up: bool) -> None:
        """A server or witness host stops or starts."""
        if host not in self.host_up:
            raise ValueError(f"no such host: {host}")
        self.host_up[host] = up
        self._notify(HostChanged(host, up))

    def set_nic_failed(self, host: str, network: str, failed: bool) -> None:
        if failed:
            self.nic_failed.add((host, network))
        else:
            self.nic_failed.discard((host, network))
        self._notify(NicChanged(host, network))

    def nic_up(self, host: str, network: str) -> bool:
        return self.host_up[host] and (host, network) not in self.nic_failed

    def stop_servers(self, servers: Iterable[str]) -> None:
        """Stop-DatabaseAvailabilityGroup: the servers take no part in the DAG until started."""
        servers = tuple(servers)
        self.stopped.update(servers)
        self._notify(StoppedChanged(servers))

    def start_servers(self, servers: Iterable[str]) -> None:
        """Start-DatabaseAvailabilityGroup: the servers take part in the DAG again."""
        servers = tuple(servers)
        self.stopped.difference_update(servers)
        self._notify(StoppedChanged(servers))

    def set_configuration(self, members: Iterable[str], witness: str | None) -> None:
        """The cluster's members and witness after Restore- or Start-DatabaseAvailabilityGroup."""
        members = list(members)
        unknown = [m for m in members if m not in self.server_health]
        if unknown:
            raise ValueError(f"not a DAG member: {', '.join(unknown)}")
        self.members, self.witness = members, witness
        self._notify(MembershipChanged(tuple(members), witness))

    # ------------------------------------------------------------------ servers
    def set_store_down(self, server: str, down: bool) -> None:
        """The Information Store on ``server`` stopped (or runs again)."""
        if down:
            self.store_down.add(server)
        else:
            self.store_down.discard(server)
        self._notify(ServerChanged(server))

    def set_server_health(self, server: str, level: str) -> None:
        """Managed Availability rates ``server`` at ``level``."""
        self.server_health[server] = level
        self._notify(ServerChanged(server))

    def set_cas_up(self, server: str, up: bool) -> None:
        """The Client Access role on ``server`` started or stopped."""
        if up:
            self.cas_unhealthy.discard(server)
        else:
            self.cas_unhealthy.add(server)
        self._notify(ServerChanged(server))

    def _copy(self, row: int) -> str:
        database, server = self.layout.copy_names[row]
        return f"{database}\\{server}"
