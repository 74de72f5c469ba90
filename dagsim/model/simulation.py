"""One run of one scenario: builds the model, plays the timeline, returns a result.

A run is a pure function of (scenario, seed): the model owns its environment, topology and
engines, and nothing global is read or written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from dagsim.config.run_settings import resolve_run
from dagsim.config.schema import Action, Scenario
from dagsim.model.actions import apply_action
from dagsim.model.active_manager import ActiveManager
from dagsim.model.client_access import ClientAccess
from dagsim.model.cluster import Cluster
from dagsim.model.engine import ControllableEngine, LogFlow
from dagsim.model.fluid import FluidReplication
from dagsim.model.layout import Layout
from dagsim.model.per_log import PerLogReplication
from dagsim.model.quiet import QuietSpans
from dagsim.model.recorder import Recorder
from dagsim.model.reseed import Reseeder
from dagsim.model.state import DagState
from dagsim.model.topology import Topology
from dagsim.model.workload import LOG_SIZE, Workload
from dagsim.records import CopyStats, DatabaseStats, LinkHop, LinkRecord, LogStream
from dagsim.results import RunResult

__all__ = ["SharedParts", "Simulation"]

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class SharedParts:
    """What runs of one scenario can share, built once by a study (many replicas).

    The layout is immutable; a topology holds link and NIC state, so each run gets a fresh
    one from ``new_topology`` (which may share a route memo across runs).
    """

    layout: Layout
    new_topology: Callable[[], Topology]


class Simulation:
    """The model of a DAG for one run: a SimPy environment and its components."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        duration: float | None = None,
        mode: str | None = None,
        parts: SharedParts | None = None,
    ) -> None:
        # Overrides can break rules that held for the file (per_log mode plays no failures),
        # so they are applied to the scenario and checked like the file was.
        scenario = resolve_run(scenario, seed=seed, duration=duration, mode=mode)
        self.scenario = scenario
        self.seed = scenario.run.seed
        self.duration = scenario.run.duration
        self.mode = scenario.run.mode
        self.env = simpy.Environment()
        self.layout = parts.layout if parts is not None else Layout.from_scenario(scenario)
        self.topology = parts.new_topology() if parts is not None else Topology.from_scenario(scenario)
        self.workload = Workload(scenario)
        self.recorder = Recorder(self.layout, self.duration, scenario.run.sample_interval)
        # The one owner of roles, copy health, hosts and server state; the parts below read it
        # and change it through its methods.
        self.state = DagState.from_scenario(scenario, self.layout)
        parts_of_run = (self.env, self.layout, self.topology, self.workload, self.recorder, self.state)
        self.replication: LogFlow = (
            FluidReplication(*parts_of_run, spans=QuietSpans())
            if self.mode == "fluid"
            else PerLogReplication(*parts_of_run)
        )
        self._actions = 0
        self.cluster: Cluster | None = None
        self.client_access: ClientAccess | None = None
        self.manager: ActiveManager | None = None
        if self.mode == "fluid":
            assert isinstance(self.replication, ControllableEngine)
            self.cluster = Cluster(self.env, scenario, self.topology, self.recorder, self.state)
            initial = {name: server for name, server in (self.layout.copy_names[r] for r in self.layout.initial_active)}
            self.client_access = ClientAccess(scenario, initial)
            self.manager = ActiveManager(
                self.env, scenario, self.layout, self.topology, self.workload, self.replication, self.cluster,
                self.recorder, self.state, self.client_access,
            )  # fmt: skip
            self.reseeder = Reseeder(
                self.env, scenario, self.layout, self.manager, self.cluster, self.replication, self.record
            )
        self.mrs = None
        if self.mode == "fluid" and scenario.mrs.batches:
            from dagsim.mrs import MailboxReplicationService

            self.mrs = MailboxReplicationService(self)
        # Taken before anything fails: plots draw what each link carries with every network up.
        self._log_streams = self._initial_log_streams()
        self._ran = False

    # ------------------------------------------------------------------ running
    def run(
        self,
        progress: ProgressCallback | None = None,
        chunks: int = 100,
        *,
        observe_at: Iterable[float] = (),
        observer: Callable[[Simulation], Any] | None = None,
    ) -> RunResult:
        """Simulate the whole duration and return the result.

        ``progress`` is called with the simulated time reached, ``chunks`` times; it is how the
        CLI shows a progress bar without the model knowing about terminals. ``observer`` is
        called with the simulation at each moment of ``observe_at`` (seconds, clipped to the
        run), before the events scheduled at that very instant; what it returns is the
        result's ``copy_status`` at that moment (:func:`dagsim.simulate` passes the copy
        status table). Observing moves no state: the run is the same as without it.
        """
        observations: dict[float, Any] = {}
        if observer is not None:
            for moment in sorted({min(max(float(t), 0.0), self.duration) for t in observe_at}):
                self.run_until(moment)
                observations[moment] = observer(self)
        self.run_until(self.duration, progress=progress, chunks=chunks)
        return dataclasses.replace(self.result(), copy_status=observations) if observations else self.result()

    def run_until(self, until: float, progress: ProgressCallback | None = None, chunks: int = 1) -> None:
        if not self._ran:
            self._ran = True
            self.replication.start()
            self.env.process(self._timeline())
            if self.mrs is not None:
                self.mrs.start()
        until = min(until, self.duration)
        steps = np.linspace(self.env.now, until, max(chunks, 1) + 1)[1:]
        for stop in steps:
            if stop > self.env.now:
                self.env.run(until=stop)
            if progress is not None:
                progress(stop)
        self.replication.advance(until)

    def _timeline(self):
        for action in sorted(self.scenario.timeline, key=lambda a: a.at):
            if action.at > self.env.now:
                yield self.env.timeout(action.at - self.env.now)
            self.apply(action)

    def apply(self, action: Action) -> None:
        """Carry out one timeline action now."""
        self._actions += 1
        apply_action(self, action)
        if self.manager is not None:
            self.manager.invariants.check_mounted()

    def record(
        self, kind: str, database: str = "", server: str = "", *, facts: Mapping[str, Any] | None = None, **fields: Any
    ) -> None:
        self.recorder.event(self.env.now, kind, database, server, facts=facts, **fields)

    # ------------------------------------------------------------------ results
    def _initial_log_streams(self) -> tuple[LogStream, ...]:
        """Each passive copy's stream from its database's activation preference 1 copy."""
        topology = self.topology
        streams = []
        for spec in self.scenario.databases:
            copies = sorted(spec.copies, key=lambda c: c.activation_preference)
            for copy in copies[1:]:
                route = topology.shipping_route(copies[0].server, copy.server)
                if route is None:
                    continue
                hops = []
                for edge in route.edges:
                    info = topology.edge(edge)
                    if info.kind == "link":
                        forward = edge == topology.link_edges(info.name)[0]
                        hops.append(LinkHop(info.name, info.tail[1], info.head[1], float(topology.capacity[edge]), forward))
                streams.append(LogStream(spec.name, copy.server, topology.bytes_per_log(route), tuple(hops)))
        return tuple(streams)

    def _link_records(self) -> tuple[LinkRecord, ...]:
        """Peak shipping demand per link direction (the fluid engine tracks it; per_log does not)."""
        engine = self.replication
        if not isinstance(engine, ControllableEngine):
            return ()
        topology, names = self.topology, self.layout.copy_names
        records = []
        for edge in np.flatnonzero(engine.link_edge):
            info = topology.edge(int(edge))
            rows = engine.link_peak_rows.get(int(edge), np.zeros(0, dtype=int))
            records.append(
                LinkRecord(
                    link=info.name,
                    from_site=info.tail[1],
                    to_site=info.head[1],
                    capacity=float(info.capacity),
                    peak_demand=float(engine.link_peak[edge]),
                    peak_at=float(engine.link_peak_at[edge]),
                    copies=tuple(f"{names[r][0]}\\{names[r][1]}" for r in rows),
                )
            )
        return tuple(records)

    def result(self) -> RunResult:
        engine = self.replication
        rows, _ = self.recorder.due(engine.t, engine.t, inclusive=True)
        cq, rq = engine.queues()
        self.recorder.store(rows, cq, rq, engine.active_log_volume())
        layout = self.layout
        duration = engine.t
        copy_mean, replay_mean = engine.stats_copy.mean(duration), engine.stats_replay.mean(duration)
        copies = tuple(
            CopyStats(
                database=database,
                server=server,
                activation_preference=int(layout.copy_preference[i]),
                replay_lag_time=float(layout.replay_lag[i]),
                copy_queue_peak=float(engine.stats_copy.peak[i]),
                copy_queue_mean=float(copy_mean[i]),
                time_copy_queue_above_10=float(engine.stats_copy.above[i]),
                replay_queue_peak=float(engine.stats_replay.peak[i]),
                replay_queue_mean=float(replay_mean[i]),
                time_replay_queue_above_50=float(engine.stats_replay.above[i]),
                log_volume_peak=float(engine.copy_volume_peak[i]) * LOG_SIZE,
            )
            for i, (database, server) in enumerate(layout.copy_names)
        )
        databases = tuple(
            DatabaseStats(
                database=name,
                logs_generated=float(engine.written[d]),
                active_log_volume_peak=float(engine.active_volume_peak[d]) * LOG_SIZE,
                log_volume_capacity=float(layout.volume_capacity[d]) * LOG_SIZE,
            )
            for d, name in enumerate(layout.database_names)
        )
        return RunResult(
            scenario=self.scenario,
            seed=self.seed,
            mode=self.mode,
            duration=duration,
            event_records=tuple(sorted(self.recorder.events, key=lambda e: e.time)),
            copy_records=copies,
            database_records=databases,
            copy_names=layout.copy_names,
            active_copies=tuple(bool(a) for a in engine.is_active),
            sample_times=self.recorder.sample_times,
            copy_queue_samples=self.recorder.copy_queue,
            replay_queue_samples=self.recorder.replay_queue,
            log_volume_samples=self.recorder.log_volume,
            engine_events=engine.steps + self._actions,
            link_records=self._link_records(),
            failover_records=tuple(self.manager.records()) if self.manager else (),
            decision_records=tuple(self.manager.decisions) if self.manager else (),
            client_outage_records=tuple(self.client_access.outages()) if self.client_access else (),
            move_records=self.mrs.records() if self.mrs is not None else (),
            log_streams=self._log_streams,
            hourly_rates=self.workload.hourly_rates(),
        )
