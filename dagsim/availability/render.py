"""Plain-text reports of the exact, rare-event and side-by-side availability answers."""

from __future__ import annotations

import math

from dagsim.config.failures import YEAR
from dagsim.config.units import format_duration

__all__ = ["render_comparison", "render_exact", "render_rare"]

_MINUTES = YEAR / 60


def _g(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.4g}"


def _span(seconds: float) -> str:
    if seconds != seconds:
        return "-"
    if math.isinf(seconds):
        return "never"
    if seconds >= 2 * YEAR:
        return f"{seconds / YEAR:,.3g} years"
    return format_duration(seconds)


def _left_out(left_out: tuple[str, ...]) -> list[str]:
    lines = ["", "The Markov model leaves out (the simulation has them; see docs/availability.md):"]
    lines += [f"  - {item}" for item in left_out]
    return lines


def render_exact(result) -> str:
    """Per-database and DAG figures of an :class:`~dagsim.availability.markov.ExactResult`."""
    u = result.unavailability
    nines = "inf" if u <= 0 else f"{-math.log10(u):.2f}"
    lines = [
        f"exact availability of {result.scenario}: {result.method}, {result.states:,} states",
        "",
        f"DAG: unavailability {_g(u)} ({nines} nines, {_g(u * _MINUTES)} minutes a year per database)",
        f"     of which no usable copy {_g(result.structural_unavailability)}, "
        f"failovers and remounts {_g(u - result.structural_unavailability)} (first-order)",
        "",
        f"  {'database':<12} {'unavailability':>14} {'no usable copy':>14} {'outages/yr':>11} "
        f"{'time between':>14} {'mean outage':>12} {'failovers/yr':>12}",
    ]
    for d in result.databases:
        lines.append(
            f"  {d.database:<12} {_g(d.unavailability):>14} {_g(d.structural_unavailability):>14} "
            f"{_g(d.outages_per_year):>11} {_span(d.mean_time_between_outages):>14} "
            f"{_span(d.mean_outage):>12} {_g(d.failovers_per_year):>12}"
        )
    lines += [
        "",
        "Failovers: each adds its detection, selection, last-log copy attempt and mount (Active Manager",
        "timings), and each outage the selection and mount at its end; the active copy is taken to be the",
        "usable copy with the best activation preference. Lossy failovers depend on copy queues: use the",
        "Monte Carlo study (dagsim availability FILE) for them.",
    ]
    lines += _left_out(result.left_out)
    return "\n".join(lines)


def _interval(estimate) -> str:
    if estimate.value is None:
        return "none observed"
    return f"{_g(estimate.value)}  [{_g(estimate.low)}, {_g(estimate.high)}]  (±{estimate.relative_error:.1%})"


def render_rare(result, *, wall_seconds: float | None = None) -> str:
    """Figures of a :class:`~dagsim.availability.rare.RareResult`, with its diagnostics."""
    speed = f" in {wall_seconds:.1f} s" if wall_seconds is not None else ""
    lines = [
        f"rare-event availability of {result.scenario}: importance sampling, {result.cycles:,} biased cycles"
        f"{speed}, seed {result.seed}, 95% intervals",
        f"precision target {result.precision:g} (relative half-width): "
        + ("reached" if result.precision_reached else "NOT reached"),
        "",
        f"DAG unavailability       {_interval(result.dag)}",
        f"  of which no usable copy {_interval(result.dag_structural)}",
    ]
    if result.dag.value is not None:
        lines.append(f"  downtime               {_g(result.dag.value * _MINUTES)} minutes a year per database")
    lines += [
        f"effective sample size    {result.effective_cycles:,.0f} cycles (largest single cycle: "
        f"{result.largest_share:.1%} of the estimate)",
        f"mean cycle               {_span(result.mean_cycle)} (from all up to all up)",
        "",
        f"  {'database':<12} {'unavailability':>36} {'outages/yr':>11} {'failovers/yr':>12}",
    ]
    for name, estimate, outages, failovers in zip(
        result.databases, result.unavailability, result.outages_per_year, result.failovers_per_year, strict=True
    ):
        lines.append(f"  {name:<12} {_interval(estimate):>36} {_g(outages):>11} {_g(failovers):>12}")
    for warning in result.warnings:
        lines += ["", f"warning: {warning}"]
    lines += _left_out(result.left_out)
    return "\n".join(lines)


def render_comparison(comparison) -> str:
    """The answers side by side and whether they agree."""
    lines = [f"availability of {comparison.scenario}: {len(comparison.answers)} methods, seed {comparison.seed}", ""]
    lines.append(f"  {'method':<6} {'unavailability':>14} {'95% interval':>26}  {'minutes/yr':>10}  how")
    for a in comparison.answers:
        if a.value is None:
            interval = "-" if not math.isfinite(a.high) else f"<= {_g(a.high)}"
            value, minutes = "-", "-"
        else:
            value = _g(a.value)
            interval = "(exact)" if a.low == a.high else f"[{_g(a.low)}, {_g(a.high)}]"
            minutes = _g(a.value * _MINUTES)
        lines.append(f"  {a.method:<6} {value:>14} {interval:>26}  {minutes:>10}  {a.note}")
    lines.append("")
    differ = False
    for pair, agree, why in comparison.agreement:
        verdict = {True: "agree", False: "DIFFER", None: "-"}[agree]
        differ |= agree is False
        lines.append(f"  {pair:<16} {verdict:<7} {why}")
    lines.append(
        f"  (each pair judged on {comparison.verdict_confidence:.0%} intervals, so that all "
        f"{len(comparison.agreement)} together hold at 95%)"
    )
    if differ:
        lines += [
            "",
            "Where crude Monte Carlo differs from the Markov methods, look first at what they leave out: a",
            "copy that missed logs may be refused by the mount dial (fast Monte Carlo follows that too), DAC",
            "holds back a returning member, a lagged copy replays before it mounts. Where rare and exact",
            "differ, raise --max-cycles.",
        ]
    return "\n".join(lines)
