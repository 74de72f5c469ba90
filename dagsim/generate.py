"""`dagsim new`: a valid, commented scenario laid out like Microsoft's preferred architecture.

Databases are homed in turn in each datacenter; each database keeps about half its copies
(preference 1 first) in its home datacenter and the rest in the others, and each server is
preference 1 for the same number of databases (± 1), with its second copies spread over the
other servers of its datacenter, so a failed server's databases fail over to several
servers (*Exchange Server 2013 preferred architecture*). Lagged copies take the highest
preferences. The text is built here and checked by the ordinary loader before anyone sees it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from dagsim.config.schema import MAX_COPIES, MAX_MEMBERS
from dagsim.config.units import parse_bandwidth

__all__ = ["MAX_COPIES_PER_SERVER", "MAX_GENERATED_DATABASES", "CopyPlacement", "NewScenarioError", "new_scenario_text"]

MAX_COPIES_PER_SERVER = 100
"""Exchange 2013 Enterprise edition supports at most 100 databases per server, active and
passive copies alike, from CU2 on (50 before; Exchange Team Blog, *Per-Server Database
Limits Explained*, June 2013)."""
MAX_GENERATED_DATABASES = MAX_COPIES_PER_SERVER * MAX_MEMBERS
LAG = "7d"  # the preferred architecture's lagged copy
WAN_LATENCY_MS = 20
WITNESS_LINK = "100Mbps"
WITNESS_LATENCY_MS = 30


class NewScenarioError(ValueError):
    """A combination of `dagsim new` options that no valid scenario has; names the option."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option


@dataclass(frozen=True)
class CopyPlacement:
    """Where every copy of every database goes: per database, (server, preference, lagged)."""

    sites: tuple[str, ...]
    servers: tuple[tuple[str, str], ...]  # (name, site)
    copies: tuple[tuple[tuple[str, int, bool], ...], ...]


def plan_layout(*, sites: int, servers: int, databases: int, copies: int, lagged: int) -> CopyPlacement:
    """Balanced placement of ``databases`` × ``copies`` over ``servers`` in ``sites`` datacenters."""
    _check(sites=sites, servers=servers, databases=databases, copies=copies, lagged=lagged)
    site_names = tuple(f"DC{s + 1}" for s in range(sites))
    by_site: list[list[str]] = [[] for _ in range(sites)]
    for index in range(servers):
        site = index % sites
        by_site[site].append(f"{site_names[site]}-MBX{len(by_site[site]) + 1:02d}")
    server_list = tuple((name, site_names[s]) for s in range(sites) for name in by_site[s])
    load = {name: 0 for name, _ in server_list}
    homed = [0] * sites
    placed = []
    for d in range(databases):
        home = d % sites
        rank = homed[home]
        homed[home] += 1
        per_site = _copies_per_site(copies, sites, home)
        chosen: list[str] = []
        for site, count in per_site:
            pool = by_site[site]
            # Remote copies start half a site away, off the servers the other datacenter's
            # databases of the same rank use as preference 1.
            base = (rank + (0 if site == home else len(pool) // 2)) % len(pool)
            # The second copy of a server's databases moves round the other servers of the site.
            stride = 1 + (rank // len(pool)) % max(len(pool) - 1, 1)
            for m in range(count):
                index = (base + m * stride) % len(pool)
                while pool[index] in chosen:
                    index = (index + 1) % len(pool)
                chosen.append(pool[index])
        for name in chosen:
            load[name] += 1
        placed.append(
            tuple((name, preference, preference > copies - lagged) for preference, name in enumerate(chosen, 1))
        )
    busiest = max(load.values())
    if busiest > MAX_COPIES_PER_SERVER:
        raise NewScenarioError(
            "--databases",
            f"{databases} databases x {copies} copies put {busiest} copies on one server; Exchange 2013 mounts "
            f"at most {MAX_COPIES_PER_SERVER} databases per server: add servers or use fewer databases",
        )
    return CopyPlacement(site_names, server_list, tuple(placed))


def _copies_per_site(copies: int, sites: int, home: int) -> list[tuple[int, int]]:
    """(site, copies there) starting at the home site: about half the copies at home."""
    order = [(home + k) % sites for k in range(sites)]
    if sites == 1:
        return [(home, copies)]
    at_home = math.ceil(copies / 2)
    rest = copies - at_home
    others = sites - 1
    counts = [at_home] + [rest // others + (1 if k < rest % others else 0) for k in range(others)]
    return [(site, count) for site, count in zip(order, counts, strict=True) if count]


def _check(*, sites: int, servers: int, databases: int, copies: int, lagged: int) -> None:
    if not 1 <= servers <= MAX_MEMBERS:
        raise NewScenarioError("--servers", f"a DAG has 1 to {MAX_MEMBERS} mailbox servers, got {servers}")
    if not 1 <= sites <= servers:
        raise NewScenarioError("--sites", f"needs 1 to {servers} sites (one server at least in each), got {sites}")
    if not 1 <= databases <= MAX_GENERATED_DATABASES:
        raise NewScenarioError("--databases", f"needs 1 to {MAX_GENERATED_DATABASES} databases, got {databases}")
    if not 1 <= copies <= min(servers, MAX_COPIES):
        raise NewScenarioError(
            "--copies", f"each copy needs its own server: 1 to {min(servers, MAX_COPIES)} copies here, got {copies}"
        )
    if sites > 1 and copies < 2:
        raise NewScenarioError("--copies", "a DAG over several sites needs at least 2 copies per database")
    if not 0 <= lagged < copies:
        raise NewScenarioError(
            "--lagged", f"0 to {copies - 1} lagged copies (the preference-1 copy is never lagged), got {lagged}"
        )


def new_scenario_text(
    *,
    name: str = "new-dag",
    sites: int = 2,
    servers: int = 8,
    databases: int = 40,
    copies: int = 4,
    lagged: int = 1,
    mailboxes: int = 500,
    wan: str = "1Gbps",
    witness_site: bool = True,
) -> str:
    """The scenario's YAML text, commented; :class:`NewScenarioError` for impossible options."""
    layout = plan_layout(sites=sites, servers=servers, databases=databases, copies=copies, lagged=lagged)
    wan = wan.strip()
    try:
        float(wan)
    except ValueError:
        pass
    else:
        raise NewScenarioError("--wan", f"write a unit: {wan} alone would be bits per second; e.g. {wan}Mbps")
    try:
        parse_bandwidth(wan)
    except ValueError as error:
        raise NewScenarioError("--wan", str(error)) from None
    if not 0 <= mailboxes <= 1_000_000:
        raise NewScenarioError("--mailboxes", f"needs 0 to 1,000,000 mailboxes per database, got {mailboxes}")
    third = witness_site and sites > 1
    site_lines = [f"  - {{name: {s}, description: datacenter}}" for s in layout.sites]
    witness_site_name = f"DC{sites + 1}" if third else layout.sites[0]
    if third:
        site_lines.append(f"  - {{name: {witness_site_name}, description: third site; hosts only the file share witness}}")
    links = [
        f"  - {{name: WAN-{a}-{b}, sites: [{a}, {b}], bandwidth: {wan}, latency: {WAN_LATENCY_MS}ms}}"
        for i, a in enumerate(layout.sites)
        for b in layout.sites[i + 1 :]
    ]
    if third:
        links += [
            f"  - {{name: WAN-{s}-{witness_site_name}, sites: [{s}, {witness_site_name}], "
            f"bandwidth: {WITNESS_LINK}, latency: {WITNESS_LATENCY_MS}ms}}"
            for s in layout.sites
        ]
    lines = [
        *_header(layout, name=name, copies=copies, lagged=lagged, mailboxes=mailboxes, wan=wan, third=third),
        f"name: {_yaml_text(name)}",
        "",
        "sites:",
        *site_lines,
        "",
        "networks:",
        "  - {name: MapiNetwork, type: mapi}   # the PA: one network for clients and replication",
        "",
    ]
    if links:
        lines += ["links:", *links, ""]
    lines += [
        "dag:",
        "  name: DAG1",
        f"  witness: {{host: {witness_site_name}-FSW01, site: {witness_site_name}}}",
    ]
    if sites > 1:
        lines += [
            f"  alternate_witness: {{host: {layout.sites[1]}-FSW01, site: {layout.sites[1]}}}",
            "  datacenter_activation_mode: dag_only   # DAC: a returning datacenter mounts nothing alone",
        ]
    lines += ["", "servers:", *(f"  - {{name: {n}, site: {s}}}" for n, s in layout.servers), "", "databases:"]
    width = max(3, len(str(databases)))
    for index, placed in enumerate(layout.copies, 1):
        lines += [f"  - name: DB{index:0{width}d}", f"    mailboxes: {mailboxes}", "    copies:"]
        for server, preference, is_lagged in placed:
            lag = f", replay_lag_time: {LAG}" if is_lagged else ""
            lines.append(f"      - {{server: {server}, activation_preference: {preference}{lag}}}")
    lines += ["", "run:", "  duration: 1d", "  seed: 1", "  sample_interval: 5m", ""]
    return "\n".join(lines)


def _yaml_text(text: str) -> str:
    """``text`` as a YAML scalar: bare when plain, else a quoted (JSON) string."""
    return text if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\- ]*[A-Za-z0-9_.\-]|[A-Za-z0-9]", text) else json.dumps(text)


def _header(layout: CopyPlacement, *, name, copies, lagged, mailboxes, wan, third) -> list[str]:
    sites, servers, databases = len(layout.sites), len(layout.servers), len(layout.copies)
    lines = [
        f"# {name.splitlines()[0] if name.strip() else 'scenario'}: generated by `dagsim new`, laid out like Microsoft's Exchange 2013 preferred",
        "# architecture (PA). Edit freely; `dagsim validate` checks the result.",
        "#",
        f"# {sites} datacenter(s), {servers} mailbox servers, {databases} databases x {copies} copies"
        + (f" ({lagged} lagged {LAG})" if lagged else "")
        + f", {mailboxes} mailboxes each.",
        "# Databases are homed in turn in each datacenter, with about half their copies (preference",
        "# 1 first) at home and the rest in the other datacenter(s); every server is preference 1",
        "# for the same number of databases (+-1), and a server's second copies are spread over the",
        "# other servers of its datacenter. Lagged copies take the highest preferences.",
    ]
    if sites > 1:
        lines += [
            "#",
            f"# WAN links: {wan} each way, {WAN_LATENCY_MS} ms one way. Size them with `dagsim run` (copy",
            "# queues behind each link) rather than by the peak hour alone.",
            "# The witness is "
            + ("in a third site, as the PA recommends." if third else f"in {layout.sites[0]}, the primary datacenter."),
        ]
    return [*lines, ""]
