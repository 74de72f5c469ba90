"""The `dagsim` command line.

Bad input never shows a traceback: scenario problems are printed one per line as
``FILE:LINE:COL path: message`` on stderr and the exit status is 2.
"""

from __future__ import annotations

import enum
import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, overload

import typer

from dagsim.cli_common import (
    EXIT_INVALID,
    ModeOption,
    ScenarioFile,
    SeedOption,
    SeriesFormat,
    _check_out,
    _load_for_run,
    _output_folder,
    _report,
    _try_load_marked,
    app,
)
from dagsim.config import Scenario, ScenarioError
from dagsim.config.units import parse_duration, parse_moment
from dagsim.records import format_clock

if TYPE_CHECKING:
    from dagsim.model.simulation import Simulation
    from dagsim.results import RunResult

# The engine, pandas, matplotlib and scipy are imported inside the commands that use them,
# so `dagsim validate` and `dagsim --help` start in a fraction of a second.

__all__ = ["EXIT_INVALID", "app", "main"]

_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

class StatusFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def main() -> None:
    """The console script: the CLI, with a defect in dagsim reported in one line, not a traceback."""
    # typer may bundle its own click: take the exception classes from wherever its come from.
    click_exceptions = sys.modules[typer.BadParameter.__module__]
    try:
        code = app(prog_name="dagsim", standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort, getattr(click_exceptions, "Abort", typer.Abort)):
        # Results are staged and moved into --out only after a run completes: nothing to undo.
        typer.echo("\ndagsim: interrupted; no results were written", err=True)
        sys.exit(_INTERRUPTED)
    except click_exceptions.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except Exception as error:  # noqa: BLE001 - every input error is handled where it arises
        if os.environ.get("DAGSIM_DEBUG"):
            raise
        typer.echo(_internal_error(error), err=True)
        sys.exit(1)
    if code == _INTERRUPTED:  # typer turns Ctrl-C into exit status 130 without a word
        typer.echo("\ndagsim: interrupted; no results were written", err=True)
    sys.exit(code if isinstance(code, int) else 0)


def _internal_error(error: BaseException) -> str:
    return (
        f"dagsim: internal error ({type(error).__name__}: {error}). This is a defect in dagsim, not in "
        "your input: rerun with DAGSIM_DEBUG=1 for the traceback and report it with the scenario."
    )


ScenarioFiles = Annotated[
    list[Path], typer.Argument(help="Scenario YAML files.", metavar="FILE", show_default=False)
]


@app.command()
def validate(
    files: ScenarioFiles,
    strict: Annotated[bool, typer.Option("--strict", help="Treat plausibility warnings as errors.")] = False,
) -> None:
    """Check scenario files and report every problem in each; exit status 2 if any is invalid.

    Values that are valid but implausible (a bare `bandwidth: 200` is 200 bit/s) are printed
    as warnings; with --strict they make the file invalid too.
    """
    from dagsim.config.plausibility import plausibility_warnings

    any_invalid = False
    for path in files:
        scenario, marks, problems = _try_load_marked(path)
        if scenario is None or marks is None:
            _report(problems)
            any_invalid = True
            continue
        warnings = plausibility_warnings(scenario, marks, str(path))
        _report([str(warning) for warning in warnings])
        if strict and warnings:
            any_invalid = True
        else:
            typer.echo(f"{path}: ok" + (f" ({len(warnings)} warning{'s' * (len(warnings) != 1)})" if warnings else ""))
    if any_invalid:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors and other tools)."""
    document = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "dagsim scenario",
        **{k: v for k, v in Scenario.model_json_schema().items() if k != "title"},
    }
    typer.echo(json.dumps(document, indent=2))


@app.command()
def new(
    sites: Annotated[int, typer.Option("--sites", help="Datacenters holding mailbox servers.")] = 2,
    servers: Annotated[int, typer.Option("--servers", help="Mailbox servers in the DAG (1-16).")] = 8,
    databases: Annotated[int, typer.Option("--databases", help="Mailbox databases.")] = 40,
    copies: Annotated[int, typer.Option("--copies", help="Copies of each database.")] = 4,
    lagged: Annotated[int, typer.Option("--lagged", help="Of those, lagged copies (7 days).")] = 1,
    mailboxes: Annotated[int, typer.Option("--mailboxes", help="Mailboxes per database.")] = 500,
    wan: Annotated[str, typer.Option("--wan", help="Bandwidth of each link between datacenters.")] = "1Gbps",
    witness_site: Annotated[
        bool,
        typer.Option("--witness-site/--no-witness-site", help="Put the file share witness in a third site."),
    ] = True,
    name: Annotated[str, typer.Option("--name", help="Scenario name.")] = "new-dag",
    out: Annotated[Path | None, typer.Option("--out", help="Write the scenario here instead of printing it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Write a valid, commented scenario laid out like Microsoft's preferred architecture."""
    from dagsim.config.loader import load_scenario_text
    from dagsim.generate import NewScenarioError, new_scenario_text

    try:
        text = new_scenario_text(
            name=name, sites=sites, servers=servers, databases=databases, copies=copies, lagged=lagged,
            mailboxes=mailboxes, wan=wan, witness_site=witness_site,
        )  # fmt: skip
        load_scenario_text(text, filename=str(out or "<new>"))
    except NewScenarioError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except ScenarioError as error:  # e.g. a --name that is not a valid name
        _report([str(problem) for problem in error.problems])
        raise typer.Exit(EXIT_INVALID) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists() and not force:
        typer.echo(f"--out: {out} exists; pass --force to overwrite it", err=True)
        raise typer.Exit(EXIT_INVALID)
    try:
        out.write_text(text)
    except OSError as error:
        typer.echo(f"--out: cannot write {out} ({error.strerror or error})", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo(f"wrote {out}: {databases} databases x {copies} copies on {servers} servers in {sites} site(s)")


@overload
def _duration_option(value: str, option: str) -> float: ...
@overload
def _duration_option(value: str | None, option: str) -> float | None: ...
def _duration_option(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        # --at also takes clock times as dagsim prints them (16:00, 0d 16:00:00).
        return parse_moment(value) if option == "--at" else parse_duration(value)
    except ValueError as error:
        typer.echo(f"{option}: {error}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


@app.command()
def run(
    file: ScenarioFile,
    seed: SeedOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write result files into this folder.")] = None,
    mode: ModeOption = None,
    duration: Annotated[str | None, typer.Option("--duration", help="Override run.duration, e.g. 2d.")] = None,
    series_format: Annotated[
        SeriesFormat, typer.Option("--format", help="File format of the sampled series.", case_sensitive=False)
    ] = SeriesFormat.csv,
    events: Annotated[int, typer.Option("--events", help="How many events to print (0: none).", min=0)] = 30,
    plots: Annotated[bool, typer.Option("--plots", help="Also write the plots (PNG) into --out.")] = False,
    svg: Annotated[bool, typer.Option("--svg", help="With --plots: SVG files as well.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the summary and verdicts, not the tables and events.")
    ] = False,
) -> None:
    """Run a scenario: print per-copy queue statistics and events; write results with --out."""
    seconds = _duration_option(duration, "--duration")
    scenario = _load_for_run(file, seed=seed, duration=seconds, mode=mode)
    if series_format is SeriesFormat.parquet and importlib.util.find_spec("pyarrow") is None:
        typer.echo("--format parquet needs pyarrow: pip install 'dagsim[parquet]'", err=True)
        raise typer.Exit(EXIT_INVALID)
    if plots and out is None:
        typer.echo("--plots needs --out DIR: the folder to write the pictures into", err=True)
        raise typer.Exit(EXIT_INVALID)
    _check_out(out)
    from dagsim.model.simulation import Simulation
    from dagsim.text import render_run, render_summary

    started = time.perf_counter()
    result = _simulate(Simulation(scenario))
    wall = time.perf_counter() - started
    if quiet:
        typer.echo(render_summary(result, wall_seconds=wall))
    else:
        typer.echo(render_run(result, wall_seconds=wall, max_events=events, out=None if out is None else str(out)))
    if out is not None:
        with _output_folder(out) as folder:
            written = result.write(folder, series_format=series_format.value)
            if plots:
                from dagsim.plots import skipped_plots, write_plots

                written += write_plots(result, folder, formats=("png", "svg") if svg else ("png",))
        typer.echo(f"\nwrote {len(written)} files to {out}/: " + ", ".join(p.name for p in written))
        if plots:
            for stem, reason in skipped_plots(result).items():
                typer.echo(f"no {stem} picture: {reason}")


def _simulate(simulation: Simulation, observe_at: Iterable[float] = ()) -> RunResult:
    """Run with a progress bar on stderr (shown only on a terminal), taking the copy status
    table at each moment of ``observe_at`` on the way."""
    from tqdm import tqdm

    from dagsim.status import status_table

    with tqdm(
        total=simulation.duration,
        unit="s",
        unit_scale=True,
        desc="simulating",
        leave=False,
        disable=None,
        file=sys.stderr,
    ) as bar:
        return simulation.run(
            progress=lambda t: bar.update(t - bar.n), observe_at=observe_at, observer=status_table
        )


@app.command()
def report(
    file: ScenarioFile,
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("report.html"),
    at: Annotated[
        list[str] | None,
        typer.Option("--at", help="Show copy status at this time (repeatable), e.g. --at 10h --at 12:30."),
    ] = None,
    seed: SeedOption = None,
    mode: ModeOption = None,
) -> None:
    """Write one self-contained HTML report: summary, failovers, copy status and plots."""
    from dagsim.model.simulation import Simulation
    from dagsim.report import write_report
    from dagsim.status_watch import StatusWatch

    scenario = _load_for_run(file, seed=seed, mode=mode)
    times = [_duration_option(text, "--at") for text in at or ()]
    late = [t for t in times if t > scenario.run.duration]
    if late:
        typer.echo(
            f"--at: {format_clock(late[0])} is after the end of the run ({format_clock(scenario.run.duration)})",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    _check_out(out, file=True)
    # Copy status is read during the one run: at the moments named on the command line, or
    # at those the default moments can be (a StatusWatch follows the run for them).
    simulation = Simulation(scenario)
    watch = None if times else StatusWatch(simulation)
    result = _simulate(simulation, observe_at=times)
    tables = watch.tables() if watch is not None else None
    try:
        path = write_report(result, out, status_times=times or None, status_tables=tables)
    except OSError as error:
        typer.echo(f"--out: cannot write {out} ({error.strerror or error})", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo(f"wrote {path}")


@app.command()
def status(
    file: ScenarioFile,
    at: Annotated[
        str, typer.Option("--at", help="Simulated time, e.g. 10h, 1d2h30m, 16:00 or 1d 09:30:00.", show_default=False)
    ],
    seed: SeedOption = None,
    mode: ModeOption = None,
    output: Annotated[
        StatusFormat, typer.Option("--format", help="table, csv or json.", case_sensitive=False)
    ] = StatusFormat.table,
) -> None:
    """Show Get-MailboxDatabaseCopyStatus for every copy at a simulated moment."""
    scenario = _load_for_run(file, seed=seed, mode=mode)
    moment = _duration_option(at, "--at")
    assert moment is not None
    if moment > scenario.run.duration:
        typer.echo(
            f"--at: {format_clock(moment)} is after the end of the run ({format_clock(scenario.run.duration)})",
            err=True,
        )
        raise typer.Exit(EXIT_INVALID)
    from dagsim.status import copy_status

    table = copy_status(scenario, at=moment)
    if output is StatusFormat.csv:
        typer.echo(table.to_csv(index=False), nl=False)
    elif output is StatusFormat.json:
        typer.echo(table.to_json(orient="records", indent=2))
    else:
        typer.echo(f"Copy status at {format_clock(moment)} ({scenario.name})\n")
        typer.echo(table.to_string(index=False))


@app.command()
def explain(
    file: ScenarioFile,
    database: Annotated[str, typer.Option("--database", help="Database to explain, e.g. DB01.", show_default=False)],
    seed: SeedOption = None,
) -> None:
    """Explain, step by step, what Active Manager decided about one database during a run."""
    scenario = _load_for_run(file, seed=seed)
    names = [d.name for d in scenario.databases]
    spelled = {name.lower(): name for name in names}  # names are case-insensitive, as in Exchange
    if database.lower() not in spelled:
        typer.echo(f"--database: no database {database!r} in {file} (it has {', '.join(names)})", err=True)
        raise typer.Exit(EXIT_INVALID)
    database = spelled[database.lower()]
    if scenario.run.mode != "fluid":
        typer.echo("explain needs mode fluid: per_log mode has no Active Manager", err=True)
        raise typer.Exit(EXIT_INVALID)
    from dagsim.model.simulation import Simulation
    from dagsim.text import render_explain, render_failovers

    result = Simulation(scenario).run()
    typer.echo(render_explain(result, database))
    failovers = [r for r in result.failover_records if r.database == database]
    if failovers:
        typer.echo("")
        typer.echo(render_failovers(failovers))


@app.command()
def check(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Scenario files, or folders searched for *.yaml.", metavar="PATH", show_default=False),
    ],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also list the expectations that passed.")] = False,
) -> None:
    """Run every scenario that has expectations and judge each one: exit 1 if any fails, 2 if a file is invalid."""
    from dagsim.expectations import check_file, describe_failover

    files: list[Path] = []
    invalid = False
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                typer.echo(f"{path}: no scenario files (*.yaml) in this folder", err=True)
            files += found
        elif path.exists():
            files.append(path)
        else:
            typer.echo(f"{path}: file not found", err=True)
            invalid = True
    counts = {"passed": 0, "failed": 0, "skipped": 0, "checked": 0}
    for path in files:
        try:
            checked = check_file(path)
        except ScenarioError as error:
            _report([str(problem) for problem in error.problems])
            invalid = True
            continue
        except OSError as error:
            typer.echo(f"{path}: cannot read ({error.strerror or error})", err=True)
            invalid = True
            continue
        except Exception as error:  # noqa: BLE001 - one broken run must not hide the files after it
            if os.environ.get("DAGSIM_DEBUG"):
                raise
            typer.echo(f"{path}: failed: {_internal_error(error)}", err=True)
            counts["failed"] += 1
            continue
        if not checked.verdicts:
            typer.echo(f"{path}: no expectations, skipped")
            counts["skipped"] += 1
            continue
        counts["checked"] += 1
        failed = len(checked.failures)
        summary = f"{len(checked.verdicts)} expectations, " + (f"{failed} failed" if failed else "all passed")
        typer.echo(f"{path}: {summary} ({checked.seconds:.2f} s)")
        for verdict in checked.verdicts:
            if verdict.passed and not verbose:
                continue
            typer.echo("  " + verdict.line_text())
            if not verdict.passed and verdict.record is not None:
                typer.echo("        failover record behind it:")
                for line in describe_failover(verdict.record).splitlines():
                    typer.echo("          " + line)
        counts["passed"] += len(checked.verdicts) - failed
        counts["failed"] += failed
    typer.echo(
        f"\n{counts['passed']} passed, {counts['failed']} failed in {counts['checked']} scenario files"
        + (f"; {counts['skipped']} without expectations skipped" if counts["skipped"] else "")
    )
    if invalid:
        raise typer.Exit(EXIT_INVALID)
    if counts["failed"]:
        raise typer.Exit(1)


# `dagsim availability`, `size` and `sweep` live in their own modules (which import only
# cli_common); importing them here registers them after the commands above, in help order.
import dagsim.cli_availability  # noqa: E402,F401
import dagsim.cli_size  # noqa: E402,F401
import dagsim.cli_sweep  # noqa: E402,F401
