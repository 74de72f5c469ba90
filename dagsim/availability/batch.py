"""A batch of replicas as a picklable task for any study backend.

Each worker process builds the :class:`ReplicaRunner` (or, for ``--fast``,
:class:`~dagsim.availability.fast.FastRunner`) of a study once, on its first batch,
and keeps it for the next batches of the same study (a small per-process cache keyed by
the scenario and seed), so the layout and the route memo are shared by all its replicas.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field

from dagsim.availability.fast import FastRunner
from dagsim.availability.replica import ReplicaRecord, ReplicaRunner
from dagsim.config.schema import Scenario

__all__ = ["ReplicaBatch"]

_RUNNERS: OrderedDict[str, ReplicaRunner | FastRunner] = OrderedDict()
_RUNNERS_KEPT = 4


@dataclass(frozen=True)
class ReplicaBatch:
    """Runs replicas of one study: ``batch(indices)`` returns their records in that order."""

    scenario: Scenario
    seed: int
    client_outages: bool = True
    method: str = "simulation"
    """``"simulation"`` plays each replica with the model; ``"fast"`` with :mod:`~dagsim.availability.fast`."""
    token: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.token:
            text = self.scenario.model_dump_json() + f"\x00{self.seed}\x00{self.client_outages}\x00{self.method}"
            object.__setattr__(self, "token", hashlib.sha256(text.encode()).hexdigest())

    def runner(self) -> ReplicaRunner | FastRunner:
        runner = _RUNNERS.get(self.token)
        if runner is None:
            if self.method == "fast":
                runner = FastRunner(self.scenario, self.seed)
            else:
                runner = ReplicaRunner(self.scenario, self.seed, client_outages=self.client_outages)
            _RUNNERS[self.token] = runner
            while len(_RUNNERS) > _RUNNERS_KEPT:
                _RUNNERS.popitem(last=False)
        else:
            _RUNNERS.move_to_end(self.token)
        return runner

    def __call__(self, indices: tuple[int, ...]) -> tuple[ReplicaRecord, ...]:
        runner = self.runner()
        return tuple(runner.run(index) for index in indices)
