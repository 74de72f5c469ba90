"""Collects what a run emits: event records and queue time series at fixed sample times."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dagsim.domain import EventKind
from dagsim.model.layout import Layout
from dagsim.records import EventRecord
from dagsim.text import event_detail

__all__ = ["Recorder"]


class Recorder:
    """Event log and sampled series of copy queue, replay queue and active log volume use.

    Samples are taken every ``sample_interval`` from 0 up to and including ``duration``;
    engines hand over the state at each sample time as they pass it, so sampling costs no
    simulation events.
    """

    def __init__(self, layout: Layout, duration: float, sample_interval: float) -> None:
        self.layout = layout
        count = int(np.floor(duration / sample_interval + 1e-9)) + 1
        self.sample_times = np.arange(count) * sample_interval
        self.copy_queue = np.zeros((count, layout.n_copies), dtype=np.float32)
        self.replay_queue = np.zeros((count, layout.n_copies), dtype=np.float32)
        self.log_volume = np.zeros((count, layout.n_databases), dtype=np.float32)
        self._next = 0
        self.events: list[EventRecord] = []
        # Called with each event as it is recorded (a study watches the run this way).
        self.listeners: list[Callable[[EventRecord], None]] = []

    def event(
        self,
        time: float,
        kind: str,
        database: str = "",
        server: str = "",
        *,
        facts: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> EventRecord:
        """Record an event; ``kind`` must be one of :class:`dagsim.domain.EventKind` (ValueError otherwise).

        Its ``detail`` is worded by :func:`dagsim.text.event_detail` from ``facts``; ``fields``
        are the record's typed fields (``site``, ``links``, ``batch``, ``reason``), so that
        readers never parse ``detail``.
        """
        kind = EventKind(kind)
        record = EventRecord(float(time), kind.value, database, server, event_detail(kind, **(facts or {})), **fields)
        self.events.append(record)
        for listener in self.listeners:
            listener(record)
        return record

    def due(self, t0: float, t1: float, *, inclusive: bool = False) -> tuple[slice, np.ndarray]:
        """Sample rows whose time lies in ``[t0, t1)`` (``[t0, t1]`` if ``inclusive``)."""
        start = self._next
        stop = int(np.searchsorted(self.sample_times, t1, side="right" if inclusive else "left"))
        stop = max(stop, start)
        self._next = stop
        return slice(start, stop), self.sample_times[start:stop]

    def store(self, rows: slice, copy_queue, replay_queue, log_volume) -> None:
        self.copy_queue[rows] = copy_queue
        self.replay_queue[rows] = replay_queue
        self.log_volume[rows] = log_volume
