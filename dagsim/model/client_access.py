"""Client access: the outage users feel, per database and protocol (docs/client-access.md).

During a run this component only takes notes: when databases mount and dismount (and where),
when Client Access servers, load balancers and namespaces change. Afterwards it works out,
for every interruption, when each client's requests succeed again. Clients are modelled as
cohorts (protocol × Client Access server × phase of their request cycle), never one by one,
so 100,000 mailboxes cost what 100 do.

The path a request takes: the client resolves its site's namespace (DNS, cached for the TTL),
reaches a Client Access server (through the site's load balancer, or by DNS round robin
trying one IP after another), and the CAS proxies to the server it believes holds the active
copy. After a database moves, a CAS keeps using the old location until its cache entry
expires or a failed request makes it look again.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dagsim.config.schema import ProtocolSpec, Scenario
from dagsim.records import ClientOutageRecord

__all__ = ["ClientAccess"]

_PHASES = 20  # client phases sampled per (protocol, CAS): quantiles of the request cycle
_WINDOW = 3600.0  # s: outages answered within this share results between databases alike in it


class _Steps:
    """A value that changes at given times (piecewise constant, right-continuous)."""

    def __init__(self, initial) -> None:
        self.times: list[float] = [-math.inf]
        self.values: list = [initial]

    def set(self, t: float, value) -> None:
        if self.times[-1] == t:
            self.values[-1] = value
        else:
            self.times.append(t)
            self.values.append(value)

    def at(self, t: float):
        return self.values[bisect.bisect_right(self.times, t) - 1]

    def next_change(self, t: float) -> float:
        i = bisect.bisect_right(self.times, t)
        return self.times[i] if i < len(self.times) else math.inf


@dataclass
class _Mount:
    """One stretch of a database being mounted, and when CASs route to it correctly."""

    start: float
    server: str
    routed: float  # from when Client Access servers send requests to this server


class ClientAccess:
    """Notes on the client path during a run; client outages computed from them afterwards."""

    def __init__(self, scenario: Scenario, initial_active: dict[str, str]) -> None:
        self.scenario = scenario
        self.spec = scenario.client_access
        serving = self.spec.servers or scenario.servers
        self.cas_site = {s.name: s.site for s in serving}
        self._pools: dict[str, list[str]] = {}  # the Client Access servers of each site
        self.sites = [s.name for s in scenario.sites]
        # An unbound namespace resolves to the load balancer of every site with Client Access
        # servers; a client starts at its home site's address and moves on when one is dead.
        self.unbound = self.spec.namespace_model == "unbound" and self.spec.balancing == "load_balancer"
        self.vip_sites = [site for site in self.sites if site in set(self.cas_site.values())]
        self.cas_up = {name: _Steps(True) for name in self.cas_site}
        self.lb_up = {site: _Steps(True) for site in self.sites}
        self.namespace = {site: _Steps(site) for site in self.sites}  # where its DNS records point
        self.home_site = {}
        self.mailboxes = {}
        for database in scenario.databases:
            first = min(database.copies, key=lambda c: c.activation_preference)
            self.home_site[database.name] = scenario.server(first.server).site
            self.mailboxes[database.name] = database.mailboxes
        self.mounts: dict[str, list[_Mount]] = {
            name: [_Mount(-math.inf, server, -math.inf)] for name, server in initial_active.items()
        }
        self.downs: dict[str, list[float]] = {name: [] for name in initial_active}
        self.mount_ends: dict[str, list[float]] = {name: [] for name in initial_active}
        self.incidents: list[tuple[float, str, str]] = []  # (time, database or '', cause)

    # ------------------------------------------------------------------ notes
    def database_dismounted(self, database: str, t: float, cause: str) -> None:
        self.mount_ends[database].append(t)
        self.downs[database].append(t)
        self.incidents.append((t, database, cause))

    def database_mounted(self, database: str, server: str, t: float) -> None:
        mounts = self.mounts[database]
        before = mounts[-1].server
        down = self.downs[database][-1] if self.downs[database] else t
        routed = t if server == before else self._routing_time(down, t)
        mounts.append(_Mount(t, server, routed))

    def _routing_time(self, down: float, mounted: float) -> float:
        """When CASs learn a database's new location after it mounted elsewhere.

        Their cached entry (loaded when the database went down) expires every cache lifetime,
        and the first request that fails on the stale location makes them look again after
        ``stale_lookup_delay``; whichever comes first.
        """
        life = self.spec.location_cache_lifetime
        expiry = down + math.ceil((mounted - down) / life - 1e-12) * life
        return min(expiry, mounted + self.spec.stale_lookup_delay)

    def cas_changed(self, name: str, up: bool, t: float, cause: str) -> None:
        if name not in self.cas_up or self.cas_up[name].at(t) == up:
            return
        self.cas_up[name].set(t, up)
        if not up:
            self.incidents.append((t, "", cause))

    def load_balancer_changed(self, site: str, up: bool, t: float, cause: str) -> None:
        self.lb_up[site].set(t, up)
        if not up:
            self.incidents.append((t, "", cause))

    def namespace_switched(self, site: str, to_site: str, t: float) -> None:
        # Clients keep the old answer until the records' TTL runs out.
        self.namespace[site].set(t + self.spec.dns_ttl, to_site)

    # ------------------------------------------------------------------ analysis
    def outages(self) -> list[ClientOutageRecord]:
        """Client-perceived outage of every interruption, per database and protocol."""
        records = []
        for database, protocol, spec, t0, causes, samples, total in self._answers():
            record = self._record(database, protocol, spec, t0, "; ".join(sorted(causes)), samples, total)
            if record is not None:
                records.append(record)
        return records

    def user_minutes(self) -> dict[tuple[str, str], float]:
        """Total user-minutes of outage per (database, protocol): :meth:`outages` summed,
        without the per-outage percentiles an availability study does not report."""
        totals: dict[tuple[str, str], float] = {}
        for database, protocol, spec, _, _, samples, total in self._answers():
            if samples and self.mailboxes[database] > 0:
                users = self.mailboxes[database] * spec.share * (len(samples) / total)
                key = (database, protocol)
                totals[key] = totals.get(key, 0.0) + users * float(np.array(samples).mean()) / 60.0
        return totals

    def _answers(self) -> Iterator[tuple[str, str, ProtocolSpec, float, set[str], list[float], int]]:
        """Per interruption, database and protocol: its causes and the clients' waits."""
        probe = self.spec.probe_interval * self.spec.probe_failures
        shared = [t for steps in (*self.cas_up.values(), *self.lb_up.values(), *self.namespace.values()) for t in steps.times]
        shared += [t + probe for steps in self.cas_up.values() for t in steps.times]
        self._shared_changes = sorted(t for t in shared if math.isfinite(t))
        self._own_changes = {
            name: sorted(
                [t for m in mounts for t in (m.start, m.routed) if math.isfinite(t)] + self.mount_ends[name]
            )
            for name, mounts in self.mounts.items()
        }
        self._mount_starts = {name: [m.start for m in mounts] for name, mounts in self.mounts.items()}
        # Databases in the same situation give the same answer; a DAG of 100 databases has few situations.
        memo: dict[tuple, tuple] = {}
        by_start: dict[tuple[float, str], set[str]] = {}
        for t, database, cause in self.incidents:
            targets = [database] if database else list(self.mounts)
            for name in targets:
                by_start.setdefault((t, name), set()).add(cause)
        for (t0, database), causes in sorted(by_start.items()):
            situation = None
            for protocol, spec in self.spec.protocols.items():
                window = max(_WINDOW, 2 * spec.request_interval)
                near = (protocol, t0, self._situation_near(database, t0, window))
                found = memo.get(near)
                if found is None:
                    situation = situation or self._situation(database, t0)
                    key = (protocol, t0, situation)
                    found = memo.get(key)
                    if found is None:
                        found = memo[key] = self._samples(database, spec, t0)
                        # Every client answered within the window: only what happens in the
                        # window decided it, so databases alike there share the answer.
                        if max(found[0], default=0.0) < window and spec.request_interval < window:
                            memo[near] = found
                yield database, protocol, spec, t0, causes, *found

    def _situation(self, database: str, t0: float) -> tuple:
        """Everything about ``database`` that its clients' fate after ``t0`` depends on."""
        mounts = self.mounts[database]
        current = bisect.bisect_right(self._mount_starts[database], t0) - 1
        later = tuple((m.start, m.routed, m.server) for m in mounts[max(current, 0) :])
        ends = tuple(t for t in self.mount_ends[database] if t >= mounts[max(current, 0)].start)
        return self.home_site[database], later, ends

    def _situation_near(self, database: str, t0: float, window: float) -> tuple:
        """What ``database``'s clients' fate in ``[t0, t0 + window)`` depends on."""
        mounts = self.mounts[database]
        current = max(bisect.bisect_right(self._mount_starts[database], t0) - 1, 0)
        mount = mounts[current]
        ends = self.mount_ends[database]
        j = bisect.bisect_right(ends, t0) - 1
        dismounted = j >= 0 and mount.start <= ends[j] <= t0
        later = tuple((m.start, m.routed, m.server) for m in mounts[current + 1 :] if m.start < t0 + window)
        ends_near = tuple(t for t in ends if t0 < t < t0 + window)
        routed = mount.routed if mount.routed > t0 else -math.inf
        return self.home_site[database], routed, dismounted, later, ends_near

    def _samples(self, database: str, spec: ProtocolSpec, t0: float) -> tuple[list[float], int]:
        samples = []
        total = 0
        pool = self._pool(self.namespace[self.home_site[database]].at(t0))
        slots = max(len(self.cas_site) if self.unbound else len(pool), 1)
        # Always-connected clients all notice at once: one phase stands for them all.
        phases = _PHASES if spec.request_interval > 0 else 1
        for slot in range(slots):
            for k in range(phases):
                total += 1
                first = t0 + spec.request_interval * (k + 0.5) / phases
                success = self._first_success(database, spec, slot, first)
                if success > first:
                    samples.append(success - t0)
        return samples, total

    def _record(self, database, protocol, spec, t0, cause, samples, total) -> ClientOutageRecord | None:
        if not samples or self.mailboxes[database] <= 0:
            return None  # nobody noticed, or nobody's mailbox is there
        values = np.array(samples)
        affected = len(values) / total
        users = self.mailboxes[database] * spec.share * affected
        mean = float(values.mean())
        return ClientOutageRecord(
            database=database,
            protocol=protocol,
            cause=cause,
            start=t0,
            min=float(values.min()),
            median=float(np.median(values)),
            p95=float(np.percentile(values, 95)),
            max=float(values.max()),
            mean=mean,
            affected_mailboxes=users,
            user_minutes=users * mean / 60.0,
        )

    # ------------------------------------------------------------------ one client
    def _pool(self, site: str) -> list[str]:
        pool = self._pools.get(site)
        if pool is None:
            pool = self._pools[site] = [name for name, cas_site in self.cas_site.items() if cas_site == site]
        return pool

    def _first_success(self, database: str, spec: ProtocolSpec, slot: int, first: float) -> float:
        """When a client whose first request after the interruption goes out at ``first``
        gets an answer again; the end of the run if it never does within it."""
        end = self.scenario.run.duration
        t, step, attempt = first, spec.retry_interval, 0
        while t <= end:
            works, next_ip = self._works(database, slot, t)
            if works:
                return t
            if next_ip:
                # A dead IP: the client waits, then tries the next address of the namespace.
                slot += 1
                t += spec.next_ip_wait
                works, _ = self._works(database, slot, t)
                if works:
                    return t
            # Nothing will change before the next state change: skip the retries in between.
            change = self._next_change(database, t)
            if change > end:
                break
            t, step, attempt = self._next_attempt(t, step, attempt, spec, max(change, t + 1e-9))
        return max(end, first)

    @staticmethod
    def _next_attempt(t: float, step: float, attempt: int, spec: ProtocolSpec, not_before: float):
        """The first retry at or after ``not_before`` of a client whose last attempt was at ``t``."""
        while True:
            t += step
            attempt += 1
            step = min(step * spec.retry_backoff, spec.max_retry_interval)
            if t >= not_before:
                return t, step, attempt
            if step >= spec.max_retry_interval or spec.retry_backoff == 1.0:
                # Constant interval from here: jump straight to the attempt.
                skip = max(0, math.ceil((not_before - t) / step - 1e-12))
                return t + skip * step, step, attempt + skip

    def _works(self, database: str, slot: int, t: float) -> tuple[bool, bool]:
        """Whether a request at ``t`` succeeds; second: it hit a dead address (DNS round robin)."""
        if self.unbound:
            return self._works_unbound(database, slot, t)
        site = self.namespace[self.home_site[database]].at(t)
        pool = self._pool(site)
        if not pool:
            return False, False
        home = pool[slot % len(pool)]
        if self.spec.balancing == "load_balancer":
            if not self.lb_up[site].at(t) or not self._balanced_cas_answers(home, pool, t):
                return False, False
        elif not self.cas_up[home].at(t):
            return False, True
        return self._routed(database, t), False

    def _works_unbound(self, database: str, slot: int, t: float) -> tuple[bool, bool]:
        """As :meth:`_works` through an unbound namespace: ``slot`` picks the address (site)
        and, behind its load balancer, the Client Access server."""
        sites = self.vip_sites
        if not sites:
            return False, False
        home = self.home_site[database]
        start = sites.index(home) if home in sites else 0
        site = sites[(start + slot) % len(sites)]
        pool = self._pool(site)
        cas = pool[(slot // len(sites)) % len(pool)]
        if not self.lb_up[site].at(t):
            return False, True  # a dead address: the client tries the next one
        if not self._balanced_cas_answers(cas, pool, t):
            return False, False
        return self._routed(database, t), False

    def _balanced_cas_answers(self, cas: str, pool: list[str], t: float) -> bool:
        """Behind a load balancer: the client's CAS while it is in the pool, else any CAS there."""
        if self._in_lb_pool(cas, t):
            return bool(self.cas_up[cas].at(t))
        return any(self.cas_up[c].at(t) for c in pool)

    def _in_lb_pool(self, cas: str, t: float) -> bool:
        """A dead CAS stays in the load balancer's pool until enough health probes failed."""
        steps = self.cas_up[cas]
        if steps.at(t):
            return True
        i = bisect.bisect_right(steps.times, t) - 1
        removed = steps.times[i] + self.spec.probe_interval * self.spec.probe_failures
        return t < removed

    def _routed(self, database: str, t: float) -> bool:
        mounts = self.mounts[database]
        i = bisect.bisect_right(self._mount_starts[database], t) - 1
        mount = mounts[i]
        ends = self.mount_ends[database]
        j = bisect.bisect_right(ends, t) - 1
        if j >= 0 and ends[j] >= mount.start and ends[j] <= t:
            return False  # dismounted since this mount
        # The Client Access role is a stateless proxy in front of the Mailbox role: whether the
        # mailbox server's own Client Access role runs does not matter to where it proxies.
        return t >= mount.routed

    def _next_change(self, database: str, t: float) -> float:
        """The next moment anything on this database's client path changes."""
        best = math.inf
        for times in (self._shared_changes, self._own_changes[database]):
            i = bisect.bisect_right(times, t)
            if i < len(times):
                best = min(best, times[i])
        return best


