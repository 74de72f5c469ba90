"""Exact time-weighted statistics of queues that are linear (fluid) or constant (per log)
between events: integral, peak and time spent above a threshold."""

from __future__ import annotations

import numpy as np

__all__ = ["QueueStats"]


class QueueStats:
    """Running statistics for an array of queues, each against its threshold (10 or 50 logs).

    ``threshold`` broadcasts against ``shape``: the fluid engine keeps copy and replay queues
    as the two rows of one array and their thresholds as a column, halving its numpy calls.
    """

    def __init__(self, shape: int | tuple[int, ...], threshold: float | np.ndarray) -> None:
        self.threshold = np.asarray(threshold, dtype=float)
        self.integral = np.zeros(shape)
        self.peak = np.zeros(shape)
        self.above = np.zeros(shape)

    def add_linear(self, start: np.ndarray, end: np.ndarray, dt: float) -> None:
        """Queues moved linearly from ``start`` to ``end`` over ``dt`` seconds."""
        self.integral += (start + end) * (0.5 * dt)
        hi = np.maximum(start, end)
        np.maximum(self.peak, hi, out=self.peak)
        lo = np.minimum(start, end)
        above = lo > self.threshold
        self.above += above * dt
        # Only a segment that crosses the threshold spends part of dt above it: (hi - h) / (hi - lo).
        crossing = (hi > self.threshold) & ~above
        if crossing.any():
            h = np.broadcast_to(self.threshold, hi.shape)[crossing]
            self.above[crossing] += (hi[crossing] - h) / (hi[crossing] - lo[crossing]) * dt

    def add_constant(self, row: int, value: float, dt: float) -> None:
        """Queue ``row`` held ``value`` for ``dt`` seconds."""
        self.integral[row] += value * dt
        if value > self.peak[row]:
            self.peak[row] = value
        if value > self.threshold:
            self.above[row] += dt

    def mean(self, duration: float) -> np.ndarray:
        return self.integral / duration if duration > 0 else np.zeros_like(self.integral)

    def select(self, index: int) -> QueueStats:
        """The statistics of one row, as views into this object's arrays."""
        view = QueueStats.__new__(QueueStats)
        view.threshold = self.threshold[index] if self.threshold.ndim else self.threshold
        view.integral, view.peak, view.above = self.integral[index], self.peak[index], self.above[index]
        return view
