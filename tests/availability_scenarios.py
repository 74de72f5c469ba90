"""Small availability scenarios built in code, for the Monte Carlo tests."""

from __future__ import annotations

import math

from dagsim.config.schema import Scenario

INSTANT_FAILOVER = {
    "failure_item_detection": 0,
    "pam_move_delay": 0,
    "selection_duration": 0,
    "acll_timeout": 0,
    "dismount_duration": 0,
    "mount_duration": 0,
}


def n_copies(
    n: int = 2,
    *,
    failures: dict | None = None,
    mtbf: str = "3h",
    mttr: str = "1h",
    length: str = "1d",
    protocols: bool = False,
    seed: int = 1,
) -> Scenario:
    """One database with ``n`` copies on ``n`` servers in one site, failing over instantly.

    Detection, selection, attempt copy last logs and mount all take 0 s and no logs are
    written, so the database is down exactly when no server can mount it. With an even
    ``n`` a witness (which never fails) keeps quorum while any server is up.
    """
    servers = [{"name": f"MBX{i + 1}", "site": "A"} for i in range(n)]
    dag: dict = {"same_subnet_delay": 0}
    if n % 2 == 0:
        dag["witness"] = {"host": "FSW", "site": "A"}
    data = {
        "name": f"{n}-copies",
        "sites": [{"name": "A"}],
        "dag": dag,
        "servers": servers,
        "databases": [
            {
                "name": "DB1",
                "logs_per_day": 0,
                "mailboxes": 100,
                "copies": [{"server": s["name"], "activation_preference": i + 1} for i, s in enumerate(servers)],
            }
        ],
        "active_manager": INSTANT_FAILOVER,
        "failures": failures
        or {"servers": {"time_to_failure": mtbf, "time_to_repair": mttr}, "replica_duration": length},
        "run": {"seed": seed},
    }
    if not protocols:
        data["client_access"] = {"protocols": {}}
    return Scenario.model_validate(data)


def probability_down(failure_rate: float, repair_rate: float, t: float) -> float:
    """P(a component that was up at 0 is down at t), exponential failures and repairs."""
    total = failure_rate + repair_rate
    return failure_rate / total * (1 - math.exp(-total * t))
