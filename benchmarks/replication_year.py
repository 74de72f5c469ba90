"""How fast is continuous replication? The preferred architecture, fluid and per log.

Runs ``scenarios/preferred-architecture.yaml`` (16 servers, 100 databases x 4 copies, one
lagged 7 days) for 365 simulated days in fluid mode twice, with quiet spans (the default:
hours in which nothing can happen are jumped over) and stepping at every hour boundary (the
reference the spans are tested against), and for one simulated day in per_log mode, each
in a fresh process so peak memory is its own. Prints wall seconds, engine events, events
per second and peak resident memory, then the speed ratios per simulated day.

The per_log process also times bare SimPy: a few processes each yielding ``env.timeout`` in
a loop, before and after the per_log run (the faster of the two is the reference). Both
count SimPy events the same way, as the events the environment took off its queue (one per
``env.step``), and the script prints per_log's SimPy event rate as a fraction of bare
SimPy's: the cost of the model's own work per event, on this machine, in this process.
SimPy events are not the engine events of the table (logs closed, copied and replayed):
they also count an idle copy's wake-ups and a lagged copy's waits, about 13 per log of a
database with three passive copies against 7 engine events.

    python benchmarks/replication_year.py [--fluid-days 365] [--per-log-days 1]

``--per-log-days 0`` skips the per_log case (about a minute per simulated day). The run
starts at midnight, so a fraction of a day measures mostly the quiet night hours.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "preferred-architecture.yaml"
DAY = 86400.0
BARE_PROCESSES = 10
BARE_EVENTS = 300_000


def simpy_events(env) -> int:
    """Events ``env`` has processed so far: every event scheduled, less those still queued.

    SimPy numbers each scheduled event from one counter and ``env.step`` takes one event off
    the queue, so this is the number of ``step`` calls without wrapping ``step`` (a wrapper
    would slow both runs compared). Reading the counter consumes one number, which nothing
    after the run uses.
    """
    return next(env._eid) - len(env._queue)


def bare_simpy_rate() -> tuple[int, float]:
    """Events and events per second of plain SimPy: processes that only wait on timeouts."""
    import simpy

    env = simpy.Environment()

    def ticker(period: float, count: int):
        for _ in range(count):
            yield env.timeout(period)

    for i in range(BARE_PROCESSES):
        env.process(ticker(1.0 + 0.1 * i, BARE_EVENTS // BARE_PROCESSES))
    start = time.perf_counter()
    env.run()
    wall = time.perf_counter() - start
    events = simpy_events(env)
    return events, events / wall


def measure(case: str, days: float) -> dict:
    """Run one case in this process and return its figures."""
    from dagsim.config.loader import load_scenario
    from dagsim.model.simulation import Simulation

    scenario = load_scenario(SCENARIO)
    mode = "per_log" if case == "per_log" else "fluid"
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    simulation = Simulation(scenario, duration=days * DAY, mode=mode)
    if case == "hourly":
        simulation.replication.quiet_spans = False
    bare = [bare_simpy_rate()] if case == "per_log" else []
    start = time.perf_counter()
    result = simulation.run()
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if case == "per_log":
        bare.append(bare_simpy_rate())
    figures = {
        "mode": case,
        "days": days,
        "wall_seconds": wall,
        "events": result.engine_events,
        "events_per_second": result.engine_events / wall,
        "simpy_events": simpy_events(simulation.env),
        "simpy_events_per_second": simpy_events(simulation.env) / wall,
        "peak_rss_mb": peak / 1024,
        "rss_growth_mb": (peak - baseline) / 1024,
    }
    if bare:
        figures["bare_simpy_events"] = bare[0][0]
        figures["bare_simpy_events_per_second"] = max(rate for _, rate in bare)
    return figures


def run_case(mode: str, days: float) -> dict:
    child = subprocess.run(
        [sys.executable, __file__, "--case", mode, "--days", str(days)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(child.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fluid-days", type=float, default=365.0)
    parser.add_argument("--per-log-days", type=float, default=1.0)
    parser.add_argument("--case", choices=["fluid", "hourly", "per_log"], help=argparse.SUPPRESS)
    parser.add_argument("--days", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(args.case, args.days)))
        return

    print(f"scenario: {SCENARIO.name}")
    rows = [run_case("fluid", args.fluid_days), run_case("hourly", args.fluid_days)]
    if args.per_log_days > 0:
        rows.append(run_case("per_log", args.per_log_days))
    print(f"{'mode':8} {'sim days':>8} {'wall s':>9} {'events':>11} {'events/s':>11} {'peak MB':>8}")
    for r in rows:
        print(
            f"{r['mode']:8} {r['days']:8g} {r['wall_seconds']:9.3f} {r['events']:11d} "
            f"{r['events_per_second']:11.0f} {r['peak_rss_mb']:8.1f}"
        )
    fluid, hourly = rows[:2]
    per_day_fluid = fluid["wall_seconds"] / fluid["days"]
    print(f"quiet spans are {hourly['wall_seconds'] / fluid['wall_seconds']:.1f}x faster than hourly stepping")
    if len(rows) > 2:
        per_log = rows[2]
        per_day_log = per_log["wall_seconds"] / per_log["days"]
        print(f"wall seconds per simulated day: fluid {per_day_fluid:.5f}, per_log {per_day_log:.2f}")
        print(f"fluid is {per_day_log / per_day_fluid:,.0f}x faster than per_log per simulated day")
        bare_rate, log_rate = per_log["bare_simpy_events_per_second"], per_log["simpy_events_per_second"]
        print(
            f"SimPy events/s in the per_log process: bare SimPy {bare_rate:,.0f} "
            f"({per_log['bare_simpy_events']:,} timeouts), per_log {log_rate:,.0f} "
            f"({per_log['simpy_events']:,} events, {per_log['simpy_events'] / per_log['days']:,.0f} per simulated day)"
        )
        print(f"per_log runs at {log_rate / bare_rate:.1%} of bare SimPy's event rate")


if __name__ == "__main__":
    main()
