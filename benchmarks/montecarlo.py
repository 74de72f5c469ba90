"""How fast are availability studies? DAG-years per second, serially and with 2 workers.

Runs ``scenarios/availability-two-copies.yaml`` and
``scenarios/availability-preferred-architecture.yaml`` as Monte Carlo studies, once serially
and once on a process pool of 2 workers, and prints wall seconds, simulated DAG-years per
second and the speed-up. The results of both runs are compared (they must be identical).
The preferred architecture is slow (every failure, switchover and maintenance window moves
100 databases' worth of state); by default it runs shorter replicas and without client
outage analysis, which ``--clients`` adds back.

    python benchmarks/montecarlo.py [--two-copies-years 20] [--pa-replicas 4] [--pa-days 30] [--clients]

10-30 s with the defaults on 2 cores; a progress bar per study runs on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def measure(scenario, replicas: int, workers: int, clients: bool, label: str) -> tuple[float, object]:
    from tqdm import tqdm

    from dagsim.availability import availability

    start = time.perf_counter()
    desc = f"{label}, {'serial' if workers == 1 else f'{workers} workers'}"
    with tqdm(total=replicas, unit="replica", desc=desc, leave=False, file=sys.stderr) as bar:
        result = availability(
            scenario, replicas=replicas, workers=workers, client_outages=clients, batch_size=1,
            progress=lambda done, planned, estimate: bar.update(done - bar.n),
        )  # fmt: skip
    return time.perf_counter() - start, result


def bench(label: str, scenario, replicas: int, clients: bool) -> None:
    serial_wall, serial = measure(scenario, replicas, 1, clients, label)
    pool_wall, pooled = measure(scenario, replicas, 2, clients, label)
    assert pooled.records == serial.records, "2 workers gave other results than 1"
    years = serial.years
    print(f"{label}: {replicas} replicas, {years:g} DAG-years, client outages {'on' if clients else 'off'}")
    print(f"  serial     {serial_wall:8.2f} s  {years / serial_wall:8.3f} DAG-years/s")
    print(f"  2 workers  {pool_wall:8.2f} s  {years / pool_wall:8.3f} DAG-years/s  speed-up {serial_wall / pool_wall:.2f}x")
    head = serial.headline
    print(f"  DAG unavailability {head.value:.3g} [{head.low:.3g}, {head.high:.3g}]")
    best = max(years / serial_wall, years / pool_wall)
    print(f"  10,000 DAG-years at the better rate: {10_000 / best / 60:,.1f} min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--two-copies-years", type=int, default=20)
    parser.add_argument("--pa-replicas", type=int, default=4)
    parser.add_argument("--pa-days", type=float, default=30.0, help="replica length of the preferred architecture")
    parser.add_argument("--clients", action="store_true", help="also work out client user-minutes")
    args = parser.parse_args()

    from dagsim.config.loader import load_scenario

    print(
        "Runs each study serially and on 2 workers; with the defaults this takes 10-30 s on "
        "2 cores (progress on stderr).",
        file=sys.stderr,
    )
    two = load_scenario(SCENARIOS / "availability-two-copies.yaml")
    bench("availability-two-copies", two, args.two_copies_years, args.clients)
    pa = load_scenario(SCENARIOS / "availability-preferred-architecture.yaml")
    length = args.pa_days * 86400.0
    pa = pa.model_copy(update={"failures": pa.failures.model_copy(update={"replica_duration": length})})
    bench(f"availability-preferred-architecture ({args.pa_days:g}-day replicas)", pa, args.pa_replicas, args.clients)


if __name__ == "__main__":
    main()
