"""Moves in flight and stalled, against the target database's passive copy queues."""

from __future__ import annotations

__all__ = ["moves_in_flight"]


def moves_in_flight(result, batch: str | None = None, ax=None):
    """Requests copying over time (stalled spans shaded) with the target's copy queues.

    ``batch``: a batch name (default: the first). Returns the Axes (the copy queues are on a
    twin axis to its right).
    """
    import matplotlib.pyplot as plt
    import numpy as np

    batches = result.scenario.mrs.batches
    if not batches:
        raise ValueError("the run has no mailbox moves (mrs.batches)")
    spec = next((b for b in batches if b.name == batch), None) if batch is not None else batches[0]
    if spec is None:
        raise ValueError(f"no batch {batch!r}; batches: {', '.join(b.name for b in batches)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    moves = result.moves[result.moves.batch == spec.name]
    database = spec.target_database or spec.source_database  # an export has only a source
    hours = 3600.0
    edges = []
    for _, move in moves.iterrows():
        if move.started == move.started:
            # A request holds its slot while it copies; its completion runs after it frees it.
            if move.status == "Completed":
                end = move.finished - spec.completion_time
            else:
                end = move.finished if move.finished == move.finished else result.duration
            edges += [(move.started, 1), (end, -1)]
    # Requests ending and starting at the same moment net out: one step, not a dip to zero.
    net: dict[float, int] = {}
    for t, delta in edges:
        net[t] = net.get(t, 0) + delta
    moments = sorted(net)
    times = [0.0, *moments, result.duration]
    counts = np.concatenate([[0], np.cumsum([net[t] for t in moments]), [0]])
    ax.step(np.array(times) / hours, counts, where="post", color="tab:blue", label="requests copying")
    events = result.events
    mine = events[(events.database == database) & (events.batch == spec.name)]
    stalled_at = None
    for _, event in mine.iterrows():
        if event.kind == "move_stalled" and stalled_at is None:
            stalled_at = event.time
        elif event.kind in ("move_resumed", "move_batch_completed") and stalled_at is not None:
            ax.axvspan(stalled_at / hours, event.time / hours, color="tab:red", alpha=0.15, lw=0)
            stalled_at = None
    if stalled_at is not None:
        ax.axvspan(stalled_at / hours, result.duration / hours, color="tab:red", alpha=0.15, lw=0)
    ax.set_xlabel("hours")
    ax.set_ylabel("requests copying")
    ax.set_xlim(0, result.duration / hours)
    queues = ax.twinx()
    series = result.timeseries
    for server, rows in series[series.database == database].groupby("server", sort=False):
        queues.plot(rows.time / hours, rows.copy_queue, lw=1, label=f"copy queue {database}\\{server}")
    queues.axhline(10, color="grey", ls=":", lw=1)
    highest = float(series[series.database == database].copy_queue.max() or 0.0)
    queues.set_ylim(0, max(highest * 1.05, 12.0))  # the 10-log line stays in view
    queues.set_ylabel("copy queue (logs)")
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = queues.get_legend_handles_labels()
    from matplotlib.patches import Patch

    handles += [*more, Patch(color="tab:red", alpha=0.15)]
    labels += [*more_labels, "stalled (data guarantee or failover)"]
    ax.legend(handles, labels, loc="upper right", fontsize="small")
    into = f"into {spec.target_database}" if spec.target_database else f"out of {spec.source_database}"
    ax.set_title(f"batch {spec.name}: {len(moves)} {spec.request_type} requests {into}")
    return ax
