"""The scenario schema: frozen pydantic models, unknown keys rejected.

Every default is the documented Exchange 2013 / Windows Server 2012 R2 value unless its
description says *assumption*. Cross-references (servers, sites, links, databases) are
checked by :mod:`dagsim.config.rules`, after the structure here is valid, so that every
problem in a file can be reported at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dagsim.config.units import Bandwidth, Duration, Size

__all__ = [
    "MAX_COPIES",
    "MAX_LAG",
    "MAX_MEMBERS",
    "Action",
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
    same_subnet_delay: Duration = 1.0
    same_subnet_threshold: int = Field(default=5, ge=1)
    cross_subnet_delay: Duration = 1.0
    cross_subnet_threshold: int = Field(default=5, ge=1)
    network_compression: Literal["disabled", "enabled", "inter_subnet_only", "seed_only"] = (
        "inter_subnet_only"
    )
    compression_ratio: float = Field(
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
    maximum_active_databases: int | None = Field(default=None, ge=0)
    maximum_preferred_active_databases: int | None = Field(default=None, ge=0)
    replay_rate: float = Field(
        default=100.0,
        gt=0,
        description="logs/s this server can replay, shared by its passive copies (assumption)",
    )
    nic_bandwidth: Bandwidth = Field(default=10e9 / 8, description="per DAG network, each direction")


class MessageProfile(Spec):
    """Messages sent and received per mailbox per day and their average size."""

    messages_per_day: float = Field(default=150.0, gt=0)
    average_message_size: Size = 75 * 1024


class CopySpec(Spec):
    """One copy of a database on one server."""

    server: Name
    activation_preference: int = Field(ge=1)
    replay_lag_time: Duration = 0.0
    truncation_lag_time: Duration = 0.0


class DatabaseSpec(Spec):
    """A mailbox database and its copies."""

    name: Name
    mailboxes: int = Field(default=0, ge=0)
    message_profile: MessageProfile = MessageProfile()
    logs_per_day: float | None = Field(
        default=None, ge=0, description="explicit log generation; overrides mailboxes × profile"
    )
    hourly_distribution: tuple[float, ...] = DEFAULT_HOURLY_DISTRIBUTION
    log_volume_size: Size = 500 * 1024**3
    database_size: Size = 200 * 1024**3
    circular_logging: bool = Field(
        default=True, description="truncate logs once every copy has them (no backups modelled)"
    )
    copies: tuple[CopySpec, ...] = Field(min_length=1)

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


Action = Annotated[FailLink | RestoreLink | SuspendCopy | ResumeCopy, Field(discriminator="action")]


class RunSpec(Spec):
    """How long to simulate, with what seed, and how results are sampled."""

    duration: Duration = 86400.0
    seed: int = Field(default=1, ge=0)
    sample_interval: Duration = Field(default=300.0, gt=0)
    mode: Literal["fluid", "per_log"] = "fluid"


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
    timeline: tuple[Action, ...] = ()
    run: RunSpec = RunSpec()

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
