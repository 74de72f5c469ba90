"""How many copies does each database need for an availability target?

:func:`size_copies` tries 1, 2, ... copies per database (the same number for every
database) on the scenario's servers and failure model, and answers with the fewest that
meet the target. Each count is judged by the best method that applies: the exact Markov
model, importance sampling when the chain is too large, crude Monte Carlo when the laws are
not exponential (or, with ``fast=True``, fast Monte Carlo: :mod:`dagsim.availability.fast`). An estimate *meets* the target when its whole interval is below the
allowed unavailability, *misses* when its whole interval is above, and is *uncertain*
otherwise; the answer says so rather than guess.

Placement (*assumption*, documented in docs/sizing.md): with fewer copies than the scenario
lists, a database keeps its best activation preferences; with more, each new copy goes to a
server without one, in the site with the fewest copies of that database, then on the
server with the fewest copies overall, in scenario order.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagsim.config.schema import CopySpec, DatabaseSpec, Scenario

__all__ = ["WITNESS_SITE", "CopiesPoint", "CopiesSizing", "size_copies", "with_copies", "with_witness_in_third_site"]


@dataclass(frozen=True, slots=True)
class CopiesPoint:
    """One copy count: the DAG's unavailability by one method, and the verdict."""

    copies: int
    method: str
    unavailability: float | None
    low: float
    high: float
    verdict: str
    """``meets``, ``misses`` or ``uncertain``."""


@dataclass(frozen=True)
class CopiesSizing:
    target: float
    """Availability target as a fraction (0.99999 for five nines)."""
    points: tuple[CopiesPoint, ...]
    third_site: tuple[CopiesPoint, ...] = ()
    """The same counts with the file share witness moved to a third site (when it sits in a
    datacenter that holds members): whether a third site changes the answer."""
    lagged: CopiesPoint | None = None
    """With ``lagged`` given: the answer's count (or the largest tried) with its last copy
    lagged, by crude Monte Carlo (the Markov model leaves lagged copies out)."""
    lag: float | None = None

    @property
    def third_site_answer(self) -> int | None:
        return next((p.copies for p in self.third_site if p.verdict == "meets"), None)

    @property
    def allowed(self) -> float:
        return 1 - self.target

    @property
    def answer(self) -> int | None:
        """The fewest copies that meet the target (None if no count tried does)."""
        return next((p.copies for p in self.points if p.verdict == "meets"), None)

    @property
    def certain(self) -> bool:
        """False when a smaller count than the answer is uncertain at this precision."""
        answer = self.answer
        return all(p.verdict != "uncertain" for p in self.points if answer is None or p.copies < answer)


def with_copies(scenario: Scenario, n: int) -> Scenario:
    """``scenario`` with ``n`` copies of every database (see the module's placement rule)."""
    servers = [s.name for s in scenario.servers if s.name in scenario.member_names]
    if not 1 <= n <= len(servers):
        raise ValueError(f"copies must be between 1 and {len(servers)} (one per DAG member)")
    site_of = {s.name: s.site for s in scenario.servers}
    load = dict.fromkeys(servers, 0)
    databases: list[tuple[DatabaseSpec, list[CopySpec]]] = []
    for database in scenario.databases:
        kept = sorted(database.copies, key=lambda c: c.activation_preference)[:n]
        for copy in kept:
            load[copy.server] = load.get(copy.server, 0) + 1
        databases.append((database, kept))
    for database, kept in databases:
        while len(kept) < n:
            used = {c.server for c in kept}
            per_site: dict[str, int] = {}
            for c in kept:
                per_site[site_of[c.server]] = per_site.get(site_of[c.server], 0) + 1
            free = [s for s in servers if s not in used]
            chosen = min(free, key=lambda s: (per_site.get(site_of[s], 0), load[s], servers.index(s)))
            load[chosen] += 1
            template = kept[-1] if kept else database.copies[0]
            kept.append(template.model_copy(update={"server": chosen, "replay_lag_time": 0.0}))
    new = []
    for database, kept in databases:
        renumbered = tuple(c.model_copy(update={"activation_preference": i + 1}) for i, c in enumerate(kept))
        new.append(database.model_copy(update={"copies": renumbered}))
    return scenario.model_copy(update={"databases": tuple(new)})


WITNESS_SITE = "WITNESS-SITE"
"""Name of the third site :func:`with_witness_in_third_site` adds."""


def with_witness_in_third_site(scenario: Scenario) -> Scenario | None:
    """The scenario with its witness moved to a new site linked to every site with members.

    None when that is not a change: no witness, one datacenter, or the witness already in a
    site without members. The new links copy the first existing link's bandwidth and latency
    (*assumption*); the failure model's ``sites`` and ``links`` classes apply to them too.
    """
    witness = scenario.dag.witness
    member_sites = [s.name for s in scenario.sites if any(m.site == s.name for m in scenario.servers if m.name in scenario.member_names)]
    if witness is None or len(member_sites) < 2 or witness.site not in member_sites:
        return None
    data = scenario.model_dump(mode="json", exclude_none=True)
    template = data["links"][0] if data.get("links") else {"bandwidth": 100e6 / 8, "latency": 0.02}
    data["sites"].append({"name": WITNESS_SITE, "description": "file share witness only (sizing alternative)"})
    for site in member_sites:
        link = {"name": f"WAN-{site}-{WITNESS_SITE}", "sites": [site, WITNESS_SITE],
                "bandwidth": template["bandwidth"], "latency": template["latency"]}  # fmt: skip
        data.setdefault("links", []).append(link)
    data["dag"]["witness"] = {"host": witness.host, "site": WITNESS_SITE}
    return Scenario.model_validate(data)


def _verdict(value: float | None, low: float, high: float, allowed: float) -> str:
    if value is not None and low == high:
        return "meets" if value <= allowed else "misses"
    if high <= allowed:
        return "meets"
    if low > allowed:
        return "misses"
    return "uncertain"


def size_copies(
    scenario: Scenario,
    target: float,
    *,
    max_copies: int = 8,
    seed: int | None = None,
    years: float = 100.0,
    precision: float = 0.1,
    lagged: float | None = None,
    progress=None,
    fast: bool = False,
) -> CopiesSizing:
    """Fewest copies per database meeting ``target`` availability (a fraction, e.g. 0.99999).

    Stops at the first count that meets it, or at ``max_copies`` (or the member count). When
    the witness sits in a datacenter with members, the same counts are judged again with it
    in a third site (:attr:`CopiesSizing.third_site`). With ``lagged`` (seconds) the
    answer's count is also judged with its last copy lagged by that much, by crude Monte Carlo
    over ``years`` (:attr:`CopiesSizing.lagged`). ``fast``: where neither Markov method
    applies, judge by fast Monte Carlo over ``years`` (copy queues left out, about a thousand
    times quicker) instead of the simulation; the lagged judgment stays with the simulation.
    """
    if not 0 < target < 1:
        raise ValueError("target is an availability between 0 and 1, e.g. 0.99999")
    if scenario.failures is None:
        raise ValueError("the scenario has no failures: block to size against")
    members = sum(1 for s in scenario.servers if s.name in scenario.member_names)
    allowed = 1 - target
    counts = range(1, min(max_copies, members) + 1)
    judge = _Judge(seed, years, precision, allowed, fast)
    points = []
    for n in counts:
        point = judge(with_copies(scenario, n), n)
        points.append(point)
        if progress is not None:
            progress(n)
        if point.verdict == "meets":
            break
    third = []
    moved = with_witness_in_third_site(scenario)
    if moved is not None:
        for n in range(1, points[-1].copies + 1):
            point = judge(with_copies(moved, n), n)
            third.append(point)
            if point.verdict == "meets":
                break
    lagged_point = None
    if lagged is not None:
        n = points[-1].copies
        if n < 2:
            raise ValueError("a lagged copy needs at least two copies per database")
        variant = with_copies(scenario, n)
        databases = tuple(
            d.model_copy(update={"copies": (*d.copies[:-1], d.copies[-1].model_copy(update={"replay_lag_time": lagged}))})
            for d in variant.databases
        )
        lagged_point = judge.crude(variant.model_copy(update={"databases": databases}), n)
    return CopiesSizing(
        target=target, points=tuple(points), third_site=tuple(third), lagged=lagged_point, lag=lagged
    )


class _Judge:
    """One copy count's unavailability by the first method that applies, and its verdict."""

    def __init__(self, seed, years, precision, allowed, fast=False) -> None:
        self.seed, self.years, self.precision, self.allowed = seed, years, precision, allowed
        self.fast = fast

    def __call__(self, variant: Scenario, n: int) -> CopiesPoint:
        from dagsim.availability.markov import exact_availability
        from dagsim.availability.rare import rare_availability
        from dagsim.availability.structure import NotMarkovian

        allowed = self.allowed
        try:
            u = exact_availability(variant).unavailability
            return CopiesPoint(n, "exact", u, u, u, _verdict(u, u, u, allowed))
        except NotMarkovian:
            pass
        try:
            d = rare_availability(variant, seed=self.seed, precision=self.precision).dag
            return CopiesPoint(n, "rare", d.value, d.low, d.high, _verdict(d.value, d.low, d.high, allowed))
        except NotMarkovian:
            pass
        if self.fast:
            from dagsim.availability.fast import NotFast

            try:
                return self.crude(variant, n, method="fast")
            except NotFast:
                pass
        return self.crude(variant, n)

    def crude(self, variant: Scenario, n: int, method: str = "simulation") -> CopiesPoint:
        from dagsim.availability.study import availability

        allowed = self.allowed
        name = "fast" if method == "fast" else "crude"
        head = availability(variant, years=self.years, seed=self.seed, client_outages=False, method=method).headline
        if head.value is None:
            return CopiesPoint(n, name, None, 0.0, float("nan"), "uncertain")
        return CopiesPoint(n, name, head.value, head.low, head.high, _verdict(head.value, head.low, head.high, allowed))
