"""The `failures:` block: distributions, bounds, located errors and name rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config import ScenarioError, load_scenario_text
from dagsim.config.failures import (
    YEAR,
    Exponential,
    Fixed,
    Lognormal,
    Weibull,
    component_failures,
    component_names,
    distribution_mean,
    expected_failures_per_year,
)
from dagsim.config.units import parse_duration

QUICKSTART = (Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml").read_text()


def with_failures(block: str) -> str:
    return QUICKSTART + "\nfailures:\n" + block


def problems(block: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(with_failures(block), "f.yaml")
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


def test_year_unit_is_365_days():
    """`y` is 365 days and combines with other units."""
    assert parse_duration("1y") == 365 * 86400
    assert parse_duration("2y12h") == 2 * 365 * 86400 + 12 * 3600


def test_full_block_parses_each_distribution():
    """Every class, each distribution kind, overrides, crews and maintenance load as written."""
    scenario = load_scenario_text(
        with_failures(
            """
  servers: {time_to_failure: {distribution: exponential, mean: 5y}, time_to_repair: {distribution: lognormal, median: 4h, p95: 24h}}
  store_crashes: {time_to_failure: 1y, time_to_repair: {distribution: fixed, value: 60s}}
  database_volumes: {time_to_failure: {distribution: weibull, shape: 1.5, scale: 30y}, time_to_repair: 2d}
  log_volumes: {time_to_failure: 30y, time_to_repair: 2d}
  sites: {time_to_failure: 10y, time_to_repair: 4h}
  links: {time_to_failure: 2y, time_to_repair: 8h}
  witness: {time_to_failure: 3y, time_to_repair: 4h}
  cas_servers: {time_to_failure: 5y, time_to_repair: 4h}
  load_balancers: {time_to_failure: 10y, time_to_repair: 1h}
  overrides: [{component: servers, name: RED-MBX1, time_to_failure: 1y}, {component: database_volumes, name: DB01\\RED-MBX1, time_to_repair: 1d}]
  repair_crews: 2
  maintenance: {servers: {every: 30d, duration: 2h}}
"""
        )
    )
    spec = scenario.failures
    assert spec.servers.time_to_failure == Exponential(distribution="exponential", mean=5 * YEAR)
    assert spec.servers.time_to_repair == Lognormal(distribution="lognormal", median=4 * 3600, p95=86400)
    assert spec.store_crashes.time_to_repair == Fixed(distribution="fixed", value=60)
    assert spec.database_volumes.time_to_failure == Weibull(distribution="weibull", shape=1.5, scale=30 * YEAR)
    assert spec.repair_crews == 2
    assert spec.maintenance.servers.every == 30 * 86400 and spec.maintenance.servers.drain == 600
    overridden = component_failures(spec, "servers", "RED-MBX1")
    assert overridden.time_to_failure.mean == YEAR and overridden.time_to_repair == spec.servers.time_to_repair
    assert component_failures(spec, "servers", "RED-MBX2") == spec.servers


def test_bare_duration_is_an_exponential_with_that_mean():
    """`time_to_failure: 3y` is the same as an exponential of mean 3y."""
    bare = load_scenario_text(with_failures("  links: {time_to_failure: 3y, time_to_repair: 90m}\n"))
    written = load_scenario_text(
        with_failures(
            "  links: {time_to_failure: {distribution: exponential, mean: 3y},"
            " time_to_repair: {distribution: exponential, mean: 90m}}\n"
        )
    )
    assert bare.failures == written.failures


def test_distribution_means():
    """Means used for bounds: Weibull through the gamma function, lognormal from median and p95."""
    assert distribution_mean(Weibull(distribution="weibull", shape=1.0, scale=100.0)) == pytest.approx(100.0)
    assert distribution_mean(Weibull(distribution="weibull", shape=2.0, scale=100.0)) == pytest.approx(
        100.0 * math.sqrt(math.pi) / 2
    )
    lognormal = Lognormal(distribution="lognormal", median=3600.0, p95=3600.0 * math.exp(1.6448536269514722))
    assert lognormal.sigma == pytest.approx(1.0)
    assert distribution_mean(lognormal) == pytest.approx(3600.0 * math.exp(0.5))


def test_structural_problems_are_located_all_at_once():
    """Bad distributions, bounds and unknown keys are each reported at their own path."""
    found = problems(
        """
  servers: {time_to_failure: 5m, time_to_repair: {distribution: lognormal, median: 4h, p95: 2h}}
  sites: {time_to_failure: {distribution: gamma, mean: 3y}, time_to_repair: 1h}
  links: {time_to_failure: {distribution: weibull, shape: 1.2}, time_to_repair: 1h, typo: 3}
  witness: {time_to_failure: 1y, time_to_repair: 2y}
  repair_crews: 0
  maintenance: {servers: {every: 1d, duration: 12h, drain: 12h}}
"""
    )
    assert "failures.servers.time_to_failure: the mean time to failure must be at least 1h" in found
    assert "failures.servers.time_to_repair.p95: p95 must be at least the median" in found
    assert any(p.startswith("failures.sites.time_to_failure.distribution: unknown distribution 'gamma'") for p in found)
    assert "failures.links.time_to_failure.scale: missing required key 'scale'" in found
    assert "failures.links.typo: unknown key 'typo'" in found
    assert "failures.witness.time_to_repair: the mean time to repair must be at most 365d" in found
    assert any(p.startswith("failures.repair_crews: should be greater than or equal to 1") for p in found)
    assert "failures.maintenance.servers: drain + duration must be shorter than every" in found


def test_override_names_must_resolve():
    """Overrides name an existing component of their class, once; a lone override needs both figures."""
    found = problems(
        """
  servers: {time_to_failure: 5y, time_to_repair: 4h}
  overrides:
    - {component: servers, name: RED-MBX9, time_to_failure: 1y}
    - {component: database_volumes, name: DB01\\RED-MBX1, time_to_repair: 1h}
    - {component: servers, name: RED-MBX1, time_to_failure: 1y}
    - {component: servers, name: RED-MBX1, time_to_repair: 1h}
"""
    )
    assert any(p.startswith("failures.overrides[0].name: servers has no component 'RED-MBX9'") for p in found)
    assert (
        "failures.overrides[1]: failures.database_volumes is not given, so this override needs both "
        "time_to_failure and time_to_repair"
    ) in found
    assert "failures.overrides[3].name: 'RED-MBX1' is already overridden by overrides[2]" in found
    empty = problems("  overrides: [{component: links, name: WAN-RED-DUB}]\n")
    assert empty == ["failures.overrides[0]: an override gives time_to_failure, time_to_repair or both"]


def test_expected_failure_rate_is_bounded():
    """A file expecting more than 10,000 failures per simulated year is rejected (bounded run time)."""
    found = problems("  database_volumes: {time_to_failure: 2h, time_to_repair: 1h}\n")
    assert any("failures per simulated year" in p for p in found)


def test_component_names_per_class():
    """Copies are named DB\\SERVER; load balancers exist per site with Client Access servers."""
    scenario = load_scenario_text(QUICKSTART)
    assert component_names(scenario, "database_volumes")[0] == "DB01\\RED-MBX1"
    assert component_names(scenario, "witness") == ("BOS-FSW1",)
    assert component_names(scenario, "load_balancers") == ("Redmond", "Dublin")
    assert component_names(scenario, "cas_servers") == tuple(s.name for s in scenario.servers)


def test_expected_failures_counts_maintenance():
    """The expected-events estimate adds each component's yearly failures and maintenance windows."""
    scenario = load_scenario_text(
        with_failures(
            "  servers: {time_to_failure: 2y, time_to_repair: 4h}\n"
            "  maintenance: {servers: {every: 73d, duration: 1h}}\n"
        )
    )
    assert expected_failures_per_year(scenario) == pytest.approx(4 * 0.5 + 4 * 5)


def test_json_schema_accepts_a_bare_duration_or_a_distribution():
    """The JSON Schema lists both forms of a distribution, and `y` in the duration pattern."""
    result = CliRunner().invoke(app, ["schema"])
    document = json.loads(result.output)
    field = document["$defs"]["ComponentFailures"]["properties"]["time_to_failure"]
    forms = field["anyOf"]
    assert set(forms[0]["discriminator"]["mapping"]) == {"exponential", "weibull", "lognormal", "fixed"}
    assert "|y)" in forms[1]["anyOf"][0]["pattern"]
    assert "failures" in document["properties"]
