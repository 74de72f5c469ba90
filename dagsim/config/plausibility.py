"""Plausibility warnings: values that are valid but almost certainly not what was meant.

They are not errors: ``dagsim validate`` prints them and goes on, ``--strict`` refuses them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from dagsim.config.errors import Loc, Problem, format_path
from dagsim.config.loader import Marks
from dagsim.config.schema import Scenario
from dagsim.config.units import format_duration

__all__ = ["MAX_ONE_WAY_LATENCY", "plausibility_warnings"]

# Exchange 2013 supports at most 500 ms round trip between DAG members (Planning for high
# availability and site resilience), so 250 ms one way.
MAX_ONE_WAY_LATENCY = 0.250
_BANDWIDTH_KEYS = frozenset({"bandwidth", "nic_bandwidth", "seeding_rate"})


def plausibility_warnings(scenario: Scenario, marks: Marks, filename: str) -> list[Problem]:
    """Every warning for `scenario`, located through `marks`, in file order."""
    found = [*_bare_numbers(scenario, marks), *_latencies(scenario), *_detours(scenario), *_sites(scenario)]
    warnings, seen = [], set()
    for loc, message in found:
        if loc in seen:
            continue  # one warning per value: a bare `latency: 20` is a typo first, a long link second
        seen.add(loc)
        where = marks.value(loc)
        warnings.append(Problem(filename, where.line, where.column, format_path(loc), f"warning: {message}"))
    return sorted(dict.fromkeys(warnings), key=lambda p: (p.line, p.column))


def _bare_numbers(scenario: Scenario, marks: Marks) -> Iterator[tuple[Loc, str]]:
    # A bare number is in the base unit: bits per second, seconds. Small ones are typos.
    for loc, text in marks.typed_text.items():
        key = loc[-1] if loc else None
        number = _number(text)
        if key in _BANDWIDTH_KEYS and number is not None and number < 100_000:
            yield loc, f"a bare number is bits per second: {key}: {text} is {text} bit/s; write a unit, e.g. {text}Mbps"
        elif key == "latency" and (value := _number(text)) is not None and value >= 1:
            yield loc, f"a bare number is seconds: latency: {text} is {format_duration(value)} one way; write a unit, e.g. {text}ms"
        elif loc == ("run", "duration") and (value := _number(text)) is not None and value < 3600:
            yield loc, f"a bare number is seconds: duration: {text} is {format_duration(value)}; write a unit, e.g. {text}h"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.4g}ms"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _latencies(scenario: Scenario) -> Iterator[tuple[Loc, str]]:
    for index, link in enumerate(scenario.links):
        if link.latency > MAX_ONE_WAY_LATENCY:
            yield ("links", index, "latency"), (
                f"{_ms(link.latency)} one way is {_ms(2 * link.latency)} round trip; "
                "Exchange 2013 supports at most 500ms round trip between DAG members"
            )


def _detours(scenario: Scenario) -> Iterator[tuple[Loc, str]]:
    # Routes take the lowest one-way latency (docs/scenario-reference.md), so a slow direct link can be
    # bypassed through a third site whose links then carry the traffic too.
    direct: dict[frozenset[str], tuple[int, float]] = {}
    for index, link in enumerate(scenario.links):
        pair = frozenset(site.lower() for site in link.sites)
        if pair not in direct or link.latency < direct[pair][1]:
            direct[pair] = (index, link.latency)
    site_of = {s.name.lower(): s.site.lower() for s in scenario.servers}
    spelled = {s.name.lower(): s.name for s in scenario.sites}
    pairs: set[frozenset[str]] = set()
    for database in scenario.databases:
        sites = sorted({site_of[c.server.lower()] for c in database.copies if c.server.lower() in site_of})
        pairs.update(frozenset((a, b)) for i, a in enumerate(sites) for b in sites[i + 1:])
    # Any other route from a to b leaves a over another of a's links and reaches b over
    # another of b's: when those two alone are slower than the direct link, it is the route.
    # That settles most DAGs without building a graph (and importing networkx at start-up).
    pairs = {pair for pair in pairs & direct.keys() if _detour_bound(pair, direct) <= direct[pair][1]}
    if not pairs:
        return
    import networkx as nx

    graph = nx.Graph()
    for index, _ in direct.values():
        link = scenario.links[index]
        a, b = (site.lower() for site in link.sites)
        graph.add_edge(a, b, latency=link.latency, name=link.name)
    for pair in sorted(pairs, key=sorted):
        a, b = sorted(pair)
        path = nx.shortest_path(graph, a, b, weight="latency")
        if len(path) <= 2:
            continue
        index, latency = direct[pair]
        hops = [graph.edges[u, v]["name"] for u, v in itertools.pairwise(path)]
        total = sum(graph.edges[u, v]["latency"] for u, v in itertools.pairwise(path))
        yield ("links", index, "latency"), (
            f"log shipping between {spelled[a]} and {spelled[b]} goes through "
            f"{' → '.join(spelled[site] for site in path)} over {', '.join(hops)} ({_ms(total)} one way), "
            f"not over {scenario.links[index].name} ({_ms(latency)}): routes take the lowest latency, "
            "so those links carry this traffic too"
        )


def _detour_bound(pair: frozenset[str], direct: dict[frozenset[str], tuple[int, float]]) -> float:
    """The least latency a route between the pair's sites other than their direct link can have."""
    a, b = sorted(pair)
    first = [latency for other, (_, latency) in direct.items() if a in other and other != pair]
    last = [latency for other, (_, latency) in direct.items() if b in other and other != pair]
    return min(first, default=math.inf) + min(last, default=math.inf)


def _sites(scenario: Scenario) -> Iterator[tuple[Loc, str]]:
    site_of = {s.name.lower(): s.site for s in scenario.servers}
    member_sites = {site_of[name.lower()].lower() for name in scenario.member_names if name.lower() in site_of}
    if len(member_sites) < 2:
        return  # a single-site DAG: nothing to say about site resilience
    for index, database in enumerate(scenario.databases):
        sites = {site_of.get(copy.server.lower(), "") for copy in database.copies}
        if len(database.copies) > 1 and len(sites) == 1:
            yield ("databases", index, "copies"), (
                f"every copy of {database.name} is in site {next(iter(sites))}; "
                "the DAG spans several sites, but losing that site loses the database"
            )
    witness = scenario.dag.witness
    if witness is not None and witness.site.lower() in member_sites:
        yield ("dag", "witness", "site"), (
            f"the witness is in {witness.site}, with DAG members: losing {witness.site} loses quorum in the "
            "other sites too (Microsoft recommends a third site for the witness where one exists, else the "
            "primary datacenter)"
        )
