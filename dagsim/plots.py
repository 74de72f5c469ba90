"""Pictures of a run: database timelines, queues, failover anatomy, generation vs capacity.

Every function takes a :class:`~dagsim.results.RunResult` (and an optional matplotlib ``ax``)
and returns what it drew on: an ``Axes``, or a ``Figure`` for multi-panel charts. Nothing here
uses pyplot's global state, shows a window or writes a file, except :func:`write_plots`, which
the command line and notebooks call to save one file per plot kind::

    import dagsim, dagsim.plots
    result = dagsim.simulate("scenarios/server-failure.yaml")
    ax = dagsim.plots.failover_anatomy(result)
    ax.figure.savefig("anatomy.png")

Times are simulated seconds from the start of the run, shown in hours on time axes; queues
are in 1 MiB transaction logs; rates in logs per second (and Mbit/s on the wire).
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator

from dagsim import domain
from dagsim.config.units import format_duration
from dagsim.history import active_spans
from dagsim.records import FailoverRecord, LinkHop, format_clock
from dagsim.results import RunResult

__all__ = [
    "COPY_QUEUE_THRESHOLD",
    "PLOT_KINDS",
    "REPLAY_QUEUE_THRESHOLD",
    "database_timeline",
    "failover_anatomy",
    "figure_bytes",
    "generation_vs_capacity",
    "queue_lengths",
    "skipped_plots",
    "write_plots",
]

# Copy queue below 10 logs (criteria sets 1, 2, 6, 7) and replay queue below 50 (sets 1 to 5):
# the lines drawn on queue plots are best copy selection's own thresholds.
COPY_QUEUE_THRESHOLD = domain.COPY_QUEUE_THRESHOLD
REPLAY_QUEUE_THRESHOLD = domain.REPLAY_QUEUE_THRESHOLD

PLOT_KINDS = ("timeline", "queues", "anatomy", "generation", "moves")
"""File stems :func:`write_plots` uses, one per plot kind."""

HOUR = 3600.0
_MBIT = 1e6 / 8  # bytes/s in one Mbit/s

# Colour-blind friendly (Okabe-Ito) and used consistently across charts.
_MOUNTED = "#009E73"
_DISMOUNTED = "#D55E00"
_PASSIVE = "#C8D7E6"
_SERVER_DOWN = "#555555"
_STORE_DOWN = "#999999"
_SUSPENDED = "#E69F00"
_DISCONNECTED = "#F0E442"
_COPY_FAILED = "#CC79A7"
_SEEDING = "#56B4E9"
_QUORUM_LOST = "#D55E00"
_LINK_DOWN = "#A6761D"
_FAILOVER = "#000000"
_SWITCHOVER = "#0072B2"

_PHASE_COLOURS = {
    "detection": "#0072B2",
    "waiting": "#DDDDDD",
    "selection": "#009E73",
    "dismount": "#999999",
    "last-log copy": "#D55E00",
    "replay": "#CC79A7",
    "mount": "#E69F00",
}
_CLIENT_COLOUR = "#56B4E9"

PROTOCOL_NAMES = {
    "outlook": "Outlook",
    "owa": "OWA",
    "eas": "ActiveSync",
    "ews": "EWS",
    "imap": "IMAP",
    "pop": "POP",
}


# ====================================================================== helpers
def _new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    figure = Figure(figsize=size, layout="constrained")
    return figure.add_subplot()


def _hours_axis(ax: Axes, duration: float) -> None:
    """Simulated time on the x axis in hours, with ticks a reader can count."""
    hours = duration / HOUR
    step = next((s for s in (1, 2, 3, 6, 12, 24, 48, 168) if hours / s <= 14), 720)
    ax.set_xlim(0, hours)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    if step < 24:
        ax.xaxis.set_minor_locator(MultipleLocator(step / 2 if step > 1 else 0.25))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _hour_label(x)))
    ax.set_xlabel("simulated time (hours from the start of the run)")


def _hour_label(hours: float) -> str:
    if hours >= 48 and abs(hours / 24 - round(hours / 24)) < 1e-9:
        return f"{hours / 24:g}d"
    return f"{hours:g}"


def _pick_database(result: RunResult, database: str | None, *, by: str) -> str:
    names = [d.name for d in result.scenario.databases]
    if database is not None:
        if database not in names:
            raise ValueError(
                f"no database {database!r} in scenario {result.scenario.name!r} (it has {', '.join(names)})"
            )
        return database
    if by == "failover":
        for record in result.failover_records:
            return record.database
        touched = Counter(e.database for e in result.event_records if e.database)
        return max(names, key=lambda n: (touched[n], -names.index(n)))
    # by == "queue": the longest copy queue, then the longest replay queue of a copy that is not lagged
    peaks = {n: (0.0, 0.0) for n in names}
    for stats in result.copy_records:
        replay = 0.0 if stats.replay_lag_time else stats.replay_queue_peak
        copy_peak, replay_peak = peaks[stats.database]
        peaks[stats.database] = (max(copy_peak, stats.copy_queue_peak), max(replay_peak, replay))
    return max(names, key=lambda n: (*peaks[n], -names.index(n)))


def _pick_failover(result: RunResult, record: FailoverRecord | str | int | None) -> FailoverRecord:
    records = result.failover_records
    if isinstance(record, FailoverRecord):
        return record
    if not records:
        raise ValueError(f"scenario {result.scenario.name!r} has no failover or switchover to draw")
    if record is None:
        mounted = [r for r in records if r.mounted is not None]
        return (mounted or list(records))[0]
    if isinstance(record, int):
        return records[record]
    matching = [r for r in records if r.database == record]
    if not matching:
        raise ValueError(f"no failover or switchover of {record!r} in this run")
    return matching[0]


def _copies_of(result: RunResult, database: str) -> list[tuple[str, int, float]]:
    """(server, activation preference, replay lag) of each copy, by activation preference."""
    spec = result.scenario.database(database)
    copies = [(c.server, c.activation_preference, c.replay_lag_time) for c in spec.copies]
    return sorted(copies, key=lambda c: c[1])


def _tab10() -> list[tuple[float, float, float]]:
    """Matplotlib's ten categorical colours, as RGB tuples."""
    return cast("list[tuple[float, float, float]]", cast(ListedColormap, matplotlib.colormaps["tab10"]).colors)


def _open_close(
    result: RunResult, opens: dict[str, str], closes: Iterable[str], key
) -> dict[object, list[tuple[float, float, str]]]:
    """Intervals between an opening and a closing event kind, per key(event)."""
    closes = set(closes)
    open_at: dict[object, tuple[float, str]] = {}
    found: dict[object, list[tuple[float, float, str]]] = {}
    for event in result.event_records:
        if event.kind not in opens and event.kind not in closes:
            continue
        for k in key(event):
            if event.kind in opens:
                open_at.setdefault(k, (event.time, opens[event.kind]))
            elif k in open_at:
                t0, label = open_at.pop(k)
                found.setdefault(k, []).append((t0, event.time, label))
    for k, (t0, label) in open_at.items():
        found.setdefault(k, []).append((t0, result.duration, label))
    return found


def _servers_of_site_event(result: RunResult, event) -> list[str]:
    return [s.name for s in result.scenario.servers if event.site and s.site == event.site]


def _server_down(result: RunResult) -> dict[object, list[tuple[float, float, str]]]:
    def key(event):
        if event.kind in ("server_failed", "server_restored"):
            return [event.server]
        return _servers_of_site_event(result, event)

    return _open_close(
        result,
        {"server_failed": "server down", "site_failed": "server down"},
        ("server_restored", "site_restored"),
        key,
    )


def _links_down(result: RunResult) -> list[tuple[float, float, str]]:
    """Intervals during which an inter-site link was down, labelled with the link's name."""
    links = {link.name: link for link in result.scenario.links}

    def key(event):
        return [name for name in event.links if name in links]

    found = _open_close(
        result,
        {"link_failed": "link down", "wan_partitioned": "link down"},
        ("link_restored", "wan_healed"),
        key,
    )
    return sorted((t0, t1, str(name)) for name, spans in found.items() for t0, t1, _ in spans)


def _witness_down(result: RunResult) -> list[tuple[float, float, str]]:
    witness = result.scenario.dag.witness

    def key(event):
        if event.kind in ("witness_failed", "witness_restored"):
            return ["witness"]
        return ["witness"] if witness is not None and event.site and event.site == witness.site else []

    found = _open_close(
        result,
        {"witness_failed": "witness down", "site_failed": "witness down"},
        ("witness_restored", "site_restored"),
        key,
    )
    return found.get("witness", [])


def _quorum_lost(result: RunResult) -> list[tuple[float, float, str]]:
    found = _open_close(result, {"quorum_lost": "quorum lost"}, ("quorum_regained",), lambda e: ["dag"])
    return found.get("dag", [])


# ------------------------------------------------------------------ log streams and links
def _hop_name(hop: LinkHop) -> str:
    return f"{hop.link} {hop.from_site}→{hop.to_site}"


def _hop_key(hop: LinkHop) -> tuple[str, bool]:
    """A link direction, the link's first-to-second direction first."""
    return hop.link, not hop.forward


# ====================================================================== timeline
def database_timeline(result: RunResult, database: str | None = None, ax: Axes | None = None) -> Axes:
    """Which copy of a database was active when, with outages, failures and failovers.

    One row per copy (activation preference order) and, when any of them failed, a bottom row
    for the DAG: quorum lost, file share witness down, inter-site links down.
    Bars: the active copy mounted (green) or dismounted (an outage, red); passive copies (pale
    blue) and, on top, server down, Information Store down, suspended, disconnected, failed,
    seeding. Failovers (black) and switchovers (blue) are vertical lines at the failure or
    switchover start, with an arrow from the old to the new active copy at the mount.

    ``database`` defaults to the first database that failed over (else the busiest one).
    """
    name = _pick_database(result, database, by="failover")
    copies = _copies_of(result, name)
    quorum = [(t0, t1) for t0, t1, _ in _quorum_lost(result)]
    witness = [(t0, t1) for t0, t1, _ in _witness_down(result)]
    link_spans = _links_down(result)
    n = len(copies)
    dag_rows = 1 if quorum or witness or link_spans else 0
    ax = _new_axes(ax, (11.5, 1.7 + 0.55 * (n + dag_rows)))
    hours = 1 / HOUR
    rows = {server: i for i, (server, _, _) in enumerate(copies)}
    dag_row = n  # the bottom row, when there is one
    height = 0.6
    # Seconds-long outages would vanish on a day-long axis: draw every bar at least this wide.
    shortest = result.duration / 250

    def bars(row: float, spans: list[tuple[float, float]], colour: str, label: str, *, h: float = height, **style):
        if not spans:
            return None
        artist = ax.broken_barh(
            [(t0 * hours, max(t1 - t0, shortest) * hours) for t0, t1 in spans],
            (row - h / 2, h),
            facecolors=colour,
            label=label,
            **style,
        )
        artist.set_gid(label)
        return artist

    legend: dict[str, object] = {}

    def remember(label: str, handle) -> None:
        legend.setdefault(label, handle)

    # Passive background for every copy, then the active spans on top.
    for row in rows.values():
        bars(row, [(0.0, result.duration)], _PASSIVE, "passive copy", h=height * 0.5)
    remember("passive copy", Patch(facecolor=_PASSIVE, label="passive copy"))
    spans = active_spans(result, name)

    # Copy and server states.
    def active_until(server: str, t0: float, t1: float) -> list[tuple[float, float]]:
        # A passive state ends when the copy becomes the active one.
        cut = [(max(t0, s.start), min(t1, s.end)) for s in spans if s.server != server]
        return [(a, b) for a, b in cut if b > a]

    down = _server_down(result)
    store = _open_close(
        result, {"store_crashed": "store down"}, ("store_restarted",), lambda e: [e.server] if e.server else []
    )

    def copy_key(e):
        return [e.server] if e.database == name and e.server else []

    states = [
        (
            _open_close(result, {"copy_disconnected": "x"}, ("copy_reconnected",), copy_key),
            _DISCONNECTED, "disconnected (no path to the active copy)", True,
        ),
        (
            _open_close(result, {"seeding_started": "x"}, ("seeding_completed",), copy_key),
            _SEEDING, "seeding", True,
        ),
        (
            _open_close(
                result,
                {"copy_suspended": "x", "copy_failed_and_suspended": "x"},
                ("copy_resumed", "seeding_completed"),
                copy_key,
            ),
            _SUSPENDED, "suspended", True,
        ),
        (
            _open_close(
                result,
                {"database_volume_failed": "x", "log_volume_failed": "x", "log_volume_full": "x"},
                ("database_volume_restored", "log_volume_restored"),
                copy_key,
            ),
            _COPY_FAILED, "volume failed or full", False,
        ),
        (store, _STORE_DOWN, "Information Store down", False),
        (down, _SERVER_DOWN, "server down", False),
    ]  # fmt: skip
    for found, colour, label, passive_only in states:
        drawn = False
        for server, row in rows.items():
            chunks = []
            for t0, t1, _ in found.get(server, []):
                chunks += active_until(server, t0, t1) if passive_only else [(t0, t1)]
            if chunks:
                hatch = "////" if label == "server down" else None
                bars(row, chunks, colour, label, h=height * (1.3 if label == "server down" else 0.5),
                     hatch=hatch, edgecolor="white" if hatch else None, linewidth=0)  # fmt: skip
                drawn = True
        if drawn:
            remember(label, Patch(facecolor=colour, label=label, hatch="////" if label == "server down" else None,
                                  edgecolor="white"))  # fmt: skip

    # The active copy on top, so an outage shows even on a failed server.
    for mounted, colour, label in (
        (True, _MOUNTED, "active, mounted"),
        (False, _DISMOUNTED, "active, dismounted (outage)"),
    ):
        per_row: dict[int, list[tuple[float, float]]] = {}
        for span in spans:
            if span.mounted == mounted and span.server in rows:
                per_row.setdefault(rows[span.server], []).append((span.start, span.end))
        for row, chunks in per_row.items():
            bars(row, chunks, colour, label)
        if per_row:
            remember(label, Patch(facecolor=colour, label=label))

    # The DAG row, in three lanes: quorum, witness, inter-site links.
    lane = height * 0.36
    if quorum:
        bars(
            dag_row - lane,
            quorum,
            _QUORUM_LOST,
            "quorum lost",
            h=lane * 0.9,
            hatch="xx",
            edgecolor="white",
            linewidth=0,
        )
        remember("quorum lost", Patch(facecolor=_QUORUM_LOST, hatch="xx", edgecolor="white", label="quorum lost"))
    if witness:
        bars(dag_row, witness, _SERVER_DOWN, "file share witness down", h=lane * 0.9, hatch="....", edgecolor="white",
             linewidth=0)  # fmt: skip
        remember(
            "witness", Patch(facecolor=_SERVER_DOWN, hatch="....", edgecolor="white", label="file share witness down")
        )
    if link_spans:
        bars(dag_row + lane, [(t0, t1) for t0, t1, _ in link_spans], _LINK_DOWN, "inter-site link down", h=lane * 0.9)
        remember("inter-site link down", Patch(facecolor=_LINK_DOWN, label="inter-site link down"))
        for t0, t1, link in link_spans:
            ax.text(max(t1, t0 + shortest) * hours, dag_row + lane, f" {link}", ha="left", va="center", fontsize=7)

    # Failovers and switchovers.
    for record in result.failover_records:
        if record.database != name:
            continue
        colour = _SWITCHOVER if record.kind == "switchover" else _FAILOVER
        line = ax.axvline(record.failure * hours, color=colour, linestyle=":", linewidth=1.2)
        line.set_gid(record.kind)
        remember(record.kind, Line2D([], [], color=colour, linestyle=":", label=f"{record.kind} (start)"))
        if record.mounted is not None and record.target in rows and record.source in rows:
            x = record.mounted * hours
            if record.target != record.source:
                ax.annotate(
                    "",
                    xy=(x, rows[record.target]),
                    xytext=(x, rows[record.source]),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.5},
                )
            took = format_duration(record.mounted - record.failure)
            lost = f", {record.logs_lost:,.0f} logs lost" if record.logs_lost else ""
            middle = (rows[record.target] + rows[record.source]) / 2
            ax.text(x, middle, f"  {record.kind}: {took}{lost}", fontsize=7.5, va="center", ha="left", color=colour,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})  # fmt: skip
        elif record.mounted is None:
            ax.text(record.failure * hours, rows.get(record.source, 0) - height * 0.55,
                    f" {record.kind}: {record.outcome}", fontsize=7.5, va="top", ha="left", color=colour)  # fmt: skip

    labels = [
        f"{server}  (pref {pref}{', lag ' + format_duration(lag) if lag else ''})" for server, pref, lag in copies
    ]
    ax.set_yticks(list(range(n + dag_rows)), labels + ["DAG: quorum, witness, links"][:dag_rows])
    ax.set_ylim(-0.7, n + dag_rows - 0.3)
    ax.invert_yaxis()
    _hours_axis(ax, result.duration)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    outage = sum(s.end - s.start for s in spans if not s.mounted)
    kinds = [r.kind for r in result.failover_records if r.database == name]
    moves = ", ".join(
        f"{kinds.count(kind)} {kind}{'s' if kinds.count(kind) > 1 else ''}"
        for kind in ("failover", "switchover", "remount")
        if kind in kinds
    )
    ax.set_title(
        f"{name} in {result.scenario.name}: {moves or 'no failover'}; "
        f"dismounted for {format_duration(outage)} in total",
        loc="left",
    )
    first = ["active, mounted", "active, dismounted (outage)", "passive copy"]
    ordered = [legend[k] for k in first if k in legend] + [v for k, v in legend.items() if k not in first]
    ax.legend(handles=ordered, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return ax


# ====================================================================== queues
def queue_lengths(
    result: RunResult, database: str | None = None, ax: Axes | Sequence[Axes] | None = None
) -> Figure | Axes:
    """Copy queue and replay queue of each passive copy of a database over time.

    Two panels sharing the time axis: copy queues with the 10-log threshold of best copy
    selection, replay queues with the 50-log threshold (a symmetric log scale once queues
    grow past a few hundred logs). A copy's line is blank while it is the active copy. On the
    copy queue panel a right-hand axis in logs/s shows the database's log generation and, for
    each copy fed across an inter-site link, that link's capacity in logs/s divided equally
    among the copies it carries (the nominal share, with every network up): the copy queue
    grows whenever generation is above the copy's share. Periods with an inter-site link down
    are shaded.

    ``database`` defaults to the database with the longest passive copy queue. With ``ax``
    None a new two-panel Figure is returned; with a pair of Axes they are drawn on and their
    Figure returned; with one Axes both queues share it (copy queue solid, replay queue
    dashed) and that Axes is returned.
    """
    name = _pick_database(result, database, by="queue")
    single = isinstance(ax, Axes)
    if ax is None:
        figure = Figure(figsize=(13, 7), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True)
    elif isinstance(ax, Axes):
        top = bottom = ax
        figure = cast(Figure, ax.figure)
    else:
        top, bottom = ax
        figure = cast(Figure, top.figure)
    hours = result.sample_times / HOUR
    spans = active_spans(result, name)
    colours = _tab10()
    copies = _copies_of(result, name)
    lines_copy, lines_replay = [], []
    for index, (server, pref, lag) in enumerate(copies):
        try:
            column = result.copy_names.index((name, server))
        except ValueError:
            continue
        active = np.zeros(len(result.sample_times), dtype=bool)
        for span in spans:
            if span.server == server:
                active |= (result.sample_times >= span.start) & (result.sample_times <= span.end)
        if active.all():
            continue  # always the active copy: it has no queues
        cq = np.where(active, np.nan, result.copy_queue_samples[:, column])
        rq = np.where(active, np.nan, result.replay_queue_samples[:, column])
        label = f"{name}\\{server} (pref {pref}{', lag ' + format_duration(lag) if lag else ''})"
        colour = colours[index % len(colours)]
        (line,) = top.plot(hours, cq, color=colour, linewidth=1.6, label=label if not single else f"{label} copy queue")
        line.set_gid(f"copy_queue:{server}")
        lines_copy.append(line)
        (line,) = bottom.plot(
            hours, rq, color=colour, linewidth=1.6, linestyle="--" if single else "-",
            label=label if not single else f"{label} replay queue",
        )  # fmt: skip
        line.set_gid(f"replay_queue:{server}")
        lines_replay.append(line)
        # Samples can miss a peak between them: mark the exact one (from the fluid segments).
        record = next(r for r in result.copy_records if (r.database, r.server) == (name, server))
        for axis, series, exact, kind, found in (
            (top, cq, record.copy_queue_peak, "copy", lines_copy),
            (bottom, rq, record.replay_queue_peak, "replay", lines_replay),
        ):
            sampled = np.nanmax(series) if np.isfinite(series).any() else 0.0
            if exact > sampled * 1.01 + 0.5:
                at = hours[int(np.nanargmax(series))] if np.isfinite(series).any() else 0.0
                (mark,) = axis.plot([at], [exact], marker="^", color=colour, linestyle="none",
                                    label=f"exact {kind} queue peak {exact:,.0f} (between samples)")  # fmt: skip
                mark.set_gid(f"exact_peak:{kind}:{server}")
                found.append(mark)

    threshold_copy = top.axhline(COPY_QUEUE_THRESHOLD, color="#B00020", linestyle="--", linewidth=1.1,
                                 label=f"{COPY_QUEUE_THRESHOLD} logs: copy queue limit of criteria sets 1, 2, 6, 7")  # fmt: skip
    threshold_copy.set_gid("threshold:10")
    threshold_replay = bottom.axhline(REPLAY_QUEUE_THRESHOLD, color="#7B1FA2", linestyle="--", linewidth=1.1,
                                      label=f"{REPLAY_QUEUE_THRESHOLD} logs: replay queue limit of criteria sets 1-5")  # fmt: skip
    threshold_replay.set_gid("threshold:50")

    panels = [(top, lines_copy, COPY_QUEUE_THRESHOLD), (bottom, lines_replay, REPLAY_QUEUE_THRESHOLD)]
    if single:
        panels = [(top, lines_copy + lines_replay, REPLAY_QUEUE_THRESHOLD)]
    for axis, lines, threshold in panels:
        peak = max([np.nanmax(line.get_ydata()) if np.isfinite(line.get_ydata()).any() else 0 for line in lines] + [0])
        if peak > 20 * threshold:
            axis.set_yscale("symlog", linthresh=1, linscale=0.4)
            axis.set_ylim(0, peak * 1.6)
        else:
            axis.set_ylim(0, max(peak, threshold) * 1.3)
        axis.grid(color="#e5e5e5", linewidth=0.6)
        for t0, t1, _link in _links_down(result):
            axis.axvspan(t0 / HOUR, t1 / HOUR, color=_LINK_DOWN, alpha=0.15, linewidth=0)
        for failover in result.failover_records:
            if failover.database == name:
                axis.axvline(failover.failure / HOUR, color=_SWITCHOVER if failover.kind == "switchover" else _FAILOVER,
                             linestyle=":", linewidth=1)  # fmt: skip
    top.set_ylabel("copy queue (logs)")
    bottom.set_ylabel("replay queue (logs)")
    if single:
        top.set_ylabel("queue length (logs)")

    # Right-hand axis: generation and each remote copy's share of its link, logs/s.
    rates = _capacity_shares(result, name)
    twin = top.twinx()
    twin.set_gid("rates")
    # Queues in front of the rates: the twin axes is drawn first, with no background.
    top.set_zorder(twin.get_zorder() + 1)
    top.patch.set_visible(False)
    gen = result.hourly_rates[[d.name for d in result.scenario.databases].index(name)]
    steps = np.arange(0, math.ceil(result.duration / HOUR) + 1)
    profile = gen[steps.astype(int) % 24]
    twin.step(steps, profile, where="post", color="#444444", linewidth=1.0, alpha=0.7,
              label=f"{name} log generation (logs/s, right axis)")  # fmt: skip
    top_rate = float(profile.max()) * 1.6 if profile.size else 1.0
    in_view = [share for *_, share in rates if share <= top_rate * 4]
    if in_view:
        top_rate = max(top_rate, max(in_view) * 1.25)
    extra = []
    for server, link_label, capacity, count, share in rates:
        colour = colours[[c[0] for c in copies].index(server) % len(colours)]
        text = f"{server}'s equal share of {link_label}:\n{capacity:,.2f} logs/s ÷ {count} copies = {share:,.2f} logs/s"
        if share > top_rate:
            # Far above the generation: a legend entry, not a line pinned to the top edge.
            extra.append(Line2D([], [], color=colour, marker="^", linestyle="none", label=text + " (above this scale)"))
            continue
        line = twin.axhline(share, color=colour, linestyle="-.", linewidth=1.2, label=text + " (right axis)")
        line.set_gid(f"capacity:{server}")
    twin.set_ylim(0, top_rate if top_rate > 0 else 1.0)  # a database with no mail of its own
    twin.set_ylabel("logs/s: generation, link share")

    _hours_axis(bottom, result.duration)
    if not single:
        top.set_xlabel("")
        top.tick_params(labelbottom=True)
    handles = top.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0] + extra
    for kind, marker_colour in (("failover", _FAILOVER), ("switchover", _SWITCHOVER), ("remount", _FAILOVER)):
        if any(r.database == name and r.kind == kind for r in result.failover_records):
            handles.append(Line2D([], [], color=marker_colour, linestyle=":", label=f"{name} {kind} (start)"))
    if _links_down(result):
        handles.append(Patch(facecolor=_LINK_DOWN, alpha=0.3, label="an inter-site link is down"))
    outside = {"loc": "upper left", "bbox_to_anchor": (1.07, 1.0), "fontsize": 7.5, "frameon": False}
    top.legend(handles=handles, **outside)
    if not single:
        bottom.legend(**{**outside, "bbox_to_anchor": (1.01, 1.0)})
        top.set_title(f"Copy and replay queues of {name}'s passive copies ({result.scenario.name})", loc="left")
        return figure
    top.set_title(f"Queues of {name}'s passive copies ({result.scenario.name})", loc="left")
    return top


def _capacity_shares(result: RunResult, database: str) -> list[tuple[str, str, float, int, float]]:
    """(server, link label, link capacity logs/s, copies sharing it, equal share logs/s) for each
    passive copy of ``database`` fed across an inter-site link (its tightest link)."""
    users: dict[tuple[str, bool], int] = {}
    for stream in result.log_streams:
        for hop in stream.links:
            users[_hop_key(hop)] = users.get(_hop_key(hop), 0) + 1
    found = []
    for stream in result.log_streams:
        if stream.database != database or not stream.links:
            continue
        shares = [(hop.capacity / stream.bytes_per_log / users[_hop_key(hop)], _hop_key(hop), hop) for hop in stream.links]
        share, key, hop = min(shares, key=lambda s: (s[0], s[1]))
        found.append((stream.server, _hop_name(hop), hop.capacity / stream.bytes_per_log, users[key], share))
    return found


# ====================================================================== anatomy
def _phases(record: FailoverRecord, dismount: float, selection: float = 0.0) -> list[tuple[str, float, float]]:
    """(phase, start, end) in seconds after the failure, for the phases that happened.

    Best copy selection itself takes ``selection`` seconds; anything longer between detection
    and the end of selection is a wait (for quorum, a Primary Active Manager, an acceptable copy
    or an operator), drawn as such rather than as a long selection.
    """
    t0 = record.failure
    marks: list[tuple[str, float | None, float | None]] = [("detection", record.failure, record.detected)]
    if record.detected is not None and record.selection_done is not None:
        wait_end = record.selection_done - selection
        if wait_end > record.detected + 1e-9:
            marks.append(("waiting", record.detected, wait_end))
            marks.append(("selection", wait_end, record.selection_done))
        else:
            marks.append(("selection", record.detected, record.selection_done))
    else:
        marks.append(("selection", record.detected, record.selection_done))
    if record.kind == "switchover" and record.selection_done is not None and record.last_logs_copied is not None:
        cut = min(record.selection_done + dismount, record.last_logs_copied)
        marks += [("dismount", record.selection_done, cut), ("last-log copy", cut, record.last_logs_copied)]
    else:
        marks.append(("last-log copy", record.selection_done, record.last_logs_copied))
    marks += [("replay", record.last_logs_copied, record.replay_done), ("mount", record.replay_done, record.mounted)]
    phases = []
    for phase, start, end in marks:
        if start is None or end is None:
            break
        phases.append((phase, start - t0, end - t0))
    return phases


def _time_unit(seconds: float) -> tuple[str, float]:
    if seconds <= 600:
        return "s", 1.0
    if seconds <= 4 * HOUR:
        return "min", 60.0
    return "h", HOUR


def failover_anatomy(
    result: RunResult, record: FailoverRecord | str | int | None = None, ax: Axes | None = None
) -> Axes:
    """One failover or switchover, phase by phase, as horizontal bars from the failure.

    Phases: detection, best copy selection (including any wait for quorum or the Primary
    Active Manager), for a switchover the source's dismount, attempt to copy the last logs,
    replay, mount. When the result carries client outage records (the client access layer),
    one more bar per protocol shows the client-perceived outage: a pale part while the
    database is not yet mounted, a strong part for re-routing after the mount up to the
    median client, a whisker from the fastest to the slowest client and a diamond at the 95th
    percentile.

    ``record`` is a FailoverRecord, a database name (its first failover), an index into
    ``result.failover_records``, or None for the first failover that mounted.
    """
    chosen = _pick_failover(result, record)
    dismount = result.scenario.active_manager.dismount_duration
    phases = _phases(chosen, dismount, result.scenario.active_manager.selection_duration)
    clients = [
        c
        for c in result.client_outage_records
        if c.database == chosen.database and math.isclose(c.start, chosen.failure, abs_tol=1e-6)
    ]
    order = {p: i for i, p in enumerate(PROTOCOL_NAMES)}
    clients.sort(key=lambda c: order.get(c.protocol, len(order)))
    rows = len(phases) + len(clients)
    own = ax is None
    ax = _new_axes(ax, (10, 1.4 + 0.45 * max(rows, 3)))
    mounted_at = None if chosen.mounted is None else chosen.mounted - chosen.failure
    ends = [end for _, _, end in phases] + [c.max for c in clients] + [mounted_at or 0.0]
    span = max(ends + [1.0])
    unit, scale = _time_unit(span)

    labels = []
    for y, (phase, start, end) in enumerate(phases):
        width = max(end - start, span / 400) if end > start else 0.0  # seconds-long phases stay visible
        bar = ax.barh(y, width / scale, left=start / scale, height=0.6,
                      color=_PHASE_COLOURS[phase], edgecolor="black", linewidth=0.5)  # fmt: skip
        bar.patches[0].set_gid(f"phase:{phase}")
        label = {
            "selection": "best copy selection",
            "last-log copy": "attempt copy last logs",
            "waiting": "waiting: quorum, PAM, a copy or an operator",
        }.get(phase, phase)
        labels.append(label)
        ax.text(end / scale, y, f"  {format_duration(end - start)}", va="center", ha="left", fontsize=8.5)
    for i, client in enumerate(clients):
        y = len(phases) + i
        recovered = client.median
        waited = min(mounted_at, recovered) if mounted_at is not None else recovered
        ax.barh(y, waited / scale, left=0, height=0.6, color=_CLIENT_COLOUR, alpha=0.35, linewidth=0)
        bar = ax.barh(y, (recovered - waited) / scale, left=waited / scale, height=0.6,
                      color=_CLIENT_COLOUR, edgecolor="black", linewidth=0.5)  # fmt: skip
        bar.patches[0].set_gid(f"client:{client.protocol}")
        ax.plot([client.min / scale, client.max / scale], [y, y], color="black", linewidth=1)
        ax.plot([client.min / scale] * 2 + [client.max / scale] * 2, [y - 0.15, y + 0.15, y - 0.15, y + 0.15],
                linestyle="none", marker="|", color="black", markersize=8)  # fmt: skip
        ax.plot(client.p95 / scale, y, marker="D", color="black", markersize=4.5)
        ax.text(client.max / scale, y,
                f"  median {format_duration(client.median)}, p95 {format_duration(client.p95)}, "
                f"{client.affected_mailboxes:,.0f} user{'' if round(client.affected_mailboxes) == 1 else 's'}", va="center", ha="left", fontsize=8)  # fmt: skip
        labels.append(f"{PROTOCOL_NAMES.get(client.protocol, client.protocol)} clients")
    if mounted_at is not None:
        line = ax.axvline(mounted_at / scale, color="black", linestyle="--", linewidth=1)
        line.set_gid("mounted")
        ax.text(mounted_at / scale, -0.6, f" mounted after {format_duration(mounted_at)}",
                ha="left", va="center", fontsize=8.5)  # fmt: skip
    ax.set_yticks(list(range(rows)), labels)
    ax.set_ylim(rows - 0.4, -1.0)
    ax.set_xlim(0, span / scale * (1.45 if clients else 1.2))
    ax.set_xlabel(f"time after the {'failure' if chosen.kind != 'switchover' else 'switchover began'} ({unit})")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    where = f"{chosen.source} → {chosen.target}" if chosen.target else f"from {chosen.source}"
    lost = f", {chosen.logs_lost:,.0f} logs lost" if chosen.logs_lost else ", no logs lost"
    title = (
        f"{chosen.kind.capitalize()} of {chosen.database} at {format_clock(chosen.failure)} ({chosen.cause}): {where}"
    )
    ax.set_title(f"{title}\n{chosen.outcome}{lost}", loc="left", fontsize=10)
    if clients:
        handles = [
            Patch(facecolor=_CLIENT_COLOUR, alpha=0.35, label="clients waiting for the mount"),
            Patch(facecolor=_CLIENT_COLOUR, edgecolor="black", label="client re-routing, up to the median client"),
            Line2D([], [], color="black", marker="|", label="fastest to slowest client"),
            Line2D([], [], color="black", marker="D", linestyle="none", markersize=4.5, label="95th percentile"),
        ]
        if own:
            ax.figure.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
        else:
            ax.legend(handles=handles, loc="lower right", fontsize=7.5)
    return ax


# ====================================================================== generation vs capacity
def generation_vs_capacity(result: RunResult, ax: Axes | None = None) -> Axes:
    """The hourly log generation profile against each inter-site link's capacity.

    For every hour of the day: bars of the logs/s each inter-site link must carry in each
    direction (every passive copy's stream, routed from its database's activation preference 1
    copy with every network up), a dashed line at each link's capacity in logs/s (after
    network compression), and the whole DAG's generation as a grey step line. The right axis
    gives the same rates in Mbit/s on the wire. A log scale is used when capacity dwarfs demand.
    """
    ax = _new_axes(ax, (11, 6))
    scenario = result.scenario
    rates = result.hourly_rates  # databases x 24, logs/s
    index = {d.name: i for i, d in enumerate(scenario.databases)}
    demand: dict[tuple[str, bool], np.ndarray] = {}
    per_log: dict[tuple[str, bool], float] = {}
    hop_of: dict[tuple[str, bool], LinkHop] = {}
    for stream in result.log_streams:
        for hop in stream.links:
            key = _hop_key(hop)
            demand[key] = demand.get(key, np.zeros(24)) + rates[index[stream.database]]
            per_log[key] = stream.bytes_per_log
            hop_of[key] = hop
    hours = np.arange(24)
    total = rates.sum(axis=0)
    edges = sorted(demand)
    colours = _tab10()
    width = 0.8 / max(len(edges), 1)
    link_colour: dict[str, tuple] = {}
    for edge in edges:
        link_colour.setdefault(hop_of[edge].link, colours[len(link_colour) % len(colours)])
    peak_demand = max([float(d.max()) for d in demand.values()] + [float(total.max()), 1e-9])
    capacities = {hop_of[e].link: hop_of[e].capacity / per_log[e] for e in edges}
    log_scale = bool(capacities) and max(capacities.values()) > 12 * peak_demand
    warnings: list[str] = []
    for i, edge in enumerate(edges):
        info = hop_of[edge]
        forward = info.forward
        label = _hop_name(info)
        container = ax.bar(
            hours + (i - (len(edges) - 1) / 2) * width,
            demand[edge],
            width=width * 0.95,
            color=link_colour[info.link],
            alpha=0.9 if forward else 0.55,
            hatch=None if forward else "//",
            edgecolor="white",
            linewidth=0.3,
            label=f"{label}: logs to ship (peak {demand[edge].max():,.2f} logs/s, "
            f"{demand[edge].max() / capacities[info.link]:.0%} of capacity)",
        )
        for patch in container.patches:
            patch.set_gid(f"demand:{label}")
        over = demand[edge] > capacities[info.link] * (1 + 1e-9)
        if over.any():
            warnings.append(f"{label} over capacity {_hour_ranges(over)}")
    for name, capacity in capacities.items():
        link = next(link for link in scenario.links if link.name == name)
        line = ax.axhline(capacity, color=link_colour[name], linestyle="--", linewidth=1.6,
                          label=f"{name} capacity: {capacity:,.2f} logs/s each way "
                                f"({link.bandwidth / _MBIT:,.0f} Mbit/s)")  # fmt: skip
        line.set_gid(f"capacity:{name}")
    ax.step(np.append(hours, 24) - 0.5, np.append(total, total[-1]), where="post", color="#444444",
            linewidth=1.2, label="log generation, all databases")  # fmt: skip
    if log_scale:
        floor = max(min(float(total[total > 0].min()) if (total > 0).any() else 1e-3, peak_demand) / 3, 1e-4)
        ax.set_yscale("log")
        ax.set_ylim(floor, max(capacities.values()) * 2.5)
        ax.set_ylabel("logs/s (1 MiB logs; log scale)")
    else:
        ax.set_ylim(0, max([peak_demand] + list(capacities.values())) * 1.3)
        ax.set_ylabel("logs/s (1 MiB logs)")
    if per_log:
        factor = next(iter(per_log.values())) * 8 / 1e6  # Mbit per log on the wire
        def to_wire(logs: Any) -> Any:
            return logs * factor

        def from_wire(mbit: Any) -> Any:
            return mbit / factor

        right = ax.secondary_yaxis("right", functions=(to_wire, from_wire))
        right.set_ylabel(f"Mbit/s on the wire ({factor:.2f} Mbit per compressed log)")
    ax.set_xticks(hours, [f"{h:02d}" for h in hours])
    ax.set_xlim(-0.6, 23.6)
    ax.set_xlabel("hour of the day")
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    if not edges:
        ax.text(0.5, 0.5, "no log stream crosses an inter-site link", transform=ax.transAxes, ha="center")
    for i, text in enumerate(warnings):
        ax.text(0.99, 0.97 - 0.06 * i, text, transform=ax.transAxes, ha="right", va="top", fontsize=8.5,
                color="#B00020", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})  # fmt: skip
    ax.set_title(f"Hourly log generation against inter-site link capacity ({scenario.name})", loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8, frameon=False, ncols=2)
    return ax


def _hour_ranges(flags: np.ndarray) -> str:
    """``'09-12 h, 13-16 h'`` for the hours whose flag is set."""
    ranges, start = [], None
    for hour, flag in enumerate(list(flags) + [False]):
        if flag and start is None:
            start = hour
        elif not flag and start is not None:
            ranges.append(f"{start:02d}-{hour:02d} h")
            start = None
    return ", ".join(ranges)


# ====================================================================== files
def figure_bytes(figure: Figure, fmt: str = "png", *, dpi: int = 120) -> bytes:
    """The figure rendered as PNG or SVG bytes (deterministic: no dates, fixed SVG ids)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "dagsim", "svg.fonttype": "path"}):
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def _moves(result: RunResult) -> Axes:
    from dagsim.mrs.plot import moves_in_flight

    return moves_in_flight(result)


def _figure_of(drawn) -> Figure:
    return drawn if isinstance(drawn, Figure) else drawn.figure


def skipped_plots(result: RunResult) -> dict[str, str]:
    """The plots :func:`write_plots` leaves out for ``result``, each with the reason."""
    skipped = {}
    if not result.failover_records:
        skipped["anatomy"] = "the run had no failover or switchover to dissect"
    if not result.move_records:
        skipped["moves"] = "the run had no mailbox moves (mrs.batches)"
    return skipped


def write_plots(
    result: RunResult, directory: str | Path, formats: Sequence[str] = ("png",), *, dpi: int = 120
) -> list[Path]:
    """Write one file per plot kind and format into ``directory`` (created if needed).

    Files: ``timeline.<fmt>``, ``queues.<fmt>`` and ``anatomy.<fmt>`` all of one database — the
    one of the first failover that mounted (the anatomy; only when the run had a failover or
    switchover), else the database with the longest copy queue —
    ``generation.<fmt>`` and ``moves.<fmt>`` (the first migration batch; only with mailbox moves). ``formats``: any of ``"png"``, ``"svg"``. Returns the paths written,
    in that order. Same result, same bytes.
    """
    formats = tuple(formats)
    unknown = [f for f in formats if f not in ("png", "svg")]
    if unknown:
        raise ValueError(f"unknown plot format(s) {', '.join(map(repr, unknown))}; use png or svg")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    # Every picture of one run shows the same database: the one the anatomy dissects when the run
    # had a failover, else the one with the longest copy queue.
    anatomy = None if "anatomy" in skipped_plots(result) else _pick_failover(result, None)
    name = anatomy.database if anatomy is not None else _pick_database(result, None, by="queue")
    drawings = [
        ("timeline", lambda: database_timeline(result, name)),
        ("queues", lambda: queue_lengths(result, name)),
        ("anatomy", None if anatomy is None else (lambda: failover_anatomy(result, anatomy))),
        ("generation", lambda: generation_vs_capacity(result)),
        ("moves", None if "moves" in skipped_plots(result) else (lambda: _moves(result))),
    ]
    written = []
    for stem, draw in drawings:
        if draw is None:
            continue
        figure = _figure_of(draw())
        for fmt in formats:
            path = out / f"{stem}.{fmt}"
            path.write_bytes(figure_bytes(figure, fmt, dpi=dpi))
            written.append(path)
    return written
