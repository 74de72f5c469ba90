"""Semantic rules for a structurally valid scenario.

The schema checks each value on its own; the rules here check how values fit together
(references resolve, Exchange 2013 limits hold). Each finding is a ``(loc, message)``
pair, with ``loc`` in the same form as pydantic's, so the loader can point at the line.
Rules never stop at the first finding: every problem in a file is reported at once.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from dagsim.config.errors import Loc
from dagsim.config.failures import failure_findings
from dagsim.config.schema import (
    EDITION_DATABASE_LIMIT,
    MAX_COPIES,
    MAX_LAG,
    MAX_LOGS_PER_DAY,
    MAX_MEMBERS,
    MAX_PER_LOG_LOG_COPIES,
    MAX_SAMPLE_TIMES,
    MAX_SAMPLED_VALUES,
    Scenario,
)
from dagsim.config.units import format_duration

__all__ = ["Finding", "check_scenario", "per_log_log_copies", "sample_times", "sampled_values"]

Finding = tuple[Loc, str]
Rule = Callable[[Scenario], Iterable[Finding]]


def check_scenario(scenario: Scenario) -> list[Finding]:
    """Every rule violation in `scenario`; an empty list means it can be simulated."""
    return [finding for rule in _RULES for finding in rule(scenario)]


def _undefined(kind: str, name: str, known: Sequence[str]) -> str:
    message = f"{kind} {name!r} is not defined (references must resolve)"
    same_but_case = {k.casefold(): k for k in known}.get(name.casefold())
    close = [same_but_case] if same_but_case else difflib.get_close_matches(name, known, n=1)
    return f"{message}; did you mean {close[0]!r}?" if close else message


def _unique_names(scenario: Scenario) -> Iterator[Finding]:
    groups: dict[str, tuple[str, Sequence[Any]]] = {
        "site": ("sites", scenario.sites),
        "network": ("networks", scenario.networks),
        "link": ("links", scenario.links),
        "server": ("servers", scenario.servers),
        "database": ("databases", scenario.databases),
    }
    for kind, (field, items) in groups.items():
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            # Windows and Exchange names are case-insensitive: EX1 and ex1 are one server.
            key = item.name.casefold()
            if key in first:
                yield (field, index, "name"), (
                    f"{kind} names must be unique: {item.name!r} is already {field}[{first[key]}]"
                )
            else:
                first[key] = index


def _one_mapi_network(scenario: Scenario) -> Iterator[Finding]:
    mapi = [i for i, network in enumerate(scenario.networks) if network.type == "mapi"]
    if not mapi:
        yield ("networks",), "a DAG has exactly one MAPI network, found none"
    for index in mapi[1:]:
        first = scenario.networks[mapi[0]].name
        yield ("networks", index, "type"), (
            f"a DAG has exactly one MAPI network, and {first!r} is already the MAPI network"
        )


def _sites_and_links(scenario: Scenario) -> Iterator[Finding]:
    sites = [site.name for site in scenario.sites]
    networks = [network.name for network in scenario.networks]
    for index, server in enumerate(scenario.servers):
        if server.site not in sites:
            yield ("servers", index, "site"), _undefined("site", server.site, sites)
    for index, link in enumerate(scenario.links):
        if link.sites[0] == link.sites[1]:
            yield ("links", index, "sites"), "a link joins two different sites"
        for end, site in enumerate(link.sites):
            if site not in sites:
                yield ("links", index, "sites", end), _undefined("site", site, sites)
        for position, network in enumerate(link.networks or ()):
            if network not in networks:
                message = _undefined("network", network, networks)
                yield ("links", index, "networks", position), message


def _members(scenario: Scenario) -> Iterator[Finding]:
    dag = scenario.dag
    servers = [server.name for server in scenario.servers]
    listed = dag.members is not None
    seen: set[str] = set()
    for index, member in enumerate(dag.members or ()):
        if member not in servers:
            yield ("dag", "members", index), _undefined("server", member, servers)
        elif member in seen:
            message = f"a server joins a DAG once, and {member!r} is listed twice"
            yield ("dag", "members", index), message
        seen.add(member)
    count = len(scenario.member_names)
    if count == 0:
        yield ("dag", "members"), f"a DAG has 1 to {MAX_MEMBERS} members, found none"
    elif count > MAX_MEMBERS:
        loc: Loc = ("dag", "members", MAX_MEMBERS) if listed else ("servers", MAX_MEMBERS)
        yield loc, f"a DAG has at most {MAX_MEMBERS} members (Exchange 2013 limit), found {count}"


def _witnesses(scenario: Scenario) -> Iterator[Finding]:
    dag = scenario.dag
    sites = [site.name for site in scenario.sites]
    members = {member.casefold() for member in scenario.member_names}
    for field in ("witness", "alternate_witness"):
        witness = getattr(dag, field)
        if witness is None:
            continue
        if witness.host.casefold() in members:
            yield ("dag", field, "host"), (
                f"the file share witness must not be a DAG member, and {witness.host!r} is one"
            )
        if witness.site not in sites:
            yield ("dag", field, "site"), _undefined("site", witness.site, sites)
    witness, alternate = dag.witness, dag.alternate_witness
    if witness and alternate and witness.host.casefold() == alternate.host.casefold():
        yield ("dag", "alternate_witness", "host"), (
            f"the alternate witness must be a different host from the witness ({witness.host!r})"
        )


def _copies(scenario: Scenario) -> Iterator[Finding]:
    servers = [server.name for server in scenario.servers]
    members = set(scenario.member_names)
    for db_index, database in enumerate(scenario.databases):
        here = ("databases", db_index, "copies")
        count = len(database.copies)
        if count > MAX_COPIES:
            yield (*here, MAX_COPIES), (
                f"a database has at most {MAX_COPIES} copies (Exchange 2013 limit), found {count}"
            )
        holder: dict[str, int] = {}
        preference_of: dict[int, int] = {}
        for index, copy in enumerate(database.copies):
            if copy.server not in servers:
                yield (*here, index, "server"), _undefined("server", copy.server, servers)
            elif copy.server not in members:
                yield (*here, index, "server"), (
                    f"a copy must be on a DAG member, and {copy.server!r} is not a member of "
                    f"{scenario.dag.name}"
                )
            if copy.server in holder:
                yield (*here, index, "server"), (
                    f"a database has at most one copy per server: {copy.server!r} already holds "
                    f"copies[{holder[copy.server]}]"
                )
            else:
                holder[copy.server] = index
            preference = copy.activation_preference
            if preference > count:
                yield (*here, index, "activation_preference"), (
                    f"activation preference must be between 1 and {count} (the number of copies), "
                    f"got {preference}"
                )
            elif preference in preference_of:
                yield (*here, index, "activation_preference"), (
                    f"activation preferences must be unique within a database: {preference} is "
                    f"already used by copies[{preference_of[preference]}]"
                )
            else:
                preference_of[preference] = index
            if not copy.added and preference == 1:
                yield (*here, index, "added"), (
                    "the activation preference 1 copy is the active copy at the start, so it must exist "
                    "from the start (added: true)"
                )
            if not copy.added and scenario.run.mode == "per_log":
                yield (*here, index, "added"), "per_log mode cannot add copies during a run; use mode fluid"
            for field in ("replay_lag_time", "truncation_lag_time"):
                lag = getattr(copy, field)
                if lag > MAX_LAG:
                    yield (*here, index, field), (
                        f"{field.replace('_', ' ')} is at most {MAX_LAG / 86400:g} days "
                        f"(Exchange 2013 limit), got {format_duration(lag)}"
                    )


def _edition_limits(scenario: Scenario) -> Iterator[Finding]:
    hosted = Counter(copy.server for database in scenario.databases for copy in database.copies)
    for index, server in enumerate(scenario.servers):
        limit = EDITION_DATABASE_LIMIT[server.edition]
        if hosted[server.name] > limit:
            yield ("servers", index, "edition"), (
                f"{server.edition} edition supports at most {limit} databases per server, and "
                f"{server.name!r} hosts copies of {hosted[server.name]}"
            )


# Actions that per_log mode can play; the failure and operator actions need the fluid engine.
_PER_LOG_ACTIONS = frozenset({"fail_link", "restore_link", "suspend_copy", "resume_copy"})


def _timeline(scenario: Scenario) -> Iterator[Finding]:
    known = {
        "link": [link.name for link in scenario.links],
        "server": [server.name for server in scenario.servers],
        "target": [server.name for server in scenario.servers],
        "site": [site.name for site in scenario.sites],
        "network": [n.name for n in scenario.networks if n.type == "replication"],
    }
    databases = {database.name: database for database in scenario.databases}
    cas_names = [cas.name for cas in scenario.client_access.servers] or known["server"]
    end = scenario.run.duration
    added: set[tuple[str, str]] = set()
    for index, action in enumerate(scenario.timeline):
        here = ("timeline", index)
        if action.at > end:
            yield (*here, "at"), (
                f"happens after the run ends (at {format_duration(action.at)}, "
                f"run duration {format_duration(end)})"
            )
        if scenario.run.mode == "per_log" and action.action not in _PER_LOG_ACTIONS:
            yield (*here, "action"), (
                f"per_log mode plays only {', '.join(sorted(_PER_LOG_ACTIONS))}; "
                f"use mode fluid for {action.action}"
            )
        fields = type(action).model_fields
        if action.action in ("fail_cas", "restore_cas"):
            if action.server not in cas_names:
                yield (*here, "server"), _undefined("Client Access server", action.server, cas_names)
            continue
        to_site = getattr(action, "to_site", None)
        if to_site is not None and to_site not in known["site"]:
            yield (*here, "to_site"), _undefined("site", to_site, known["site"])
        named = getattr(action, "database", None)
        database = databases.get(named or "")
        if named is not None and database is None:
            yield (*here, "database"), _undefined("database", named, list(databases))
        for field, names in known.items():
            value = getattr(action, field, None)
            if field in fields and value is not None and value not in names:
                kind = "replication network" if field == "network" else "server" if field == "target" else field
                yield (*here, field), _undefined(kind, value, names)
        sites = getattr(action, "sites", None)
        if sites is not None:
            for end_index, site in enumerate(sites):
                if site not in known["site"]:
                    yield (*here, "sites", end_index), _undefined("site", site, known["site"])
            if sites[0] == sites[1]:
                yield (*here, "sites"), "a WAN partition is between two different sites"
        if database is None:
            continue
        server = getattr(action, "server", None)
        if "server" in fields and server in known["server"]:
            copy = next((c for c in database.copies if c.server == server), None)
            if copy is None:
                yield (*here, "server"), f"database {database.name!r} has no copy on server {server!r}"
            elif action.action == "add_database_copy":
                if copy.added:
                    yield (*here, "server"), (
                        f"the copy of {database.name!r} on {server!r} exists from the start; declare it with "
                        "added: false to add it here"
                    )
                elif (database.name, server) in added:
                    yield (*here, "server"), f"the copy of {database.name!r} on {server!r} is already added earlier"
                added.add((database.name, server))
        target = getattr(action, "target", None)
        if target is not None and target in known["server"]:
            if not any(c.server == target for c in database.copies):
                yield (*here, "target"), f"database {database.name!r} has no copy on server {target!r}"


def _client_access(scenario: Scenario) -> Iterator[Finding]:
    sites = [site.name for site in scenario.sites]
    mailbox_sites = {server.name.casefold(): server.site for server in scenario.servers}
    seen: set[str] = set()
    for index, cas in enumerate(scenario.client_access.servers):
        here = ("client_access", "servers", index)
        site = mailbox_sites.get(cas.name.casefold())
        if site is not None and site != cas.site:
            yield (*here, "site"), f"{cas.name!r} is a mailbox server in site {site!r}; one server has one site"
        if cas.name.casefold() in seen:
            yield (*here, "name"), f"Client Access server names must be unique: {cas.name!r} appears twice"
        seen.add(cas.name.casefold())
        if cas.site not in sites:
            yield (*here, "site"), _undefined("site", cas.site, sites)


# Expectations measured from Active Manager's records; per_log mode has no Active Manager.
_NEEDS_ACTIVE_MANAGER = frozenset(
    {
        "failover_within",
        "failover_target",
        "failover_outcome",
        "failover_phase",
        "failover_count",
        "candidate",
        "logs_lost_at_most",
        "logs_lost",
        "messages_lost",
        "messages_redelivered",
        "client_outage_p95_under",
        "quorum_lost",
    }
)
# Expectations whose `server` names a copy of their `database`.
_ON_A_COPY = frozenset({"failover_target", "candidate", "copy_queue_peak_under", "mounted_at", "event"})


def _expectations(scenario: Scenario) -> Iterator[Finding]:
    databases = {database.name: database for database in scenario.databases}
    servers = [server.name for server in scenario.servers]
    # Events name witness hosts and Client Access servers too.
    hosts = list(servers)
    for witness in (scenario.dag.witness, scenario.dag.alternate_witness):
        if witness is not None:
            hosts.append(witness.host)
    client_access = getattr(scenario, "client_access", None)
    hosts += [cas.name for cas in getattr(client_access, "servers", ())]
    protocols = getattr(client_access, "protocols", None)
    end = scenario.run.duration
    for index, expectation in enumerate(scenario.expect):
        here = ("expect", index)
        check = expectation.check
        if scenario.run.mode == "per_log" and check in _NEEDS_ACTIVE_MANAGER:
            yield (*here, "check"), f"per_log mode has no Active Manager; use mode fluid to check {check}"
        batch = getattr(expectation, "batch", None)
        batches = [b.name for b in scenario.mrs.batches]
        if batch is not None and batch not in batches:
            yield (*here, "batch"), _undefined("batch", batch, batches)
        database = getattr(expectation, "database", None)
        if database is not None and database not in databases:
            yield (*here, "database"), _undefined("database", database, list(databases))
        server = getattr(expectation, "server", None)
        known = hosts if check == "event" else servers
        if server is not None and server not in known:
            yield (*here, "server"), _undefined("server", server, known)
        elif server is not None and database in databases and check in _ON_A_COPY:
            if server in servers and not any(c.server == server for c in databases[database].copies):
                yield (*here, "server"), f"database {database!r} has no copy on server {server!r}"
        at = getattr(expectation, "at", None)
        if at is not None and at > end:
            yield (*here, "at"), (
                f"is after the run ends (at {format_duration(at)}, run duration {format_duration(end)})"
            )
        protocol = getattr(expectation, "protocol", None)
        if protocol is not None and protocols is not None and protocol not in protocols:
            yield (*here, "protocol"), (
                f"protocol {protocol!r} is not among client_access.protocols ({', '.join(protocols) or 'none'})"
            )


def sample_times(scenario: Scenario) -> int:
    """How many times a run samples its queues."""
    # Division, not //: 21600 // 0.01 is 2159999.0 in binary floating point.
    return math.floor(scenario.run.duration / scenario.run.sample_interval + 1e-9) + 1


def sampled_values(scenario: Scenario) -> int:
    """How many queue samples a run records: sample times x database copies."""
    return sample_times(scenario) * sum(len(d.copies) for d in scenario.databases)


def per_log_log_copies(scenario: Scenario) -> float:
    """How many log copies a per_log run simulates: logs generated x copies of their database."""
    days = scenario.run.duration / 86400.0
    return sum(d.generated_logs_per_day * days * len(d.copies) for d in scenario.databases)


def _bounded(scenario: Scenario) -> Iterator[Finding]:
    # Bounds that involve several values; single values are bounded by the schema.
    for index, database in enumerate(scenario.databases):
        if database.logs_per_day is None and database.generated_logs_per_day > MAX_LOGS_PER_DAY:
            yield ("databases", index, "mailboxes"), (
                f"{database.mailboxes} mailboxes with this message profile generate "
                f"{database.generated_logs_per_day:.3g} logs per day; the limit is {MAX_LOGS_PER_DAY:,}"
            )
    times = sample_times(scenario)
    if times > MAX_SAMPLE_TIMES:
        yield ("run", "sample_interval"), (
            f"a run of {format_duration(scenario.run.duration)} sampled every "
            f"{format_duration(scenario.run.sample_interval)} takes {times:,} samples; the limit is "
            f"{MAX_SAMPLE_TIMES:,}: use a sample_interval of at least "
            f"{format_duration(scenario.run.duration / MAX_SAMPLE_TIMES)} or a shorter run"
        )
        return
    if scenario.run.mode == "per_log" and (log_copies := per_log_log_copies(scenario)) > MAX_PER_LOG_LOG_COPIES:
        yield ("run", "mode"), (
            f"per_log mode would simulate {log_copies:,.0f} log copies over this run; the limit is "
            f"{MAX_PER_LOG_LOG_COPIES:,}: use mode fluid or a shorter run"
        )
    values = sampled_values(scenario)
    if values > MAX_SAMPLED_VALUES:
        copies = sum(len(d.copies) for d in scenario.databases)
        needed = scenario.run.duration * copies / MAX_SAMPLED_VALUES
        yield ("run", "sample_interval"), (
            f"a run of {format_duration(scenario.run.duration)} sampled every "
            f"{format_duration(scenario.run.sample_interval)} over {copies} copies records {values:,} "
            f"values; the limit is {MAX_SAMPLED_VALUES:,}: use a sample_interval of at least "
            f"{format_duration(needed)} or a shorter run"
        )


def _mrs(scenario: Scenario) -> Iterator[Finding]:
    """Move batches name databases of the scenario, and need Active Manager (fluid mode)."""
    databases = [d.name for d in scenario.databases]
    for index, batch in enumerate(scenario.mrs.batches):
        here = ("mrs", "batches", index)
        for key in ("target_database", "source_database"):
            name = getattr(batch, key)
            if name is not None and name not in databases:
                yield (*here, key), _undefined("database", name, databases)
    if scenario.mrs.batches and scenario.run.mode != "fluid":
        yield ("mrs",), "mailbox moves need Active Manager, which only fluid mode runs (run.mode: fluid)"


_RULES: tuple[Rule, ...] = (
    _bounded,
    _unique_names,
    _client_access,
    _one_mapi_network,
    _sites_and_links,
    _members,
    _witnesses,
    _copies,
    _edition_limits,
    _timeline,
    _expectations,
    _mrs,
    failure_findings,
)
