"""What every `dagsim` command shares: the Typer app, the common options, loading a
scenario for a run, and writing into --out. The commands live in cli.py and cli_*.py, which
import this module (and not each other, apart from cli.py gathering them)."""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from dagsim.config import Scenario, ScenarioError
from dagsim.config.loader import Marks, load_scenario_with_marks
from dagsim.config.run_settings import resolve_run
from dagsim.output import OutputError, check_output_folder, staged_folder

__all__ = [
    "EXIT_INVALID",
    "ModeOption",
    "ScenarioFile",
    "SeedOption",
    "SeriesFormat",
    "app",
]

EXIT_INVALID = 2

app = typer.Typer(
    name="dagsim",
    help="Simulate Exchange Server 2013 database availability groups.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    # Plain help, as most command-line tools print it: flags shown as flags, not `<bool>`.
    rich_markup_mode=None,
    # Tracebacks are for bugs in dagsim; rich's version also prints local variables.
    pretty_exceptions_enable=False,
)


class Mode(enum.StrEnum):
    fluid = "fluid"
    per_log = "per_log"


class SeriesFormat(enum.StrEnum):
    csv = "csv"
    parquet = "parquet"


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            shown = version("dagsim")
        except PackageNotFoundError:  # run from a source tree that is not installed
            from dagsim import __version__ as shown
        typer.echo(f"dagsim {shown}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", "-V", help="Print dagsim's version and exit.", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    """Simulate Exchange Server 2013 database availability groups."""


def _try_load_marked(path: Path) -> tuple[Scenario | None, Marks | None, list[str]]:
    """The scenario in `path` and where its values are, or None and every problem as a line."""
    try:
        return (*load_scenario_with_marks(path), [])
    except ScenarioError as error:
        return None, None, [str(problem) for problem in error.problems]
    except FileNotFoundError:
        return None, None, [f"{path}: file not found"]
    except IsADirectoryError:
        return None, None, [f"{path}: is a directory, not a scenario file"]
    except OSError as error:
        return None, None, [f"{path}: cannot read ({error.strerror or error})"]


def _try_load(path: Path) -> tuple[Scenario | None, list[str]]:
    """The scenario in `path`, or None and every problem as a printable line."""
    scenario, _, problems = _try_load_marked(path)
    return scenario, problems


def _report(problems: list[str]) -> None:
    for line in problems:
        typer.echo(line, err=True)


def _load_for_run(
    path: Path, *, seed: int | None = None, duration: float | None = None, mode: Mode | None = None
) -> Scenario:
    """The scenario in `path` with the command line's run settings applied and checked.

    A rule that the overrides break (``--mode per_log`` on a scenario with failures) is
    reported at its place in the file, like any other problem, with exit status 2.
    """
    scenario, marks, problems = _try_load_marked(path)
    if scenario is None or marks is None:
        _report(problems)
        raise typer.Exit(EXIT_INVALID)
    try:
        return resolve_run(
            scenario, seed=seed, duration=duration, mode=mode.value if mode else None, marks=marks, filename=str(path)
        )
    except ScenarioError as error:
        _report([str(problem) for problem in error.problems])
        raise typer.Exit(EXIT_INVALID) from None


def _load_or_exit(path: Path) -> Scenario:
    """The scenario in `path`; otherwise print its problems to stderr and exit with status 2."""
    scenario, problems = _try_load(path)
    if scenario is None:
        _report(problems)
        raise typer.Exit(EXIT_INVALID)
    return scenario


ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file.", metavar="FILE", show_default=False)]
SeedOption = Annotated[int | None, typer.Option("--seed", help="Override run.seed.", min=0)]
ModeOption = Annotated[Mode | None, typer.Option("--mode", help="Override run.mode.", case_sensitive=False)]


def _check_out(out: Path | None, *, file: bool = False) -> None:
    """Refuse an unusable --out before the run, not after it."""
    if out is None:
        return
    if file and out.is_dir():
        typer.echo(f"--out: {out} is a folder; give the report's file name, e.g. {out / 'report.html'}", err=True)
        raise typer.Exit(EXIT_INVALID)
    try:
        if not file:
            check_output_folder(out)
    except OutputError as error:
        typer.echo(f"--out: {error}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


@contextmanager
def _output_folder(out: Path) -> Iterator[Path]:
    """A staging folder that becomes ``out`` once every file is written (see dagsim.output)."""
    try:
        staged = staged_folder(out)
        folder = staged.__enter__()
    except OutputError as error:
        typer.echo(f"--out: {error}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except OSError as error:
        typer.echo(f"--out: cannot write into {out} ({error.strerror or error})", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    try:
        yield folder
    except BaseException:
        staged.__exit__(*sys.exc_info())
        raise
    try:
        staged.__exit__(None, None, None)
    except OSError as error:
        typer.echo(f"--out: cannot move the results into {out} ({error.strerror or error})", err=True)
        raise typer.Exit(EXIT_INVALID) from None


