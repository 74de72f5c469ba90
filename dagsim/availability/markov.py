"""The exact answer: the steady state of the scenario's failure model as a Markov chain.

Every component alternates up (exponential time to failure) and down (exponential repair);
a database is down while none of its copies is usable (:mod:`~dagsim.availability.structure`).
Two solvers give the same steady state:

* **Independent repairs** (``repair_crews: null``): the chain is a product of two-state
  chains, so its steady state is the product of the components' (exact, not an
  approximation). Local components of one copy (its store, volumes) matter only through
  the copy's chance of being up and its failure rate, so only the 2**n states of the *shared*
  components (servers, sites, links, witness) are enumerated, with numpy, and the copies
  are summed analytically. Outage and failover rates follow from the same sums.
* **Repair crews**: components wait for a crew in a first-in-first-out queue, as in the
  simulation, so the state is what is down *and the queue's order*; the reachable states are
  built breadth first and ``pi Q = 0`` is solved with a sparse LU factorisation
  (:func:`scipy.sparse.linalg.spsolve`).

Both refuse chains above :data:`MAX_EXACT_STATES` shared states or :data:`MAX_CTMC_STATES` full
states (use ``--rare`` then).

From the steady state, per database: unavailability, outages per year (the rate of entering a
down state), mean up time between outages and mean outage. The failovers themselves take
time the chain does not see (detection, selection, copying the last logs, mount); that is
added back to first order: the rate of failovers times each one's duration from the Active
Manager timings, plus selection and mount at the end of each outage. For the failover rate
the chain assumes the active copy is the usable copy with the best activation preference
(as after a redistribution); with identical copies that is exact.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from dagsim.availability.structure import (
    Component,
    FailureModel,
    MountOracle,
    NotMarkovian,
    failover_seconds,
)
from dagsim.config.failures import YEAR

__all__ = ["LEFT_OUT", "MAX_CTMC_STATES", "MAX_EXACT_STATES", "ExactDatabase", "ExactResult", "exact_availability"]

MAX_EXACT_STATES = 131_072
"""Most shared-component states the product form enumerates (2**17)."""
MAX_CTMC_STATES = 20_000
"""Most states of a full chain (repair crews) solved by sparse LU; beyond it, use ``--rare``."""

LEFT_OUT = (
    "copy queues and the mount dial: every usable copy is taken as current, so a copy that "
    "missed logs while down mounts at once (the simulation may refuse it and wait)",
    "datacenter activation coordination (DAC): a returning member mounts without its DACP bit",
    "lagged copies' replay before activation and Replay Lag Manager",
    "the Primary Active Manager move and operator actions (datacenter switchovers)",
    "Client Access and load balancer failures (they cost users, not mounts)",
    "the scenario's scripted timeline",
)
"""What the simulation models and the Markov chain does not (docs/availability.md)."""


@dataclass(frozen=True, slots=True)
class ExactDatabase:
    """One database's exact figures; times in seconds, rates per year."""

    database: str
    structural_unavailability: float
    """Fraction of time with no usable copy."""
    outages_per_year: float
    failovers_per_year: float
    failover_unavailability: float
    """First-order time lost to failovers and to the mount at the end of each outage."""

    @property
    def unavailability(self) -> float:
        return self.structural_unavailability + self.failover_unavailability

    @property
    def mean_time_between_outages(self) -> float:
        """Mean up time between two outages, seconds (inf when outages are impossible)."""
        rate = self.outages_per_year / YEAR
        return math.inf if rate == 0 else (1 - self.structural_unavailability) / rate

    @property
    def mean_outage(self) -> float:
        """Mean length of one outage (no usable copy), seconds."""
        rate = self.outages_per_year / YEAR
        return math.nan if rate == 0 else self.structural_unavailability / rate


@dataclass(frozen=True)
class ExactResult:
    """The exact steady state of a scenario's failure model, per database."""

    scenario: str
    method: str
    states: int
    databases: tuple[ExactDatabase, ...]
    left_out: tuple[str, ...] = field(default=LEFT_OUT)

    @property
    def unavailability(self) -> float:
        """The DAG's: the mean over databases, as Monte Carlo reports it."""
        return float(np.mean([d.unavailability for d in self.databases]))

    @property
    def structural_unavailability(self) -> float:
        return float(np.mean([d.structural_unavailability for d in self.databases]))

    def table(self):
        """Tidy rows (scope, database, metric, unit, estimate, low, high, events, method)."""
        import pandas as pd

        from dagsim.availability.metrics import TABLE_COLUMNS

        rows = []

        def add(scope, database, metric, unit, value):
            rows.append((scope, database, metric, unit, value, value, value, 0, f"exact ({self.method})"))

        for d in self.databases:
            add("database", d.database, "unavailability", "fraction", d.unavailability)
            add("database", d.database, "structural_unavailability", "fraction", d.structural_unavailability)
            add("database", d.database, "downtime", "minutes/year", d.unavailability * YEAR / 60)
            add("database", d.database, "outages", "per year", d.outages_per_year)
            add("database", d.database, "mean_time_between_outages", "years", d.mean_time_between_outages / YEAR)
            add("database", d.database, "mean_outage", "hours", d.mean_outage / 3600)
            add("database", d.database, "failovers", "per year", d.failovers_per_year)
        u = self.unavailability
        add("dag", "", "unavailability", "fraction", u)
        add("dag", "", "structural_unavailability", "fraction", self.structural_unavailability)
        add("dag", "", "downtime", "minutes/year", u * YEAR / 60)
        add("dag", "", "nines", "nines", math.inf if u <= 0 else -math.log10(u))
        add("dag", "", "outages", "per year", sum(d.outages_per_year for d in self.databases))
        add("dag", "", "failovers", "per year", sum(d.failovers_per_year for d in self.databases))
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def exact_availability(scenario, *, method: str = "auto", max_states: int | None = None) -> ExactResult:
    """The exact steady-state availability of ``scenario``'s failure model.

    ``method``: ``"product"`` (independent repairs only), ``"ctmc"`` (the full chain, with or
    without crews) or ``"auto"`` (product form when repairs are independent). Raises
    :class:`NotMarkovian` when the model cannot be expressed or the chain is too large.
    """
    model = FailureModel.from_scenario(scenario)
    oracle = MountOracle(scenario)
    if method == "auto":
        method = "product" if model.repair_crews is None else "ctmc"
    if method == "product":
        if model.repair_crews is not None:
            raise ValueError("the product form needs independent repairs (repair_crews: null)")
        return _product_form(scenario, model, oracle, MAX_EXACT_STATES if max_states is None else max_states)
    if method == "ctmc":
        return _ctmc(scenario, model, oracle, MAX_CTMC_STATES if max_states is None else max_states)
    raise ValueError(f"unknown method {method!r}")


def _too_large(states: str, limit: int) -> NotMarkovian:
    return NotMarkovian(
        [f"the Markov chain has {states} states; at most {limit:,} are solved exactly; use --rare (importance sampling)"]
    )


# ---------------------------------------------------------------- shared helpers


class _Timing:
    """Failover and outage-end durations per component, from the Active Manager timings."""

    def __init__(self, scenario, model: FailureModel) -> None:
        self.scenario = scenario
        timing = scenario.active_manager
        self.outage_end = timing.selection_duration + timing.mount_duration
        self.members = tuple(scenario.member_names)

    def seconds(self, component: Component, same_subnet_peer: bool = False) -> float:
        return failover_seconds(self.scenario, component, same_subnet_peer)


def _local_figures(model: FailureModel, copy: int) -> tuple[float, list[tuple[float, int]]]:
    """A copy's chance that its local components are all up, and (rate, component) of each."""
    up = 1.0
    failing = []
    for i in model.copy_local[copy]:
        c = model.components[i]
        up *= 1 - c.unavailability
        failing.append((c.failure_rate, i))
    return up, failing


# ---------------------------------------------------------------- product form


def _product_form(scenario, model: FailureModel, oracle: MountOracle, max_states: int) -> ExactResult:
    shared = [model.components[i] for i in model.shared]
    n = len(shared)
    if 2**n > max_states:
        raise _too_large(f"2**{n} = {2**n:,} shared-component", max_states)
    masks = np.arange(2**n, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)  # (states, shared): down?
    q = np.array([c.unavailability for c in shared])
    prob = np.prod(np.where(bits, q, 1 - q), axis=1) if n else np.ones(1)
    servers = oracle.servers
    server_index = {s: k for k, s in enumerate(servers)}
    pairs = [(c.kind, c.name) for c in shared]
    mounting = np.zeros((len(masks), len(servers)), dtype=bool)
    for m in range(len(masks)):
        down = frozenset(pairs[j] for j in range(n) if bits[m, j])
        for s in oracle.mounting(down):
            mounting[m, server_index[s]] = True
    running = _running(oracle, shared, bits)
    timing = _Timing(scenario, model)
    rates = [(c.failure_rate, c.repair_rate) for c in shared]
    results = []
    for d, name in enumerate(model.databases):
        copies = model.copies_of(d)
        k = len(copies)
        a = np.empty(k)
        local_cost = np.zeros(k)  # Σ λ × failover seconds over the copy's local components
        local_rate = np.zeros(k)
        for i, c in enumerate(copies):
            a[i], failing = _local_figures(model, c)
            local_rate[i] = sum(rate for rate, _ in failing)
            local_cost[i] = sum(rate * timing.seconds(model.components[j]) for rate, j in failing)
        in_q = mounting[:, [server_index[model.copy_server[c]] for c in copies]]  # (states, k)
        miss = np.where(in_q, 1 - a, 1.0)  # chance each copy is not usable
        down = np.prod(miss, axis=1)
        unavailability = float(prob @ down)
        # Outages from a local failure: the only usable copy fails.
        others_miss = _prod_excluding(miss)
        local_outage = (in_q * a * local_rate * others_miss).sum(axis=1)
        # Failovers from a local failure: the active (first usable) copy fails, another is usable.
        before = _prod_before(miss)
        active = in_q * a * before  # chance copy i is the active one
        after = _prod_after(miss)
        local_failover_count = (active * local_rate * (1 - after)).sum(axis=1)
        local_failover_time = (active * local_cost * (1 - after)).sum(axis=1)
        outage_rate = prob @ local_outage
        failovers = prob @ local_failover_count
        failover_time = prob @ local_failover_time
        for j, component in enumerate(shared):
            target = masks ^ (1 << j)
            rate = np.where(bits[:, j], rates[j][1], rates[j][0])
            in_q2 = in_q[target]
            miss2 = np.where(in_q2, 1 - a, 1.0)
            union = np.where(in_q | in_q2, 1 - a, 1.0)
            outage_rate += prob @ (rate * (np.prod(miss2, axis=1) - np.prod(union, axis=1)))
            # A failover: copy i was active, cannot mount after the change, another copy can.
            seconds = _shared_seconds(timing, component, running[target], oracle)
            for i in range(k):
                known_down = in_q & (np.arange(k) < i)[None, :]  # copies before the active one
                exclude = known_down | (np.arange(k) == i)[None, :]
                up_after = 1 - np.prod(np.where(in_q2 & ~exclude, 1 - a, 1.0), axis=1)
                chance = active[:, i] * ~in_q2[:, i] * up_after
                failovers += prob @ (rate * chance)
                failover_time += prob @ (rate * chance * seconds)
        correction = failover_time + outage_rate * timing.outage_end
        results.append(
            ExactDatabase(
                database=name,
                structural_unavailability=unavailability,
                outages_per_year=float(outage_rate * YEAR),
                failovers_per_year=float(failovers * YEAR),
                failover_unavailability=float(correction),
            )
        )
    return ExactResult(scenario.name, "product form, independent repairs", 2**n, tuple(results))


def _running(oracle: MountOracle, shared: list[Component], bits: np.ndarray) -> np.ndarray:
    """(states, servers): whether each server runs (it and its site are up)."""
    column = {(c.kind, c.name): j for j, c in enumerate(shared)}
    out = np.ones((bits.shape[0], len(oracle.servers)), dtype=bool)
    for k, s in enumerate(oracle.servers):
        for key in (("servers", s), ("sites", oracle.server_site[s])):
            j = column.get(key)
            if j is not None:
                out[:, k] &= ~bits[:, j]
    return out


def _shared_seconds(timing: _Timing, component: Component, running_after: np.ndarray, oracle: MountOracle):
    """Failover seconds per state for a change of a shared component (heartbeats for hosts)."""
    if component.kind != "servers":
        return timing.seconds(component)
    site = oracle.server_site[component.name]
    peers = [k for k, s in enumerate(oracle.servers) if s != component.name and oracle.server_site[s] == site and s in timing.members]
    same = running_after[:, peers].any(axis=1) if peers else np.zeros(running_after.shape[0], dtype=bool)
    return np.where(same, timing.seconds(component, True), timing.seconds(component, False))


def _prod_before(x: np.ndarray) -> np.ndarray:
    """Per column i, the product of the columns before i (1 for the first)."""
    out = np.ones_like(x)
    out[:, 1:] = np.cumprod(x, axis=1)[:, :-1]
    return out


def _prod_after(x: np.ndarray) -> np.ndarray:
    """Per column i, the product of the columns after i (1 for the last)."""
    return _prod_before(x[:, ::-1])[:, ::-1]


def _prod_excluding(x: np.ndarray) -> np.ndarray:
    return _prod_before(x) * _prod_after(x)


# ---------------------------------------------------------------- full chain with crews


def _ctmc(scenario, model: FailureModel, oracle: MountOracle, max_states: int) -> ExactResult:
    from scipy import sparse

    components = model.components
    n = len(components)
    crews = model.repair_crews
    crewed = [c.crew for c in components]
    State = tuple[int, tuple[int, ...]]  # (down components as a bit mask, crew queue)
    start: State = (0, ())
    index: dict[State, int] = {start: 0}
    order: list[State] = [start]
    rows: list[int] = []
    cols: list[int] = []
    rates: list[float] = []
    causes: list = []
    queue: deque[State] = deque([start])
    while queue:
        state = queue.popleft()
        mask, waiting = state
        here = index[state]
        waiting_set: set[int] = set(waiting)
        crews_busy = sum(1 for i in range(n) if crewed[i] and (mask >> i) & 1) - len(waiting)
        for i in range(n):
            bit = 1 << i
            nxt: State
            if not mask & bit:
                if crewed[i] and crews is not None and crews_busy >= crews:
                    nxt = (mask | bit, (*waiting, i))
                else:
                    nxt = (mask | bit, waiting)
                rate = components[i].failure_rate
            elif i in waiting_set:
                continue  # waiting for a crew: not being repaired
            else:
                if crewed[i] and waiting:
                    nxt = (mask & ~bit, waiting[1:])  # the crew takes the first in line
                else:
                    nxt = (mask & ~bit, waiting)
                rate = components[i].repair_rate
            target = index.get(nxt)
            if target is None:
                if len(order) >= max_states:
                    raise _too_large(f"more than {max_states:,}", max_states)
                target = index[nxt] = len(order)
                order.append(nxt)
                queue.append(nxt)
            rows.append(here)
            cols.append(target)
            rates.append(rate)
            causes.append(i)
    size = len(order)
    generator = sparse.coo_matrix((rates, (rows, cols)), shape=(size, size)).tocsr()
    generator = generator - sparse.diags(np.asarray(generator.sum(axis=1)).ravel())
    # pi Q = 0 has one redundant equation; replace it by pi[0] = 1 (a single entry keeps the
    # matrix sparse, where a row of ones would fill the factorisation in) and normalise after.
    system = generator.T.tolil()
    system[size - 1, :] = 0.0
    system[size - 1, 0] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = _solve(system.tocsc(), rhs) if size > 1 else np.ones(1)
    pi = np.maximum(pi, 0.0)
    pi /= pi.sum()

    down_bits = np.array([[(m >> i) & 1 for i in range(n)] for m, _ in order], dtype=bool).reshape(size, n)
    shared_pairs = {i: (components[i].kind, components[i].name) for i in model.shared}
    server_index = {s: k for k, s in enumerate(oracle.servers)}
    mounting = np.zeros((size, len(oracle.servers)), dtype=bool)
    running = np.ones((size, len(oracle.servers)), dtype=bool)
    for s_index in range(size):
        down = frozenset(shared_pairs[i] for i in model.shared if down_bits[s_index, i])
        for s in oracle.mounting(down):
            mounting[s_index, server_index[s]] = True
        for k, s in enumerate(oracle.servers):
            running[s_index, k] = ("servers", s) not in down and ("sites", oracle.server_site[s]) not in down
    copy_server = np.array([server_index[s] for s in model.copy_server], dtype=np.intp)
    local_down = np.zeros((size, len(model.copy_server)), dtype=bool)
    for c, local in enumerate(model.copy_local):
        for i in local:
            local_down[:, c] |= down_bits[:, i]
    usable = mounting[:, copy_server] & ~local_down  # (states, copies)
    rows_a = np.array(rows, dtype=np.intp)
    cols_a = np.array(cols, dtype=np.intp)
    rate_a = np.array(rates)
    flow = pi[rows_a] * rate_a
    timing = _Timing(scenario, model)
    seconds = np.array(
        [_transition_seconds(timing, components[i], running[t], oracle) for i, t in zip(causes, cols_a, strict=True)]
    )
    results = []
    for d, name in enumerate(model.databases):
        copies = model.copies_of(d)
        use = usable[:, copies]
        up = np.asarray(use.any(axis=1))
        first = np.where(up, use.argmax(axis=1), -1)  # the active copy: best usable preference
        unavailability = float(pi[~up].sum())
        outage = up[rows_a] & ~up[cols_a]
        active_before = first[rows_a]
        still = use[cols_a, np.maximum(active_before, 0)]
        failover = up[rows_a] & up[cols_a] & ~still
        outage_rate = float(flow[outage].sum())
        failovers = float(flow[failover].sum())
        correction = float((flow[failover] * seconds[failover]).sum()) + outage_rate * timing.outage_end
        results.append(
            ExactDatabase(
                database=name,
                structural_unavailability=unavailability,
                outages_per_year=outage_rate * YEAR,
                failovers_per_year=failovers * YEAR,
                failover_unavailability=correction,
            )
        )
    crews_text = "unlimited crews" if crews is None else f"{crews} repair crew{'s' if crews != 1 else ''}, FIFO"
    return ExactResult(scenario.name, f"sparse CTMC, {crews_text}", size, tuple(results))


def _solve(system, rhs):
    from scipy.sparse.linalg import spsolve

    # Minimum degree on A^T + A keeps the LU fill of these chains far below COLAMD's.
    return spsolve(system, rhs, permc_spec="MMD_AT_PLUS_A")


def _transition_seconds(timing: _Timing, component: Component, running_after: np.ndarray, oracle: MountOracle) -> float:
    if component.kind != "servers":
        return timing.seconds(component)
    site = oracle.server_site[component.name]
    same = any(
        running_after[k]
        for k, s in enumerate(oracle.servers)
        if s != component.name and oracle.server_site[s] == site and s in timing.members
    )
    return timing.seconds(component, same)
