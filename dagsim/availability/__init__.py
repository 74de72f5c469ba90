"""Availability over years of random failures (docs/availability.md).

Failure models become generated timelines (:mod:`~dagsim.availability.timeline`); a replica
plays one with an ordinary simulation (:mod:`~dagsim.availability.replica`); crude Monte
Carlo estimators turn replicas into figures with intervals
(:mod:`~dagsim.availability.estimators`); :func:`availability` runs a whole study on any
backend of :mod:`dagsim.study`.
"""

import sys
import types

from dagsim.availability.estimators import Estimate, clopper_pearson, count_rate, mean_estimate, poisson_rate
from dagsim.availability.replica import ReplicaRecord, ReplicaRunner
from dagsim.availability.result import AvailabilityResult
from dagsim.availability.study import availability
from dagsim.availability.timeline import failure_timeline, replica_timeline

__all__ = [
    "AvailabilityResult",
    "Estimate",
    "ReplicaRecord",
    "ReplicaRunner",
    "availability",
    "clopper_pearson",
    "count_rate",
    "failure_timeline",
    "mean_estimate",
    "poisson_rate",
    "replica_timeline",
]


class _CallablePackage(types.ModuleType):
    """Lets ``dagsim.availability(...)`` run a study while ``dagsim.availability.plots`` and
    the other modules stay importable under the same name."""

    def __call__(self, *args, **kwargs) -> AvailabilityResult:
        return availability(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
