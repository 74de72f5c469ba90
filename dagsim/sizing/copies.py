"""How many copies does each database need for an availability target?

:func:`size_copies` tries 1, 2, ... copies per database (the same number for every
database) on the scenario's servers and failure model, and answers with the fewest that
meet the target. Each count is judged by the best method that applies: the exact Markov
model, importance sampling when the chain is too large, crude Monte Carlo when the laws are
not exponential. An estimate *meets* the target when its whole interval is below the
allowed unavailability, *misses* when its whole interval is above, and is *uncertain*
otherwise; the answer says so rather than guess.

Placement (*assumption*, documented in docs/sizing.md): with fewer copies than the scenario
lists, a database keeps its best activation preferences; with more, each new copy goes to a
server without one, in the site with the fewest copies of that database, then on the
server with the fewest copies overall, in scenario order.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagsim.config.schema import Scenario

__all__ = ["CopiesPoint", "CopiesSizing", "size_copies", "with_copies"]


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
    databases = []
    for database in scenario.databases:
        kept = sorted(database.copies, key=lambda c: c.activation_preference)[:n]
        for copy in kept:
            load[copy.server] = load.get(copy.server, 0) + 1
        databases.append([database, kept])
    for entry in databases:
        database, kept = entry
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
    progress=None,
) -> CopiesSizing:
    """Fewest copies per database meeting ``target`` availability (a fraction, e.g. 0.99999).

    Stops at the first count that meets it, or at ``max_copies`` (or the member count).
    """
    from dagsim.availability.markov import exact_availability
    from dagsim.availability.rare import rare_availability
    from dagsim.availability.structure import NotMarkovian

    if not 0 < target < 1:
        raise ValueError("target is an availability between 0 and 1, e.g. 0.99999")
    if scenario.failures is None:
        raise ValueError("the scenario has no failures: block to size against")
    members = sum(1 for s in scenario.servers if s.name in scenario.member_names)
    allowed = 1 - target
    points = []
    for n in range(1, min(max_copies, members) + 1):
        variant = with_copies(scenario, n)
        try:
            exact = exact_availability(variant)
            u = exact.unavailability
            point = CopiesPoint(n, "exact", u, u, u, _verdict(u, u, u, allowed))
        except NotMarkovian as refusal:
            try:
                rare = rare_availability(variant, seed=seed, precision=precision)
                d = rare.dag
                point = CopiesPoint(n, "rare", d.value, d.low, d.high, _verdict(d.value, d.low, d.high, allowed))
            except NotMarkovian:
                from dagsim.availability.study import availability

                head = availability(variant, years=years, seed=seed, client_outages=False).headline
                if head.value is None:
                    point = CopiesPoint(n, "crude", None, 0.0, float("nan"), "uncertain")
                else:
                    point = CopiesPoint(n, "crude", head.value, head.low, head.high, _verdict(head.value, head.low, head.high, allowed))
            del refusal
        points.append(point)
        if progress is not None:
            progress(n)
        if point.verdict == "meets":
            break
    return CopiesSizing(target=target, points=tuple(points))
