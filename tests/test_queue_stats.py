"""Time-weighted queue statistics over linear and constant segments."""

from __future__ import annotations

import numpy as np
import pytest

from dagsim.model.queue_stats import QueueStats


def test_linear_segments_time_above_threshold():
    """A segment crossing the threshold counts exactly the part of its time above it."""
    stats = QueueStats(5, 10.0)
    start = np.array([0.0, 20.0, 15.0, 0.0, 10.0])
    end = np.array([20.0, 0.0, 15.0, 5.0, 10.0])
    stats.add_linear(start, end, 10.0)
    np.testing.assert_allclose(stats.above, [5.0, 5.0, 10.0, 0.0, 0.0])
    np.testing.assert_allclose(stats.integral, [100.0, 100.0, 150.0, 25.0, 100.0])
    np.testing.assert_allclose(stats.peak, [20.0, 20.0, 15.0, 5.0, 10.0])


def test_rows_with_their_own_thresholds():
    """Copy and replay queues share one array, each row against its own threshold."""
    stats = QueueStats((2, 1), np.array([[10.0], [50.0]]))
    stats.add_linear(np.array([[0.0], [0.0]]), np.array([[100.0], [100.0]]), 100.0)
    np.testing.assert_allclose(stats.above[:, 0], [90.0, 50.0])
    assert stats.select(1).above[0] == pytest.approx(50.0)


def test_constant_segments_and_mean():
    """Per-log (step) segments add their value times their duration; the mean divides by the run."""
    stats = QueueStats(1, 10.0)
    stats.add_constant(0, 12.0, 3.0)
    stats.add_constant(0, 4.0, 7.0)
    assert stats.above[0] == 3.0 and stats.peak[0] == 12.0
    assert stats.mean(10.0)[0] == pytest.approx((36 + 28) / 10)
