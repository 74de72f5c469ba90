"""Generation seen through a delay: what a lagged copy may replay, and when logs age out.

A copy with ``ReplayLagTime`` L may replay only logs generated before ``t - L``. Rather than
keeping every log, a tracker keeps, per database, ``G(t) - G(t - L)`` (logs generated in the
last L) and the rate ``g(t - L)``, which changes exactly L after each change of ``g``.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from dagsim.model.workload import Workload

__all__ = ["DelayTracker"]


class DelayTracker:
    """``G(t) - G(t - delay)`` for every database, kept piecewise linear."""

    def __init__(self, delay: float, workload: Workload) -> None:
        self.delay = delay
        # The run starts in steady state: the daily profile has been running forever.
        self.window = workload.history(-delay, 0.0)
        self.rate = workload.rates(-delay)
        self._pending: deque[tuple[float, np.ndarray]] = deque()
        t = workload.next_change(-delay)
        # Up to and including the start: the rate the run begins with is itself a change
        # that the delayed view meets only at ``delay``.
        while t <= 0.0:
            self._pending.append((t + delay, workload.rates(t)))
            t = workload.next_change(t)

    def next_time(self) -> float:
        """When ``g(t - delay)`` next changes."""
        return self._pending[0][0] if self._pending else np.inf

    def advance(self, generation: np.ndarray, dt: float) -> None:
        self.window += (generation - self.rate) * dt

    def take_due(self, now: float, eps: float) -> bool:
        """Apply rate changes whose time has come; True if any did."""
        changed = False
        while self._pending and self._pending[0][0] <= now + eps:
            self.rate = self._pending.popleft()[1]
            changed = True
        return changed

    def generation_changed(self, now: float, generation: np.ndarray) -> None:
        """Remember a change of ``g`` at ``now``; it reaches the delayed view at ``now + delay``."""
        self._pending.append((now + self.delay, generation.copy()))
