"""Timeline actions: the failures and operator commands a scenario schedules.

Each action changes the state of hosts, networks or copies and hands the consequences to
Active Manager, which reacts the way Exchange does (detect, fail over, dismount on quorum
loss...). Actions themselves never choose copies or mount databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, assert_never

from dagsim.config.schema import (
    Action,
    AddDatabaseCopy,
    CrashStore,
    DismountDatabase,
    FailCas,
    FailDatabaseVolume,
    FailLink,
    FailLoadBalancer,
    FailLogVolume,
    FailMapiNetwork,
    FailReplicationNetwork,
    FailServer,
    FailSite,
    FailWitness,
    HealWan,
    LogVolumeFull,
    MountDatabase,
    PartitionWan,
    RedistributeActiveDatabases,
    RestoreCas,
    RestoreDag,
    RestoreDatabaseVolume,
    RestoreLink,
    RestoreLoadBalancer,
    RestoreLogVolume,
    RestoreMapiNetwork,
    RestoreReplicationNetwork,
    RestoreServer,
    RestoreSite,
    RestoreWitness,
    ResumeCopy,
    SeedCopy,
    SetContentIndexState,
    SetServerHealth,
    StartDag,
    StopDag,
    SuspendCopy,
    SwitchNamespace,
    SwitchoverDatabase,
    SwitchoverServer,
)
from dagsim.domain import Cause
from dagsim.model.copy_health import Volume
from dagsim.model.selection import SwitchoverChecks
from dagsim.text import cause_text

if TYPE_CHECKING:
    import simpy

    from dagsim.config.schema import Scenario
    from dagsim.model.active_manager import ActiveManager
    from dagsim.model.client_access import ClientAccess
    from dagsim.model.cluster import Cluster
    from dagsim.model.engine import LogFlow
    from dagsim.model.layout import Layout
    from dagsim.model.reseed import Reseeder
    from dagsim.model.state import DagState
    from dagsim.model.topology import Topology


class ActionContext(Protocol):
    """What a timeline action acts on: the parts of one run (a Simulation is one; typed by
    shape so that this module and the simulation do not import each other)."""

    @property
    def env(self) -> simpy.Environment: ...
    @property
    def scenario(self) -> Scenario: ...
    @property
    def layout(self) -> Layout: ...
    @property
    def topology(self) -> Topology: ...
    @property
    def replication(self) -> LogFlow: ...
    @property
    def manager(self) -> ActiveManager | None: ...
    @property
    def cluster(self) -> Cluster | None: ...
    @property
    def client_access(self) -> ClientAccess | None: ...
    @property
    def reseeder(self) -> Reseeder: ...
    @property
    def state(self) -> DagState: ...
    def record(
        self, kind: str, database: str = "", server: str = "", *, facts: Mapping[str, Any] | None = None, **fields: Any
    ) -> None: ...

__all__ = ["ActionContext", "apply_action"]


def apply_action(sim: ActionContext, action: Action) -> None:
    """Carry out ``action`` at the simulation's current time."""
    database, server = getattr(action, "database", None), getattr(action, "server", None)
    if sim.manager is not None and database and server and action.action != "add_database_copy":
        row = sim.layout.copy_row(database, server)
        if sim.manager.health[row].absent:
            sim.record("operator_error", database, server, facts={"error": "copy absent", "action": action.action})
            return
    _dispatch(sim, action)


# ------------------------------------------------------------------ networks
def _links_between(sim: ActionContext, a: str, b: str) -> list[str]:
    return [link.name for link in sim.scenario.links if set(link.sites) == {a, b}]


def _set_links(sim: ActionContext, links: list[str], up: bool, cause: str) -> None:
    for link in links:
        sim.topology.set_link_up(link, up)
    if sim.manager is None:
        sim.replication.topology_changed()
    else:
        sim.manager.after_cluster_change(cause)
        _rejoin(sim)


def _fail_link(sim, action):
    sim.record("link_failed", facts={"link": action.link}, links=(action.link,))
    _set_links(sim, [action.link], False, cause_text(Cause.LINK_FAILED, link=action.link))


def _restore_link(sim, action):
    sim.record("link_restored", facts={"link": action.link}, links=(action.link,))
    _set_links(sim, [action.link], True, cause_text(Cause.LINK_RESTORED, link=action.link))


def _partition_wan(sim, action):
    a, b = action.sites
    links = _links_between(sim, a, b)
    sim.record("wan_partitioned", facts={"sites": (a, b)}, links=tuple(links))
    _set_links(sim, links, False, cause_text(Cause.WAN_PARTITION, a=a, b=b))


def _heal_wan(sim, action):
    a, b = action.sites
    links = _links_between(sim, a, b)
    sim.record("wan_healed", facts={"sites": (a, b)}, links=tuple(links))
    _set_links(sim, links, True, cause_text(Cause.WAN_HEALED))


def _set_network(sim, server: str, networks: list[str], failed: bool, cause: str) -> None:
    for network in networks:
        sim.state.set_nic_failed(server, network, failed)
    sim.manager.after_cluster_change(cause)
    _rejoin(sim)


def _fail_mapi(sim, action):
    mapi = sim.topology.mapi_network
    sim.record("mapi_network_failed", server=action.server, facts={"server": action.server, "network": mapi})
    am = sim.manager
    # Clients can no longer reach the server's databases: Active Manager moves them, and since
    # the server still talks over the replication network, last logs can be copied (lossless).
    # The failure item reaches it before the cluster would notice anything, so start here.
    for d in range(sim.layout.n_databases):
        if am.is_mounted(d) and am.server_of(am.active_row(d)) == action.server:
            am.fail_active(d, cause_text(Cause.MAPI_FAILURE), sim.scenario.active_manager.failure_item_detection)
    _set_network(sim, action.server, [mapi], True, cause_text(Cause.MAPI_FAILURE))


def _restore_mapi(sim, action):
    mapi = sim.topology.mapi_network
    sim.record("mapi_network_restored", server=action.server)
    _set_network(sim, action.server, [mapi], False, cause_text(Cause.MAPI_RESTORED))


def _replication_networks(sim, action) -> list[str]:
    return [action.network] if action.network else list(sim.topology.replication_networks)


def _fail_replication(sim, action):
    networks = _replication_networks(sim, action)
    sim.record("replication_network_failed", server=action.server, facts={"networks": networks})
    _set_network(sim, action.server, networks, True, cause_text(Cause.REPLICATION_FAILURE))


def _restore_replication(sim, action):
    networks = _replication_networks(sim, action)
    sim.record("replication_network_restored", server=action.server, facts={"networks": networks})
    _set_network(sim, action.server, networks, False, cause_text(Cause.REPLICATION_RESTORED))


# ------------------------------------------------------------------ hosts
def _servers_down(sim, servers: list[str], cause: str) -> None:
    """Servers stop; the cluster notices each after the heartbeat delay that its survivors use."""
    am = sim.manager
    for server in servers:
        sim.state.set_host_up(server, False)  # its copies stop (Active Manager follows the state)
        sim.client_access.cas_changed(server, False, sim.env.now, cause)
    # Only once all of them are down: a site's servers are noticed from the other sites.
    for server in servers:
        detection = am.heartbeat_detection(server)
        for d in range(sim.layout.n_databases):
            if am.server_of(am.active_row(d)) == server:
                am.fail_active(d, cause, detection)


def _server_up(sim, server: str) -> None:
    sim.state.set_host_up(server, True)
    sim.client_access.cas_changed(server, True, sim.env.now, cause_text(Cause.SERVER_RESTORED))
    sim.manager.server_restarted(server)


def _resynchronize(sim, row: int) -> None:
    """A returning copy that diverged discards its extra logs, or needs a reseed."""
    sim.manager.resynchronize(row, reseed=sim.reseeder.start)


def _rejoin(sim) -> None:
    """Diverged copies resynchronize once they can reach their database's active copy again."""
    am = sim.manager
    for row in range(sim.layout.n_copies):
        server = am.server_of(row)
        if am.health[row].diverged_logs <= 0 or sim.cluster.mount_blocker(server) not in (None,):
            continue
        if sim.replication.has_route[row]:
            _resynchronize(sim, row)


def _fail_server(sim, action):
    sim.record("server_failed", server=action.server)
    _servers_down(sim, [action.server], cause_text(Cause.SERVER_FAILURE))
    sim.manager.after_cluster_change(cause_text(Cause.SERVER_FAILURE))


def _restore_server(sim, action):
    sim.record("server_restored", server=action.server)
    _server_up(sim, action.server)
    sim.manager.after_cluster_change(cause_text(Cause.SERVER_RESTORED))
    _rejoin(sim)


def _fail_site(sim, action):
    sim.record("site_failed", facts={"site": action.site}, site=action.site)
    hosts = sim.cluster.sites_hosts(action.site)
    for host in hosts:
        if host not in sim.manager.servers:
            sim.state.set_host_up(host, False)
    cause = cause_text(Cause.SITE_FAILURE, site=action.site)
    _servers_down(sim, [h for h in hosts if h in sim.manager.servers], cause)
    for cas in _standalone_cas(sim, action.site):
        sim.client_access.cas_changed(cas, False, sim.env.now, cause)
    sim.client_access.load_balancer_changed(action.site, False, sim.env.now, cause)
    sim.manager.after_cluster_change(cause)


def _restore_site(sim, action):
    sim.record("site_restored", facts={"site": action.site}, site=action.site)
    for host in sim.cluster.sites_hosts(action.site):
        if host in sim.manager.servers:
            _server_up(sim, host)
        else:
            sim.state.set_host_up(host, True)
    cause = cause_text(Cause.SITE_RESTORED, site=action.site)
    for cas in _standalone_cas(sim, action.site):
        sim.client_access.cas_changed(cas, True, sim.env.now, cause)
    sim.client_access.load_balancer_changed(action.site, True, sim.env.now, cause)
    sim.manager.after_cluster_change(cause)
    _rejoin(sim)


def _standalone_cas(sim, site: str) -> list[str]:
    mailbox = {s.name for s in sim.scenario.servers}
    return [c.name for c in sim.scenario.client_access.servers if c.site == site and c.name not in mailbox]


def _fail_cas(sim, action):
    sim.record("cas_failed", server=action.server)
    if sim.manager is not None:
        sim.manager.cas_changed(action.server, up=False)
    sim.client_access.cas_changed(action.server, False, sim.env.now, cause_text(Cause.CAS_FAILURE, server=action.server))


def _restore_cas(sim, action):
    sim.record("cas_restored", server=action.server)
    if sim.manager is not None:
        sim.manager.cas_changed(action.server, up=True)
    sim.client_access.cas_changed(action.server, True, sim.env.now, cause_text(Cause.CAS_RESTORED, server=action.server))


def _fail_load_balancer(sim, action):
    sim.record("load_balancer_failed", facts={"site": action.site})
    cause = cause_text(Cause.LOAD_BALANCER_FAILURE, site=action.site)
    sim.client_access.load_balancer_changed(action.site, False, sim.env.now, cause)


def _restore_load_balancer(sim, action):
    sim.record("load_balancer_restored", facts={"site": action.site})
    sim.client_access.load_balancer_changed(action.site, True, sim.env.now, cause_text(Cause.LOAD_BALANCER_RESTORED))


def _switch_namespace(sim, action):
    sim.record("namespace_switched", facts={"site": action.site, "to_site": action.to_site})
    sim.client_access.namespace_switched(action.site, action.to_site, sim.env.now)


def _witness(sim, up: bool) -> None:
    witness = sim.cluster.witness
    sim.record("witness_restored" if up else "witness_failed", server=witness or "", facts={"witness": witness})
    if witness is None:
        return
    sim.state.set_host_up(witness, up)
    sim.manager.after_cluster_change(cause_text(Cause.WITNESS_RESTORED if up else Cause.WITNESS_FAILURE))


def _crash_store(sim, action):
    sim.manager.store_crashed(action.server, action.restart_after)


# ------------------------------------------------------------------ volumes
def _copy_row(sim, action) -> int:
    return sim.layout.copy_row(action.database, action.server)


def _volume_failure(sim, action, volume: Volume) -> None:
    sim.manager.volume_failed(_copy_row(sim, action), volume, reseed=sim.reseeder.start)


def _volume_restored(sim, action, volume: Volume) -> None:
    sim.manager.volume_restored(_copy_row(sim, action), volume)


def _fail_database_volume(sim, action):
    _volume_failure(sim, action, Volume.DATABASE)


def _restore_database_volume(sim, action):
    _volume_restored(sim, action, Volume.DATABASE)


def _fail_log_volume(sim, action):
    _volume_failure(sim, action, Volume.LOG)


def _restore_log_volume(sim, action):
    _volume_restored(sim, action, Volume.LOG)


def _log_volume_full(sim, action):
    _volume_failure(sim, action, Volume.LOG_FULL)


# ------------------------------------------------------------------ operator
def _suspend_copy(sim, action):
    row = _copy_row(sim, action)
    if sim.manager is None:
        if action.activation_only:
            sim.state.update_copy(row, activation_suspended=True)
            sim.record("copy_activation_suspended", action.database, action.server)
        else:
            sim.record("copy_suspended", action.database, action.server)
            sim.replication.suspend(row)
        return
    sim.manager.suspend_copy(row, activation_only=action.activation_only)


def _resume_copy(sim, action):
    row = _copy_row(sim, action)
    sim.record("copy_resumed", action.database, action.server, facts={"cmdlet": "Resume-MailboxDatabaseCopy"})
    if sim.manager is None:
        sim.state.update_copy(row, activation_suspended=False)
        sim.replication.resume(row)
        return
    sim.manager.resume_copy(row, reseed=sim.reseeder.resume)


def _seed_copy(sim, action):
    row = _copy_row(sim, action)
    if sim.replication.is_active[row]:
        sim.record("operator_error", action.database, action.server, facts={"error": "seed active"})
        return
    sim.reseeder.update(row)


def _add_database_copy(sim, action):
    row = _copy_row(sim, action)
    sim.manager.copy_added(row)
    sim.reseeder.update(row, "Add-MailboxDatabaseCopy")


def _switchover_database(sim, action):
    d = sim.layout.database_names.index(action.database)
    facts = {"cmdlet": "Move-ActiveMailboxDatabase"}
    sim.record("switchover_requested", action.database, action.target or "", facts=facts)
    sim.env.process(sim.manager.switchover(d, action.target, action.mount_dial_override, checks=_checks(action)))


def _switchover_server(sim, action):
    facts = {"cmdlet": "Move-ActiveMailboxDatabase", "parameter": "-Server"}
    sim.record("switchover_requested", server=action.server, facts=facts)
    sim.env.process(sim.manager.switchover_server(action.server, action.mount_dial_override, checks=_checks(action)))


def _redistribute(sim, action):
    sim.record(
        "switchover_requested",
        facts={"cmdlet": "RedistributeActiveDatabases.ps1", "parameter": "-BalanceDbsByActivationPreference"},
    )
    sim.env.process(sim.manager.redistribute())


def _checks(action) -> SwitchoverChecks:
    return SwitchoverChecks(
        skip_lag_checks=action.skip_lag_checks,
        skip_client_experience_checks=action.skip_client_experience_checks,
        skip_health_checks=action.skip_health_checks,
    )


def _dismount_database(sim, action):
    sim.manager.dismount_database(sim.layout.database_names.index(action.database))


def _mount_database(sim, action):
    sim.manager.mount_database(sim.layout.database_names.index(action.database))


def _stop_dag(sim, action):
    servers = sim.cluster.site_members(action.site)
    sim.record("dag_stopped", facts={"site": action.site, "servers": servers})
    sim.cluster.stop_site(action.site)  # their copies stop (Active Manager follows the state)
    sim.manager.after_cluster_change(cause_text(Cause.DAG_STOPPED, site=action.site))


def _restore_dag(sim, action):
    evicted = sim.cluster.restore_site(action.site)
    sim.record("dag_restored", facts={"site": action.site, "evicted": evicted, "witness": sim.cluster.witness})
    sim.manager.after_cluster_change(cause_text(Cause.DAG_RESTORED, site=action.site))


def _start_dag(sim, action):
    servers = sim.cluster.stopped_in(action.site)
    sim.record("dag_started", facts={"site": action.site, "servers": servers})
    sim.cluster.start_site(action.site)
    sim.manager.after_cluster_change(cause_text(Cause.DAG_STARTED, site=action.site))
    _rejoin(sim)


def _set_content_index(sim, action):
    sim.manager.content_index_changed(_copy_row(sim, action), action.state)


def _set_server_health(sim, action):
    sim.manager.server_health_changed(action.server, action.health, failover=action.failover)


def _dispatch(sim: ActionContext, action: Action) -> None:
    # One case per action type of the schema: mypy reports an action without a handler.
    match action:
        case FailLink():
            _fail_link(sim, action)
        case RestoreLink():
            _restore_link(sim, action)
        case SuspendCopy():
            _suspend_copy(sim, action)
        case SeedCopy():
            _seed_copy(sim, action)
        case AddDatabaseCopy():
            _add_database_copy(sim, action)
        case ResumeCopy():
            _resume_copy(sim, action)
        case FailServer():
            _fail_server(sim, action)
        case RestoreServer():
            _restore_server(sim, action)
        case CrashStore():
            _crash_store(sim, action)
        case FailDatabaseVolume():
            _fail_database_volume(sim, action)
        case RestoreDatabaseVolume():
            _restore_database_volume(sim, action)
        case FailLogVolume():
            _fail_log_volume(sim, action)
        case RestoreLogVolume():
            _restore_log_volume(sim, action)
        case LogVolumeFull():
            _log_volume_full(sim, action)
        case FailMapiNetwork():
            _fail_mapi(sim, action)
        case RestoreMapiNetwork():
            _restore_mapi(sim, action)
        case FailReplicationNetwork():
            _fail_replication(sim, action)
        case RestoreReplicationNetwork():
            _restore_replication(sim, action)
        case FailSite():
            _fail_site(sim, action)
        case RestoreSite():
            _restore_site(sim, action)
        case PartitionWan():
            _partition_wan(sim, action)
        case HealWan():
            _heal_wan(sim, action)
        case FailWitness():
            _witness(sim, False)
        case RestoreWitness():
            _witness(sim, True)
        case SwitchoverDatabase():
            _switchover_database(sim, action)
        case SwitchoverServer():
            _switchover_server(sim, action)
        case RedistributeActiveDatabases():
            _redistribute(sim, action)
        case DismountDatabase():
            _dismount_database(sim, action)
        case MountDatabase():
            _mount_database(sim, action)
        case StopDag():
            _stop_dag(sim, action)
        case RestoreDag():
            _restore_dag(sim, action)
        case StartDag():
            _start_dag(sim, action)
        case SetContentIndexState():
            _set_content_index(sim, action)
        case SetServerHealth():
            _set_server_health(sim, action)
        case FailCas():
            _fail_cas(sim, action)
        case RestoreCas():
            _restore_cas(sim, action)
        case FailLoadBalancer():
            _fail_load_balancer(sim, action)
        case RestoreLoadBalancer():
            _restore_load_balancer(sim, action)
        case SwitchNamespace():
            _switch_namespace(sim, action)
        case _:
            assert_never(action)
