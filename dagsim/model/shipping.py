"""Which path each passive copy's logs take, and the per-log load that puts on each edge.

Shipping prefers a replication network and falls back to the MAPI network; once on MAPI a
copy stays there until it is resumed, even after the replication network is repaired
(docs/scenario-reference.md#networks). Both engines share this so they route identically.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dagsim.model.layout import Layout
from dagsim.model.recorder import Recorder
from dagsim.model.topology import Route, Topology

__all__ = ["ShippingPaths"]


class ShippingPaths:
    """Routes of every passive copy from its database's active copy."""

    def __init__(self, layout: Layout, topology: Topology, recorder: Recorder) -> None:
        self.layout = layout
        self.topology = topology
        self.recorder = recorder
        n = layout.n_copies
        self.routes: list[Route | None] = [None] * n
        self.has_route = np.zeros(n, dtype=bool)
        self.on_mapi_fallback = np.zeros(n, dtype=bool)
        self.incidence = np.zeros((n, len(topology.capacity)))
        self.version = 0
        self._key: tuple | None = None

    def refresh(self, now: float, active: np.ndarray, is_active: np.ndarray, *, record: bool = True) -> bool:
        """Recompute routes if the network or the active copies changed; True if anything did."""
        key = (self.topology.state_version, active.tobytes(), self.on_mapi_fallback.tobytes())
        if key == self._key:
            return False
        layout, topology = self.layout, self.topology
        if self._key is not None and self._key[0] == key[0]:
            # Same network: only copies whose database changed its active copy, or whose
            # network preference changed, can take another route.
            was_active = np.frombuffer(self._key[1], dtype=active.dtype)
            was_fallback = np.frombuffer(self._key[2], dtype=bool)
            dirty = ((was_active != active)[layout.copy_db]) | (was_fallback != self.on_mapi_fallback)
            changed = np.flatnonzero(dirty)
            rows: Iterable[int] = changed.tolist()
            incidence = self.incidence.copy()
            incidence[changed] = 0.0
            routes = list(self.routes)
        else:
            rows = range(layout.n_copies)
            incidence = np.zeros_like(self.incidence)
            routes = [None] * layout.n_copies
        for row in rows:
            database, server = layout.copy_names[row]
            routes[row] = None
            if is_active[row]:
                continue
            source = layout.copy_names[active[layout.copy_db[row]]][1]
            route = self._choose(row, source, server)
            routes[row] = route
            if route is None:
                continue
            incidence[row, list(route.edges)] = topology.bytes_per_log(route)
            old = self.routes[row]
            if record and old is not None and old.network != route.network:
                facts = {"old": old.network, "new": route.network}
                self.recorder.event(now, "shipping_network_changed", database, server, facts=facts)
        has_route = np.array([r is not None for r in routes], dtype=bool)
        if record:
            for row in np.flatnonzero(has_route != self.has_route).tolist():
                if is_active[row]:
                    continue
                database, server = layout.copy_names[row]
                if has_route[row]:
                    self.recorder.event(now, "copy_reconnected", database, server)
                else:
                    self.recorder.event(now, "copy_disconnected", database, server)
        self.routes, self.has_route, self.incidence = routes, has_route, incidence
        self._key = (self.topology.state_version, active.tobytes(), self.on_mapi_fallback.tobytes())
        self.version += 1
        return True

    def _choose(self, row: int, source: str, server: str) -> Route | None:
        mapi = self.topology.mapi_network
        if self.on_mapi_fallback[row] and mapi is not None:
            route = self.topology.route(source, server, mapi)
            if route is not None:
                return route
        route = self.topology.shipping_route(source, server)
        if route is not None and self.topology.replication_networks:
            self.on_mapi_fallback[row] = route.network == mapi
        return route

    def resumed(self, row: int) -> None:
        """Resume-MailboxDatabaseCopy lets a copy go back to a replication network."""
        self.on_mapi_fallback[row] = False
