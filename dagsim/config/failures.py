"""The ``failures:`` block: random failures and repairs per component class (docs/availability.md).

Each component class (servers, Information Store crashes, database and log volumes per
copy, sites, links, the witness, Client Access servers, load balancers per site) has a
time-to-failure and a time-to-repair distribution; a class left out never fails. Names in
``overrides`` are checked by :mod:`dagsim.config.rules` once the structure is valid.

No universal failure rates exist: every figure here is a scenario input, and the shipped
scenarios label theirs as *assumptions* with a public source for the order of magnitude.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from dagsim.config.units import DURATION_JSON_SCHEMA, Count, Duration, Number, parse_duration

__all__ = [
    "COMPONENT_CLASSES",
    "MAX_EXPECTED_FAILURES_PER_YEAR",
    "MAX_REPAIR_CREWS",
    "MAX_REPLICA_DURATION",
    "MAX_STUDY_FIGURES",
    "MAX_STUDY_REPLICAS",
    "MAX_TIME_TO_FAILURE",
    "MAX_TIME_TO_REPAIR",
    "MIN_TIME_TO_FAILURE",
    "YEAR",
    "ComponentFailures",
    "Distribution",
    "Exponential",
    "FailuresSpec",
    "Fixed",
    "Lognormal",
    "MaintenanceSpec",
    "MaintenanceWindow",
    "Override",
    "Weibull",
    "component_failures",
    "component_names",
    "copy_name",
    "distribution_mean",
    "expected_failures_per_year",
    "failure_findings",
    "study_replica_limit",
]

YEAR = 365 * 86400.0
MAX_STUDY_YEARS = 1_000_000.0
"""No availability study simulates more DAG-years than this (bounded run time and memory)."""
MAX_STUDY_REPLICAS = 500_000
"""No availability study keeps more replica records than this (bounded memory)."""
MAX_STUDY_FIGURES = 5_000_000
"""Nor more per-database figures of one kind (replicas x databases): about 0.4 GB of them."""
DEFAULT_MAX_YEARS = 10_000.0
"""Where a ``precision`` study stops if the precision is not reached first."""
MAX_RARE_CYCLES = 10_000_000
"""No importance-sampling study runs more biased cycles than this (bounded run time)."""
DEFAULT_MAX_CYCLES = 1_000_000
"""Where an importance-sampling study stops if its precision is not reached first."""
DEFAULT_RARE_PRECISION = 0.10
"""An importance-sampling study stops at a relative half-width of ±10 % by default."""
MIN_TIME_TO_FAILURE = 3600.0
"""Smallest mean time to failure: below an hour a component is not in service, and the
number of events per simulated year would grow without bound."""
MAX_TIME_TO_FAILURE = 10_000 * YEAR
MAX_TIME_TO_REPAIR = 365 * 86400.0
MAX_REPLICA_DURATION = 10 * YEAR
MAX_REPAIR_CREWS = 1000
MAX_EXPECTED_FAILURES_PER_YEAR = 10_000
"""Rule limit on the failures a scenario expects per simulated year, over every component."""

COMPONENT_CLASSES = (
    "servers",
    "store_crashes",
    "database_volumes",
    "log_volumes",
    "sites",
    "links",
    "witness",
    "cas_servers",
    "load_balancers",
)
ComponentClass = Literal[
    "servers",
    "store_crashes",
    "database_volumes",
    "log_volumes",
    "sites",
    "links",
    "witness",
    "cas_servers",
    "load_balancers",
]

_LOGNORMAL_Z95 = 1.6448536269514722  # standard normal 95th percentile


class Spec(BaseModel):
    """Immutable, and typos in keys are errors (as every scenario model)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)


class Exponential(Spec):
    """Memoryless: a constant rate 1 / mean (MTBF or MTTR)."""

    distribution: Literal["exponential"]
    mean: Duration = Field(gt=0, le=MAX_TIME_TO_FAILURE)


class Weibull(Spec):
    """Weibull: shape < 1 infant mortality, 1 exponential, > 1 wear-out; scale in time."""

    distribution: Literal["weibull"]
    shape: Number = Field(ge=0.1, le=20)
    scale: Duration = Field(gt=0, le=MAX_TIME_TO_FAILURE)


class Lognormal(Spec):
    """Lognormal by its median and 95th percentile, as repair times are usually quoted."""

    distribution: Literal["lognormal"]
    median: Duration = Field(gt=0, le=MAX_TIME_TO_FAILURE)
    p95: Duration = Field(gt=0, le=MAX_TIME_TO_FAILURE)

    @field_validator("p95")
    @classmethod
    def _ordered(cls, p95: float, info: ValidationInfo) -> float:
        median = info.data.get("median")
        if median is not None and p95 < median:
            raise ValueError("p95 must be at least the median")
        if median is not None and p95 > 1000 * median:
            raise ValueError("p95 may be at most 1000 times the median")
        return p95

    @property
    def sigma(self) -> float:
        return math.log(self.p95 / self.median) / _LOGNORMAL_Z95


class Fixed(Spec):
    """Always the same duration (planned work, a scripted restart)."""

    distribution: Literal["fixed"]
    value: Duration = Field(le=MAX_TIME_TO_FAILURE)


def _bare_duration(value: object) -> object:
    # `time_to_failure: 3y` is the common case: an exponential with that mean (MTBF).
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return {"distribution": "exponential", "mean": parse_duration(value)}
        except ValueError:
            return value
    return value


class _AlsoBareDuration:
    """JSON Schema: a distribution mapping, or a bare duration (exponential with that mean)."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {"anyOf": [handler(core_schema), DURATION_JSON_SCHEMA]}


Distribution = Annotated[
    Annotated[Exponential | Weibull | Lognormal | Fixed, Field(discriminator="distribution")],
    BeforeValidator(_bare_duration),
    _AlsoBareDuration(),
]


def distribution_mean(distribution: Exponential | Weibull | Lognormal | Fixed) -> float:
    """The mean of a distribution, seconds."""
    if isinstance(distribution, Exponential):
        return distribution.mean
    if isinstance(distribution, Weibull):
        return distribution.scale * math.gamma(1 + 1 / distribution.shape)
    if isinstance(distribution, Lognormal):
        return distribution.median * math.exp(distribution.sigma**2 / 2)
    return distribution.value


def _check_time_to_failure(value: Any) -> Any:
    if distribution_mean(value) < MIN_TIME_TO_FAILURE:
        raise ValueError("the mean time to failure must be at least 1h")
    return value


def _check_time_to_repair(value: Any) -> Any:
    if distribution_mean(value) > MAX_TIME_TO_REPAIR:
        raise ValueError("the mean time to repair must be at most 365d")
    return value


class ComponentFailures(Spec):
    """How one component class fails and how long each repair takes."""

    time_to_failure: Distribution = Field(description="time from a repair (or the start) to the next failure")
    time_to_repair: Distribution = Field(description="time from a failure until the component is back")

    @field_validator("time_to_failure")
    @classmethod
    def _failure_bounded(cls, value: Any) -> Any:
        return _check_time_to_failure(value)

    @field_validator("time_to_repair")
    @classmethod
    def _repair_bounded(cls, value: Any) -> Any:
        return _check_time_to_repair(value)


class Override(Spec):
    """Different failure figures for one named component of a class."""

    component: ComponentClass
    name: str = Field(
        min_length=1,
        max_length=160,
        description="the server, site, link, witness host, CAS or site (load balancers); a copy as DB\\SERVER",
    )
    time_to_failure: Distribution | None = None
    time_to_repair: Distribution | None = None

    @field_validator("time_to_failure")
    @classmethod
    def _failure_bounded(cls, value: Any) -> Any:
        return None if value is None else _check_time_to_failure(value)

    @field_validator("time_to_repair")
    @classmethod
    def _repair_bounded(cls, value: Any) -> Any:
        return None if value is None else _check_time_to_repair(value)

    @model_validator(mode="after")
    def _something(self) -> Override:
        if self.time_to_failure is None and self.time_to_repair is None:
            raise ValueError("an override gives time_to_failure, time_to_repair or both")
        return self


class MaintenanceWindow(Spec):
    """Planned work, one component at a time in a rolling schedule."""

    every: Duration = Field(ge=86400.0, le=MAX_TIME_TO_FAILURE, description="period of the maintenance of each component")
    duration: Duration = Field(gt=0, le=7 * 86400.0, description="how long each component is down for it")
    drain: Duration = Field(
        default=600.0,
        le=86400.0,
        description="from moving a server's active databases away until it goes down (assumption)",
    )

    @model_validator(mode="after")
    def _fits(self) -> MaintenanceWindow:
        if self.drain + self.duration >= self.every:
            raise ValueError("drain + duration must be shorter than every")
        return self


class MaintenanceSpec(Spec):
    """Planned maintenance per component class (servers: patching)."""

    servers: MaintenanceWindow | None = None


class FailuresSpec(Spec):
    """Random failures for availability studies; a class left out never fails."""

    servers: ComponentFailures | None = None
    store_crashes: ComponentFailures | None = Field(
        default=None, description="Information Store crashes; the repair is the service restart"
    )
    database_volumes: ComponentFailures | None = Field(default=None, description="per database copy")
    log_volumes: ComponentFailures | None = Field(default=None, description="per database copy")
    sites: ComponentFailures | None = None
    links: ComponentFailures | None = None
    witness: ComponentFailures | None = None
    cas_servers: ComponentFailures | None = None
    load_balancers: ComponentFailures | None = Field(default=None, description="per site with Client Access servers")
    overrides: tuple[Override, ...] = Field(default=(), max_length=10_000)
    repair_crews: Count | None = Field(
        default=None,
        ge=1,
        le=MAX_REPAIR_CREWS,
        description="repairs at once; null: unlimited; beyond it repairs wait in a FIFO queue",
    )
    maintenance: MaintenanceSpec = MaintenanceSpec()
    replica_duration: Duration = Field(
        default=YEAR,
        ge=86400.0,
        le=MAX_REPLICA_DURATION,
        description="simulated time of one Monte Carlo replica",
    )


# -- which components each class holds, and the rules on names (run by dagsim.config.rules) --


def copy_name(database: str, server: str) -> str:
    """A database copy's identity as Exchange writes it: ``DB01\\MBX1``."""
    return f"{database}\\{server}"


def component_names(scenario: Any, component: str) -> tuple[str, ...]:
    """The names of every component of one class in a scenario, in scenario order."""
    servers = tuple(s.name for s in scenario.servers)
    if component in ("servers", "store_crashes"):
        return servers
    if component in ("database_volumes", "log_volumes"):
        return tuple(copy_name(d.name, c.server) for d in scenario.databases for c in d.copies)
    if component == "sites":
        return tuple(s.name for s in scenario.sites)
    if component == "links":
        return tuple(link.name for link in scenario.links)
    if component == "witness":
        return (scenario.dag.witness.host,) if scenario.dag.witness is not None else ()
    cas = scenario.client_access.servers
    if component == "cas_servers":
        return tuple(c.name for c in cas) or servers
    if component == "load_balancers":
        if scenario.client_access.balancing != "load_balancer":
            return ()
        sites_with_cas = {c.site for c in cas} if cas else {s.site for s in scenario.servers}
        return tuple(s.name for s in scenario.sites if s.name in sites_with_cas)
    raise ValueError(f"unknown component class {component!r}")


def failure_findings(scenario: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Rule violations of ``scenario.failures`` as ``(loc, message)`` pairs."""
    spec: FailuresSpec | None = scenario.failures
    if spec is None:
        return []
    import difflib

    found: list[tuple[tuple[str | int, ...], str]] = []
    for component in COMPONENT_CLASSES:
        if getattr(spec, component) is not None and not component_names(scenario, component):
            found.append(((("failures", component)), _nothing_to_fail(component)))
    seen: dict[tuple[str, str], int] = {}
    for index, override in enumerate(spec.overrides):
        here = ("failures", "overrides", index)
        names = component_names(scenario, override.component)
        if override.name not in names:
            close = difflib.get_close_matches(override.name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            found.append(
                ((*here, "name"), f"{override.component} has no component {override.name!r} (references must resolve){hint}")
            )
        base = getattr(spec, override.component)
        if base is None and (override.time_to_failure is None or override.time_to_repair is None):
            found.append(
                (here, f"failures.{override.component} is not given, so this override needs both time_to_failure and time_to_repair")
            )
        key = (override.component, override.name)
        if key in seen:
            found.append(((*here, "name"), f"{override.name!r} is already overridden by overrides[{seen[key]}]"))
        seen.setdefault(key, index)
    rate = expected_failures_per_year(scenario)
    if rate > MAX_EXPECTED_FAILURES_PER_YEAR:
        found.append(
            (
                ("failures",),
                f"these figures give about {rate:,.0f} failures per simulated year; at most "
                f"{MAX_EXPECTED_FAILURES_PER_YEAR:,} are allowed (raise the times to failure)",
            )
        )
    return found


def _nothing_to_fail(component: str) -> str:
    if component == "witness":
        return "the DAG has no witness to fail"
    if component == "load_balancers":
        return "no site has a load balancer (client_access.balancing is not load_balancer)"
    return f"the scenario has no {component.replace('_', ' ')}"


def component_failures(spec: FailuresSpec, component: str, name: str) -> ComponentFailures | None:
    """The failure figures of one named component: its class's, with any override applied."""
    base = getattr(spec, component)
    for override in spec.overrides:
        if override.component == component and override.name == name:
            ttf = override.time_to_failure or (base.time_to_failure if base else None)
            ttr = override.time_to_repair or (base.time_to_repair if base else None)
            if ttf is None or ttr is None:
                return None
            return ComponentFailures(time_to_failure=ttf, time_to_repair=ttr)
    return base


def expected_failures_per_year(scenario: Any) -> float:
    """About how many failures (and maintenance windows) one simulated year holds; an upper bound."""
    spec: FailuresSpec | None = scenario.failures
    if spec is None:
        return 0.0
    total = 0.0
    for component in COMPONENT_CLASSES:
        for name in component_names(scenario, component):
            figures = component_failures(spec, component, name)
            if figures is not None:
                total += YEAR / distribution_mean(figures.time_to_failure)
    window = spec.maintenance.servers
    if window is not None:
        total += len(scenario.servers) * YEAR / window.every
    return total


def study_replica_limit(databases: int) -> int:
    """Most replicas a study of a scenario with ``databases`` databases may keep."""
    return min(MAX_STUDY_REPLICAS, MAX_STUDY_FIGURES // max(databases, 1))
