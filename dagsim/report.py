"""One self-contained HTML report of a run, to hand to a customer.

:func:`write_report` writes a single ``.html`` file: what ran, a summary, the failover table,
client outages (when the result has them), the plots of :mod:`dagsim.plots` embedded as
base64 images, the copy status table (``Get-MailboxDatabaseCopyStatus``) at chosen moments,
per-copy queue statistics, every event and the resolved scenario. It references nothing
outside itself (no scripts, stylesheets, fonts or images from a network), so it opens in any
browser from a file, offline. The same result writes the same bytes.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path

import pandas as pd

from dagsim import plots
from dagsim.config.units import format_duration
from dagsim.history import outage_seconds
from dagsim.output import OutputError
from dagsim.records import format_clock
from dagsim.results import RunResult
from dagsim.status import COPY_STATUS_COLUMNS, status_tables

__all__ = ["default_status_times", "render_report", "write_report"]

MAX_TIMELINES = 6
"""Database timelines embedded at most (the databases that failed over first)."""
MAX_ANATOMIES = 6
"""Failover anatomy charts embedded at most (the first failovers of the run)."""
MAX_EVENTS = 2000
"""Events listed at most (the first ones, in time order)."""

_GB = 1024**3

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --band: #f6f8fa; --bad: #b00020; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem 2rem 3rem; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { color: var(--muted); margin-top: 0; }
nav ol { columns: 2; padding-left: 1.2rem; }
nav a, a { color: #0969da; text-decoration: none; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .86rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
tr.lossy td { background: #fff8c5; }
tr.failed td { background: #ffebe9; }
table.facts th { width: 16rem; }
figure { margin: 1rem 0 1.8rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .88rem; margin-top: .3rem; }
details { margin: .5rem 0 1rem; }
summary { cursor: pointer; font-weight: 600; }
pre { background: var(--band); padding: .8rem; overflow-x: auto; font-size: .8rem; }
.note { color: var(--muted); font-size: .9rem; }
.scroll { overflow-x: auto; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); padding-top: .6rem; }
"""


# ====================================================================== public
def write_report(
    result: RunResult,
    path: str | Path,
    *,
    status_times: Iterable[float] | None = None,
    image_format: str = "png",
    status_tables: Mapping[float, pd.DataFrame] | None = None,
) -> Path:
    """Write the HTML report of ``result`` to ``path`` (parent folders are created).

    ``status_times``: simulated moments (seconds from the start) at which to show the copy
    status table; default :func:`default_status_times`. ``image_format``: ``"png"`` or
    ``"svg"`` for the embedded plots. Returns the path written.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{target} is a folder; give the report's file name, e.g. {target / 'report.html'}")
    html = render_report(result, status_times=status_times, image_format=image_format, status_tables=status_tables)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a reader never sees half a report.
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    return target


def default_status_times(result: RunResult) -> list[float]:
    """Moments worth a copy status table: just after the first failure, just after its mount,
    the sample time of the longest copy queue (10 logs or more), and the end of the run (at
    most four). :class:`dagsim.status_watch.StatusWatch` takes these tables during the run."""
    duration = result.duration
    times: list[float] = []
    records = [r for r in result.failover_records if r.mounted is not None] or list(result.failover_records)
    if records:
        first = records[0]
        times.append(first.failure + 1.0)
        if first.mounted is not None:
            times.append(first.mounted + 1.0)
    # An active copy's samples are zero, so this is the longest queue of the copies passive then.
    if result.copy_queue_samples.size:
        peaks = result.copy_queue_samples.max(axis=1)
        if peaks.max() >= plots.COPY_QUEUE_THRESHOLD:
            times.append(float(result.sample_times[int(peaks.argmax())]))
    times.append(duration)
    chosen: list[float] = []
    for t in sorted(min(max(t, 0.0), duration) for t in times):
        if all(abs(t - c) >= 1.0 for c in chosen):
            chosen.append(t)
    return chosen if len(chosen) <= 4 else chosen[:3] + chosen[-1:]


def render_report(
    result: RunResult,
    *,
    status_times: Iterable[float] | None = None,
    image_format: str = "png",
    status_tables: Mapping[float, pd.DataFrame] | None = None,
) -> str:
    """The report as an HTML string (what :func:`write_report` writes).

    Copy status tables come from the run's own observations (``simulate(observe_at=...)``,
    :attr:`RunResult.copy_status`) or ``status_tables``, by moment; the others are worked out
    from one extra simulation.
    """
    if image_format not in ("png", "svg"):
        raise ValueError(f"unknown image format {image_format!r}; use png or svg")
    times = default_status_times(result) if status_times is None else [float(t) for t in status_times]
    for t in times:
        if not (0.0 <= t <= result.duration) or math.isnan(t):
            raise ValueError(
                f"status time {format_clock(t) if math.isfinite(t) else t} lies outside the run "
                f"(0 to {format_clock(result.duration)})"
            )
    scenario = result.scenario
    sections = [("summary", "Summary", _summary(result))]
    if result.link_records:
        sections.append(("links", "Inter-site links", _links(result)))
    sections.append(("failovers", "Failovers and switchovers", _failovers(result)))
    clients = result.client_outage_records
    if clients:
        sections.append(("client-outages", "Client outage", _client_outages(clients)))
    sections += [
        ("plots", "Plots", _plots(result, image_format)),
        ("copy-status", "Copy status", _copy_status(result, sorted(times), status_tables)),
        ("copies", "Queues per copy", _copies(result)),
        ("events", "Events", _events(result)),
        ("scenario", "Scenario and provenance", _provenance(result)),
    ]
    toc = "".join(f'<li><a href="#{key}">{_e(title)}</a></li>' for key, title, _ in sections)
    body = "\n".join(
        f'<section id="{key}">\n<h2>{_e(title)}</h2>\n{content}\n</section>' for key, title, content in sections
    )
    version = result.versions.get("dagsim", "")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="dagsim {_e(version)}">\n'
        f"<title>dagsim report: {_e(scenario.name)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{_e(scenario.name)}</h1>\n"
        f'<p class="lead">{_e(scenario.description) or "A dagsim run."}</p>\n'
        f'<p class="note">{_e(result.mode)} mode, seed {result.seed}, {_e(format_duration(result.duration))} simulated; '
        f"dagsim {_e(version)}.</p>\n</header>\n"
        f"<nav><ol>{toc}</ol></nav>\n{body}\n"
        f"<footer>Written by dagsim {_e(version)}. Times are simulated time from the start of the run "
        "(<code>0d 10:00:00</code> is 10 o'clock on the first day); queues are in 1 MiB transaction logs. "
        "This file is self-contained and needs no network.</footer>\n"
        "</body>\n</html>\n"
    )


# ====================================================================== sections
def _summary(result: RunResult) -> str:
    scenario = result.scenario
    records = result.failover_records
    mounted = [r for r in records if r.mounted is not None]
    lossy = [r for r in mounted if r.logs_lost > 0]
    passive = [c for c, active in zip(result.copy_records, result.active_copies, strict=True) if not active]
    peak = max(passive, key=lambda c: c.copy_queue_peak, default=None)
    replay = max(passive, key=lambda c: c.replay_queue_peak, default=None)
    outages = {d.name: outage_seconds(result, d.name) for d in scenario.databases}
    down = {name: seconds for name, seconds in outages.items() if seconds > 0}
    links = ", ".join(
        f"{link.name} {link.sites[0]}–{link.sites[1]} {link.bandwidth * 8 / 1e6:,.0f} Mbit/s" for link in scenario.links
    )
    facts = [
        ("Sites", ", ".join(s.name for s in scenario.sites)),
        ("Mailbox servers", f"{len(scenario.servers)} ({', '.join(s.name for s in scenario.servers)})"),
        ("Databases / copies", f"{len(scenario.databases)} / {sum(len(d.copies) for d in scenario.databases)}"),
        ("Inter-site links", links or "none"),
        ("Logs generated", f"{sum(d.logs_generated for d in result.database_records):,.0f} (1 MiB each)"),
        ("Events", f"{len(result.event_records):,}"),
        (
            "Failovers and switchovers",
            f"{len(records)} ({len(mounted)} mounted, {len(records) - len(mounted)} not; {len(lossy)} lossy)",
        ),
        ("Logs lost in failovers", f"{sum(r.logs_lost for r in records):,.0f}"),
        (
            "Messages lost / redelivered by Safety Net",
            f"{sum(r.messages_lost for r in records):,.0f} / {sum(r.messages_redelivered for r in records):,.0f}",
        ),
        (
            "Databases dismounted",
            ", ".join(f"{name} {format_duration(seconds)}" for name, seconds in down.items()) or "none",
        ),
    ]
    if peak is not None:
        above = format_duration(peak.time_copy_queue_above_10)
        text = f"{peak.copy_queue_peak:,.0f} logs ({peak.database}\\{peak.server}); above 10 logs for {above}"
        facts.append(("Longest copy queue", text))
    if replay is not None:
        above = format_duration(replay.time_replay_queue_above_50)
        text = f"{replay.replay_queue_peak:,.0f} logs ({replay.database}\\{replay.server}); above 50 logs for {above}"
        facts.append(("Longest replay queue", text))
    clients = result.client_outage_records
    if clients:
        minutes = sum(getattr(c, "user_minutes", 0.0) for c in clients)
        facts.append(("Client outage", f"{minutes:,.0f} user-minutes over {len(clients)} database × protocol outages"))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    return f'<table class="facts">{rows}</table>'


def _links(result: RunResult) -> str:
    from dagsim.verdicts import link_verdicts

    items = "".join(f"<li>{_e(line)}</li>" for line in link_verdicts(result))
    return (
        '<p class="note">Peak log-shipping demand on each direction of each link (what the copies '
        "behind it generate, after network compression) against its bandwidth.</p>"
        f"<ul>{items}</ul>"
    )


_FAILOVER_COLUMNS = (
    "Time", "Database", "Kind", "Cause", "From", "To", "Outcome", "Detected", "Selected", "Last logs",
    "Replayed", "Mounted", "Outage", "Logs lost", "Messages lost", "Redelivered",
)  # fmt: skip


def _failovers(result: RunResult) -> str:
    records = result.failover_records
    if not records:
        return '<p class="note">No failover or switchover happened in this run.</p>' + _table(
            _FAILOVER_COLUMNS, [], table_id="failover-table"
        )
    rows, classes = [], []
    for r in records:

        def after(value: float | None, start: float = r.failure) -> str:
            return "–" if value is None else f"+{value - start:,.1f} s"

        rows.append(
            [
                format_clock(r.failure), r.database, r.kind, r.cause, r.source, r.target or "–", r.outcome,
                after(r.detected), after(r.selection_done), after(r.last_logs_copied), after(r.replay_done),
                after(r.mounted), "–" if r.outage is None else format_duration(r.outage),
                f"{r.logs_lost:,.0f}", f"{r.messages_lost:,.0f}", f"{r.messages_redelivered:,.0f}",
            ]
        )  # fmt: skip
        classes.append("failed" if r.mounted is None else ("lossy" if r.logs_lost > 0 else ""))
    note = (
        '<p class="note">Phase columns are seconds after the failure (or the switchover’s start). '
        "Yellow rows lost logs; red rows did not mount.</p>"
    )
    return note + _table(_FAILOVER_COLUMNS, rows, table_id="failover-table", row_classes=classes, numeric_from=7)


def _client_outages(records: Sequence) -> str:
    names = [f.name for f in fields(records[0])] if is_dataclass(records[0]) else list(vars(records[0]))
    rows = []
    for record in records:
        values = asdict(record) if is_dataclass(record) and not isinstance(record, type) else dict(vars(record))
        row = []
        for name in names:
            value = values[name]
            if name == "start":
                row.append(format_clock(value))
            elif name == "protocol":
                row.append(plots.PROTOCOL_NAMES.get(value, value))
            elif name in ("min", "median", "p95", "max", "mean") and isinstance(value, (int, float)):
                row.append(format_duration(value))
            elif name == "affected_mailboxes" and isinstance(value, (int, float)):
                row.append(f"{value:,.0f}")  # a count of mailboxes (a share of a database) reads as whole ones
            elif isinstance(value, float):
                row.append(f"{value:,.1f}")
            else:
                row.append(str(value))
        rows.append(row)
    header = [n.replace("_", " ") for n in names]
    totals: dict[str, list[float]] = {}
    for record in records:
        values = asdict(record) if is_dataclass(record) and not isinstance(record, type) else dict(vars(record))
        entry = totals.setdefault(values["protocol"], [0.0, 0.0, 0])
        entry[0] += values["user_minutes"]
        entry[1] = max(entry[1], values["max"])
        entry[2] += 1
    per_protocol = [
        [plots.PROTOCOL_NAMES.get(name, name), f"{minutes:,.1f}", format_duration(longest), str(count)]
        for name, (minutes, longest, count) in sorted(totals.items(), key=lambda item: -item[1][0])
    ]
    per_protocol.append(["all protocols", f"{sum(t[0] for t in totals.values()):,.1f}",
                         format_duration(max((t[1] for t in totals.values()), default=0.0)), str(len(records))])  # fmt: skip
    return (
        '<p class="note">User-minutes of outage per protocol over the run, the longest any client waited, '
        "and the database × interruption outages behind them.</p>"
        + _table(["protocol", "user-minutes", "longest", "outages"], per_protocol, table_id="client-outage-totals")
        + '<p class="note">Client-perceived outage per database and protocol: from the interruption until a '
        "client’s request succeeds again (min, median, 95th percentile, max over the clients that noticed).</p>"
        + _table(header, rows, table_id="client-outage-table")
    )


def _plots(result: RunResult, fmt: str) -> str:
    figures: list[tuple[str, object, str]] = []
    figures.append(
        (
            "Hourly log generation against inter-site link capacity",
            plots.generation_vs_capacity(result),
            (
                "Bars: logs per second each inter-site link must carry per direction, hour by hour; dashed: the "
                "link's capacity in logs/s after network compression; grey: generation of every database."
            ),
        )
    )
    moved: list[str | None] = list(dict.fromkeys(r.database for r in result.failover_records))
    for name in (moved or [None])[:MAX_TIMELINES]:
        ax = plots.database_timeline(result, name)
        figures.append(
            (
                f"Timeline of {name or 'the busiest database'}",
                ax,
                (
                    "Which copy was active when (green mounted, red dismounted), with servers, copies, quorum, "
                    "witness and links that failed; dotted lines mark failovers and switchovers."
                ),
            )
        )
    figures.append(
        (
            "Copy and replay queues",
            plots.queue_lengths(result),
            (
                "Copy and replay queue of each passive copy of the database with the longest copy queue, with the "
                "10- and 50-log thresholds of best copy selection and, on the right, generation and link share "
                "in logs/s."
            ),
        )
    )
    # Failovers whose phases took the same times (one server's databases, say) would draw the
    # same chart again and again: one chart per distinct shape, naming every database in it.
    dismount = result.scenario.active_manager.dismount_duration
    selection = result.scenario.active_manager.selection_duration
    groups: dict[tuple, list[int]] = {}
    for index, record in enumerate(result.failover_records):
        shape = tuple((phase, round(start, 1), round(end, 1)) for phase, start, end in plots._phases(record, dismount, selection))
        groups.setdefault((record.kind, record.cause, record.outcome, round(record.failure, 1), shape), []).append(index)
    for members in list(groups.values())[:MAX_ANATOMIES]:
        record = result.failover_records[members[0]]
        names = ", ".join(result.failover_records[i].database for i in members)
        same = f" (the same phases for {len(members)} databases)" if len(members) > 1 else ""
        figures.append(
            (
                f"Anatomy of the {record.kind} of {names} at {format_clock(record.failure)}{same}",
                plots.failover_anatomy(result, members[0]),
                (
                    "Each phase of the failover as a bar from the failure; client re-routing per protocol "
                    "when the run models client access."
                ),
            )
        )
    mime = {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    parts = []
    for title, drawn, caption in figures:
        figure = plots._figure_of(drawn)
        data = base64.b64encode(plots.figure_bytes(figure, fmt)).decode("ascii")
        parts.append(
            f"<figure>\n<h3>{_e(title)}</h3>\n"
            f'<img alt="{_e(title)}" src="data:{mime};base64,{data}">\n'
            f"<figcaption>{_e(caption)}</figcaption>\n</figure>"
        )
    if len(groups) > MAX_ANATOMIES:
        parts.append(
            f'<p class="note">The first {MAX_ANATOMIES} of {len(groups)} distinct failover anatomies are drawn.</p>'
        )
    return "\n".join(parts)




def _copy_status(result: RunResult, times: Sequence[float], tables: Mapping[float, pd.DataFrame] | None = None) -> str:
    if not times:
        return '<p class="note">No moments were chosen.</p>'
    parts = [
        (
            '<p class="note">As <code>Get-MailboxDatabaseCopyStatus</code> would show it at each moment; '
            "queue lengths in whole logs.</p>"
        )
    ]
    known = {**result.copy_status, **(tables or {})}
    missing = [t for t in times if t not in known]
    tables = {**known, **(status_tables(result, missing) if missing else {})}
    for t in times:
        table: pd.DataFrame = tables[t]
        rows = [[_cell(v) for v in row] for row in table.itertuples(index=False)]
        classes = ["failed" if s in ("Dismounted", "Failed", "FailedAndSuspended", "ServiceDown") else ""
                   for s in table["Status"]]  # fmt: skip
        parts.append(f"<h3>At {_e(format_clock(t))}</h3>")
        parts.append(_table(COPY_STATUS_COLUMNS, rows, row_classes=classes, numeric_columns={2, 3},
                            table_class="copy-status"))  # fmt: skip
    return "\n".join(parts)


def _copies(result: RunResult) -> str:
    header = (
        "Copy", "Pref", "Lag", "CQ peak", "CQ mean", "CQ > 10", "RQ peak", "RQ mean", "RQ > 50", "Log volume peak",
    )  # fmt: skip
    rows = []
    for record, active in zip(result.copy_records, result.active_copies, strict=True):
        if active:
            continue
        rows.append(
            [
                f"{record.database}\\{record.server}", str(record.activation_preference),
                format_duration(record.replay_lag_time) if record.replay_lag_time else "",
                f"{record.copy_queue_peak:,.0f}", f"{record.copy_queue_mean:,.1f}",
                format_duration(record.time_copy_queue_above_10),
                f"{record.replay_queue_peak:,.0f}", f"{record.replay_queue_mean:,.1f}",
                format_duration(record.time_replay_queue_above_50), f"{record.log_volume_peak / _GB:,.2f} GB",
            ]
        )  # fmt: skip
    note = (
        '<p class="note">Passive copies at the end of the run (queues in logs; CQ copy queue, RQ replay queue; '
        "time above the thresholds of best copy selection).</p>"
    )
    return note + _table(header, rows, numeric_from=3, table_id="copies-table")


def _events(result: RunResult) -> str:
    events = result.event_records
    rows = [[format_clock(e.time), e.kind, e.database, e.server, e.detail] for e in events[:MAX_EVENTS]]
    more = f" (the first {MAX_EVENTS})" if len(events) > MAX_EVENTS else ""
    return (
        f"<details><summary>{len(events):,} events{more}</summary>\n"
        + _table(("Time", "Kind", "Database", "Server", "Detail"), rows, table_id="events-table")
        + "</details>"
    )


def _provenance(result: RunResult) -> str:
    versions = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in result.versions.items())
    scenario = json.dumps(result.scenario.model_dump(mode="json"), indent=2)
    return (
        f'<table class="facts"><tr><th>seed</th><td>{result.seed}</td></tr>'
        f"<tr><th>mode</th><td>{_e(result.mode)}</td></tr>"
        f"<tr><th>duration</th><td>{_e(format_duration(result.duration))}</td></tr>{versions}</table>\n"
        f"<details><summary>Resolved scenario (JSON)</summary><pre>{_e(scenario)}</pre></details>"
    )


# ====================================================================== HTML helpers
def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    table_id: str | None = None,
    table_class: str | None = None,
    row_classes: Sequence[str] | None = None,
    numeric_from: int | None = None,
    numeric_columns: set[int] | None = None,
) -> str:
    numeric = set(numeric_columns or ())
    if numeric_from is not None:
        numeric |= set(range(numeric_from, len(header)))
    attributes = (f' id="{_e(table_id)}"' if table_id else "") + (f' class="{_e(table_class)}"' if table_class else "")
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in header)
    lines = []
    for i, row in enumerate(rows):
        css = row_classes[i] if row_classes else ""
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if j in numeric else f"<td>{_e(v)}</td>" for j, v in enumerate(row)
        )
        lines.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table{attributes}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(lines)
        + "\n</tbody>\n</table></div>"
    )
