"""The DAG networks as graphs: routes, capacities, partitions (docs/scenario-reference.md#networks).

Each DAG network (one MAPI network, zero or more replication networks) is a networkx
``MultiGraph`` whose nodes are ``("site", name)``, ``("server", name)`` and
``("host", name)`` (the witness and alternate witness, attached to their site on every
network with an unlimited NIC). Edges are server–site NICs and the site–site links that
carry the network; parallel links between two sites are parallel edges keyed by link name.
Routes are lowest-latency paths over edges that are up.

Capacities are per direction (full duplex), indexed by *directed edge id*, one id per
resource that flows share:

* a NIC edge has two ids (server→site, site→server) **per network**, because
  ``ServerSpec.nic_bandwidth`` is per DAG network;
* a link has two ids (one per direction) **shared by every network it carries**: a link
  is one physical pipe with ``LinkSpec.bandwidth`` each way, so shipping that falls back
  from the replication network to the MAPI network over the same link competes for the
  same bytes.

Ids are stable for a scenario: for each network in scenario order, the NICs of the servers
(scenario order) then of the witness hosts, out then in; then every link in scenario order,
``sites[0]→sites[1]`` then back.

A :class:`Topology` belongs to one model run; it holds no global state and never prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np

from dagsim.config.schema import Scenario

__all__ = ["LOG_BYTES", "NIC_LATENCY", "EdgeInfo", "Node", "Route", "Topology"]

LOG_BYTES = 1024**2
"""Size of one Exchange 2013 transaction log file, bytes."""

NIC_LATENCY = 0.0002
"""One-way latency of a server's NIC hop to its site, seconds (*assumption*)."""

Node = tuple[str, str]
"""A graph node: ``("site", name)``, ``("server", name)`` or ``("host", name)``."""


@dataclass(frozen=True, slots=True)
class Route:
    """A path between two endpoints on one DAG network, over edges that were up."""

    network: str
    nodes: tuple[Node, ...]
    edges: tuple[int, ...]
    """Directed edge ids, in travel order (index :attr:`Topology.capacity`)."""
    links: tuple[str, ...]
    """Names of the inter-site links crossed, in travel order."""
    latency: float
    """One-way latency, seconds."""
    bottleneck: float
    """Smallest capacity along the route, bytes/s (``inf`` for an empty route)."""
    cross_subnet: bool
    """True when the endpoints are in different sites (each site is its own subnet)."""


@dataclass(frozen=True, slots=True)
class EdgeInfo:
    """What a directed edge id stands for."""

    id: int
    kind: Literal["nic", "link"]
    name: str
    """The link name, or the server/host owning the NIC."""
    network: str | None
    """The network of a NIC; None for a link (shared by every network it carries)."""
    tail: Node
    head: Node
    capacity: float
    latency: float


class Topology:
    """The networks of one scenario, with link and NIC up/down state and cached routes."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._networks: tuple[str, ...] = tuple(n.name for n in scenario.networks)
        self._network_set = frozenset(self._networks)
        self._mapi: str | None = next(
            (n.name for n in scenario.networks if n.type == "mapi"), None
        )
        self._replication: tuple[str, ...] = tuple(
            n.name for n in scenario.networks if n.type == "replication"
        )
        self._sites: tuple[str, ...] = tuple(s.name for s in scenario.sites)
        site_set = frozenset(self._sites)

        # Endpoints: servers first, then witness hosts that are not servers.
        self._kind: dict[str, str] = {}
        self._site_of: dict[str, str] = {}
        self._nic_capacity: dict[str, float] = {}
        for server in scenario.servers:
            self._add_endpoint("server", server.name, server.site, server.nic_bandwidth, site_set)
        for witness in (scenario.dag.witness, scenario.dag.alternate_witness):
            if witness is not None and witness.host not in self._kind:
                self._add_endpoint("host", witness.host, witness.site, math.inf, site_set)
        self._endpoint_rank = {name: i for i, name in enumerate(self._kind)}
        self._servers_in_site: dict[str, tuple[str, ...]] = {
            site: tuple(s.name for s in scenario.servers if s.site == site) for site in self._sites
        }

        edges: list[EdgeInfo] = []

        def new_edge(**fields: Any) -> int:
            edges.append(EdgeInfo(id=len(edges), **fields))
            return len(edges) - 1

        self._graphs: dict[str, nx.MultiGraph] = {}
        self._nic_ids: dict[tuple[str, str], tuple[int, int]] = {}
        self._nic_state: dict[tuple[str, str], bool] = {}
        for network in self._networks:
            graph = nx.MultiGraph(network=network)
            graph.add_nodes_from(("site", s) for s in self._sites)
            for name, kind in self._kind.items():
                node, site = (kind, name), ("site", self._site_of[name])
                cap = self._nic_capacity[name]
                common = {"kind": "nic", "name": name, "network": network, "latency": NIC_LATENCY}
                out = new_edge(tail=node, head=site, capacity=cap, **common)
                back = new_edge(tail=site, head=node, capacity=cap, **common)
                graph.add_edge(
                    node, site, key="nic", kind="nic", name=name, tail=node, fwd=out, rev=back,
                    latency=NIC_LATENCY, capacity=cap, up=True,
                )  # fmt: skip
                self._nic_ids[(name, network)] = (out, back)
                self._nic_state[(name, network)] = True
            self._graphs[network] = graph

        self._link_ids: dict[str, tuple[int, int]] = {}
        self._link_state: dict[str, bool] = {}
        self._link_edges: dict[str, list[tuple[nx.MultiGraph, Node, Node]]] = {}
        for link in scenario.links:
            a, b = link.sites
            for end in (a, b):
                if end not in site_set:
                    raise ValueError(f"link {link.name!r} names unknown site {end!r}")
            ua, ub = ("site", a), ("site", b)
            common = {"kind": "link", "name": link.name, "network": None, "latency": link.latency}
            fwd = new_edge(tail=ua, head=ub, capacity=link.bandwidth, **common)
            rev = new_edge(tail=ub, head=ua, capacity=link.bandwidth, **common)
            self._link_ids[link.name] = (fwd, rev)
            self._link_state[link.name] = True
            carried = self._networks if link.networks is None else link.networks
            refs = []
            for network in carried:
                if network not in self._network_set:
                    raise ValueError(f"link {link.name!r} names unknown network {network!r}")
                graph = self._graphs[network]
                graph.add_edge(
                    ua, ub, key=link.name, kind="link", name=link.name, tail=ua, fwd=fwd, rev=rev,
                    latency=link.latency, capacity=link.bandwidth, up=True,
                )  # fmt: skip
                refs.append((graph, ua, ub))
            self._link_edges[link.name] = refs

        self._edges: tuple[EdgeInfo, ...] = tuple(edges)
        self._capacity = np.array([e.capacity for e in edges], dtype=float)
        self._capacity.flags.writeable = False
        self._edge_up = np.ones(len(edges), dtype=bool)
        self._state_version = 0
        self._route_cache: dict[tuple[str, str, str], Route | None] = {}
        self._partition_cache: dict[str, list[frozenset[str]]] = {}

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Topology:
        """Build the topology of a validated scenario, everything up."""
        return cls(scenario)

    def _add_endpoint(
        self, kind: str, name: str, site: str, nic: float, site_set: frozenset[str]
    ) -> None:
        if site not in site_set:
            raise ValueError(f"{kind} {name!r} is in unknown site {site!r}")
        self._kind[name] = kind
        self._site_of[name] = site
        self._nic_capacity[name] = nic

    # -- static facts --

    @property
    def networks(self) -> tuple[str, ...]:
        """DAG network names, scenario order."""
        return self._networks

    @property
    def mapi_network(self) -> str | None:
        """The MAPI network's name."""
        return self._mapi

    @property
    def replication_networks(self) -> tuple[str, ...]:
        """Replication network names, scenario order."""
        return self._replication

    @property
    def sites(self) -> tuple[str, ...]:
        return self._sites

    @property
    def endpoints(self) -> tuple[str, ...]:
        """Server names (scenario order), then witness host names."""
        return tuple(self._kind)

    @property
    def n_edges(self) -> int:
        """Number of directed edge ids."""
        return len(self._edges)

    @property
    def capacity(self) -> np.ndarray:
        """Capacity of every directed edge id, bytes/s (read-only; ``inf`` for witness NICs)."""
        return self._capacity

    @property
    def edges(self) -> tuple[EdgeInfo, ...]:
        """What every directed edge id stands for, indexed by id."""
        return self._edges

    def edge(self, edge_id: int) -> EdgeInfo:
        return self._edges[edge_id]

    def link_edges(self, link: str) -> tuple[int, int]:
        """Directed edge ids of a link: ``sites[0]→sites[1]``, then back."""
        return self._link_ids[self._check_link(link)]

    def nic_edges(self, name: str, network: str) -> tuple[int, int]:
        """Directed edge ids of a server's (or host's) NIC on a network: out, then in."""
        return self._nic_ids[self._check_nic(name, network)]

    def site_of(self, name: str) -> str:
        """The site of a server or witness host."""
        try:
            return self._site_of[name]
        except KeyError:
            raise KeyError(f"unknown server or host {name!r}") from None

    def servers_in_site(self, site: str) -> tuple[str, ...]:
        """Servers of a site, scenario order."""
        try:
            return self._servers_in_site[site]
        except KeyError:
            raise KeyError(f"unknown site {site!r}") from None

    def graph(self, network: str) -> nx.MultiGraph:
        """The networkx graph of one network (edge attribute ``up`` holds the state).

        Treat it as read-only: change state through :meth:`set_link_up` and
        :meth:`set_nic_up` so that caches stay right.
        """
        return self._graphs[self._check_network(network)]

    # -- state --

    @property
    def state_version(self) -> int:
        """Incremented by every change of a link or NIC state (re-setting a state is no change)."""
        return self._state_version

    @property
    def edge_up(self) -> np.ndarray:
        """Whether each directed edge id is up (read-only view)."""
        view = self._edge_up.view()
        view.flags.writeable = False
        return view

    def link_up(self, link: str) -> bool:
        return self._link_state[self._check_link(link)]

    def nic_up(self, name: str, network: str) -> bool:
        return self._nic_state[self._check_nic(name, network)]

    def set_link_up(self, link: str, up: bool) -> None:
        """Bring an inter-site link up or down, on every network it carries."""
        up = bool(up)
        if self._link_state[self._check_link(link)] == up:
            return
        self._link_state[link] = up
        for graph, u, v in self._link_edges[link]:
            graph.edges[u, v, link]["up"] = up
        self._edge_up[list(self._link_ids[link])] = up
        self._forget_routes()

    def set_nic_up(self, name: str, network: str, up: bool) -> None:
        """Bring a server's (or witness host's) NIC on one network up or down."""
        up = bool(up)
        key = self._check_nic(name, network)
        if self._nic_state[key] == up:
            return
        self._nic_state[key] = up
        node = (self._kind[name], name)
        self._graphs[network].edges[node, ("site", self._site_of[name]), "nic"]["up"] = up
        self._edge_up[list(self._nic_ids[key])] = up
        self._forget_routes()

    def _forget_routes(self) -> None:
        self._state_version += 1
        self._route_cache.clear()
        self._partition_cache.clear()

    # -- queries --

    def route(self, src: str, dst: str, network: str) -> Route | None:
        """Lowest-latency route between two servers/hosts over edges that are up, or None."""
        key = (src, dst, network)
        try:
            return self._route_cache[key]
        except KeyError:
            pass
        route = self._compute_route(src, dst, network)
        self._route_cache[key] = route
        return route

    def shipping_route(self, active_server: str, passive_server: str) -> Route | None:
        """The route log shipping uses now: the first replication network (scenario order)
        that connects the two servers, else the MAPI network, else None (docs/scenario-reference.md#networks).

        Shipping does not move back from MAPI to a repaired replication network by itself;
        that memory belongs to the copy, which can keep calling :meth:`route` on the MAPI
        network.
        """
        for network in self._replication:
            route = self.route(active_server, passive_server, network)
            if route is not None:
                return route
        if self._mapi is None:
            return None
        return self.route(active_server, passive_server, self._mapi)

    def bytes_per_log(self, route: Route) -> float:
        """Bytes one 1 MiB log puts on each edge of ``route`` after network compression."""
        mode = self._scenario.dag.network_compression
        if mode == "enabled" or (mode == "inter_subnet_only" and route.cross_subnet):
            return LOG_BYTES * self._scenario.dag.compression_ratio
        return float(LOG_BYTES)

    def bytes_per_seeded_mib(self, route: Route) -> float:
        """Bytes one MiB of a seeded database puts on each edge of ``route``: compressed with
        NetworkCompression Enabled or SeedOnly, and InterSubnetOnly across subnets."""
        mode = self._scenario.dag.network_compression
        if mode in ("enabled", "seed_only") or (mode == "inter_subnet_only" and route.cross_subnet):
            return LOG_BYTES * self._scenario.dag.compression_ratio
        return float(LOG_BYTES)

    def reachable(self, a: str, b: str, network: str | None = None) -> bool:
        """Whether two servers/hosts can talk on ``network`` (on any network if None)."""
        networks: Iterable[str] = self._networks if network is None else (network,)
        return any(self.route(a, b, n) is not None for n in networks)

    def round_trip_latency(self, a: str, b: str, network: str) -> float:
        """Round-trip latency between two servers/hosts on a network, s (``inf`` if cut off)."""
        route = self.route(a, b, network)
        return math.inf if route is None else 2.0 * route.latency

    def partitions(self, network: str) -> list[frozenset[str]]:
        """Groups of servers/hosts that can reach each other on a network over up edges.

        Every server and host is in exactly one group (a server whose NIC is down is alone).
        Groups are ordered by their first member in :attr:`endpoints` order.
        """
        cached = self._partition_cache.get(network)
        if cached is not None:
            return list(cached)
        graph = self._graphs[self._check_network(network)]
        up = nx.subgraph_view(graph, filter_edge=lambda u, v, k: graph.edges[u, v, k]["up"])
        groups = []
        for component in nx.connected_components(up):
            names = frozenset(name for kind, name in component if kind != "site")
            if names:
                groups.append(names)
        groups.sort(key=lambda g: min(self._endpoint_rank[n] for n in g))
        self._partition_cache[network] = groups
        return list(groups)

    # -- internals --

    def _node(self, name: str) -> Node:
        try:
            return (self._kind[name], name)
        except KeyError:
            raise KeyError(f"unknown server or host {name!r}") from None

    def _check_network(self, network: str) -> str:
        if network not in self._network_set:
            raise KeyError(f"unknown network {network!r}")
        return network

    def _check_link(self, link: str) -> str:
        if link not in self._link_state:
            raise KeyError(f"unknown link {link!r}")
        return link

    def _check_nic(self, name: str, network: str) -> tuple[str, str]:
        self._node(name)
        self._check_network(network)
        return (name, network)

    def _compute_route(self, src: str, dst: str, network: str) -> Route | None:
        graph = self._graphs[self._check_network(network)]
        s, t = self._node(src), self._node(dst)
        cross = self._site_of[src] != self._site_of[dst]
        if s == t:
            return Route(network, (s,), (), (), 0.0, math.inf, False)
        try:
            nodes = nx.shortest_path(graph, s, t, weight=_up_latency)
        except nx.NetworkXNoPath:
            return None
        edges: list[int] = []
        links: list[str] = []
        latency = 0.0
        bottleneck = math.inf
        for u, v in zip(nodes, nodes[1:], strict=False):
            data = min(
                (d for d in graph[u][v].values() if d["up"]),
                key=lambda d: (d["latency"], -d["capacity"], d["name"]),
            )
            edges.append(data["fwd"] if u == data["tail"] else data["rev"])
            if data["kind"] == "link":
                links.append(data["name"])
            latency += data["latency"]
            bottleneck = min(bottleneck, data["capacity"])
        return Route(network, tuple(nodes), tuple(edges), tuple(links), latency, bottleneck, cross)


def _up_latency(u: Node, v: Node, parallel: dict[str, dict[str, Any]]) -> float | None:
    """Dijkstra weight on a MultiGraph: the lowest latency of the up edges, None if all are down."""
    best = None
    for data in parallel.values():
        if data["up"] and (best is None or data["latency"] < best):
            best = data["latency"]
    return best
