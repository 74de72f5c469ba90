"""Seeding over the network: a seed shares NICs and links with log shipping (max-min fair)."""

from __future__ import annotations

import pytest

import dagsim
from dagsim.config.schema import Scenario

GIB = 1024**3
MIB = 1024**2


def scenario(wan: str = "200Mbps", *, seed: bool = True, logs: float = 0.0, compression: str = "inter_subnet_only") -> Scenario:
    """DB1's copy on B1 is seeded again at 1 h over the WAN; DB2 ships ``logs`` logs a day to B2 over the same WAN."""
    return Scenario.model_validate(
        {
            "name": "seed",
            "sites": [{"name": "A"}, {"name": "B"}],
            "links": [{"name": "AB", "sites": ["A", "B"], "bandwidth": wan}],
            "dag": {"witness": {"host": "FSW", "site": "A"}, "network_compression": compression},
            "servers": [{"name": "A1", "site": "A"}, {"name": "B1", "site": "B"}, {"name": "B2", "site": "B"}],
            "databases": [
                {"name": "DB1", "logs_per_day": 0, "database_size": "100GB",
                 "copies": [{"server": "A1", "activation_preference": 1}, {"server": "B1", "activation_preference": 2}]},
                {"name": "DB2", "logs_per_day": logs, "hourly_distribution": [1 / 24] * 24,
                 "copies": [{"server": "A1", "activation_preference": 1}, {"server": "B2", "activation_preference": 2}]},
            ],  # fmt: skip
            "client_access": {"protocols": {}},
            "timeline": [{"at": "1h", "action": "seed_copy", "database": "DB1", "server": "B1"}] if seed else [],
            "run": {"duration": "1d"},
        }
    )


def seeding_time(result) -> float:
    events = result.events
    started = events[events.kind == "seeding_started"].time.iloc[0]
    return events[events.kind == "seeding_completed"].time.iloc[0] - started


def test_a_seed_with_room_runs_at_the_seeding_rate():
    """With room on the WAN, 100 GiB seed at seeding_rate (20 MiB/s): 5,120 s."""
    result = dagsim.simulate(scenario("1Gbps"))
    assert seeding_time(result) == pytest.approx(100 * GIB / (20 * MIB), rel=1e-9)


def test_a_thin_wan_slows_the_seed_to_its_compressed_capacity():
    """Over 50 Mbit/s the seed gets the whole link; each database byte costs 0.7 on the wire (InterSubnetOnly)."""
    s = scenario("50Mbps")
    ratio = s.dag.compression_ratio
    assert seeding_time(dagsim.simulate(s)) == pytest.approx(100 * GIB * ratio / (50e6 / 8), rel=1e-9)
    plain = scenario("50Mbps", compression="disabled")
    assert seeding_time(dagsim.simulate(plain)) == pytest.approx(100 * GIB / (50e6 / 8), rel=1e-9)


def test_seeding_raises_the_queue_of_a_copy_sharing_the_link():
    """A log stream above half the WAN gets half while the seed runs: its queue grows at g − C/2 for the seed's duration."""
    logs = 1_000_000.0
    s = scenario("100Mbps", logs=logs)
    ratio = s.dag.compression_ratio
    half = 100e6 / 8 / 2  # bytes/s each of the two flows gets
    duration = 100 * GIB * ratio / half
    growth = logs / 86400 - half / (ratio * MIB)
    result = dagsim.simulate(s)
    assert seeding_time(result) == pytest.approx(duration, rel=1e-9)
    peak = result.copies.set_index(["database", "server"]).copy_queue_peak[("DB2", "B2")]
    assert peak == pytest.approx(growth * duration, rel=1e-6)
    quiet = dagsim.simulate(scenario("100Mbps", logs=logs, seed=False))
    assert quiet.copies.copy_queue_peak.max() < 1


def test_seeding_the_active_copy_is_an_operator_error():
    """seed_copy on the active copy is refused and recorded, the run goes on."""
    data = scenario().model_dump(mode="json", exclude_none=True)
    data["timeline"][0]["server"] = "A1"
    result = dagsim.simulate(Scenario.model_validate(data))
    errors = result.events[result.events.kind == "operator_error"]
    assert "cannot be seeded" in errors.detail.iloc[0]
    assert not (result.events.kind == "seeding_started").any()
