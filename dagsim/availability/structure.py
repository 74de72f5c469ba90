"""The failure model as a Markov model: components with constant rates, and which copies can mount.

The exact answer (:mod:`~dagsim.availability.markov`) and importance sampling
(:mod:`~dagsim.availability.rare`) both see a scenario through this module:

* :class:`FailureModel` lists every component that fails at random, with its failure and
  repair *rates* (both laws must be exponential) and whether its repair needs a crew, in the
  order :func:`dagsim.config.failures.component_names` gives. It refuses, with every reason
  at once, what a Markov model cannot express: other laws, planned maintenance (fixed
  times), dynamic quorum (votes that depend on the order of failures).
* :class:`MountOracle` answers, for an up/down state of the *shared* components (servers,
  sites, links, the witness), which servers may mount databases: running DAG members in the
  partition that holds quorum. It applies :func:`dagsim.model.quorum.quorum` to the same
  connectivity groups as :class:`dagsim.model.cluster.Cluster` (hosts of a failed site are
  down, the site still routes; a witness joins every group that reaches it on some network),
  without building a network graph per state.

A database copy is *usable* when its server may mount and its *local* components are up:
the server's Information Store (a crash), the copy's database volume and log volume. A
database is available when one of its copies is usable. That is the simulation's rule for a
mounted database once Active Manager has acted, and all the Markov model knows: it leaves
out copy queues, the mount dial, DAC, lagged-copy play-down and the time failovers take
(the last is added back as a first-order correction, :func:`failover_seconds`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dagsim.config.failures import (
    COMPONENT_CLASSES,
    Exponential,
    Weibull,
    component_failures,
    component_names,
    copy_name,
)
from dagsim.model.quorum import ClusterState, quorum

__all__ = [
    "SHARED_CLASSES",
    "Component",
    "FailureModel",
    "MountOracle",
    "NotMarkovian",
    "failover_seconds",
]

SHARED_CLASSES = ("servers", "sites", "links", "witness")
"""Classes whose state decides which servers may mount (quorum, connectivity, running)."""
_LOCAL_CLASSES = ("store_crashes", "database_volumes", "log_volumes")
# Restarting the Information Store is the service manager's job, not a repair crew's (as in
# dagsim.availability.timeline).
_NO_CREW = frozenset({"store_crashes"})


class NotMarkovian(ValueError):
    """The scenario's failure model cannot be written as a continuous-time Markov chain."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("; ".join(reasons))


@dataclass(frozen=True, slots=True)
class Component:
    """One component that fails at random: its class, name and rates (per second)."""

    kind: str
    name: str
    failure_rate: float
    repair_rate: float
    crew: bool
    """Whether its repair waits for one of ``failures.repair_crews``."""

    @property
    def unavailability(self) -> float:
        """Its steady-state chance of being down, repaired independently: λ / (λ + μ)."""
        return self.failure_rate / (self.failure_rate + self.repair_rate)


def _rate(law, what: str, reasons: list[str]) -> float | None:
    if isinstance(law, Exponential):
        return 1.0 / law.mean
    if isinstance(law, Weibull) and law.shape == 1:
        return 1.0 / law.scale  # a Weibull of shape 1 is the exponential law
    reasons.append(f"{what} is {law.distribution}, not exponential")
    return None


@dataclass(frozen=True)
class FailureModel:
    """The components of a scenario's ``failures:`` block, with rates, and how copies use them."""

    components: tuple[Component, ...]
    repair_crews: int | None
    databases: tuple[str, ...]
    copy_database: tuple[int, ...]
    """Per copy (scenario order): its database index."""
    copy_server: tuple[str, ...]
    copy_preference: tuple[int, ...]
    copy_local: tuple[tuple[int, ...], ...]
    """Per copy: indices in :attr:`components` of its local components (store, volumes)."""
    shared: tuple[int, ...]
    """Indices in :attr:`components` of the shared components, in this order."""

    @classmethod
    def from_scenario(cls, scenario) -> FailureModel:
        """The Markov failure model of ``scenario``; raises :class:`NotMarkovian` with every reason."""
        spec = scenario.failures
        if spec is None:
            raise NotMarkovian(["the scenario has no failures: block"])
        reasons: list[str] = []
        if spec.maintenance.servers is not None:
            reasons.append("failures.maintenance happens at fixed times, which a Markov chain cannot express")
        if scenario.dag.dynamic_quorum:
            reasons.append("dag.dynamic_quorum: votes depend on the order of failures, not only on what is down")
        if any(not c.added for d in scenario.databases for c in d.copies):
            reasons.append("copies declared added: false change the DAG during the run")
        crews = spec.repair_crews
        components: list[Component] = []
        for kind in COMPONENT_CLASSES:
            matters = kind in SHARED_CLASSES or kind in _LOCAL_CLASSES or crews is not None
            if not matters:
                continue  # Client Access failures cost users, not mounts; they matter only by occupying crews
            for name in component_names(scenario, kind):
                figures = component_failures(spec, kind, name)
                if figures is None:
                    continue
                where = f"failures.{kind}"  # one line per class: overrides repeat the same law
                fail = _rate(figures.time_to_failure, f"{where} time_to_failure", reasons)
                repair = _rate(figures.time_to_repair, f"{where} time_to_repair", reasons)
                if fail is not None and repair is not None:
                    components.append(Component(kind, name, fail, repair, crews is not None and kind not in _NO_CREW))
        if reasons:
            raise NotMarkovian(list(dict.fromkeys(reasons)))
        index = {(c.kind, c.name): i for i, c in enumerate(components)}
        databases = tuple(d.name for d in scenario.databases)
        copy_database, copy_server, copy_preference, copy_local = [], [], [], []
        for d, database in enumerate(scenario.databases):
            for copy in database.copies:
                copy_database.append(d)
                copy_server.append(copy.server)
                copy_preference.append(copy.activation_preference)
                local = [
                    index.get(("store_crashes", copy.server)),
                    index.get(("database_volumes", copy_name(database.name, copy.server))),
                    index.get(("log_volumes", copy_name(database.name, copy.server))),
                ]
                copy_local.append(tuple(i for i in local if i is not None))
        shared = tuple(i for i, c in enumerate(components) if c.kind in SHARED_CLASSES)
        return cls(
            components=tuple(components),
            repair_crews=crews,
            databases=databases,
            copy_database=tuple(copy_database),
            copy_server=tuple(copy_server),
            copy_preference=tuple(copy_preference),
            copy_local=tuple(copy_local),
            shared=shared,
        )

    def copies_of(self, d: int) -> list[int]:
        """Copy indices of database ``d``, best activation preference first."""
        rows = [c for c, db in enumerate(self.copy_database) if db == d]
        return sorted(rows, key=lambda c: (self.copy_preference[c], c))


class MountOracle:
    """Which servers may mount, for an up/down state of the shared components.

    ``down`` is a set of ``(kind, name)`` pairs of failed shared components. Answers are kept
    in a bounded memo: a study meets the same states again and again.
    """

    _MEMO_LIMIT = 1_000_000

    def __init__(self, scenario) -> None:
        self.servers = tuple(s.name for s in scenario.servers)
        self.server_site = {s.name: s.site for s in scenario.servers}
        self.members = tuple(scenario.member_names)
        witness = scenario.dag.witness
        self.witness = witness.host if witness is not None and witness.host not in self.members else None
        self.witness_site = witness.site if witness is not None else None
        self.sites = tuple(s.name for s in scenario.sites)
        networks = tuple(n.name for n in scenario.networks)
        # Per network, the links that carry it (a link carries every network unless it says).
        self.network_links = tuple(
            tuple((link.name, link.sites) for link in scenario.links if link.networks is None or net in link.networks)
            for net in networks
        ) or ((tuple((link.name, link.sites) for link in scenario.links)),)
        self._memo: dict[frozenset, frozenset[str]] = {}

    def _components(self, links: tuple, down_links: set[str]) -> dict[str, str]:
        parent = {s: s for s in self.sites}

        def find(s: str) -> str:
            while parent[s] != s:
                parent[s] = parent[parent[s]]
                s = parent[s]
            return s

        for name, (a, b) in links:
            if name not in down_links:
                parent[find(a)] = find(b)
        return {s: find(s) for s in self.sites}

    def mounting(self, down: frozenset[tuple[str, str]]) -> frozenset[str]:
        """Servers that may mount databases when the shared components in ``down`` are failed."""
        hit = self._memo.get(down)
        if hit is not None:
            return hit
        down_sites = {name for kind, name in down if kind == "sites"}
        down_links = {name for kind, name in down if kind == "links"}
        running = [
            s for s in self.servers if ("servers", s) not in down and self.server_site[s] not in down_sites
        ]
        witness = self.witness if self.witness_site is not None else None
        witness_up = witness is not None and ("witness", witness) not in down and self.witness_site not in down_sites
        # Cluster._connectivity: servers that reach each other on some network form one group.
        parent = {s: s for s in running}

        def find(s: str) -> str:
            while parent[s] != s:
                parent[s] = parent[parent[s]]
                s = parent[s]
            return s

        per_network = [self._components(links, down_links) for links in self.network_links]
        for component_of in per_network:
            first: dict[str, str] = {}
            for s in running:
                root = component_of[self.server_site[s]]
                if root in first:
                    parent[find(s)] = find(first[root])
                else:
                    first[root] = s
        groups: dict[str, set[str]] = {}
        for s in running:
            groups.setdefault(find(s), set()).add(s)
        final = []
        for group in groups.values():
            if witness is not None and self.witness_site is not None and witness_up and any(
                component_of[self.server_site[m]] == component_of[self.witness_site]
                for component_of in per_network
                for m in group
            ):
                group.add(witness)
            final.append(frozenset(group))
        up = frozenset(running) | ({witness} if witness is not None and witness_up else frozenset())
        state = ClusterState(members=self.members, witness=self.witness, up=up, groups=tuple(final))
        held = quorum(state).members
        answer = frozenset(s for s in held if s in self.members)
        if len(self._memo) >= self._MEMO_LIMIT:
            self._memo.clear()
        self._memo[down] = answer
        return answer


def failover_seconds(scenario, component: Component, same_subnet_peer: bool) -> float:
    """How long a database is not mounted when ``component``'s failure moves it (docs/active-manager.md).

    Detection (heartbeats for a host, a failure item for a store or volume), best copy
    selection, the attempt to copy the last logs (its timeout when the old active's logs
    cannot be read: server, site, link or log volume lost) and the mount. Replay is taken as
    zero: copies are current in the Markov model. Not included: a wait for the Primary
    Active Manager role to move when its server is the one that failed.
    """
    timing = scenario.active_manager
    dag = scenario.dag
    if component.kind in ("store_crashes", "database_volumes", "log_volumes"):
        detection = timing.failure_item_detection
    elif component.kind == "servers" and same_subnet_peer:
        detection = dag.same_subnet_delay * dag.same_subnet_threshold
    else:
        detection = dag.cross_subnet_delay * dag.cross_subnet_threshold
    readable = component.kind in ("store_crashes", "database_volumes")
    acll = 0.0 if readable else timing.acll_timeout
    return detection + timing.selection_duration + acll + timing.mount_duration
