"""How fast are availability studies? DAG-years per second, serially and with 2 workers.

Runs ``scenarios/availability-two-copies.yaml`` and
``scenarios/availability-preferred-architecture.yaml`` as Monte Carlo studies, once serially
and once on a process pool of 2 workers, and prints wall seconds, simulated DAG-years per
second and the speed-up. The results of both runs are compared (they must be identical).
The preferred architecture is slow (every failure, switchover and maintenance window moves
100 databases' worth of state); by default it runs shorter replicas and without client
outage analysis, which ``--clients`` adds back.

Then the preferred architecture with ``--fast`` (replicas played through the failure model's
structure): one-year replicas, ``--fast-serial-years`` serially and ``--fast-years`` on 2
workers (the first replicas of both must be identical), with the peak memory of the main
process and of the largest worker.

    python benchmarks/montecarlo.py [--two-copies-years 20] [--pa-replicas 4] [--pa-days 30] [--clients]
                                    [--fast-years 10000] [--fast-serial-years 1000]

About 1-1.5 min with the defaults on 2 cores (the 10,000 fast DAG-years are most of it;
``--fast-years 0`` skips them); a progress bar per study runs on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def descendants_peak_mb() -> float:
    """The largest peak resident memory (VmHWM) of this process's descendants alive now (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    peak, todo = 0.0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def measure(scenario, replicas: int, workers: int, clients: bool, label: str, method: str = "simulation",
            memory: list | None = None) -> tuple[float, object]:  # fmt: skip
    from tqdm import tqdm

    from dagsim.availability import availability
    from dagsim.study import make_backend

    start = time.perf_counter()
    desc = f"{label}, {'serial' if workers == 1 else f'{workers} workers'}"
    backend = make_backend(workers)
    try:
        with tqdm(total=replicas, unit="replica", desc=desc, leave=False, file=sys.stderr) as bar:
            result = availability(
                scenario, replicas=replicas, backend=backend, workers=workers, client_outages=clients,
                batch_size=1 if method == "simulation" else None, method=method,
                progress=lambda done, planned, estimate: bar.update(done - bar.n),
            )  # fmt: skip
        wall = time.perf_counter() - start
        if memory is not None:
            memory.append(descendants_peak_mb())  # the workers are still alive here
    finally:
        backend.close()
    return wall, result


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


def bench_fast(scenario, years: int, serial_years: int) -> None:
    import resource

    serial_wall, serial = measure(scenario, serial_years, 1, False, "PA --fast", method="fast")
    workers_mb: list[float] = []
    pool_wall, pooled = measure(scenario, years, 2, False, "PA --fast", method="fast", memory=workers_mb)
    assert pooled.records[:serial_years] == serial.records, "2 workers gave other replicas than 1"
    main_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = workers_mb[0]
    print("availability-preferred-architecture --fast: one-year replicas")
    print(f"  serial     {serial_years:6d} DAG-years {serial_wall:8.2f} s  {serial_years / serial_wall:8.1f} DAG-years/s  {serial_wall / serial_years * 1e3:.1f} ms per DAG-year")
    print(f"  2 workers  {years:6d} DAG-years {pool_wall:8.2f} s  {years / pool_wall:8.1f} DAG-years/s  speed-up {serial_wall / serial_years * years / pool_wall:.2f}x")
    head = pooled.headline
    print(f"  DAG unavailability {head.value:.3g} [{head.low:.3g}, {head.high:.3g}]")
    print(f"  peak memory: main process {main_mb:.0f} MB, largest worker {worker_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--two-copies-years", type=int, default=20)
    parser.add_argument("--pa-replicas", type=int, default=4)
    parser.add_argument("--pa-days", type=float, default=30.0, help="replica length of the preferred architecture")
    parser.add_argument("--clients", action="store_true", help="also work out client user-minutes")
    parser.add_argument("--fast-years", type=int, default=10_000, help="DAG-years of --fast on 2 workers (0: skip)")
    parser.add_argument("--fast-serial-years", type=int, default=1_000, help="DAG-years of --fast serially")
    args = parser.parse_args()

    from dagsim.config.loader import load_scenario

    print(
        "Runs each study serially and on 2 workers; with the defaults this takes 1-1.5 min on "
        "2 cores (progress on stderr).",
        file=sys.stderr,
    )
    two = load_scenario(SCENARIOS / "availability-two-copies.yaml")
    bench("availability-two-copies", two, args.two_copies_years, args.clients)
    pa = load_scenario(SCENARIOS / "availability-preferred-architecture.yaml")
    length = args.pa_days * 86400.0
    pa = pa.model_copy(update={"failures": pa.failures.model_copy(update={"replica_duration": length})})
    bench(f"availability-preferred-architecture ({args.pa_days:g}-day replicas)", pa, args.pa_replicas, args.clients)
    if args.fast_years > 0:
        full = load_scenario(SCENARIOS / "availability-preferred-architecture.yaml")
        bench_fast(full, args.fast_years, min(args.fast_serial_years, args.fast_years))


if __name__ == "__main__":
    main()
