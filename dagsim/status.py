"""``Get-MailboxDatabaseCopyStatus`` for any simulated moment (docs/active-manager.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from dagsim.config.schema import Scenario
from dagsim.config.units import parse_moment
from dagsim.domain import whole_logs
from dagsim.model.simulation import Simulation
from dagsim.records import format_clock

if TYPE_CHECKING:
    from dagsim.results import RunResult

__all__ = ["COPY_STATUS_COLUMNS", "copy_status", "status_rows", "status_table", "status_tables"]

COPY_STATUS_COLUMNS = (
    "Name",
    "Status",
    "CopyQueueLength",
    "ReplayQueueLength",
    "LastInspectedLogTime",
    "ContentIndexState",
    "ActivationSuspended",
)


def copy_status(
    scenario: Scenario, at: float | str, *, seed: int | None = None, mode: str | None = None
) -> pd.DataFrame:
    """The copy status table at simulated time ``at``, one row per database copy.

    ``at`` is seconds from the run's start, or text: ``"16h"``, ``"1d2h"``, ``"16:00"``.

    Queue lengths are whole logs, as Exchange reports them; ``LastInspectedLogTime`` is the
    simulated time at which the newest log the copy has inspected was written.
    """
    if isinstance(at, str):
        at = parse_moment(at)
    if at < 0 or at > scenario.run.duration:
        raise ValueError(f"time {format_clock(at)} lies outside the run (0 to {format_clock(scenario.run.duration)})")
    sim = Simulation(scenario, seed=seed, mode=mode)
    sim.run_until(at)
    return status_table(sim)


def status_table(sim: Simulation) -> pd.DataFrame:
    """The copy status table of a simulation at the moment it has reached."""
    return pd.DataFrame(status_rows(sim), columns=list(COPY_STATUS_COLUMNS))


def status_rows(sim: Simulation) -> list[dict]:
    """The rows of :func:`status_table`, one dict per copy (cheap to keep; a table is not)."""
    engine = sim.replication
    copy_queue, replay_queue = engine.queues()
    manager = sim.manager
    rows = []
    for row, (database, server) in enumerate(sim.layout.copy_names):
        d = int(sim.layout.copy_db[row])
        health = sim.state.health[row]
        if health.absent:
            continue  # not added yet: Exchange has no such copy to list
        if manager is not None and manager.stale.serves(d, row):
            status = "Mounted"  # by a partition with a stale cluster configuration: a split brain
            inspected = ""
        elif engine.is_active[row]:
            mounted = manager.is_mounted(d) if manager else bool(engine.mounted[d])
            status = "Mounted" if mounted else "Dismounted"
            inspected = ""
        else:
            if manager is not None:  # fluid mode keeps every health flag; per_log only suspensions
                server_up = sim.cluster is not None and sim.cluster.up(server)
                status = health.passive_status(server_up=server_up, connected=bool(engine.has_route[row]))
            elif engine.suspended[row]:
                status = "Suspended"
            else:
                status = "Healthy" if engine.has_route[row] else "DisconnectedAndHealthy"
            copied = engine.generated[d] - copy_queue[row]
            inspected = format_clock(max(engine.log_position_time(d, copied), 0.0))
        if manager is not None:
            activation_suspended = health.activation_suspended or health.operator_suspended
            content_index = health.content_index.capitalize()
        else:
            activation_suspended = health.activation_suspended or bool(engine.suspended[row])
            content_index = "Healthy"
        stale_mount = manager is not None and manager.stale.serves(d, row)
        rows.append(
            {
                "Name": f"{database}\\{server}",
                "Status": status,
                "CopyQueueLength": 0 if stale_mount else whole_logs(copy_queue[row]),
                "ReplayQueueLength": 0 if stale_mount else whole_logs(replay_queue[row]),
                "LastInspectedLogTime": inspected,
                "ContentIndexState": content_index,
                "ActivationSuspended": activation_suspended,
            }
        )
    return rows


def status_tables(result: RunResult, times: Iterable[float]) -> dict[float, pd.DataFrame]:
    """The copy status table at each moment, from one more run of ``result``'s scenario (a run
    is a pure function of scenario and seed, so it shows what ``result``'s run went through)."""
    simulation = Simulation(result.scenario, seed=result.seed, duration=result.duration, mode=result.mode)
    return dict(simulation.run(observe_at=times, observer=status_table).copy_status)
