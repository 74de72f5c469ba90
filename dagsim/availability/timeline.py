"""Failure models → timelines: the failures and repairs of one replica as timeline actions.

Each component alternates up and down: it fails after a drawn time to failure, waits for a
repair crew if all are busy (first in, first out), is repaired after a drawn time to
repair, then runs for a new time to failure. A component's draws come from its own stream
(:mod:`dagsim.availability.streams`) in a fixed order — time to failure, time to repair,
time to failure, ... — so queueing for crews shifts its failures in time but never changes
the values it draws.

The transitions are then turned into the ordinary timeline actions. A host can be down for
several reasons at once (its own failure, planned maintenance, its site's power); it comes
back only when the last reason ends. ``restore_site`` starts every host of a site, so hosts
still down for a reason of their own are failed again at the same moment.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from dagsim.availability.sampling import draw
from dagsim.availability.streams import component_generator
from dagsim.config.failures import COMPONENT_CLASSES, component_failures, component_names, copy_name
from dagsim.config.schema import (
    Action,
    CrashStore,
    FailCas,
    FailDatabaseVolume,
    FailLink,
    FailLoadBalancer,
    FailLogVolume,
    FailServer,
    FailSite,
    FailWitness,
    RestoreCas,
    RestoreDatabaseVolume,
    RestoreLink,
    RestoreLoadBalancer,
    RestoreLogVolume,
    RestoreServer,
    RestoreSite,
    RestoreWitness,
    Scenario,
    SwitchoverServer,
)

__all__ = ["MAX_ACTIONS_PER_REPLICA", "failure_timeline", "maintenance_windows", "replica_timeline"]

MAX_ACTIONS_PER_REPLICA = 500_000
"""Hard stop on the actions of one replica (the rules already bound the expected number)."""

# Restarting the Information Store is the service manager's job, not a repair crew's.
_NO_CREW = frozenset({"store_crashes"})

_FAIL, _REPAIRED, _MAINTENANCE, _DOWN, _UP = range(5)


@dataclass(slots=True)
class _Component:
    kind: str
    name: str
    time_to_failure: object
    time_to_repair: object
    rng: object


def failure_timeline(scenario: Scenario, seed: int, replica: int, duration: float) -> tuple[Action, ...]:
    """The failures, repairs and maintenance of replica ``replica`` over ``[0, duration)``, as actions."""
    spec = scenario.failures
    if spec is None:
        return ()
    components: list[_Component] = []
    for kind in COMPONENT_CLASSES:
        for name in component_names(scenario, kind):
            figures = component_failures(spec, kind, name)
            if figures is not None:
                rng = component_generator(seed, replica, kind, name)
                components.append(_Component(kind, name, figures.time_to_failure, figures.time_to_repair, rng))
    actions = _Actions(scenario)
    for time, step, index, restart in _transitions(components, spec, scenario, duration):
        actions.apply(time, step, components[index] if index >= 0 else None, index, restart)
        if len(actions.out) > MAX_ACTIONS_PER_REPLICA:
            raise ValueError(f"a replica produced more than {MAX_ACTIONS_PER_REPLICA:,} failure actions")
    return tuple(actions.out)


def replica_timeline(scenario: Scenario, seed: int, replica: int, duration: float) -> tuple[Action, ...]:
    """The scenario's own timeline merged with the replica's generated failures, by time."""
    generated = failure_timeline(scenario, seed, replica, duration)
    # Stable: at equal times, scripted actions first, generated ones in generation order.
    return tuple(sorted((*scenario.timeline, *generated), key=lambda action: action.at))


def maintenance_windows(spec, n_servers: int, duration: float) -> list[tuple[float, int]]:
    """``(start, server index)`` of every maintenance window starting in ``[0, duration)``.

    A rolling schedule: server k of n starts at (k + 1/2) * every / n, then every ``every``.
    The window drains the server from ``start``, takes it down at ``start + drain`` and
    brings it back ``duration`` later.
    """
    window = spec.maintenance.servers
    if window is None:
        return []
    out = []
    for k in range(n_servers):
        start = (k + 0.5) * window.every / n_servers
        while start < duration:
            out.append((start, k))
            start += window.every
    return out


def _transitions(components, spec, scenario, duration) -> Iterator[tuple[float, int, int, float]]:
    """``(time, step, component index, restart)`` in time order; maintenance uses index
    ``-1 - server index``; ``restart`` is a store crash's drawn restart time."""
    heap: list[tuple[float, int, int, int]] = []
    order = 0

    def push(time: float, step: int, index: int) -> None:
        nonlocal order
        if time < duration:
            heapq.heappush(heap, (time, order, step, index))
            order += 1

    for index, component in enumerate(components):
        push(draw(component.time_to_failure, component.rng), _FAIL, index)
    window = spec.maintenance.servers
    for start, k in maintenance_windows(spec, len(scenario.servers), duration):
        push(start, _MAINTENANCE, -1 - k)
        push(start + window.drain, _DOWN, -1 - k)
        push(start + window.drain + window.duration, _UP, -1 - k)
    crews = spec.repair_crews
    busy = 0
    waiting: list[int] = []  # FIFO of components waiting for a crew

    def start_repair(time: float, index: int) -> None:
        component = components[index]
        push(time + draw(component.time_to_repair, component.rng), _REPAIRED, index)

    while heap:
        time, _, step, index = heapq.heappop(heap)
        if index < 0:
            yield time, step, index, 0.0
            continue
        component = components[index]
        if component.kind in _NO_CREW:
            if step == _FAIL:
                restart = draw(component.time_to_repair, component.rng)
                yield time, step, index, restart
                push(time + restart, _REPAIRED, index)
            else:
                push(time + draw(component.time_to_failure, component.rng), _FAIL, index)
            continue
        yield time, step, index, 0.0
        if step == _FAIL:
            if crews is None or busy < crews:
                busy += 1
                start_repair(time, index)
            else:
                waiting.append(index)
        elif step == _REPAIRED:
            push(time + draw(component.time_to_failure, component.rng), _FAIL, index)
            busy -= 1
            if waiting:
                busy += 1
                start_repair(time, waiting.pop(0))
    # Components failed at the end stay failed: the replica ends before their repair.


class _Actions:
    """Turns component transitions into timeline actions, host by host."""

    def __init__(self, scenario: Scenario) -> None:
        self.out: list[Action] = []
        self.server_site = {s.name: s.site for s in scenario.servers}
        self.servers = [s.name for s in scenario.servers]
        # Volume components are named as copies are: look the pair up rather than split the name.
        self.copies = {copy_name(d.name, c.server): (d.name, c.server) for d in scenario.databases for c in d.copies}
        self.site_down = {s.name: False for s in scenario.sites}
        self.server_reasons: dict[str, set[str]] = {s: set() for s in self.servers}
        witness = scenario.dag.witness
        self.witness_site = witness.site if witness is not None else None
        self.witness_down = False
        cas = scenario.client_access.servers
        # A Client Access server that is also a mailbox server stops with it; a standalone
        # one stops with its site.
        self.cas_site = {c.name: c.site for c in cas} if cas else dict(self.server_site)
        self.cas_down = {name: False for name in self.cas_site}
        self.lb_down = {s.name: False for s in scenario.sites}

    # -- host state --
    def _server_up(self, server: str) -> bool:
        return not self.site_down[self.server_site[server]] and not self.server_reasons[server]

    def _cas_host_up(self, cas: str) -> bool:
        if cas in self.server_site:
            return self._server_up(cas)
        return not self.site_down[self.cas_site[cas]]

    def _emit(self, model, **fields) -> None:
        self.out.append(model.model_construct(**fields))

    def apply(self, time: float, step: int, component: _Component | None, index: int, restart: float) -> None:
        if component is None:
            self._maintenance(time, step, self.servers[-1 - index])
            return
        kind, name, down = component.kind, component.name, step == _FAIL
        if kind == "servers":
            self._server_reason(time, name, "failure", down)
        elif kind == "store_crashes":
            if down and self._server_up(name):
                self._emit(CrashStore, at=time, action="crash_store", server=name, restart_after=restart)
        elif kind in ("database_volumes", "log_volumes"):
            database, server = self.copies[name]
            model = {
                ("database_volumes", True): FailDatabaseVolume,
                ("database_volumes", False): RestoreDatabaseVolume,
                ("log_volumes", True): FailLogVolume,
                ("log_volumes", False): RestoreLogVolume,
            }[(kind, down)]
            action = ("fail_" if down else "restore_") + kind[:-1]
            self._emit(model, at=time, action=action, database=database, server=server)
        elif kind == "sites":
            self._site(time, name, down)
        elif kind == "links":
            self._emit(FailLink if down else RestoreLink, at=time, action="fail_link" if down else "restore_link", link=name)
        elif kind == "witness":
            self.witness_down = down
            if self.witness_site is not None and not self.site_down[self.witness_site]:
                self._witness(time, down)
        elif kind == "cas_servers":
            self.cas_down[name] = down
            if self._cas_host_up(name):
                self._cas(time, name, down)
        elif kind == "load_balancers":
            self.lb_down[name] = down
            if not self.site_down[name]:
                self._load_balancer(time, name, down)

    def _maintenance(self, time: float, step: int, server: str) -> None:
        if step == _MAINTENANCE:
            if self._server_up(server):
                self._emit(SwitchoverServer, at=time, action="switchover_server", server=server)
        else:
            self._server_reason(time, server, "maintenance", step == _DOWN)

    def _server_reason(self, time: float, server: str, reason: str, down: bool) -> None:
        was_up = self._server_up(server)
        if down:
            self.server_reasons[server].add(reason)
        else:
            self.server_reasons[server].discard(reason)
        now_up = self._server_up(server)
        if was_up and not now_up:
            self._emit(FailServer, at=time, action="fail_server", server=server)
        elif now_up and not was_up:
            self._emit(RestoreServer, at=time, action="restore_server", server=server)
            if self.cas_down.get(server):
                self._cas(time, server, True)  # its Client Access role is still failed

    def _site(self, time: float, site: str, down: bool) -> None:
        self.site_down[site] = down
        if down:
            self._emit(FailSite, at=time, action="fail_site", site=site)
            return
        self._emit(RestoreSite, at=time, action="restore_site", site=site)
        for server in self.servers:
            if self.server_site[server] != site:
                continue
            if self.server_reasons[server]:
                self._emit(FailServer, at=time, action="fail_server", server=server)
            elif self.cas_down.get(server):
                self._cas(time, server, True)
        for cas, cas_site in self.cas_site.items():
            if cas_site == site and cas not in self.server_site and self.cas_down[cas]:
                self._cas(time, cas, True)
        if self.witness_site == site and self.witness_down:
            self._witness(time, True)
        if self.lb_down[site]:
            self._load_balancer(time, site, True)

    def _witness(self, time: float, down: bool) -> None:
        if down:
            self._emit(FailWitness, at=time, action="fail_witness")
        else:
            self._emit(RestoreWitness, at=time, action="restore_witness")

    def _cas(self, time: float, cas: str, down: bool) -> None:
        if down:
            self._emit(FailCas, at=time, action="fail_cas", server=cas)
        else:
            self._emit(RestoreCas, at=time, action="restore_cas", server=cas)

    def _load_balancer(self, time: float, site: str, down: bool) -> None:
        if down:
            self._emit(FailLoadBalancer, at=time, action="fail_load_balancer", site=site)
        else:
            self._emit(RestoreLoadBalancer, at=time, action="restore_load_balancer", site=site)
