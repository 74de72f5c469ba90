"""Does the client outage analysis cost more with more mailboxes? (It should not.)

Runs the quickstart DAG with a server failure, once with 1,000 mailboxes per database and
once with 100,000, and prints the wall seconds of each run, the number of client outage rows
and the total user-minutes (which should scale by 100 while the time stays put).

    python benchmarks/client_outage_scale.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import dagsim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml"


def scenario_with(mailboxes: int) -> dagsim.Scenario:
    data = dagsim.load_scenario(SCENARIO).model_dump(mode="json")
    for database in data["databases"]:
        database["mailboxes"] = mailboxes
        database["logs_per_day"] = 30_000  # keep replication identical: only the user count changes
    data["timeline"] = [{"at": "11h", "action": "fail_server", "server": "RED-MBX1"}]
    return dagsim.Scenario.model_validate(data)


def best_of(scenario: dagsim.Scenario, repeat: int) -> tuple[float, dagsim.RunResult]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = dagsim.simulate(scenario)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'mailboxes/db':>12} {'wall s (best)':>14} {'outage rows':>12} {'user-minutes':>13}")
    for mailboxes in (1_000, 100_000):
        wall, result = best_of(scenario_with(mailboxes), args.repeat)
        print(f"{mailboxes:>12,} {wall:>14.4f} {len(result.client_outage_records):>12} {result.user_minutes():>13,.1f}")


if __name__ == "__main__":
    main()
