"""Vocabulary shared by the configuration layer and the model, defined once.

A leaf module: it imports nothing from dagsim, so ``config/`` and ``model/`` can both use it
without an import circle.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["COPY_QUEUE_THRESHOLD", "REPLAY_QUEUE_THRESHOLD", "Outcome"]

# Best copy selection's criteria sets compare the copy queue with 10 logs and the replay
# queue with 50 (docs/active-manager.md).
COPY_QUEUE_THRESHOLD = 10
REPLAY_QUEUE_THRESHOLD = 50


class Outcome(StrEnum):
    """How a failover or switchover ended, as written in ``failovers.csv``."""

    MOUNTED = "mounted"
    NO_ACCEPTABLE_COPY = "no acceptable copy"
    # A failover waiting for an acceptable copy is taken over by an operator switchover.
    SUPERSEDED = "no acceptable copy; superseded by operator switchover"
    SWITCHOVER_REFUSED = "switchover refused"
    SWITCHOVER_FAILED = "switchover failed; remounted on the source"
    # A Managed Availability failover found no healthier server: the database stays put.
    NO_HEALTHIER_COPY = "no healthier copy; stays on the source"
    IN_PROGRESS = "in progress"  # the run ended first
