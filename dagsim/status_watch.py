"""Copy status tables for the report's default moments, taken during the one run.

The report shows the copy status just after the first failure, just after its mount, at
the longest copy queue and at the end (:func:`dagsim.report.default_status_times`). Those
moments depend on what happens, so a :class:`StatusWatch` follows the run's events and takes
the tables that may be wanted as the run passes them: 1 s after every dismount, switchover
request and mount, and, while a copy queue is above 10 logs, at each sample time where the
longest copy queue so far is longer still. Only a moment it could not foresee needs another
run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import simpy
from simpy.events import URGENT

from dagsim.domain import COPY_QUEUE_THRESHOLD, EventKind
from dagsim.model.fluid import FluidReplication
from dagsim.status import COPY_STATUS_COLUMNS, status_rows, status_table

if TYPE_CHECKING:
    import pandas as pd

    from dagsim.model.simulation import Simulation
    from dagsim.records import EventRecord

__all__ = ["MAX_TABLES", "StatusWatch"]

MAX_TABLES = 100
"""Tables taken at most after failures and mounts (each holds one row per copy)."""

_AFTER = 1.0  # seconds after the event, as default_status_times asks
_MARKS = frozenset({EventKind.DATABASE_DISMOUNTED, EventKind.SWITCHOVER_REQUESTED, EventKind.DATABASE_MOUNTED})


class _Before(simpy.Event):
    """A timeout processed before the ordinary events of its instant, so that a table taken
    then shows the state *before* them, as ``dagsim status --at`` does."""

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        super().__init__(env)
        self._ok, self._value = True, None  # already succeeded, like simpy's Timeout
        env.schedule(self, URGENT, delay)


class StatusWatch:
    """Attach before the run; afterwards :meth:`tables` holds the tables taken, by moment."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation
        self._tables: dict[float, list[dict]] = {}  # rows; made into tables once, at the end
        self._planned: set[float] = set()
        self._high: set[tuple[str, str]] = set()
        self._walking = False
        self._longest = -1.0
        self._longest_at: float | None = None
        simulation.recorder.listeners.append(self._seen)

    def tables(self) -> dict[float, pd.DataFrame]:
        """The tables taken, with the end of the run's (call after the run)."""
        import pandas as pd

        sim = self.simulation
        taken = {moment: pd.DataFrame(rows, columns=list(COPY_STATUS_COLUMNS)) for moment, rows in self._tables.items()}
        return {**taken, sim.env.now: status_table(sim)}

    # ------------------------------------------------------------------ following the run
    def _seen(self, event: EventRecord) -> None:
        if event.kind in _MARKS:
            self._plan(event.time + _AFTER)
        elif event.kind == EventKind.COPY_QUEUE_HIGH:
            self._high.add((event.database, event.server))
            if not self._walking:
                self._walking = True
                self.simulation.env.process(self._walk())
        elif event.kind == EventKind.COPY_QUEUE_NORMAL:
            self._high.discard((event.database, event.server))

    def _plan(self, moment: float) -> None:
        sim = self.simulation
        if moment in self._planned or len(self._planned) >= MAX_TABLES or moment >= sim.duration:
            return  # the end's table is taken after the run
        self._planned.add(moment)
        sim.env.process(self._take(moment))

    def _copy_queues(self) -> np.ndarray:
        engine = self.simulation.replication
        if isinstance(engine, FluidReplication):
            return engine.copy_queues_now()  # a read that leaves the engine where it is
        engine.advance(self.simulation.env.now)
        return engine.queues()[0]

    def _take(self, moment: float):
        sim = self.simulation
        yield _Before(sim.env, moment - sim.env.now)
        sim.replication.advance(sim.env.now)
        self._tables[moment] = status_rows(sim)

    def _walk(self):
        """Visit each sample time while a copy queue is high; keep the table at the longest."""
        sim = self.simulation
        times = sim.recorder.sample_times
        i = int(np.searchsorted(times, sim.env.now, side="left"))
        while self._high and i < len(times) and times[i] < sim.duration:
            yield _Before(sim.env, float(times[i]) - sim.env.now)
            # As stored in the samples, so the longest here is the longest the report finds.
            longest = float(np.float32(self._copy_queues().max(initial=0.0)))
            if longest > self._longest and longest >= COPY_QUEUE_THRESHOLD:
                sim.replication.advance(sim.env.now)
                if self._longest_at is not None and self._longest_at not in self._planned:
                    self._tables.pop(self._longest_at, None)
                self._longest, self._longest_at = longest, float(times[i])
                self._tables[self._longest_at] = status_rows(sim)
            i += 1
        self._walking = False
