"""How long does importance sampling take to see a 1e-9 outage, against crude Monte Carlo?

Runs ``scenarios/availability-four-copies.yaml`` (four copies, quorum loss about 5e-9 of the
time) three ways and prints:

* the exact Markov answer and how long it took;
* ``--rare``: wall seconds to reach ±10 % (95 % relative half-width) on the rare part (no
  usable copy) and on the whole, with the estimate, the effective sample size and whether
  the exact value lies inside the interval;
* crude Monte Carlo: its measured DAG-years per second on the same scenario (a short serial
  study, no client outages), and the time it would need for ±10 % on the rare part. That
  needs about (1.96 / 0.1)^2 * (1 + cv^2) outages, where cv is the coefficient of variation
  of one outage's length (1 for exponential repairs), at the exact outage rate; the ratio
  of the two times is printed.

    python benchmarks/rare_events.py [--crude-years 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "availability-four-copies.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crude-years", type=float, default=20.0, help="DAG-years of the crude rate measurement")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from dagsim.availability import availability
    from dagsim.availability.markov import exact_availability
    from dagsim.availability.rare import rare_availability
    from dagsim.config.failures import YEAR
    from dagsim.config.loader import load_scenario

    scenario = load_scenario(SCENARIO)
    start = time.perf_counter()
    exact = exact_availability(scenario)
    exact_wall = time.perf_counter() - start
    print(f"{scenario.name}: exact (Markov) in {exact_wall * 1000:.1f} ms")
    print(f"  no usable copy  {exact.structural_unavailability:.4g}")
    print(f"  with failovers  {exact.unavailability:.4g}")

    start = time.perf_counter()
    rare = rare_availability(scenario, seed=args.seed, precision=0.10)
    rare_wall = time.perf_counter() - start
    inside = rare.dag_structural.low <= exact.structural_unavailability <= rare.dag_structural.high
    print(f"--rare to ±10 %: {rare_wall:.2f} s, {rare.cycles:,} biased cycles, {rare.effective_cycles:,.0f} effective")
    print(
        f"  no usable copy  {rare.dag_structural.value:.4g} [{rare.dag_structural.low:.4g}, {rare.dag_structural.high:.4g}]"
        f"  ±{rare.dag_structural.relative_error:.1%}  exact inside: {inside}"
    )
    print(f"  with failovers  {rare.dag.value:.4g} [{rare.dag.low:.4g}, {rare.dag.high:.4g}]  ±{rare.dag.relative_error:.1%}")

    start = time.perf_counter()
    crude = availability(scenario, years=args.crude_years, seed=args.seed, client_outages=False)
    crude_wall = time.perf_counter() - start
    rate = crude.years / crude_wall
    outages_per_year = exact.databases[0].outages_per_year  # the databases go down together
    needed_outages = (1.959964 / 0.10) ** 2 * 2  # exponential outage lengths: cv^2 = 1
    needed_years = needed_outages / outages_per_year
    needed_seconds = needed_years / rate
    print(f"crude Monte Carlo: {rate:.1f} DAG-years/s measured ({crude.years:g} DAG-years in {crude_wall:.1f} s, serial)")
    print(
        f"  ±10 % on the rare part needs about {needed_outages:,.0f} outages = {needed_years:,.3g} DAG-years "
        f"= {needed_seconds:,.3g} s ({needed_seconds / YEAR:,.3g} years of computing)"
    )
    print(f"  ratio crude / rare: {needed_seconds / rare_wall:,.3g}")


if __name__ == "__main__":
    main()
