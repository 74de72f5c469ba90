"""`dagsim availability`: Monte Carlo availability of a scenario's design under random failures."""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from dagsim.cli_common import (
    EXIT_INVALID,
    ScenarioFile,
    SeedOption,
    SeriesFormat,
    _check_out,
    _load_for_run,
    _output_folder,
    app,
)
from dagsim.config.failures import (
    DEFAULT_MAX_CYCLES,
    DEFAULT_MAX_YEARS,
    DEFAULT_RARE_PRECISION,
    MAX_RARE_CYCLES,
    MAX_STUDY_YEARS,
    YEAR,
)

if TYPE_CHECKING:
    from dagsim.availability.estimators import Estimate
    from dagsim.availability.result import AvailabilityResult
from dagsim.config.units import format_duration

__all__ = ["availability", "render_availability"]

DEFAULT_YEARS = 100.0

# The rows printed for the DAG, in this order.
_HEADLINES = (
    "unavailability",
    "downtime",
    "nines",
    "failovers",
    "lossy_failovers",
    "logs_lost",
    "messages_lost",
    "below_two_healthy_copies",
    "quorum_losses",
)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_INVALID)


def _text(value: float) -> str:
    if value != value:
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.4g}"


def _figure(row) -> str:
    if row["estimate"] != row["estimate"]:
        if row["high"] == row["high"]:
            return f"<= {_text(row['high'])} (upper bound: {row['method']})"
        return f"none observed ({row['method']})"
    return f"{_text(row['estimate'])}  [{_text(row['low'])}, {_text(row['high'])}]"


def render_availability(result: AvailabilityResult, *, wall_seconds: float | None = None) -> str:
    """The study's DAG figures and the least available databases, as text."""
    table = result.table
    lines = [
        f"availability of {result.scenario.name}: {result.replicas} replicas, {result.years:g} DAG-years, "
        f"seed {result.seed}, {result.confidence:.0%} intervals"
        + (f" ({wall_seconds:.1f} s, {result.years / wall_seconds:.1f} DAG-years/s)" if wall_seconds else ""),
    ]
    if result.method == "fast":
        lines.append("method: --fast, the failure model's structure (no simulation); it leaves out:")
        lines += [f"  - {item}" for item in result.left_out]
    if result.precision is not None:
        reached = "reached" if result.precision_reached else "NOT reached (max years hit)"
        lines.append(f"precision target {result.precision:g} (relative half-width): {reached}")
    lines.append("")
    dag = table[table.scope == "dag"].set_index("metric")
    width = max(len(m) for m in dag.index)
    lines.append(f"DAG {result.scenario.dag.name}:")
    for metric in [*_HEADLINES, *[m for m in dag.index if m.startswith("user_minutes_")]]:
        if metric in dag.index:
            row = dag.loc[metric]
            lines.append(f"  {metric:<{width}}  {_figure(row)}  {row['unit']}")
    databases = table[(table.scope == "database") & (table.metric == "downtime")]
    if len(databases) > 1:
        worst = databases.sort_values(["estimate", "database"], ascending=[False, True], na_position="last").head(5)
        lines += ["", "least available databases (downtime, minutes per year):"]
        for _, row in worst.iterrows():
            lines.append(f"  {row['database']:<12} {_figure(row)}")
    return "\n".join(lines)


LONG_STUDY_SECONDS = 120.0
"""A simulation study projected to take longer than this suggests ``--fast`` (once, on stderr)."""


def _fast_hint(projected: float) -> str:
    return (
        f"This study will take about {projected / 60:.0f} min. --fast plays the same failure model through "
        "its structure in about a thousandth of the time, leaving out copy queues, DAC and client "
        "outages (docs/availability.md)."
    )


def _postfix(estimate: Estimate | None) -> str:
    if estimate is None or estimate.value is None:
        return "U: -"
    return f"U {estimate.value:.3g} [{estimate.low:.3g}, {estimate.high:.3g}]"


@app.command("availability")
def availability(
    file: ScenarioFile,
    years: Annotated[
        float | None,
        typer.Option("--years", help=f"DAG-years to simulate (default {DEFAULT_YEARS:g}).", min=0.0, max=MAX_STUDY_YEARS),
    ] = None,
    precision: Annotated[
        float | None,
        typer.Option("--precision", help="Run until the DAG unavailability's relative half-width is this, e.g. 0.05."),
    ] = None,
    max_years: Annotated[
        float, typer.Option("--max-years", help="With --precision: stop here at the latest.", min=0.0, max=MAX_STUDY_YEARS)
    ] = DEFAULT_MAX_YEARS,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (or Dask workers with --dask local).", min=1, max=256)] = 1,
    dask: Annotated[
        str | None, typer.Option("--dask", help="'local' for a LocalCluster, or a scheduler address tcp://host:8786.")
    ] = None,
    seed: SeedOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write availability.csv, replicas and summary.json here.")] = None,
    series_format: Annotated[
        SeriesFormat, typer.Option("--format", help="File format of the per-replica table.", case_sensitive=False)
    ] = SeriesFormat.csv,
    plots: Annotated[bool, typer.Option("--plots", help="Also write convergence and downtime plots into --out.")] = False,
    clients: Annotated[
        bool, typer.Option("--clients/--no-clients", help="Work out client user-minutes per protocol (the slowest part).")
    ] = True,
    exact: Annotated[
        bool, typer.Option("--exact", help="Solve the failure model as a Markov chain instead: exact, no sampling.")
    ] = False,
    rare: Annotated[
        bool, typer.Option("--rare", help="Importance sampling for rare outages (failure biasing) instead of crude Monte Carlo.")
    ] = False,
    compare: Annotated[
        bool, typer.Option("--compare", help="Run exact, rare and crude where each applies; print them side by side.")
    ] = False,
    fast: Annotated[
        bool,
        typer.Option(
            "--fast",
            help="Play each replica through the failure model's structure instead of the simulation: "
            "about a thousand times faster; no copy queues (so no lossy failovers) and no client outages.",
        ),
    ] = False,
    max_cycles: Annotated[
        int,
        typer.Option("--max-cycles", help="With --rare or --compare: biased cycles at most.", min=1, max=MAX_RARE_CYCLES),
    ] = DEFAULT_MAX_CYCLES,
) -> None:
    """Availability under the scenario's random failures: Monte Carlo with confidence intervals
    (--fast: through the failure model's structure), or the exact Markov answer (--exact),
    importance sampling (--rare), or all three (--compare)."""
    scenario = _load_for_run(file, seed=seed)
    if scenario.failures is None:
        _fail(f"{file}: the scenario has no failures: block; nothing fails at random (see docs/availability.md)")
    if sum((exact, rare, compare, fast)) > 1:
        _fail("--exact, --rare, --compare and --fast exclude each other")
    if exact or rare:
        _markov(file, scenario, exact=exact, seed=seed, years=years, workers=workers, dask=dask, plots=plots,
                precision=precision, max_cycles=max_cycles, out=out)  # fmt: skip
        return
    if scenario.run.mode != "fluid" and not fast:
        _fail(f"{file}: availability studies need run.mode fluid")
    if compare:
        _compare(file, scenario, seed=seed, years=years, workers=workers, dask=dask, plots=plots,
                 precision=precision, max_cycles=max_cycles, out=out)  # fmt: skip
        return
    if years is not None and precision is not None:
        _fail("--years and --precision exclude each other")
    if precision is not None and not 0 < precision < 1:
        _fail("--precision is a relative half-width between 0 and 1, e.g. 0.05")
    if years is not None and years <= 0:
        _fail("--years must be positive")
    if max_years <= 0:
        _fail("--max-years must be positive")
    length = scenario.failures.replica_duration
    if (years if years is not None else max_years) * YEAR < 2 * length - 1e-6:
        # One replica gives an estimate but no interval, and every figure carries its interval.
        _fail(
            f"{'--years' if years is not None else '--max-years'} {years if years is not None else max_years:g} is less than two replicas of {format_duration(length)} "
            f"(failures.replica_duration): a confidence interval needs at least {2 * length / YEAR:g} DAG-years"
        )
    if plots and out is None:
        _fail("--plots needs --out DIR: the folder to write the pictures into")
    if series_format is SeriesFormat.parquet and importlib.util.find_spec("pyarrow") is None:
        _fail("--format parquet needs pyarrow: pip install 'dagsim[parquet]'")
    if dask is not None and importlib.util.find_spec("distributed") is None:
        _fail("--dask needs dask.distributed: pip install 'dagsim[dask]'")
    _check_out(out)
    if precision is None and years is None:
        years = DEFAULT_YEARS
    from tqdm import tqdm

    from dagsim.availability.study import availability as run_study
    from dagsim.availability.study import too_many_replicas

    if years is not None and (refusal := too_many_replicas(scenario, math.ceil(years * YEAR / length - 1e-9))):
        _fail(f"{file}: {refusal}")

    if fast:
        from dagsim.availability.fast import NotFast, refuse_unplayable

        try:
            refuse_unplayable(scenario)
        except NotFast as refusal:
            _markov_refused(file, "--fast", refusal, "run it without --fast: the simulation plays it")
    from dagsim.study.pool import WorkerLost

    started = time.perf_counter()
    with tqdm(total=0, unit="replica", desc="replicas", leave=False, disable=None, file=sys.stderr) as bar:

        hinted = fast

        def progress(done: int, planned: int, estimate: Estimate | None) -> None:
            nonlocal hinted
            bar.total = planned
            bar.update(done - bar.n)
            bar.set_postfix_str(_postfix(estimate), refresh=False)
            projected = (time.perf_counter() - started) / done * planned
            if not hinted and projected > LONG_STUDY_SECONDS:
                hinted = True
                bar.write(_fast_hint(projected), file=sys.stderr)

        try:
            result = run_study(
                scenario,
                years=years,
                precision=precision,
                max_years=max_years,
                seed=seed,
                workers=workers,
                dask=dask,
                client_outages=clients and not fast,
                progress=progress,
                method="fast" if fast else "simulation",
            )
        except WorkerLost as lost:
            typer.echo(f"error: {lost}", err=True)
            raise typer.Exit(1) from None
        except OSError as error:
            if dask is None:
                raise
            typer.echo(f"error: cannot use the Dask cluster {dask!r}: {error}", err=True)
            raise typer.Exit(1) from None
    wall = time.perf_counter() - started
    typer.echo(render_availability(result, wall_seconds=wall))
    if out is not None:
        with _output_folder(out) as folder:
            written = result.write(folder, replicas_format=series_format.value)
            if plots:
                from dagsim.availability.plots import write_availability_plots

                written += write_availability_plots(result, folder)
        typer.echo(f"\nwrote {len(written)} files to {out}/: " + ", ".join(p.name for p in written))


def _markov_refused(file: Path, what: str, refusal: Exception, hint: str) -> NoReturn:
    reasons = getattr(refusal, "reasons", (str(refusal),))
    lines = [f"{file}: {what} cannot express this scenario:"] + [f"  - {r}" for r in reasons]
    if not any("--rare" in r for r in reasons):
        lines.append(hint)
    _fail("\n".join(lines))


def _write_table(out: Path, name: str, table, summary: dict) -> None:
    from dagsim.output import dump_json
    from dagsim.results import versions

    with _output_folder(out) as folder:
        table.to_csv(folder / name, index=False)
        (folder / "summary.json").write_text(dump_json({**summary, "versions": versions()}))
    typer.echo(f"\nwrote {name} and summary.json to {out}/")


def _markov(file, scenario, *, exact, seed, years, workers, dask, plots, precision, max_cycles, out) -> None:
    """--exact or --rare: no simulation runs, so the Monte Carlo options do not apply."""
    flag = "--exact" if exact else "--rare"
    for given, name in ((years is not None, "--years"), (workers != 1, "--workers"), (dask is not None, "--dask"), (plots, "--plots")):
        if given:
            _fail(f"{name} does not apply to {flag} (it runs no simulation)")
    if exact and precision is not None:
        _fail("--precision does not apply to --exact (the answer is exact)")
    if precision is not None and not 0 < precision < 1:
        _fail("--precision is a relative half-width between 0 and 1, e.g. 0.1")
    _check_out(out)
    from dagsim.availability.structure import NotMarkovian

    if exact:
        from dagsim.availability.markov import exact_availability
        from dagsim.availability.render import render_exact

        try:
            solved = exact_availability(scenario)
        except NotMarkovian as refusal:
            _markov_refused(file, "the exact Markov model", refusal,
                            "Run the Monte Carlo study instead: dagsim availability FILE")  # fmt: skip
        typer.echo(render_exact(solved))
        if out is not None:
            summary = {"scenario": scenario.name, "method": solved.method, "states": solved.states,
                       "unavailability": solved.unavailability, "left_out": list(solved.left_out)}  # fmt: skip
            _write_table(out, "availability-exact.csv", solved.table(), summary)
        return
    from tqdm import tqdm

    from dagsim.availability.rare import rare_availability
    from dagsim.availability.render import render_rare

    target = DEFAULT_RARE_PRECISION if precision is None else precision
    started = time.perf_counter()
    with tqdm(total=max_cycles, unit="cycle", desc="biased cycles", leave=False, disable=None, file=sys.stderr) as bar:

        def progress(done, planned, estimate) -> None:
            bar.update(done - bar.n)
            if estimate.value is not None:
                bar.set_postfix_str(f"U {estimate.value:.3g} ±{estimate.relative_error:.0%}", refresh=False)

        try:
            result = rare_availability(scenario, seed=seed, precision=target, max_cycles=max_cycles, progress=progress)
        except NotMarkovian as refusal:
            _markov_refused(file, "importance sampling", refusal,
                            "Run the Monte Carlo study instead: dagsim availability FILE")  # fmt: skip
    typer.echo(render_rare(result, wall_seconds=time.perf_counter() - started))
    if out is not None:
        summary = {"scenario": scenario.name, "seed": result.seed, "cycles": result.cycles,
                   "failure_bias": result.failure_bias, "precision": result.precision,
                   "precision_reached": result.precision_reached, "effective_cycles": result.effective_cycles,
                   "warnings": list(result.warnings), "left_out": list(result.left_out)}  # fmt: skip
        _write_table(out, "availability-rare.csv", result.table(), summary)


def _compare(file, scenario, *, seed, years, workers, dask, plots, precision, max_cycles, out) -> None:
    if plots:
        _fail("--plots does not apply to --compare")
    if precision is not None and not 0 < precision < 1:
        _fail("--precision is a relative half-width between 0 and 1, e.g. 0.1")
    if years is not None and years <= 0:
        _fail("--years must be positive")
    crude_years = DEFAULT_YEARS if years is None else years
    length = scenario.failures.replica_duration
    if crude_years * YEAR < 2 * length - 1e-6:
        _fail(f"--years {crude_years:g} is less than two replicas of {format_duration(length)} (failures.replica_duration)")
    from dagsim.availability.study import too_many_replicas

    if refusal := too_many_replicas(scenario, math.ceil(crude_years * YEAR / length - 1e-9)):
        _fail(f"{file}: {refusal}")
    if dask is not None and importlib.util.find_spec("distributed") is None:
        _fail("--dask needs dask.distributed: pip install 'dagsim[dask]'")
    _check_out(out)
    from tqdm import tqdm

    from dagsim.availability.compare import compare as run_compare
    from dagsim.availability.render import render_comparison

    with tqdm(total=0, unit="step", desc="comparing", leave=False, disable=None, file=sys.stderr) as bar:

        def crude_progress(done, planned, estimate) -> None:
            bar.set_description_str("crude Monte Carlo replicas", refresh=False)
            bar.total = planned
            bar.update(done - bar.n)

        def rare_progress(done, planned, estimate) -> None:
            bar.set_description_str("rare-event cycles", refresh=False)
            bar.total = planned
            bar.update(done - bar.n)

        comparison = run_compare(
            scenario, seed=seed, years=crude_years, workers=workers, dask=dask,
            precision=DEFAULT_RARE_PRECISION if precision is None else precision, max_cycles=max_cycles,
            crude_progress=crude_progress, rare_progress=rare_progress,
        )  # fmt: skip
    typer.echo(render_comparison(comparison))
    if out is not None:
        import pandas as pd

        table = pd.DataFrame(
            [(a.method, a.value, a.low, a.high, a.note) for a in comparison.answers],
            columns=["method", "unavailability", "low", "high", "note"],
        )
        summary = {"scenario": comparison.scenario, "seed": comparison.seed,
                   "verdict_confidence": comparison.verdict_confidence,
                   "agreement": [{"pair": p, "agree": a, "why": w} for p, a, w in comparison.agreement]}  # fmt: skip
        _write_table(out, "comparison.csv", table, summary)
