"""Pictures of an availability study: convergence of the estimate, distribution of downtime.

Each function takes an :class:`~dagsim.availability.result.AvailabilityResult` and an
optional matplotlib ``ax`` and returns the Axes it drew on; nothing here shows a window or
writes a file except :func:`write_availability_plots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dagsim.availability.result import AvailabilityResult
from dagsim.config.failures import YEAR
from dagsim.plots import figure_bytes

__all__ = ["convergence_plot", "downtime_distribution", "write_availability_plots"]


def _new_figure() -> Figure:
    return Figure(figsize=(8, 4.5), layout="constrained")


def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    return _new_figure().add_subplot()


def convergence_plot(result: AvailabilityResult, ax: Axes | None = None) -> Axes:
    """The DAG unavailability estimate (minutes per year) and its interval as replicas accumulate."""
    ax = _new_axes(ax)
    table = result.convergence
    scale = YEAR / 60
    years = table["years"].to_numpy()
    ax.plot(years, table["estimate"] * scale, color="tab:blue", label="estimate")
    ax.fill_between(
        years,
        table["low"].clip(lower=0) * scale,
        table["high"] * scale,
        color="tab:blue",
        alpha=0.2,
        label=f"{result.confidence:.0%} interval (Student t)",
    )
    ax.set_xscale("log")
    ax.set_xlabel("simulated DAG-years")
    ax.set_ylabel("unavailability, minutes per year")
    ax.set_title(f"{result.scenario.name}: convergence of the DAG unavailability")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    return ax


def downtime_distribution(result: AvailabilityResult, database: str | None = None, ax: Axes | None = None) -> Axes:
    """Histogram of downtime per replica (minutes), for one database or pooled over all of them.

    Replicas without any downtime are counted in the title, not drawn (a log axis has no 0).
    """
    ax = _new_axes(ax)
    names = [d.name for d in result.scenario.databases]
    if database is not None and database not in names:
        raise ValueError(f"no database {database!r} in the study")
    columns = [names.index(database)] if database else range(len(names))
    minutes = np.array([r.downtime[d] / 60 for r in result.records for d in columns])
    positive = minutes[minutes > 0]
    if len(positive):
        low, high = positive.min(), positive.max()
        bins = np.geomspace(low, high * 1.0001, 30).tolist() if high > low else [low * 0.9, high * 1.1]
        ax.hist(positive, bins=bins, color="tab:orange", edgecolor="white")
        ax.set_xscale("log")
    ax.set_xlabel("downtime per replica, minutes")
    ax.set_ylabel("replicas" if database else "replica × database")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    zero = len(minutes) - len(positive)
    failures = result.scenario.failures
    # A study refuses a scenario without failures: (dagsim.availability.study), so every result has one.
    assert failures is not None, "an availability result always comes from a scenario with failures:"
    length = failures.replica_duration / 86400
    ax.set_title(
        f"{database or 'all databases'}: downtime per {length:g}-day replica "
        f"({zero} of {len(minutes)} without any)"
    )
    ax.grid(True, alpha=0.3)
    return ax


def write_availability_plots(
    result: AvailabilityResult, directory: str | Path, formats: Sequence[str] = ("png",), *, dpi: int = 120
) -> list[Path]:
    """Write ``convergence.<fmt>`` and ``downtime.<fmt>`` into ``directory``; returns the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, draw in (("convergence", convergence_plot), ("downtime", downtime_distribution)):
        # The Figure is made here, not read back from the Axes, whose .figure may be a SubFigure.
        figure = _new_figure()
        draw(result, ax=figure.add_subplot())
        for fmt in formats:
            path = out / f"{stem}.{fmt}"
            path.write_bytes(figure_bytes(figure, fmt, dpi=dpi))
            written.append(path)
    return written
