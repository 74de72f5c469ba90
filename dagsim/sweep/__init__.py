"""Design-space sweeps: vary scenario paths over a grid or a Latin hypercube, run every point.

:func:`~dagsim.sweep.spec.parse_vary` reads ``PATH=VALUES``; :func:`~dagsim.sweep.run.sweep`
runs the points on any :mod:`dagsim.study` backend and returns one tidy table, resuming
from a checkpoint folder when given one; :func:`~dagsim.sweep.plot.sweep_plot` draws the
headline metric.
"""

from dagsim.sweep.run import RUN_METRICS, SweepResult, SweepTask, sweep
from dagsim.sweep.spec import MAX_POINTS, SweepError, Variation, apply_point, grid, latin_hypercube, parse_vary

__all__ = [
    "MAX_POINTS",
    "RUN_METRICS",
    "SweepError",
    "SweepResult",
    "SweepTask",
    "Variation",
    "apply_point",
    "grid",
    "latin_hypercube",
    "parse_vary",
    "sweep",
]
