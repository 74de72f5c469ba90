"""`dagsim size wan` and `dagsim size copies`: the architect's sizing questions, answered directly."""

from __future__ import annotations

import difflib
import math
import sys
from typing import Annotated, NoReturn

import typer

from dagsim.cli_common import EXIT_INVALID, ScenarioFile, SeedOption, _load_for_run, app

__all__ = ["size_app"]

size_app = typer.Typer(
    name="size",
    help="Size a design: the bandwidth a link needs (wan), the copies a database needs (copies).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(size_app, name="size")


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(EXIT_INVALID)


def _bandwidths(text: str) -> tuple[float, ...]:
    from dagsim.config.units import parse_bandwidth

    values = []
    for part in text.split(","):
        try:
            values.append(parse_bandwidth(part.strip()))
        except ValueError as error:
            _fail(f"--what-if: {error}")
    return tuple(values)


def _duration(text: str | None, option: str, most: float, example: str) -> float | None:
    """A duration option, or None when not given; refused unless in (0, most]."""
    if text is None:
        return None
    from dagsim.config.units import format_duration, parse_duration

    try:
        seconds = parse_duration(text)
    except ValueError as error:
        _fail(f"{option}: {error}")
    if not 0 < seconds <= most:
        _fail(f"{option} must be positive and at most {format_duration(most)}, e.g. {example}")
    return seconds


def _target(text: str) -> float:
    """'99.999', '99.999%' or '0.99999' as a fraction."""
    raw = text.strip().rstrip("%")
    try:
        value = float(raw)
    except ValueError:
        _fail(f"--target {text!r} is not a number; give a percentage such as 99.999")
    fraction = value / 100 if value > 1 or text.strip().endswith("%") else value
    if not 0 < fraction < 1:
        _fail(f"--target {text!r} must be an availability between 0 and 100 %, e.g. 99.999")
    return fraction


@size_app.command("wan")
def size_wan_command(
    file: ScenarioFile,
    link: Annotated[str, typer.Option("--link", help="The inter-site link to size.")],
    max_copy_queue: Annotated[
        float, typer.Option("--max-copy-queue", help="Every copy behind the link stays under this many logs.", min=0.0)
    ] = 10.0,
    rpo: Annotated[
        str | None,
        typer.Option("--rpo", help="Instead: every copy's recovery point (oldest mail not yet copied) within this, e.g. 5m."),
    ] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Bisection precision, a fraction of the answer.")] = 0.01,
    what_if: Annotated[
        str | None, typer.Option("--what-if", help="Also run these bandwidths, e.g. 100Mbps,200Mbps,500Mbps.")
    ] = None,
) -> None:
    """The smallest bandwidth of a link keeping copy queues under a limit, beside the static estimate."""
    scenario = _load_for_run(file)
    names = [l.name for l in scenario.links]
    if link not in names:
        close = difflib.get_close_matches(link, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (f"; links: {', '.join(names)}" if names else "; it has no links")
        _fail(f"{file}: the scenario has no link {link!r}{hint}")
    if scenario.run.mode != "fluid":
        _fail(f"{file}: sizing runs the fluid model; run.mode is {scenario.run.mode}")
    if not 0 < tolerance < 1:
        _fail("--tolerance is a fraction between 0 and 1, e.g. 0.01")
    if max_copy_queue <= 0:
        _fail("--max-copy-queue must be positive")
    extra = _bandwidths(what_if) if what_if else ()
    rpo_seconds = _duration(rpo, "--rpo", 30 * 86400, "5m")
    from tqdm import tqdm

    from dagsim.sizing.wan import MAX_RUNS, size_wan

    if len(extra) > MAX_RUNS // 2:
        _fail(f"--what-if takes at most {MAX_RUNS // 2} bandwidths")
    with tqdm(total=None, unit="run", desc="runs", leave=False, disable=None, file=sys.stderr) as bar:
        result = size_wan(
            scenario, link, max_copy_queue=max_copy_queue, rpo=rpo_seconds, tolerance=tolerance, what_if=extra,
            progress=lambda runs: bar.update(runs - bar.n),
        )  # fmt: skip
    typer.echo(render_wan(result, scenario))


def render_wan(result, scenario) -> str:
    from dagsim.config.units import format_duration
    from dagsim.verdicts import format_bits

    mib = result.bytes_per_log / 1024**2
    shown = ", ".join(result.copies[:4]) + (f", ... and {len(result.copies) - 4} more" if len(result.copies) > 4 else "")
    lines = [f"link {result.link}: {len(result.copies)} copies ship over it ({shown or 'none'})", ""]
    if not result.copies:
        lines.append("No copy ships logs over this link in the scenario: any bandwidth will do for replication.")
        return "\n".join(lines)
    goal = (
        f"keeps every copy queue under {result.max_copy_queue:g} logs"
        if result.rpo is None
        else f"keeps every copy's recovery point within {format_duration(result.rpo)}"
    )
    if result.required is None:
        lines.append(f"No bandwidth up to {format_bits(result.points[-1].bandwidth)} {goal}.")
    else:
        lines.append(
            f"needed (dynamic): {format_bits(result.required)} {goal} over the run "
            f"(bisection on {len(result.points)} fluid runs, within {result.tolerance:.0%})"
        )
    lines += [
        f"static, peak hour: {format_bits(result.static_peak)}  = peak-hour logs/s of the copies behind it "
        f"({result.static_peak / result.bytes_per_log:.3g}, at {result.peak_hour:02d}:00) x {mib:.3g} MiB per log "
        f"(1 MiB x compression {mib:.2g}) x 8 bits",
        f"static, daily mean: {format_bits(result.static_mean)}",
    ]
    if result.required is not None and result.static_peak > 0:
        ratio = result.required / result.static_peak
        if result.required <= result.static_mean * (1 + result.tolerance):
            lines.append(
                "The answer is the daily mean: below it the copy queues grow day after day, whatever a run of the "
                "scenario's length shows."
            )
        elif ratio < 0.98:
            lines.append(
                f"The dynamic answer is {1 - ratio:.0%} below the peak-hour figure: copy queues absorb the peak "
                "(within the limit) and drain after it. Sizing for the peak hour over-provisions."
            )
        elif ratio > 1.02:
            lines.append(
                f"The dynamic answer is {ratio - 1:.0%} above the peak-hour figure: something in the run (a failure, "
                "shipping that moves onto this link, catching up after an outage) adds to the hourly demand."
            )
        else:
            lines.append(
                "The dynamic answer is the peak-hour figure: with hourly generation, any shortfall in the peak hour "
                "builds a backlog beyond the limit within the hour."
            )
    if result.what_if:
        lines += [
            "",
            f"  {'bandwidth':>12} {'peak copy queue':>16} {'time above 10':>14} {'recovery point':>15} "
            f"{'logs lost (site failure)':>25}  verdict",
        ]
        for p in result.what_if:
            verdict = "meets" if p.meets else "misses"
            lines.append(
                f"  {format_bits(p.bandwidth):>12} {p.peak_copy_queue:>16.1f} {format_duration(p.time_above_10):>14} "
                f"{format_duration(p.recovery_point):>15} {p.logs_lost_on_site_failure:>25}  {verdict}"
            )
        lines.append(
            "  (logs lost: per database the best copy behind the link, at its worst moment; the worst database)"
        )
    return "\n".join(lines)


@size_app.command("copies")
def size_copies_command(
    file: ScenarioFile,
    target: Annotated[str, typer.Option("--target", help="Availability to reach, in percent, e.g. 99.999.")],
    max_copies: Annotated[int, typer.Option("--max-copies", help="Try at most this many copies.", min=1, max=16)] = 8,
    years: Annotated[
        float, typer.Option("--years", help="DAG-years per count when only Monte Carlo applies.", min=0.0, max=1e6)
    ] = 100.0,
    lagged: Annotated[
        str | None,
        typer.Option("--lagged", help="Also judge the answer with its last copy lagged by this, e.g. 7d (Monte Carlo)."),
    ] = None,
    fast: Annotated[
        bool,
        typer.Option("--fast", help="Where only Monte Carlo applies, use --fast replicas (no copy queues) over --years."),
    ] = False,
    seed: SeedOption = None,
) -> None:
    """The fewest copies per database that meet an availability target under the scenario's failures."""
    fraction = _target(target)
    scenario = _load_for_run(file, seed=seed)
    if scenario.failures is None:
        _fail(f"{file}: the scenario has no failures: block; nothing fails at random (see docs/availability.md)")
    if years <= 0:
        _fail("--years must be positive")
    lag = _duration(lagged, "--lagged", 14 * 86400, "7d")  # ReplayLagTime's own limit
    from dagsim.sizing.copies import size_copies

    try:
        result = size_copies(scenario, fraction, max_copies=max_copies, seed=seed, years=years, lagged=lag, fast=fast)
    except ValueError as error:
        _fail(f"{file}: {error}")
    typer.echo(render_copies(result))


def render_copies(result) -> str:
    allowed = result.allowed
    lines = [
        f"target {result.target * 100:.10g} % available: at most {allowed:.3g} unavailable "
        f"({allowed * 365 * 24 * 60:.3g} minutes a year per database)",
        "",
        f"  {'copies':>6}  {'method':<6} {'unavailability':>14} {'interval':>24}  verdict",
    ]
    for p in result.points:
        value = "-" if p.unavailability is None else f"{p.unavailability:.3g}"
        interval = "(exact)" if p.method == "exact" else (f"[{p.low:.3g}, {p.high:.3g}]" if math.isfinite(p.high) else "-")
        lines.append(f"  {p.copies:>6}  {p.method:<6} {value:>14} {interval:>24}  {p.verdict}")
    lines.append("")
    answer = result.answer
    if answer is None:
        lines.append(
            "No copy count tried meets the target: past a point more copies stop helping, because something else "
            "limits availability (quorum, a whole site, the failovers' own time; see docs/sizing.md)."
        )
    else:
        lines.append(f"answer: {answer} cop{'y' if answer == 1 else 'ies'} per database")
    if result.third_site:
        best = result.third_site_answer
        lines.append(
            "with the witness moved to a third site: "
            + (f"{best} cop{'y' if best == 1 else 'ies'} per database" if best is not None else "no count tried meets it")
            + "  (" + ", ".join(f"{p.copies}: {p.unavailability:.3g}" for p in result.third_site if p.unavailability is not None) + ")"
        )
    if result.lagged is not None:
        from dagsim.config.units import format_duration

        p = result.lagged
        value = "none observed" if p.unavailability is None else f"{p.unavailability:.3g} [{p.low:.3g}, {p.high:.3g}]"
        lines.append(
            f"with the last of {p.copies} copies lagged {format_duration(result.lag)} (Monte Carlo): {value}  {p.verdict}"
        )
    if not result.certain:
        lines.append("Not certain at this precision: a smaller count's interval straddles the target; run longer (--years).")
    return "\n".join(lines)
