"""Drawing durations from the failure distributions of a scenario."""

from __future__ import annotations

import math

import numpy as np

from dagsim.config.failures import Exponential, Fixed, Lognormal, Weibull

__all__ = ["draw"]


def draw(distribution: Exponential | Weibull | Lognormal | Fixed, rng: np.random.Generator) -> float:
    """One duration in seconds from ``distribution``; exactly one draw from ``rng`` (none for fixed)."""
    if isinstance(distribution, Exponential):
        return float(rng.exponential(distribution.mean))
    if isinstance(distribution, Weibull):
        return float(distribution.scale * rng.weibull(distribution.shape))
    if isinstance(distribution, Lognormal):
        return float(distribution.median * math.exp(distribution.sigma * rng.standard_normal()))
    return float(distribution.value)

