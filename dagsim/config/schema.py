"""The scenario schema: frozen pydantic models, unknown keys rejected.

Every default is the documented Exchange 2013 / Windows Server 2012 R2 value unless its
description says *assumption*. Cross-references (servers, sites, links, databases) are
checked by :mod:`dagsim.config.rules`, after the structure here is valid, so that every
problem in a file can be reported at once.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dagsim.config.expect import Expectation
from dagsim.config.failures import FailuresSpec
from dagsim.config.mrs import MrsSpec
from dagsim.config.units import Bandwidth, Count, Duration, Number, Size, format_duration

__all__ = [
    "MAX_COPIES",
    "MAX_LAG",
    "MAX_MEMBERS",
    "Action",
    "ActiveManagerSpec",
    "ClientAccessSpec",
    "ProtocolSpec",
    "ReseedSpec",
    "TransportSpec",
    "CopySpec",
    "DagSpec",
    "DatabaseSpec",
    "LinkSpec",
    "MessageProfile",
    "NetworkSpec",
    "RunSpec",
    "Scenario",
    "ServerSpec",
    "SiteSpec",
    "WitnessSpec",
    "DEFAULT_HOURLY_DISTRIBUTION",
    "EDITION_DATABASE_LIMIT",
]

MAX_MEMBERS = 16
MAX_COPIES = 16
MAX_LAG = 14 * 86400.0
# Upper bounds that keep every valid scenario simulable in bounded time and memory
# (docs/scenario-reference.md, "Limits"); each is far beyond any real deployment.
MAX_MAILBOXES = 1_000_000  # per database
MAX_LOGS_PER_DAY = 10_000_000  # per database: about 116 logs (MB) per second, all day
MAX_LOG_RATE = 100_000.0  # logs/s a server can replay
# Activating a copy replays its replay queue at "a minimum" of 2 logs per second per database
# (Exchange 2013, Activate a lagged mailbox database copy); dagsim takes that documented
# minimum as the default (assumption: real hardware is often faster).
ACTIVATION_REPLAY_RATE = 2.0
MAX_RUN_DURATION = 100 * 365 * 86400.0
MIN_LOG_VOLUME = 1024**2  # room for one 1 MB log
# Queue samples a run may record (sample times x copies): 50 million float32 pairs are
# 400 MB, a year of the 400-copy preferred architecture at 5-minute samples fits. Each
# sample time is also an engine wake-up, so their number is bounded on its own.
MAX_SAMPLED_VALUES = 50_000_000
MAX_SAMPLE_TIMES = 1_000_000
# per_log mode simulates every log on every copy (about 100,000 a second): 20 million
# bounds a run to minutes; fluid mode has no such cost.
MAX_PER_LOG_LOG_COPIES = 20_000_000
# Generation from a message profile (sizing guidance): five messages per log at 75 KB,
# and doubling the average message size multiplies log generation by about 1.9.
MESSAGES_PER_LOG = 5.0
REFERENCE_MESSAGE_SIZE = 75 * 1024
MESSAGE_SIZE_EXPONENT = math.log2(1.9)
EDITION_DATABASE_LIMIT = {"enterprise": 100, "standard": 5}

# A business-day curve in percent (hour 0 = midnight to 1 am): quiet nights, a morning
# ramp, a 9-17 plateau with a lunch dip, an evening tail. *Assumption*, shaped like the
# profiles architects enter into the Exchange sizing calculator.
DEFAULT_HOURLY_DISTRIBUTION: tuple[float, ...] = (
    0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 9.0,
    7.0, 9.0, 10.0, 9.0, 7.0, 4.0, 2.0, 2.0, 1.5, 1.0, 0.5, 0.5,
)  # fmt: skip


class Spec(BaseModel):
    """Base of every scenario model: immutable, and typos in keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)


def _yaml_off(value: object) -> object:
    # YAML 1.1 reads a bare `off` as false; administrators write `off` for DAC mode.
    if value is False:
        return "off"
    return value


Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]


class SiteSpec(Spec):
    """An Active Directory site (a datacenter); each site is its own subnet."""

    name: Name
    description: str = ""


class NetworkSpec(Spec):
    """A DAG network: exactly one MAPI network, zero or more replication networks."""

    name: Name
    type: Literal["mapi", "replication"]


class LinkSpec(Spec):
    """A link between two sites; full duplex, `bandwidth` in each direction."""

    name: Name
    sites: tuple[Name, Name]
    bandwidth: Bandwidth
    latency: Duration = Field(default=0.010, description="one-way latency")
    networks: tuple[Name, ...] | None = Field(
        default=None, description="DAG networks carried by this link; default: all of them"
    )


class WitnessSpec(Spec):
    """The file share witness: a non-member host."""

    host: Name
    site: Name


class DagSpec(Spec):
    """The database availability group and its cluster settings."""

    name: Name = "DAG1"
    members: tuple[Name, ...] | None = Field(
        default=None, description="member servers; default: every server in `servers`"
    )
    witness: WitnessSpec | None = None
    alternate_witness: WitnessSpec | None = None
    datacenter_activation_mode: Literal["off", "dag_only"] = "off"
    dynamic_quorum: bool = Field(
        default=False,
        description="Windows Server 2012 R2 dynamic quorum and dynamic witness: members that leave the "
        "cluster one after another lose their votes, so sequential failures keep quorum; default off "
        "(assumption): the documented Exchange quorum models count static votes",
    )
    same_subnet_delay: Duration = 1.0
    same_subnet_threshold: Count = Field(default=5, ge=1, le=1000)
    cross_subnet_delay: Duration = 1.0
    cross_subnet_threshold: Count = Field(default=5, ge=1, le=1000)
    network_compression: Literal["disabled", "enabled", "inter_subnet_only", "seed_only"] = (
        "inter_subnet_only"
    )
    compression_ratio: Number = Field(
        default=0.7,
        gt=0,
        le=1,
        description="compressed size / original size of a shipped log (assumption)",
    )

    @field_validator("datacenter_activation_mode", mode="before")
    @classmethod
    def _dac_off(cls, value: object) -> object:
        return _yaml_off(value)


class ServerSpec(Spec):
    """A mailbox server (DAG member)."""

    name: Name
    site: Name
    edition: Literal["enterprise", "standard"] = "enterprise"
    auto_database_mount_dial: Literal["lossless", "good_availability", "best_availability"] = (
        "good_availability"
    )
    database_copy_auto_activation_policy: Literal["unrestricted", "intrasite_only", "blocked"] = (
        "unrestricted"
    )
    maximum_active_databases: Count | None = Field(default=None, ge=0, le=10_000)
    maximum_preferred_active_databases: Count | None = Field(default=None, ge=0, le=10_000)
    replay_rate: Number = Field(
        default=100.0,
        gt=0,
        le=MAX_LOG_RATE,
        description="logs/s this server can replay, shared by its passive copies (assumption)",
    )
    nic_bandwidth: Bandwidth = Field(default=10e9 / 8, description="per DAG network, each direction")


class MessageProfile(Spec):
    """Messages sent and received per mailbox per day and their average size."""

    messages_per_day: Number = Field(default=150.0, gt=0, le=100_000)
    average_message_size: Size = Field(default=75 * 1024, gt=0, le=2 * 1024**3)


class CopySpec(Spec):
    """One copy of a database on one server."""

    server: Name
    activation_preference: Count = Field(ge=1, le=1000)
    replay_lag_time: Duration = 0.0
    truncation_lag_time: Duration = 0.0
    added: bool = Field(
        default=True,
        description="false: the copy does not exist until an add_database_copy action adds it (Add-MailboxDatabaseCopy)",
    )


class DatabaseSpec(Spec):
    """A mailbox database and its copies."""

    name: Name
    mailboxes: Count = Field(default=0, ge=0, le=MAX_MAILBOXES)
    message_profile: MessageProfile = MessageProfile()
    logs_per_day: Number | None = Field(
        default=None, ge=0, le=MAX_LOGS_PER_DAY, description="explicit log generation; overrides mailboxes × profile"
    )
    hourly_distribution: tuple[Number, ...] = Field(default=DEFAULT_HOURLY_DISTRIBUTION, max_length=1000)
    log_volume_size: Size = Field(default=500 * 1024**3, ge=MIN_LOG_VOLUME)
    activation_replay_rate: Number = Field(
        default=ACTIVATION_REPLAY_RATE,
        gt=0,
        le=MAX_LOG_RATE,
        description="logs/s a copy of this database replays while it is activated; Microsoft: at least 2 "
        "logs per second per database (Activate a lagged mailbox database copy)",
    )
    database_size: Size = 200 * 1024**3
    circular_logging: bool = Field(
        default=True, description="truncate logs once every copy has them (no backups modelled)"
    )
    copies: tuple[CopySpec, ...] = Field(min_length=1)
    data_move_replication_constraint: Literal[
        "none", "second_copy", "second_datacenter", "all_datacenters", "all_copies"
    ] = Field(
        default="second_copy",
        description="DataMoveReplicationConstraint: which passive copies a mailbox move waits for (the data guarantee)",
    )

    @property
    def generated_logs_per_day(self) -> float:
        """Logs generated per day: explicit, or mailboxes × message profile."""
        if self.logs_per_day is not None:
            return self.logs_per_day
        profile = self.message_profile
        size_factor = (profile.average_message_size / REFERENCE_MESSAGE_SIZE) ** MESSAGE_SIZE_EXPONENT
        return self.mailboxes * profile.messages_per_day / MESSAGES_PER_LOG * size_factor

    @field_validator("hourly_distribution")
    @classmethod
    def _distribution(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if len(values) != 24:
            raise ValueError(f"needs 24 hourly values (one per hour of the day), got {len(values)}")
        if any(v < 0 for v in values):
            raise ValueError("hourly values cannot be negative")
        total = sum(values)
        if not (abs(total - 1.0) < 1e-6 or abs(total - 100.0) < 1e-4):
            raise ValueError(f"hourly values must sum to 1 or 100, got {total:g}")
        return values


class _ActionBase(Spec):
    at: Duration = Field(description="simulated time of the action, from the start of the run")


class FailLink(_ActionBase):
    """An inter-site link goes down."""

    action: Literal["fail_link"]
    link: Name


class RestoreLink(_ActionBase):
    """A failed link comes back."""

    action: Literal["restore_link"]
    link: Name


class SuspendCopy(_ActionBase):
    """Suspend-MailboxDatabaseCopy: stop copying and replaying (or only block activation)."""

    action: Literal["suspend_copy"]
    database: Name
    server: Name
    activation_only: bool = False


class ResumeCopy(_ActionBase):
    """Resume-MailboxDatabaseCopy."""

    action: Literal["resume_copy"]
    database: Name
    server: Name


class SeedCopy(_ActionBase):
    """Update-MailboxDatabaseCopy -DeleteExistingFiles: seed a passive copy again from the active
    copy, over the network (as a newly added copy is seeded)."""

    action: Literal["seed_copy"]
    database: Name
    server: Name


class AddDatabaseCopy(_ActionBase):
    """Add-MailboxDatabaseCopy: a copy declared with ``added: false`` comes into being and is
    seeded from the active copy over the network (``Seeding`` until done)."""

    action: Literal["add_database_copy"]
    database: Name
    server: Name


class _ServerAction(_ActionBase):
    server: Name


class _CopyAction(_ActionBase):
    database: Name
    server: Name


class FailServer(_ServerAction):
    """A mailbox server stops: power loss, OS stop error or hardware failure."""

    action: Literal["fail_server"]


class RestoreServer(_ServerAction):
    """A failed server boots again; its Active Manager starts (DACP bit 0 in DAC mode)."""

    action: Literal["restore_server"]


class CrashStore(_ServerAction):
    """The Information Store service crashes; the service manager restarts it."""

    action: Literal["crash_store"]
    restart_after: Duration = Field(default=60.0, description="until the service runs again (assumption)")


class FailDatabaseVolume(_CopyAction):
    """The disk holding one copy's database file fails."""

    action: Literal["fail_database_volume"]


class RestoreDatabaseVolume(_CopyAction):
    """A failed database volume is replaced (the copy needs a reseed) or comes back."""

    action: Literal["restore_database_volume"]


class FailLogVolume(_CopyAction):
    """The disk holding one copy's transaction logs fails."""

    action: Literal["fail_log_volume"]


class RestoreLogVolume(_CopyAction):
    """A failed log volume comes back."""

    action: Literal["restore_log_volume"]


class LogVolumeFull(_CopyAction):
    """One copy's log volume runs out of space (an active copy dismounts)."""

    action: Literal["log_volume_full"]


class FailMapiNetwork(_ServerAction):
    """A server loses its MAPI network: Active Manager moves its databases away, losslessly."""

    action: Literal["fail_mapi_network"]


class RestoreMapiNetwork(_ServerAction):
    action: Literal["restore_mapi_network"]


class FailReplicationNetwork(_ServerAction):
    """A server loses its replication network(s): log shipping moves to the MAPI network."""

    action: Literal["fail_replication_network"]
    network: Name | None = Field(default=None, description="default: every replication network")


class RestoreReplicationNetwork(_ServerAction):
    action: Literal["restore_replication_network"]
    network: Name | None = None


class FailSite(_ActionBase):
    """A whole datacenter loses power: every server and witness host in it stops."""

    action: Literal["fail_site"]
    site: Name


class RestoreSite(_ActionBase):
    """Power returns to a datacenter: its servers and witness hosts start again."""

    action: Literal["restore_site"]
    site: Name


class PartitionWan(_ActionBase):
    """Every link directly between two sites fails."""

    action: Literal["partition_wan"]
    sites: tuple[Name, Name]


class HealWan(_ActionBase):
    """The links between two sites come back."""

    action: Literal["heal_wan"]
    sites: tuple[Name, Name]


class FailWitness(_ActionBase):
    """The file share witness host stops (its vote is lost)."""

    action: Literal["fail_witness"]


class RestoreWitness(_ActionBase):
    action: Literal["restore_witness"]


MountDial = Literal["lossless", "good_availability", "best_availability", "best_effort"]


MountDialOverride = Literal["none", "lossless", "good_availability", "best_availability", "best_effort"]


class _SwitchoverOptions(Spec):
    """Move-ActiveMailboxDatabase's mount dial and pre-check switches."""

    mount_dial_override: MountDialOverride | None = Field(
        default=None,
        description="mount dial of the switchover; default (not given): lossless; none: the target server's "
        "AutoDatabaseMountDial",
    )
    skip_lag_checks: bool = Field(default=False, description="allow a target with copy queue >= 10 or replay queue >= 50")
    skip_client_experience_checks: bool = Field(default=False, description="allow a target whose content index is not Healthy")
    skip_health_checks: bool = Field(default=False, description="allow a target whose copy status is not Healthy")


class SwitchoverDatabase(_ActionBase, _SwitchoverOptions):
    """Move-ActiveMailboxDatabase: an operator moves one database's active copy."""

    action: Literal["switchover_database"]
    database: Name
    target: Name | None = Field(default=None, description="target server; default: best copy selection by activation preference")


class SwitchoverServer(_ServerAction, _SwitchoverOptions):
    """Move-ActiveMailboxDatabase -Server: move every active database off a server."""

    action: Literal["switchover_server"]


class RedistributeActiveDatabases(_ActionBase):
    """RedistributeActiveDatabases.ps1 -BalanceDbsByActivationPreference: every database back
    on its preference-1 copy, by switchovers one after another."""

    action: Literal["redistribute_active_databases"]


class DismountDatabase(_ActionBase):
    """Dismount-Database by an operator (Active Manager does not fail it over)."""

    action: Literal["dismount_database"]
    database: Name


class MountDatabase(_ActionBase):
    """Mount-Database by an operator."""

    action: Literal["mount_database"]
    database: Name


class StopDag(_ActionBase):
    """Stop-DatabaseAvailabilityGroup -ActiveDirectorySite: mark a failed site's servers stopped."""

    action: Literal["stop_dag"]
    site: Name


class RestoreDag(_ActionBase):
    """Restore-DatabaseAvailabilityGroup: shrink the cluster to the surviving site's servers,
    using the alternate witness, so that databases can activate there."""

    action: Literal["restore_dag"]
    site: Name


class StartDag(_ActionBase):
    """Start-DatabaseAvailabilityGroup -ActiveDirectorySite: add a recovered site's servers back."""

    action: Literal["start_dag"]
    site: Name


class FailCas(_ActionBase):
    """The Client Access role of a server stops; on a multi-role server the Mailbox role keeps
    running and its databases stay mounted (use ``fail_server`` to stop the whole server)."""

    action: Literal["fail_cas"]
    server: Name


class RestoreCas(_ActionBase):
    action: Literal["restore_cas"]
    server: Name


class FailLoadBalancer(_ActionBase):
    """A site's load balancer (its virtual IP) stops answering."""

    action: Literal["fail_load_balancer"]
    site: Name


class RestoreLoadBalancer(_ActionBase):
    action: Literal["restore_load_balancer"]
    site: Name


class SwitchNamespace(_ActionBase):
    """An operator points a site's namespace (its DNS records) at another site's client access."""

    action: Literal["switch_namespace"]
    site: Name = Field(description="the site whose namespace moves")
    to_site: Name


class SetContentIndexState(_CopyAction):
    """A copy's content index becomes Healthy, Crawling or Failed (it matters to best copy selection)."""

    action: Literal["set_content_index_state"]
    state: Literal["healthy", "crawling", "failed"]


class SetServerHealth(_ServerAction):
    """Managed Availability's view of a server changes: best copy and server selection prefers
    healthier servers (the Exchange 2013 server health checks). ``failover: true`` is a
    Failover responder: the server's active databases move to servers healthier than it."""

    action: Literal["set_server_health"]
    health: Literal["healthy", "low_priority_unhealthy", "normal_priority_unhealthy", "high_priority_unhealthy"] = Field(
        description="healthy; or the highest priority (low, normal, high) of the server's unhealthy monitoring components"
    )
    failover: bool = Field(
        default=False,
        description="a Managed Availability Failover responder moves the server's active databases to healthier servers",
    )


Action = Annotated[
    FailLink
    | RestoreLink
    | SuspendCopy
    | SeedCopy
    | AddDatabaseCopy
    | ResumeCopy
    | FailServer
    | RestoreServer
    | CrashStore
    | FailDatabaseVolume
    | RestoreDatabaseVolume
    | FailLogVolume
    | RestoreLogVolume
    | LogVolumeFull
    | FailMapiNetwork
    | RestoreMapiNetwork
    | FailReplicationNetwork
    | RestoreReplicationNetwork
    | FailSite
    | RestoreSite
    | PartitionWan
    | HealWan
    | FailWitness
    | RestoreWitness
    | SwitchoverDatabase
    | SwitchoverServer
    | RedistributeActiveDatabases
    | DismountDatabase
    | MountDatabase
    | StopDag
    | RestoreDag
    | StartDag
    | SetContentIndexState
    | SetServerHealth
    | FailCas
    | RestoreCas
    | FailLoadBalancer
    | RestoreLoadBalancer
    | SwitchNamespace,
    Field(discriminator="action"),
]


class ActiveManagerSpec(Spec):
    """Timings of Active Manager's steps. Exchange documents the whole (a failover completes
    within 30 seconds); the split into steps is an *assumption*."""

    failure_item_detection: Duration = Field(
        default=2.0, description="a store or volume failure item reaching Active Manager (assumption)"
    )
    pam_move_delay: Duration = Field(
        default=5.0, description="the PAM role moving to another server after its own fails (assumption)"
    )
    selection_duration: Duration = Field(default=1.0, description="best copy and server selection (assumption)")
    acll_timeout: Duration = Field(
        default=10.0, description="attempt to copy the last logs from a server that does not answer (assumption)"
    )
    dismount_duration: Duration = Field(default=5.0, description="dismounting the source in a switchover (assumption)")
    mount_duration: Duration = Field(default=10.0, description="mounting a database whose logs are replayed (assumption)")


Protocol = Literal["outlook", "owa", "eas", "ews", "imap", "pop"]


class ProtocolSpec(Spec):
    """How one protocol's clients behave when a request fails (*assumptions*, per protocol)."""

    share: Number = Field(ge=0, le=1, description="share of each database's mailboxes using it")
    request_interval: Duration = Field(
        description="time between an idle client's requests; 0 for a client always connected"
    )
    retry_interval: Duration = Field(gt=0, description="wait before retrying a failed request")
    retry_backoff: Number = Field(default=1.0, ge=1, le=100, description="each retry waits this factor longer")
    max_retry_interval: Duration = Field(default=3600.0, gt=0)
    next_ip_wait: Duration = Field(default=20.0, description="wait before trying the next IP of a dead server")


DEFAULT_PROTOCOLS: dict[Protocol, ProtocolSpec] = {
    "outlook": ProtocolSpec(share=0.55, request_interval=0.0, retry_interval=15.0),
    "owa": ProtocolSpec(share=0.15, request_interval=0.0, retry_interval=10.0),
    "eas": ProtocolSpec(share=0.20, request_interval=0.0, retry_interval=30.0, retry_backoff=2.0, max_retry_interval=480.0),
    "ews": ProtocolSpec(share=0.05, request_interval=60.0, retry_interval=30.0),
    "imap": ProtocolSpec(share=0.03, request_interval=300.0, retry_interval=60.0),
    "pop": ProtocolSpec(share=0.02, request_interval=600.0, retry_interval=300.0),
}


class CasSpec(Spec):
    """A server running the Client Access role (it may also be one of the mailbox servers)."""

    name: Name
    site: Name


class ClientAccessSpec(Spec):
    """Client Access servers, how clients reach them and how they find the active copy (docs/client-access.md)."""

    servers: tuple[CasSpec, ...] = Field(
        default=(),
        description="the servers that serve clients; default: every mailbox server (multi-role, as the "
        "preferred architecture deploys them)",
    )
    balancing: Literal["load_balancer", "dns_round_robin"] = "load_balancer"
    namespace_model: Literal["bound", "unbound"] = Field(
        default="bound",
        description="bound: each site's namespace resolves to its own load balancer; unbound: one namespace "
        "resolves to every site's load balancer (the preferred architecture), and a client whose address "
        "stops answering tries the next one after next_ip_wait",
    )
    probe_interval: Duration = Field(default=5.0, gt=0, description="load balancer health probe (assumption)")
    probe_failures: Count = Field(default=2, ge=1, le=1000, description="failed probes before a CAS leaves the pool (assumption)")
    dns_ttl: Duration = Field(default=300.0, description="TTL of the namespace records (assumption)")
    location_cache_lifetime: Duration = Field(
        default=30.0, gt=0, description="how long a CAS trusts a database's location (assumption)"
    )
    stale_lookup_delay: Duration = Field(
        default=5.0, description="after a request fails on a stale location, until the fresh lookup is used (assumption)"
    )
    protocols: dict[Protocol, ProtocolSpec] = Field(default_factory=lambda: dict(DEFAULT_PROTOCOLS))

    @field_validator("protocols")
    @classmethod
    def _shares(cls, protocols: dict[str, ProtocolSpec]) -> dict[str, ProtocolSpec]:
        total = sum(p.share for p in protocols.values())
        if protocols and abs(total - 1.0) > 1e-6:
            raise ValueError(f"protocol shares must add up to 1, got {total:g}")
        return protocols


class TransportSpec(Spec):
    """Safety Net, which redelivers mail after a lossy failover (docs/active-manager.md#after-a-lossy-failover-safety-net-resync-reseed)."""

    safety_net_hold_time: Duration = 2 * 86400.0
    transport_share: Number = Field(
        default=0.8,
        ge=0,
        le=1,
        description="share of lost log content that is mail delivered by transport (assumption); "
        "the rest is client changes that Safety Net cannot bring back",
    )
    redelivery_duration: Duration = Field(default=300.0, description="Safety Net resubmitting the lost window (assumption)")


class ReseedSpec(Spec):
    """Seeding and AutoReseed."""

    seeding_rate: Bandwidth = Field(
        default=20 * 1024**2, description="about 168Mbps = 20 MB/s (a 2 TB reseed takes about 23 h)"
    )
    auto_reseed: bool = True
    auto_reseed_wait: Duration = 15 * 60.0
    auto_reseed_resume_attempts: Count = Field(default=3, ge=0, le=1000)
    auto_reseed_retry_interval: Duration = 5 * 60.0


class RunSpec(Spec):
    """How long to simulate, with what seed, and how results are sampled."""

    duration: Duration = Field(default=86400.0, gt=0, json_schema_extra={"maximum": MAX_RUN_DURATION})
    seed: Count = Field(default=1, ge=0, le=2**63 - 1)
    sample_interval: Duration = Field(default=300.0, gt=0)
    mode: Literal["fluid", "per_log"] = "fluid"

    @field_validator("duration")
    @classmethod
    def _bounded_run(cls, duration: float) -> float:
        if duration > MAX_RUN_DURATION:
            years = MAX_RUN_DURATION / (365 * 86400.0)
            raise ValueError(f"a run can be at most {years:g}y long, got {format_duration(duration)}")
        return duration


class Scenario(Spec):
    """A whole scenario file."""

    name: str = "scenario"
    description: str = ""
    sites: tuple[SiteSpec, ...] = Field(min_length=1)
    networks: tuple[NetworkSpec, ...] = (NetworkSpec(name="MapiNetwork", type="mapi"),)
    links: tuple[LinkSpec, ...] = ()
    dag: DagSpec = DagSpec()
    servers: tuple[ServerSpec, ...] = Field(min_length=1)
    databases: tuple[DatabaseSpec, ...] = Field(min_length=1)
    active_manager: ActiveManagerSpec = ActiveManagerSpec()
    transport: TransportSpec = TransportSpec()
    client_access: ClientAccessSpec = ClientAccessSpec()
    reseed: ReseedSpec = ReseedSpec()
    timeline: tuple[Action, ...] = ()
    expect: tuple[Expectation, ...] = ()
    run: RunSpec = RunSpec()
    failures: FailuresSpec | None = Field(default=None, description="random failures for `dagsim availability`")
    mrs: MrsSpec = Field(default=MrsSpec(), description="mailbox moves (migration batches)")

    # -- conveniences for model code (pure lookups on the frozen data) --

    def server(self, name: str) -> ServerSpec:
        return next(s for s in self.servers if s.name == name)

    def database(self, name: str) -> DatabaseSpec:
        return next(d for d in self.databases if d.name == name)

    @property
    def member_names(self) -> tuple[str, ...]:
        if self.dag.members is not None:
            return self.dag.members
        return tuple(s.name for s in self.servers)
