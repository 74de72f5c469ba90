"""`dagsim sweep`: a design-space sweep over scenario paths, on any backend, resumable."""

from __future__ import annotations

import enum
import importlib.util
import math
import sys
from pathlib import Path
from typing import Annotated, NoReturn

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

__all__ = ["sweep_command"]


class Study(enum.StrEnum):
    run = "run"
    availability = "availability"
    fast = "fast"


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_INVALID)


@app.command("sweep")
def sweep_command(
    file: ScenarioFile,
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            help="PATH=VALUES, e.g. links.WAN.bandwidth=100Mbps,200Mbps or databases[*].copies=2..4; repeat it.",
        ),
    ],
    study: Annotated[
        Study,
        typer.Option("--study", help="Each point is a run, an availability study, or one by fast Monte Carlo (--fast)."),
    ] = Study.run,
    lhs: Annotated[
        int | None, typer.Option("--lhs", help="A Latin hypercube of N points instead of the full grid.", min=1, max=10_000)
    ] = None,
    years: Annotated[
        float, typer.Option("--years", help="DAG-years per point of an availability sweep.", min=0.0, max=1e6)
    ] = 20.0,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (or Dask workers with --dask local).", min=1, max=256)] = 1,
    dask: Annotated[
        str | None, typer.Option("--dask", help="'local' for a LocalCluster, or a scheduler address tcp://host:8786.")
    ] = None,
    seed: SeedOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write sweep.csv (or .parquet) and summary.json; finished points are kept here to resume."),
    ] = None,
    table_format: Annotated[SeriesFormat, typer.Option("--format", help="File format of the table.", case_sensitive=False)] = SeriesFormat.csv,
    plots: Annotated[bool, typer.Option("--plots", help="Also write sweep.png (a line or a heat map) into --out.")] = False,
    metric: Annotated[str | None, typer.Option("--metric", help="The metric shown and plotted (default: the headline one).")] = None,
) -> None:
    """Run the scenario at every point of a grid (or a Latin hypercube) of varied paths: one tidy table."""
    from dagsim.sweep.run import AVAILABILITY_METRICS, FAST_METRICS, RUN_METRICS
    from dagsim.sweep.spec import SweepError, parse_vary

    scenario = _load_for_run(file, seed=seed)
    try:
        variations = parse_vary(vary)
    except SweepError as error:
        _fail("\n".join(error.problems))
    metrics = {Study.run: RUN_METRICS, Study.availability: AVAILABILITY_METRICS, Study.fast: FAST_METRICS}[study]
    shown = metric or metrics[0]
    if shown not in metrics:
        _fail(f"--metric {shown!r} is not one of {', '.join(metrics)}")
    if years <= 0:
        _fail("--years must be positive")
    if plots and out is None:
        _fail("--plots needs --out DIR: the folder to write the picture into")
    if plots and len(variations) > 2 and lhs is None:
        _fail("--plots draws one or two varied paths; give at most two --vary (or plot from the table)")
    if table_format is SeriesFormat.parquet and importlib.util.find_spec("pyarrow") is None:
        _fail("--format parquet needs pyarrow: pip install 'dagsim[parquet]'")
    if dask is not None and importlib.util.find_spec("distributed") is None:
        _fail("--dask needs dask.distributed: pip install 'dagsim[dask]'")
    if study is not Study.run and scenario.failures is None:
        _fail(f"{file}: --study {study.value} needs a failures: block (see docs/availability.md)")
    if study is not Study.run and scenario.failures is not None:
        import math

        from dagsim.availability.study import too_many_replicas
        from dagsim.config.failures import YEAR

        replicas = math.ceil(years * YEAR / scenario.failures.replica_duration - 1e-9)
        if refusal := too_many_replicas(scenario, replicas):
            _fail(f"{file}: --years {years:g} per point: {refusal}")
    _check_out(out)
    from tqdm import tqdm

    from dagsim.study.pool import WorkerLost
    from dagsim.sweep.run import sweep

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=0, unit="point", desc="points", leave=False, disable=None, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = sweep(
                scenario, variations, kind=study.value, samples=lhs, seed=seed, years=years,
                workers=workers, dask=dask, checkpoint=out, progress=progress,
            )  # fmt: skip
        except SweepError as error:
            _fail("\n".join(error.problems))
        except WorkerLost as lost:
            typer.echo(f"error: {lost} (finished points are kept in --out; run again to resume)", err=True)
            raise typer.Exit(1) from None
    typer.echo(render_sweep(result, shown))
    if out is not None:
        from dagsim.output import dump_json
        from dagsim.results import versions

        with _output_folder(out) as folder:
            name = f"sweep.{table_format.value}"
            if table_format is SeriesFormat.parquet:
                result.table.to_parquet(folder / name, index=False)
            else:
                result.table.to_csv(folder / name, index=False)
            summary = {"scenario": scenario.name, "study": result.kind, "seed": result.seed, "points": result.points,
                       "vary": [{"path": v.path, "values": [str(x) for x in v.values]} for v in result.variations],
                       "design": "grid" if lhs is None else f"latin hypercube, {lhs} points", "versions": versions()}  # fmt: skip
            (folder / "summary.json").write_text(dump_json(summary))
            if plots:
                import matplotlib

                matplotlib.use("Agg")
                from dagsim.sweep.plot import sweep_plot

                ax = sweep_plot(result, shown)
                ax.figure.savefig(folder / "sweep.png", dpi=120, bbox_inches="tight")
        typer.echo(f"\nwrote {name}, summary.json{', sweep.png' if plots else ''} to {out}/")


def render_sweep(result, metric: str) -> str:
    """One line per point: its values and the metric (with its interval when it has one)."""
    table = result.table
    rows = table[table.metric == metric]
    columns = [v.column for v in result.variations]
    widths = [max(len(c), *(len(str(x)) for x in rows[c])) for c in columns]
    reused = result.points - result.computed
    lines = [
        f"sweep of {result.points} points ({result.kind}), seed {result.seed}"
        + (f"; {reused} read back from --out, {result.computed} run" if reused else ""),
        "",
        "  " + "  ".join(f"{c:<{w}}" for c, w in zip(columns, widths, strict=True)) + f"  {metric}",
    ]
    for _, row in rows.iterrows():
        cells = "  ".join(f"{str(row[c]):<{w}}" for c, w in zip(columns, widths, strict=True))
        value = f"{row.value:.4g}"
        if not math.isnan(row.low):
            value += f"  [{row.low:.4g}, {row.high:.4g}]"
        lines.append(f"  {cells}  {value}")
    return "\n".join(lines)
