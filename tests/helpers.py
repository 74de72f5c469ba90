"""Small scenarios built in code, for engine tests."""

from __future__ import annotations

import math
import os

from dagsim.config.schema import DatabaseSpec, Scenario

MiB = 1024**2


def bits_per_second(logs_per_second: float) -> float:
    """Link bandwidth (bits/s) that carries exactly this many uncompressed 1 MiB logs/s."""
    return logs_per_second * MiB * 8


def two_site_scenario(
    *,
    databases: int = 1,
    logs_per_day: float = 11520.0,
    distribution: list[float] | None = None,
    link_logs_per_second: float = 0.2,
    duration: str = "12h",
    timeline: list[dict] | None = None,
    lag: str = "0s",
    log_volume_size: str = "500GB",
    replication_network: bool = False,
    sample_interval: str = "5m",
    witness_site: str = "A",
    mount_dial: str = "good_availability",
) -> Scenario:
    """Databases active in site A with one passive copy each in site B, over one WAN link.

    By default the first 4 hours generate 0.3 logs/s per database and the rest 0.1 logs/s;
    the link carries ``link_logs_per_second`` uncompressed logs per second in total.
    """
    distribution = distribution or [9.375] * 4 + [3.125] * 20
    networks = [{"name": "Mapi", "type": "mapi"}]
    if replication_network:
        networks.append({"name": "Repl", "type": "replication"})
    links = [
        {
            "name": "wan",
            "sites": ["A", "B"],
            "bandwidth": bits_per_second(link_logs_per_second),
            "latency": "20ms",
        }
    ]
    if replication_network:
        links[0]["networks"] = ["Repl"]
        links.append({"name": "mapi-wan", "sites": ["A", "B"], "bandwidth": "1Gbps", "networks": ["Mapi"]})
    return Scenario.model_validate(
        {
            "name": "two-site",
            "sites": [{"name": "A"}, {"name": "B"}],
            "networks": networks,
            "links": links,
            # The witness sits with the active copies, so losing the WAN keeps quorum in site A.
            "dag": {"network_compression": "disabled", "witness": {"host": "FSW", "site": witness_site}},
            "servers": [
                {"name": "MBX-A", "site": "A"},
                {"name": "MBX-B", "site": "B", "auto_database_mount_dial": mount_dial},
            ],
            "databases": [
                {
                    "name": f"DB{i + 1}",
                    "logs_per_day": logs_per_day,
                    "hourly_distribution": distribution,
                    "log_volume_size": log_volume_size,
                    "copies": [
                        {"server": "MBX-A", "activation_preference": 1},
                        {"server": "MBX-B", "activation_preference": 2, "replay_lag_time": lag},
                    ],
                }
                for i in range(databases)
            ],
            "timeline": timeline or [],
            "run": {"duration": duration, "sample_interval": sample_interval},
        }
    )


def three_site_scenario(
    *,
    servers: dict[str, dict] | None = None,
    copies: dict[str, dict] | None = None,
    thin_link: float = 100.0,
    timeline: list[dict] | None = None,
    active_manager: dict | None = None,
    transport: dict | None = None,
    databases: int = 1,
    duration: str = "6h",
) -> Scenario:
    """MBX1 (site A) holds the active copies; MBX2 (site B) is preference 2 behind an A-B link of
    ``thin_link`` logs/s; MBX3 (site C) is preference 3 behind a fast A-C link. Three members:
    node majority, no witness. Generation is 0.3 logs/s for 4 hours, then 0.1 logs/s.
    """
    servers = servers or {}
    copies = copies or {}
    return Scenario.model_validate(
        {
            "name": "three-site",
            "sites": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
            "networks": [{"name": "Mapi", "type": "mapi"}],
            "links": [
                {"name": "ab", "sites": ["A", "B"], "bandwidth": bits_per_second(thin_link), "latency": "10ms"},
                {"name": "ac", "sites": ["A", "C"], "bandwidth": "1Gbps", "latency": "10ms"},
                {"name": "bc", "sites": ["B", "C"], "bandwidth": "1Gbps", "latency": "50ms"},
            ],
            "dag": {"network_compression": "disabled"},
            "servers": [
                {"name": name, "site": site, **servers.get(name, {})}
                for name, site in (("MBX1", "A"), ("MBX2", "B"), ("MBX3", "C"))
            ],
            "databases": [
                {
                    "name": f"DB{i + 1}",
                    "logs_per_day": 11520.0,
                    "hourly_distribution": [9.375] * 4 + [3.125] * 20,
                    "copies": [
                        {"server": server, "activation_preference": pref, **copies.get(server, {})}
                        for server, pref in (("MBX1", 1), ("MBX2", 2), ("MBX3", 3))
                    ],
                }
                for i in range(databases)
            ],
            "active_manager": active_manager or {},
            "transport": transport or {},
            "timeline": timeline or [],
            "run": {"duration": duration, "sample_interval": "5m"},
        }
    )


def expected_logs_per_day(database: DatabaseSpec) -> float:
    """Logs/day from docs/scenario-reference.md#log-generation, written out here so tests do not trust the engine's own formula."""
    if database.logs_per_day is not None:
        return database.logs_per_day
    profile = database.message_profile
    size_factor = (profile.average_message_size / (75 * 1024)) ** math.log2(1.9)
    return database.mailboxes * profile.messages_per_day / 5 * size_factor


def expected_rate(database: DatabaseSpec, t: float) -> float:
    """Logs/s a database generates at time ``t`` (seconds; the day repeats)."""
    weights = database.hourly_distribution
    return expected_logs_per_day(database) * weights[int(t // 3600) % 24] / sum(weights) / 3600


# Two members and a witness in one site; MBX1 fails at 00:10 and DB1 mounts on MBX2 after
# 5 s detection + 1 s selection + 10 s ACLL timeout + 10 s mount = 26 s.
TWO_MEMBER_FAILOVER = """\
sites: [{name: A}]
dag: {witness: {host: FSW, site: A}}
servers:
  - {name: MBX1, site: A}
  - {name: MBX2, site: A}
databases:
  - name: DB1
    logs_per_day: 1000
    copies:
      - {server: MBX1, activation_preference: 1}
      - {server: MBX2, activation_preference: 2}
timeline:
  - {at: 10m, action: fail_server, server: MBX1}
run: {duration: 1h}
"""


def worker_pid(_batch: object) -> int:
    """A batch function that reports which process ran it (for pool tests)."""
    return os.getpid()


def count_simulations(monkeypatch) -> list:
    """A list that grows by one each time a Simulation is built."""
    from dagsim.model.simulation import Simulation

    built = []
    original = Simulation.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Simulation, "__init__", counting)
    return built
