"""How does cost grow with the DAG? A fluid year and Monte Carlo years against DAG size.

Generates preferred-architecture layouts with ``dagsim new`` (2 datacenters, 1 lagged copy
when there are 3 or more copies, 500 mailboxes per database, 1 Gbps WAN) from 2 to 16
servers, 10 to 400 databases and 2 to 16 copies, and measures for each, in a fresh process
so peak memory is its own:

* a failure-free simulated year in fluid mode, sampled hourly as the preferred-architecture
  scenario is (wall seconds, engine events, peak RSS);
* ``--mc-years`` DAG-years of an availability study (servers fail every 90 days and are
  repaired in 4 hours, client outages off), serially: wall seconds, and 1,000 DAG-years
  projected from that rate (a projection, marked as such);
* ``--fast-years`` DAG-years of the same study with ``--fast`` (replicas played through the
  failure model's structure), serially, measured rather than projected.

    python benchmarks/scaling.py [--mc-years 4] [--fast-years 1000] [--sizes small|all]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SHAPES = [  # servers, databases, copies
    (2, 10, 2),
    (4, 10, 4),
    (4, 100, 4),
    (8, 100, 4),
    (16, 100, 4),
    (16, 400, 4),
    (16, 100, 16),
]
FAILURES = "failures:\n  servers: {time_to_failure: 90d, time_to_repair: 4h}\n  replica_duration: 1y\n"
YEAR = 365 * 86400.0


def scenario_text(servers: int, databases: int, copies: int) -> str:
    from dagsim.generate import new_scenario_text

    sites = 2 if servers >= 2 and copies >= 2 else 1
    text = new_scenario_text(
        sites=sites, servers=servers, databases=databases, copies=copies, lagged=1 if copies >= 3 else 0
    )
    text = text.replace("sample_interval: 5m", "sample_interval: 1h")
    return text.replace("\nrun:", "\n" + FAILURES + "\nrun:", 1)


def measure(case: str, servers: int, databases: int, copies: int, mc_years: int, fast_years: int) -> dict:
    from dagsim.availability import availability
    from dagsim.config.loader import load_scenario_text
    from dagsim.model.simulation import Simulation

    scenario = load_scenario_text(scenario_text(servers, databases, copies))
    start = time.perf_counter()
    if case == "year":
        result = Simulation(scenario, duration=YEAR).run()
        events = result.engine_events
    elif case == "fast":
        availability(scenario, replicas=fast_years, workers=1, method="fast")
        events = 0
    else:
        availability(scenario, replicas=mc_years, workers=1, client_outages=False, batch_size=1)
        events = 0
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall": wall, "events": events, "peak_mb": peak}


def run_case(case: str, shape: tuple[int, int, int], mc_years: int, fast_years: int) -> dict:
    command = [sys.executable, __file__, "--case", case, "--shape", ",".join(map(str, shape)), "--mc-years", str(mc_years),
               "--fast-years", str(fast_years)]  # fmt: skip
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mc-years", type=int, default=4, help="DAG-years of the availability study per size")
    parser.add_argument("--fast-years", type=int, default=1000, help="DAG-years of the --fast study per size")
    parser.add_argument("--sizes", choices=["small", "all"], default="all")
    parser.add_argument("--case", choices=["year", "mc", "fast"], help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        servers, databases, copies = map(int, args.shape.split(","))
        print(json.dumps(measure(args.case, servers, databases, copies, args.mc_years, args.fast_years)))
        return

    shapes = SHAPES[:3] if args.sizes == "small" else SHAPES
    print(f"{'servers':>7} {'DBs':>5} {'copies':>6} | {'year s':>7} {'events':>6} {'MB':>6} | "
          f"{'MC s':>7} {'per DAG-yr':>10} {'1,000 yr (proj.)':>16} {'MB':>6} | "
          f"{f'--fast {args.fast_years:,} yr':>16} {'MB':>6}")
    print(f"{len(shapes)} sizes, a fresh process each; the largest take a minute or more (progress on stderr).", file=sys.stderr)
    for number, shape in enumerate(shapes, 1):
        print(f"[{number}/{len(shapes)}] {shape[0]} servers, {shape[1]} databases x {shape[2]} copies ...", file=sys.stderr, flush=True)
        year = run_case("year", shape, args.mc_years, args.fast_years)
        mc = run_case("mc", shape, args.mc_years, args.fast_years)
        fast = run_case("fast", shape, args.mc_years, args.fast_years)
        per_year = mc["wall"] / args.mc_years
        print(
            f"{shape[0]:7d} {shape[1]:5d} {shape[2]:6d} | {year['wall']:7.3f} {year['events']:6d} {year['peak_mb']:6.0f} | "
            f"{mc['wall']:7.2f} {per_year:9.3f}s {per_year * 1000 / 60:13.1f} min {mc['peak_mb']:6.0f} | "
            f"{fast['wall']:14.2f} s {fast['peak_mb']:6.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
