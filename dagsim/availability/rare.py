"""Rare outages by importance sampling: balanced failure biasing on regenerative cycles.

The failure and repair process of the scenario (the components, rates and first-in-first-out
repair crews of :mod:`~dagsim.availability.structure`, as the simulation generates them) is
simulated cycle by cycle: a *cycle* starts with everything up and ends when everything is up
again. Unavailability is a ratio of cycle means, ``U = E[downtime per cycle] / E[cycle
length]`` (the regenerative method), and each mean is estimated where it is cheap:

* **Downtime** from *biased* cycles. While no database is down, each step is, with chance
  :data:`FAILURE_BIAS` (0.5), the failure of a component drawn uniformly from those that
  bring an outage one failure closer (*balanced failure biasing* on the components of a
  shortest path to an outage, after Carrasco's failure-distance biasing; the distance is
  searched over the shared components, see :meth:`_Process.distance`), and otherwise a step
  of the true process. Each step multiplies the cycle's likelihood ratio by (true chance of
  the step) / (biased chance), so ``downtime × ratio`` has the true mean: the estimator is
  unbiased, and a quorum loss that crude Monte Carlo meets once in a million years shows
  up in a good share of cycles. Because the true process stays in the mixture, no step's
  ratio exceeds ``1 / (1 - bias)``. Once a database is down the walk is the true process
  until everything is repaired. Holding times are not biased; each visited state adds its
  *expected* holding time ``1 / q`` (conditional Monte Carlo), never a drawn one.
* **Cycle length and failovers** from *unbiased* cycles: they are not rare.

Failovers take time the process does not see; as in :mod:`~dagsim.availability.markov`, each
adds its duration from the Active Manager timings, and each outage the selection and mount
at its end. Here the active copy is followed through a cycle (no failback), and each cycle
starts on the best activation preference.

Intervals: normal, by the delta method on the ratio, from the cycle variances. The *effective
sample size* (Kish) of the cycles' weighted downtimes says how many cycles the estimate
really rests on; when it is small, or one cycle carries a large share, the weights have
degenerated and the result says so.

Randomness: batch ``b`` of a study with seed ``s`` draws from ``SeedSequence(s,
spawn_key=(RARE_STREAM, b))``; batches are fixed-size, so the same seed gives the same
figures however the study stops.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from dagsim.availability.markov import LEFT_OUT
from dagsim.availability.structure import FailureModel, MountOracle, failover_seconds
from dagsim.config.failures import DEFAULT_MAX_CYCLES, MAX_RARE_CYCLES, YEAR
from dagsim.config.failures import DEFAULT_RARE_PRECISION as DEFAULT_PRECISION

__all__ = [
    "DEFAULT_PRECISION",
    "FAILURE_BIAS",
    "MAX_RARE_CYCLES",
    "RareEstimate",
    "RareResult",
    "rare_availability",
]

FAILURE_BIAS = 0.5
"""Chance of a biased failure step while no database is down."""
CYCLES_PER_BATCH = 2_000
MIN_CYCLES = 10_000
"""Biased cycles run before the precision may stop a study: the normal interval of a ratio
of means needs enough cycles to be trusted."""
RARE_STREAM = 0x5241_5245  # spawn-key prefix of importance-sampling batches ("RARE")
MIN_EFFECTIVE_CYCLES = 100
MAX_CYCLE_SHARE = 0.2
_MAX_STEPS_PER_CYCLE = 100_000
_MAX_SEARCH = 5_000  # shared-component sets searched for one state's failure distance
UNBIASED_SHARE = 2  # one unbiased cycle (cycle length, failovers) per this many biased ones
_Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class RareEstimate:
    """A value with its normal interval; ``value`` None when no biased cycle met an outage."""

    value: float | None
    low: float
    high: float

    @property
    def relative_error(self) -> float:
        """Half-width of the interval over the value (inf without a value)."""
        if not self.value:
            return math.inf
        return (self.high - self.low) / 2 / self.value


@dataclass(frozen=True)
class RareResult:
    """An importance-sampling study's figures, per database and for the DAG."""

    scenario: str
    seed: int
    cycles: int
    """Biased cycles (the same number of unbiased cycles gave the cycle length)."""
    failure_bias: float
    precision: float
    databases: tuple[str, ...]
    unavailability: tuple[RareEstimate, ...]
    """Per database: structural unavailability plus the first-order failover time."""
    structural: tuple[RareEstimate, ...]
    outages_per_year: tuple[float, ...]
    failovers_per_year: tuple[float, ...]
    dag: RareEstimate
    dag_structural: RareEstimate
    effective_cycles: float
    """Kish effective sample size of the biased cycles' weighted downtimes."""
    largest_share: float
    """The largest share of the total weighted downtime that one cycle holds."""
    mean_cycle: float
    """Mean cycle length, seconds."""
    warnings: tuple[str, ...]
    left_out: tuple[str, ...] = field(default=LEFT_OUT)

    @property
    def precision_reached(self) -> bool:
        return max(self.dag.relative_error, self.dag_structural.relative_error) <= self.precision

    def table(self):
        """Tidy rows (scope, database, metric, unit, estimate, low, high, events, method)."""
        import pandas as pd

        from dagsim.availability.metrics import TABLE_COLUMNS

        method = f"importance sampling, failure-distance biasing ({self.cycles:,} cycles)"
        rows = []

        def add(scope, database, metric, unit, estimate: RareEstimate, factor=1.0):
            value = math.nan if estimate.value is None else estimate.value * factor
            rows.append((scope, database, metric, unit, value, estimate.low * factor, estimate.high * factor, 0, method))

        for name, total, structural in zip(self.databases, self.unavailability, self.structural, strict=True):
            add("database", name, "unavailability", "fraction", total)
            add("database", name, "structural_unavailability", "fraction", structural)
            add("database", name, "downtime", "minutes/year", total, YEAR / 60)
        add("dag", "", "unavailability", "fraction", self.dag)
        add("dag", "", "structural_unavailability", "fraction", self.dag_structural)
        add("dag", "", "downtime", "minutes/year", self.dag, YEAR / 60)
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


class _Process:
    """The components' failure and repair process with its structure, for one study."""

    def __init__(self, scenario, model: FailureModel) -> None:
        self.model = model
        self.oracle = MountOracle(scenario)
        comps = model.components
        self.n = len(comps)
        self.lam = np.array([c.failure_rate for c in comps])
        self.mu = np.array([c.repair_rate for c in comps])
        self.lam_list = self.lam.tolist()
        self.mu_list = self.mu.tolist()
        self.total_failure = float(self.lam.sum())
        self.cumulative = np.cumsum(self.lam)
        self.crewed = [c.crew for c in comps]
        self.crews = model.repair_crews
        self.shared = {i: (comps[i].kind, comps[i].name) for i in model.shared}
        server_index = {s: k for k, s in enumerate(self.oracle.servers)}
        self.copy_server = np.array([server_index[s] for s in model.copy_server], dtype=np.intp)
        self.copy_db = np.array(model.copy_database, dtype=np.intp)
        self.n_db = len(model.databases)
        self.component_copies: list[list[int]] = [[] for _ in comps]
        for c, local in enumerate(model.copy_local):
            for i in local:
                self.component_copies[i].append(c)
        # Copies in activation preference order per database, as one rank per copy.
        self.rank = np.empty(len(model.copy_server), dtype=float)
        for d in range(self.n_db):
            for r, c in enumerate(model.copies_of(d)):
                self.rank[c] = r
        self.memo: dict[frozenset[int], tuple[np.ndarray, np.ndarray]] = {}
        self.distance_memo: dict[frozenset[int], tuple[int, frozenset[int]]] = {}
        self.eligible_memo: dict[frozenset[int], tuple[int, ...]] = {}
        timing = scenario.active_manager
        self.outage_end = timing.selection_duration + timing.mount_duration
        self.seconds_peer = [failover_seconds(scenario, c, True) for c in comps]
        self.seconds_alone = [failover_seconds(scenario, c, False) for c in comps]
        site_of = self.oracle.server_site
        members = set(scenario.member_names)
        self.peers = [
            [
                (("servers", s), ("sites", site_of[s]))
                for s in self.oracle.servers
                if c.kind == "servers" and s != c.name and site_of[s] == site_of[c.name] and s in members
            ]
            for c in comps
        ]

    def state(self, down: frozenset[int]) -> tuple[np.ndarray, np.ndarray]:
        """(usable copies, database up) for the components in ``down``."""
        hit = self.memo.get(down)
        if hit is not None:
            return hit
        usable = self._server_ok(frozenset(self.shared[i] for i in down if i in self.shared))[self.copy_server]
        for i in down:
            for c in self.component_copies[i]:
                usable[c] = False
        up = np.bincount(self.copy_db, weights=usable, minlength=self.n_db) > 0
        if len(self.memo) > 500_000:
            self.memo.clear()
        self.memo[down] = (usable, up)
        return usable, up

    def _server_ok(self, shared_down: frozenset) -> np.ndarray:
        """Per server, whether it may mount with those shared components down."""
        mounting = self.oracle.mounting(shared_down)
        return np.array([s in mounting for s in self.oracle.servers], dtype=bool)

    def distance(self, down: frozenset[int]) -> int:
        """Fewest further failures that take some database down (0: one is down now)."""
        return self._search(down)[0]

    def _search(self, down: frozenset[int]) -> tuple[int, frozenset[int]]:
        """The failure distance, and the copies whose own failure would shorten it.

        Searched over sets S of shared components of growing size: after S fails, a
        database still needs one failure per copy that is usable. The distance is the least
        ``|S| + need``; the copies returned are those still usable under a set S and database
        that attain it. Sets beyond :data:`_MAX_SEARCH` are not searched, so the distance is
        then an upper bound (biasing stays unbiased either way).
        """
        hit = self.distance_memo.get(down)
        if hit is not None:
            return hit
        usable, up = self.state(down)
        if not up.all():
            answer: tuple[int, frozenset[int]] = (0, frozenset())
        else:
            local_up = np.ones(len(self.copy_db), dtype=bool)
            for i in down:
                for c in self.component_copies[i]:
                    local_up[c] = False
            shared_down = [self.shared[i] for i in down if i in self.shared]
            candidates = [self.shared[i] for i in self.shared if i not in down]
            found = [(0, usable)]
            best = int(np.bincount(self.copy_db, weights=usable, minlength=self.n_db).min())
            searched = 0
            k = 1
            while k < best and math.comb(len(candidates), k) + searched <= _MAX_SEARCH:
                for extra in itertools.combinations(candidates, k):
                    searched += 1
                    usable_here = self._server_ok(frozenset((*shared_down, *extra)))[self.copy_server] & local_up
                    need = int(np.bincount(self.copy_db, weights=usable_here, minlength=self.n_db).min())
                    if k + need <= best:
                        best = k + need
                        found.append((k, usable_here))
                k += 1
            critical: set[int] = set()
            for size, usable_here in found:
                counts = np.bincount(self.copy_db, weights=usable_here, minlength=self.n_db)
                closest = np.flatnonzero(size + counts == best)
                if len(closest):
                    critical.update(np.flatnonzero(usable_here & np.isin(self.copy_db, closest)).tolist())
            answer = (best, frozenset(critical))
        if len(self.distance_memo) > 500_000:
            self.distance_memo.clear()
        self.distance_memo[down] = answer
        return answer

    def eligible(self, down: frozenset[int]) -> tuple[int, ...]:
        """Components whose failure brings an outage one failure closer (biasing targets)."""
        hit = self.eligible_memo.get(down)
        if hit is not None:
            return hit
        now, critical = self._search(down)
        if now == 0:
            found: tuple[int, ...] = ()
        else:
            # A copy's own component shortens the distance exactly when the copy is one a
            # closest outage still needs to lose; a shared one is tried.
            local = {i for c in critical for i in self.model.copy_local[c] if i not in down}
            shared = {i for i in self.shared if i not in down and self.distance(down | {i}) < now}
            found = tuple(sorted(local | shared))
        if len(self.eligible_memo) > 500_000:
            self.eligible_memo.clear()
        self.eligible_memo[down] = found
        return found

    def failover_seconds(self, cause: int, down: frozenset[int]) -> float:
        pairs = {self.shared[i] for i in down if i in self.shared}
        if any(server not in pairs and site not in pairs for server, site in self.peers[cause]):
            return self.seconds_peer[cause]
        return self.seconds_alone[cause]


class _Walk:
    """What is down, and the crews' first-in-first-out queue, during one cycle."""

    __slots__ = ("crewed", "crews", "down", "in_repair", "process", "steps", "waiting")

    def __init__(self, process: _Process) -> None:
        self.process = process
        self.crewed = process.crewed
        self.crews = process.crews
        self.down: set[int] = set()
        self.waiting: list[int] = []
        self.in_repair = 0
        self.steps = 0

    def rates_of_next_step(self) -> tuple[float, list[int], float]:
        """Count one more step (a cycle is bounded) and return :meth:`rates`."""
        self.steps += 1
        if self.steps > _MAX_STEPS_PER_CYCLE:
            raise RuntimeError("a cycle did not end within 100,000 steps; the repair rates are too low")
        return self.rates()

    def fail(self, i: int) -> None:
        self.down.add(i)
        if self.crewed[i] and self.crews is not None:
            if self.in_repair < self.crews:
                self.in_repair += 1
            else:
                self.waiting.append(i)

    def repair(self, i: int) -> None:
        self.down.discard(i)
        if self.crewed[i] and self.crews is not None:
            if self.waiting:
                self.waiting.pop(0)  # the freed crew takes the first in line
            else:
                self.in_repair -= 1

    def rates(self) -> tuple[float, list[int], float]:
        """(total failure rate, components under repair, total repair rate)."""
        process = self.process
        lam, mu = process.lam_list, process.mu_list
        failure_total = process.total_failure - sum(lam[i] for i in self.down)
        repairing = [i for i in self.down if i not in self.waiting] if self.waiting else list(self.down)
        return failure_total, repairing, sum(mu[i] for i in repairing)

    def natural(self, rng, failure_total: float, repairing: list[int], repair_total: float) -> tuple[bool, int]:
        """A step of the true process: (is a failure, component)."""
        total = failure_total + repair_total
        draw = rng.random() * total
        if draw < failure_total:
            return True, _pick_failure(self.process, rng, self.down, failure_total)
        draw -= failure_total
        for i in repairing:
            draw -= self.process.mu_list[i]
            if draw < 0:
                return False, i
        return False, repairing[-1]


def _biased_cycle(process: _Process, rng: np.random.Generator, bias: float):
    """One cycle under failure-distance biasing: (weighted downtime, weighted outage starts) per database.

    While no database is down, each step is, with chance ``bias``, the failure of a component
    drawn uniformly from those that bring an outage one failure closer, and otherwise a step
    of the true process (a defensive mixture: every true step stays possible and each step's
    likelihood ratio is at most 1 / (1 - bias)). Once a database is down the walk is the true
    process until everything is repaired.
    """
    lam, mu = process.lam_list, process.mu_list
    walk = _Walk(process)
    weight = 1.0
    downtime = np.zeros(process.n_db)
    outages = np.zeros(process.n_db)
    _, up_before = process.state(frozenset())
    if not up_before.all():
        downtime += (~up_before) / process.total_failure
    while True:
        key = frozenset(walk.down)
        if walk.steps:
            _, up = process.state(key)
            if not up.all():
                outages += weight * (up_before & ~up)
            up_before = up
            if not walk.down:
                break
        failure_total, repairing, repair_total = walk.rates_of_next_step()
        total = failure_total + repair_total
        if walk.steps > 1 and not up_before.all():
            downtime += weight * (~up_before) / total
        targets = process.eligible(key) if up_before.all() else ()
        if targets and rng.random() < bias:
            failing, cause = True, targets[int(rng.integers(len(targets)))]
        else:
            failing, cause = walk.natural(rng, failure_total, repairing, repair_total)
        if targets:
            true = (lam[cause] if failing else mu[cause]) / total
            chance = (1 - bias) * true + (bias / len(targets) if failing and cause in targets else 0.0)
            weight *= true / chance
        if failing:
            walk.fail(cause)
        else:
            walk.repair(cause)
    return downtime, outages


def _natural_cycle(process: _Process, rng: np.random.Generator):
    """One cycle of the true process: (length, failover seconds per database, failovers per database)."""
    walk = _Walk(process)
    length = 1.0 / process.total_failure
    failover_time = np.zeros(process.n_db)
    failovers = np.zeros(process.n_db)
    usable, up_before = process.state(frozenset())
    active = _best(process, usable)
    cause = _pick_failure(process, rng, walk.down, process.total_failure)
    walk.fail(cause)
    while True:
        key = frozenset(walk.down)
        usable, up = process.state(key)
        active, time, count = _follow(process, active, usable, up, up_before, cause, key)
        if time is not None:
            failover_time += time
            failovers += count
        up_before = up
        if not walk.down:
            break
        failure_total, repairing, repair_total = walk.rates_of_next_step()
        length += 1.0 / (failure_total + repair_total)
        failing, cause = walk.natural(rng, failure_total, repairing, repair_total)
        if failing:
            walk.fail(cause)
        else:
            walk.repair(cause)
    return length, failover_time, failovers


def _pick_failure(process: _Process, rng, down: set[int], failure_total: float) -> int:
    """A failing component, in proportion to the failure rates of those that are up."""
    # Draw among all components and redraw a down one: the same law, and cheap while few
    # are down (the usual case); after many redraws, walk the list instead.
    for _ in range(64):
        i = int(np.searchsorted(process.cumulative, rng.random() * process.total_failure, side="right"))
        i = min(i, process.n - 1)
        if i not in down:
            return i
    draw = rng.random() * failure_total
    lam = process.lam_list
    for i in range(process.n):
        if i in down:
            continue
        draw -= lam[i]
        if draw < 0:
            return i
    return max(i for i in range(process.n) if i not in down)


def _best(process: _Process, usable: np.ndarray) -> np.ndarray:
    """Per database, its usable copy with the best activation preference (-1 if none)."""
    rank = np.where(usable, process.rank, np.inf)
    out = np.full(process.n_db, -1, dtype=np.intp)
    best = np.full(process.n_db, np.inf)
    for c in np.flatnonzero(usable):
        d = process.copy_db[c]
        if rank[c] < best[d]:
            best[d] = rank[c]
            out[d] = c
    return out


def _follow(process: _Process, active, usable, up, up_before, cause: int, down: frozenset[int]):
    """Move each database whose active copy became unusable; failover and outage-end seconds."""
    lost = [d for d, a in enumerate(active) if a < 0 or not usable[a]]
    if not lost:
        return active, None, None
    time = np.zeros(process.n_db)
    count = np.zeros(process.n_db)
    best = _best(process, usable)
    for d in lost:
        if not up[d]:
            active[d] = -1
            continue
        if active[d] >= 0 and up_before[d]:
            time[d] += process.failover_seconds(cause, down)
            count[d] += 1
        active[d] = best[d]
    return active, time, count


class _Sums:
    """Running sums of cycle figures (so a study keeps no per-cycle arrays)."""

    def __init__(self, n_db: int) -> None:
        z = lambda: np.zeros(n_db)  # noqa: E731
        self.n = 0
        self.x, self.x2, self.d, self.d2, self.o = z(), z(), z(), z(), z()
        self.dag_x = self.dag_x2 = self.dag_d = self.dag_d2 = 0.0
        self.largest = 0.0
        self.m = 0
        self.t = self.t2 = 0.0
        self.f, self.f2, self.ft, self.k = z(), z(), z(), z()
        self.dag_f = self.dag_f2 = self.dag_ft = 0.0


def _batch(process: _Process, seed: int, batch: int, cycles: int, bias: float, outage_end: float, sums: _Sums) -> None:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(RARE_STREAM, batch))))
    for _ in range(cycles):
        downtime, outages = _biased_cycle(process, rng, bias)
        x = downtime + outage_end * outages
        sums.n += 1
        sums.x += x
        sums.x2 += x * x
        sums.d += downtime
        sums.d2 += downtime * downtime
        sums.o += outages
        dx, dd = float(x.mean()), float(downtime.mean())
        sums.dag_x += dx
        sums.dag_x2 += dx * dx
        sums.dag_d += dd
        sums.dag_d2 += dd * dd
        sums.largest = max(sums.largest, dd)
    for _ in range(max(cycles // UNBIASED_SHARE, 1)):
        length, failover_time, failovers = _natural_cycle(process, rng)
        sums.m += 1
        sums.t += length
        sums.t2 += length * length
        sums.f += failover_time
        sums.f2 += failover_time * failover_time
        sums.ft += failover_time * length
        sums.k += failovers
        df = float(failover_time.mean())
        sums.dag_f += df
        sums.dag_f2 += df * df
        sums.dag_ft += df * length


def _ratio(x, x2, n, f, f2, ft, t, t2, m) -> RareEstimate:
    """U = (mean X + mean F) / mean T, X from n biased cycles, (F, T) from m unbiased ones."""
    mean_t = t / m
    mean_x = x / n
    mean_f = f / m
    if mean_x + mean_f <= 0:
        return RareEstimate(None, 0.0, math.nan)
    u = (mean_x + mean_f) / mean_t
    var_x = max(x2 / n - mean_x**2, 0.0) * n / max(n - 1, 1) / n
    var_t = max(t2 / m - mean_t**2, 0.0)
    var_f = max(f2 / m - mean_f**2, 0.0)
    cov_ft = ft / m - mean_f * mean_t
    var_ft = max(var_f + u * u * var_t - 2 * u * cov_ft, 0.0) * m / max(m - 1, 1) / m
    # X̄ and the crude part come from independent cycles; the crude part's own ratio term
    # uses F - U T, whose variance includes the cycle length's.
    half = _Z95 * math.sqrt(var_x + var_ft) / mean_t
    return RareEstimate(u, max(u - half, 0.0), u + half)


def rare_availability(
    scenario,
    *,
    seed: int | None = None,
    precision: float = DEFAULT_PRECISION,
    max_cycles: int = DEFAULT_MAX_CYCLES,
    failure_bias: float = FAILURE_BIAS,
    progress=None,
) -> RareResult:
    """Importance-sampling estimate of each database's unavailability under ``scenario``'s failures.

    Runs batches of :data:`CYCLES_PER_BATCH` biased and as many unbiased cycles until the
    DAG's relative half-width is at most ``precision`` or ``max_cycles`` biased cycles ran.
    ``progress(cycles, planned, estimate)`` is called after each batch. Raises
    :class:`~dagsim.availability.structure.NotMarkovian` for models it cannot express.
    """
    if not 0 < failure_bias < 1:
        raise ValueError("failure_bias is a probability strictly between 0 and 1")
    if not 0 < max_cycles <= MAX_RARE_CYCLES:
        raise ValueError(f"max_cycles must be between 1 and {MAX_RARE_CYCLES:,}")
    model = FailureModel.from_scenario(scenario)
    if not model.components:
        raise ValueError("no component of the failure model fails: nothing to sample")
    seed = scenario.run.seed if seed is None else seed
    process = _Process(scenario, model)
    outage_end = process.outage_end
    sums = _Sums(process.n_db)
    batch = 0
    planned = max_cycles
    dag = RareEstimate(None, 0.0, math.nan)
    while sums.n < max_cycles:
        size = min(CYCLES_PER_BATCH, max_cycles - sums.n)
        _batch(process, seed, batch, size, failure_bias, outage_end, sums)
        batch += 1
        dag = _ratio(sums.dag_x, sums.dag_x2, sums.n, sums.dag_f, sums.dag_f2, sums.dag_ft, sums.t, sums.t2, sums.m)
        rare_part = _ratio(sums.dag_d, sums.dag_d2, sums.n, 0.0, 0.0, 0.0, sums.t, sums.t2, sums.m)
        if progress is not None:
            progress(sums.n, planned, dag)
        # Both the rare part and the whole must be precise: the failovers are estimated
        # from the unbiased cycles, the outages from the biased ones.
        worst = max(dag.relative_error, rare_part.relative_error)
        if worst <= precision and sums.n >= MIN_CYCLES:
            break
    n, m = sums.n, sums.m
    per_db = [
        _ratio(sums.x[d], sums.x2[d], n, sums.f[d], sums.f2[d], sums.ft[d], sums.t, sums.t2, m)
        for d in range(process.n_db)
    ]
    structural = [_ratio(sums.d[d], sums.d2[d], n, 0.0, 0.0, 0.0, sums.t, sums.t2, m) for d in range(process.n_db)]
    dag_structural = _ratio(sums.dag_d, sums.dag_d2, n, 0.0, 0.0, 0.0, sums.t, sums.t2, m)
    mean_t = sums.t / m
    effective = sums.dag_d**2 / sums.dag_d2 if sums.dag_d2 > 0 else 0.0
    share = sums.largest / sums.dag_d if sums.dag_d > 0 else 0.0
    warnings = []
    if sums.dag_d <= 0:
        warnings.append(f"no biased cycle met an outage in {n:,} cycles: no estimate (raise --max-cycles)")
    elif effective < MIN_EFFECTIVE_CYCLES or share > MAX_CYCLE_SHARE:
        warnings.append(
            f"the importance weights have degenerated: the estimate rests on about {effective:,.0f} effective cycles "
            f"and one cycle holds {share:.0%} of it; the interval may be too narrow (raise --max-cycles)"
        )
    worst = max(dag.relative_error, dag_structural.relative_error)
    if worst > precision and sums.dag_d > 0:
        warnings.append(f"precision {precision:g} not reached in {n:,} cycles (relative error {worst:.3g})")
    return RareResult(
        scenario=scenario.name,
        seed=seed,
        cycles=n,
        failure_bias=failure_bias,
        precision=precision,
        databases=model.databases,
        unavailability=tuple(per_db),
        structural=tuple(structural),
        outages_per_year=tuple(float(o) for o in sums.o / n / mean_t * YEAR),
        failovers_per_year=tuple(float(k) for k in sums.k / m / mean_t * YEAR),
        dag=dag,
        dag_structural=dag_structural,
        effective_cycles=float(effective),
        largest_share=float(share),
        mean_cycle=float(mean_t),
        warnings=tuple(warnings),
    )
