"""Max-min fair sharing of network resources among log-shipping flows (docs/design.md).

The fluid engine calls :func:`max_min_fair` whenever a demand or the topology changes, to
turn "who wants how many logs per second over which edges" into the rates at which copy
queues drain. It is a pure function of its arguments and holds no state.
"""

from __future__ import annotations

import numpy as np

__all__ = ["max_min_fair"]

# Fast path: demands are accepted as they are when no edge is loaded beyond its capacity
# by more than this fraction (float noise from the caller; well inside the 1e-9 promise).
_FAST_RTOL = 1e-10
# Edges whose saturation levels are this close (relatively) saturate in the same round.
_TIE_RTOL = 1e-12


def max_min_fair(incidence: np.ndarray, capacity: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Max-min fair rates of flows sharing capacitated resources (weighted progressive filling).

    Parameters
    ----------
    incidence:
        Shape ``(F, E)``, finite and non-negative: the amount of resource ``e`` that flow
        ``f`` consumes per unit of its rate (e.g. bytes per log on every directed edge of
        its route; with compression this is less than 1 MiB), 0 where ``f`` does not use
        ``e``.
    capacity:
        Shape ``(E,)``, non-negative, in resource units per second; ``np.inf`` allowed.
    demand:
        Shape ``(F,)``, non-negative, in flow units per second (logs/s): the most the flow
        can use. ``np.inf`` for a backlogged flow, 0 for an idle one.

    Returns
    -------
    numpy.ndarray
        Shape ``(F,)``: the rate of every flow, in flow units. ``rate <= demand`` and
        ``incidence.T @ rate <= capacity`` (to 1e-9 relative).

    Raises
    ------
    ValueError
        On inconsistent shapes, or when a flow with infinite demand is limited by no
        finite capacity (an unbounded flow is a model bug).

    Notes
    -----
    **Fairness measure.** Each flow ``f`` gets a weight ``w_f = max_e incidence[f, e]``,
    the most it uses of any one resource per unit of rate. A single *level* ``t`` (in
    resource units) rises from 0 and every unfrozen flow runs at ``min(demand_f, t / w_f)``,
    so every flow uses ``t`` of its heaviest resource: flows that cross a saturated edge
    with the same incidence get the same rate, and a compressed flow (smaller incidence)
    gets proportionally more logs/s for the same bytes/s. For a flow whose incidence is the
    same on every edge it uses (log shipping: ``bytes_per_log`` on each edge of the route)
    the result is exactly max-min fair in resource share: every flow below its demand
    crosses a saturated edge on which its use ``incidence[f, e] * rate_f`` is the largest
    of all flows on that edge. When one flow's incidences differ between its edges (e.g.
    bytes on links and logs on a replay resource) the heaviest one sets its share; the
    result is still feasible and Pareto efficient (every flow below demand crosses a
    saturated edge), but equal shares hold only among flows measured by the same resource.

    **Algorithm** (weighted progressive filling, at most ``E + 1`` rounds of numpy work on
    the non-zero incidences; no Python loop over flows or edges).

    0. Fast path: when every demand is finite and ``incidence.T @ demand <= capacity``
       (relative tolerance 1e-10), return ``demand.copy()``.
    1. Flows that use no resource get their demand (``ValueError`` if it is infinite).
       Every other flow has a *demand level* ``b_f = demand_f * w_f``, the level at which
       it stops growing. The non-zero incidences on finite-capacity edges become a list of
       entries grouped by edge and, within an edge, sorted by ``b``.
    2. Each round, over the entries of flows still growing: for a level ``t`` between two
       consecutive demand levels of an edge's flows, the ones below sit at their demand and
       the others at ``t / w``, so the edge's load is ``before + t * from_here`` (a prefix
       sum of ``incidence * demand`` and a suffix sum of ``incidence / w`` within the edge).
       It is piecewise linear and non-decreasing in ``t``; evaluating it at every entry's
       demand level finds, per edge, the segment where it reaches the residual capacity
       and the level ``t_e`` at which the edge fills.
    3. Each ``t_e`` is a lower bound of the edge's true saturation level (flows frozen
       elsewhere only lighten it), and exact for an edge whose ``t_e`` is the lowest of all
       the edges its growing flows cross. Every such edge is settled in the round (at least
       the global minimum is): its flows freeze at ``t_e / w_f``. Any flow whose ``b_f`` is
       at most the lowest ``t_e`` on its path freezes at its demand. Residual capacities
       drop by the newly frozen load.
    4. When no edge can fill any more the remaining flows get their demand (``ValueError``
       if one is infinite). A settled edge carries no growing flow afterwards, hence the
       round bound; demand-limited flows never cost a round of their own, and independent
       bottlenecks settle together.
    5. Prefix sums over many edges can leave a tiny edge over capacity by float rounding; a
       last pass scales the flows of any such edge back to its capacity.
    """
    A = np.asarray(incidence, dtype=float)
    c = np.asarray(capacity, dtype=float)
    d = np.asarray(demand, dtype=float)
    if A.ndim != 2 or c.shape != (A.shape[1],) or d.shape != (A.shape[0],):
        raise ValueError(
            f"shapes do not match: incidence {A.shape}, capacity {c.shape}, demand {d.shape};"
            " expected (F, E), (E,), (F,)"
        )
    n_flows, n_edges = A.shape
    if n_flows == 0:
        return np.zeros(0)

    finite_demand = np.isfinite(d)
    all_finite = bool(finite_demand.all())
    if all_finite and (n_edges == 0 or bool(np.all(A.T @ d <= c * (1.0 + _FAST_RTOL)))):
        return d.copy()
    c = np.maximum(c, 0.0)

    # Non-zero incidences as a list of entries, first in row-major order (grouped by flow).
    flat = (A.ravel() > 0.0).nonzero()[0]
    use = A.ravel()[flat]
    flow_of, edge_of = np.divmod(flat, max(n_edges, 1))
    weight = np.zeros(n_flows)  # the flow's heaviest incidence
    if flat.size:
        flow_start = np.empty(flat.size, dtype=bool)
        flow_start[0] = True
        np.not_equal(flow_of[1:], flow_of[:-1], out=flow_start[1:])
        starts = flow_start.nonzero()[0]
        weight[flow_of[starts]] = np.maximum.reduceat(use, starts)

    rate = np.zeros(n_flows)
    alive = weight > 0.0  # flows still growing
    if not alive.all():
        edgeless = ~alive
        if not finite_demand[edgeless].all():
            flow = int((edgeless & ~finite_demand).nonzero()[0][0])
            raise ValueError(
                f"flow {flow} has infinite demand and uses no resource: its rate would be unbounded"
            )
        rate[edgeless] = d[edgeless]

    # Keep entries on finite-capacity edges (infinite capacity never binds), grouped by edge
    # and, within an edge, ordered by the level at which the flow reaches its demand.
    level_of_demand = d * weight  # inf for backlogged flows
    finite_edge = np.isfinite(c)
    keep = finite_edge[edge_of]
    if not keep.all():
        flow_of, edge_of, use = flow_of[keep], edge_of[keep], use[keep]
    rank = np.empty(n_flows, dtype=np.intp)
    rank[level_of_demand.argsort(kind="stable")] = np.arange(n_flows)
    order = (edge_of * n_flows + rank[flow_of]).argsort(kind="stable")
    flow_of, edge_of, use = flow_of[order], edge_of[order], use[order]
    nz_level = level_of_demand[flow_of]
    nz_at_demand = use * np.where(finite_demand, d, 0.0)[flow_of]  # use at demand
    nz_per_level = use / weight[flow_of]  # use per unit of level
    entry_alive = np.ones(flow_of.size, dtype=bool)
    residual = c.copy()

    for _ in range(n_edges + 1):
        live = entry_alive.nonzero()[0]
        if live.size == 0:
            break
        e = edge_of[live]
        lv = nz_level[live]
        at_d = nz_at_demand[live]
        per = nz_per_level[live]
        first = np.empty(live.size, dtype=bool)
        first[0] = True
        np.not_equal(e[1:], e[:-1], out=first[1:])
        starts = first.nonzero()[0]
        segment = np.add.accumulate(first, dtype=np.intp) - 1
        # Load of edge e at level lv[i]: entries before i at demand, i and later at lv / w.
        before = np.add.accumulate(at_d)
        before -= at_d
        before -= before[starts][segment]
        from_here = np.zeros(live.size + 1)
        np.add.accumulate(per[::-1], out=from_here[-2::-1])
        from_here = from_here[:-1] - from_here[np.concatenate((starts[1:], [live.size]))][segment]
        res = residual[e]
        load = before + lv * from_here  # lv is inf only for backlogged flows: load inf
        hit = (load >= res).nonzero()[0]
        if hit.size == 0:
            break
        hit_segment = segment[hit]
        new = np.empty(hit.size, dtype=bool)
        new[0] = True
        np.not_equal(hit_segment[1:], hit_segment[:-1], out=new[1:])
        hit = hit[new]  # first hit of each edge that can saturate
        lower = np.where(first[hit], 0.0, lv[hit - 1])
        t_edge = (res[hit] - before[hit]) / from_here[hit]
        t_edge = np.minimum(np.maximum(t_edge, lower), lv[hit])
        # Computed levels are lower bounds (flows frozen elsewhere only lighten an edge), so
        # an edge whose level is the lowest among all edges its flows cross saturates at
        # exactly that level: every such edge is settled in this round.
        t_full = np.full(n_edges, np.inf)
        t_full[e[hit]] = t_edge
        f_live = flow_of[live]
        flow_min = np.full(n_flows, np.inf)  # lowest edge level each flow meets
        np.minimum.at(flow_min, f_live, t_full[e])
        edge_min = np.minimum.reduceat(flow_min[f_live], starts)
        settled = t_full[e[starts]] <= edge_min * (1.0 + _TIE_RTOL)  # false for inf
        at_demand = alive & finite_demand & (level_of_demand <= flow_min)
        bottlenecked = np.zeros(n_flows, dtype=bool)
        bottlenecked[f_live[settled[segment]]] = True
        bottlenecked &= ~at_demand
        rate[at_demand] = d[at_demand]
        rate[bottlenecked] = flow_min[bottlenecked] / weight[bottlenecked]
        frozen = at_demand | bottlenecked
        alive &= ~frozen
        moved = frozen[flow_of]
        residual -= np.bincount(
            edge_of[moved], weights=use[moved] * rate[flow_of[moved]], minlength=n_edges
        )
        np.maximum(residual, 0.0, out=residual)
        entry_alive &= ~moved

    if alive.any():  # nothing limits these flows any more
        if not finite_demand[alive].all():
            flow = int((alive & ~finite_demand).nonzero()[0][0])
            raise ValueError(
                f"flow {flow} has infinite demand and no finite capacity limits it:"
                " its rate would be unbounded"
            )
        rate[alive] = d[alive]

    # Prefix sums run across edges, so a tiny edge can be overshot by float rounding of a
    # big neighbour's sums: scale its flows back (by a few ulps in practice).
    load = np.bincount(edge_of, weights=use * rate[flow_of], minlength=n_edges)
    over = load > c
    if over.any():
        factor = np.ones(n_edges)
        factor[over] = c[over] / load[over]
        shrink = np.ones(n_flows)
        np.minimum.at(shrink, flow_of, factor[edge_of])
        rate *= shrink
    return rate
