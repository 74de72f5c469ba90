"""Plots: each function draws the expected artists for a known scenario, without pyplot."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from helpers import two_site_scenario
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import dagsim
from dagsim import ClientOutageRecord, plots
from dagsim.history import active_spans
from dagsim.model.workload import Workload

matplotlib.use("Agg")  # no display needed; the library never uses pyplot

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
MiB = 1024**2


@pytest.fixture(scope="module")
def server_failure():
    return dagsim.simulate(SCENARIOS / "server-failure.yaml")


@pytest.fixture(scope="module")
def thin_wan():
    return dagsim.simulate(SCENARIOS / "thin-wan.yaml")


@pytest.fixture(scope="module")
def quickstart():
    return dagsim.simulate(SCENARIOS / "quickstart.yaml")


@pytest.fixture(scope="module")
def site_failure():
    return dagsim.simulate(SCENARIOS / "site-failure-dac.yaml")


@pytest.fixture(scope="module")
def switchover():
    timeline = [{"at": "1h", "action": "switchover_database", "database": "DB1", "target": "MBX-B"}]
    return dagsim.simulate(two_site_scenario(timeline=timeline, duration="3h", link_logs_per_second=1.0))


def _gids(ax: Axes) -> list[str]:
    return [a.get_gid() for a in ax.findobj() if a.get_gid()]


def _patches(ax: Axes, prefix: str) -> dict[str, object]:
    return {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith(prefix)}


# ---------------------------------------------------------------- timeline
def test_timeline_shows_active_copies_outage_and_failover(server_failure):
    """DB01 is mounted on RED-MBX1, dismounted for 26 s, then mounted on RED-MBX2; RED-MBX1 is down 10-12 h."""
    ax = plots.database_timeline(server_failure, "DB01")
    assert isinstance(ax, Axes) and isinstance(ax.figure, Figure)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["RED-MBX1  (pref 1)", "RED-MBX2  (pref 2)", "DUB-MBX1  (pref 3)"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    for expected in (
        "active, mounted",
        "active, dismounted (outage)",
        "passive copy",
        "server down",
        "failover (start)",
    ):
        assert expected in legend
    failovers = [line for line in ax.get_lines() if line.get_gid() == "failover"]
    assert len(failovers) == 1 and failovers[0].get_xdata()[0] == pytest.approx(10.0)
    mounted = [c for c in ax.collections if c.get_gid() == "active, mounted"]
    assert len(mounted) == 2  # a bar on RED-MBX1's row, then one on RED-MBX2's
    assert "26s" in ax.get_title(loc="left")
    assert ax.get_xlim() == pytest.approx((0, 24))


def test_active_spans_follow_the_failover(server_failure):
    """The timeline shows each copy active exactly while it held the database, switching at the failover."""
    spans = active_spans(server_failure, "DB01")
    assert [(s.server, s.mounted) for s in spans] == [("RED-MBX1", True), ("RED-MBX1", False), ("RED-MBX2", True)]
    assert spans[1].start == pytest.approx(36000) and spans[1].end == pytest.approx(36026)
    assert spans[-1].end == server_failure.duration


def test_timeline_dag_row_shows_quorum_witness_and_links(site_failure):
    """The DAG row of the timeline marks quorum loss, the witness down and links down."""
    ax = plots.database_timeline(site_failure, "DB1")
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "DAG: quorum, witness, links"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"quorum lost", "file share witness down", "inter-site link down"} <= set(legend)


def test_timeline_switchover_is_marked_and_dismounts(switchover):
    """A switchover is marked on the timeline with its short dismount."""
    ax = plots.database_timeline(switchover, "DB1")
    assert [line.get_gid() for line in ax.get_lines()].count("switchover") == 1
    spans = active_spans(switchover, "DB1")
    assert [s.server for s in spans if s.mounted] == ["MBX-A", "MBX-B"]
    assert any(not s.mounted for s in spans)


def test_timeline_draws_into_a_given_axes(thin_wan):
    """database_timeline draws into the Axes it is given and returns it."""
    figure = Figure()
    ax = figure.add_subplot()
    assert plots.database_timeline(thin_wan, ax=ax) is ax


def test_unknown_database_is_an_error(thin_wan):
    """Asking a plot for a database the scenario lacks raises a clear ValueError."""
    with pytest.raises(ValueError, match="no database 'DB9'"):
        plots.database_timeline(thin_wan, "DB9")
    with pytest.raises(ValueError, match="no database 'DB9'"):
        plots.queue_lengths(thin_wan, "DB9")


# ---------------------------------------------------------------- queues
def test_queue_lengths_one_line_per_passive_copy_and_thresholds(thin_wan):
    """queue_lengths draws one line per passive copy and the 10 / 50 log thresholds."""
    figure = plots.queue_lengths(thin_wan, "DB1")
    assert isinstance(figure, Figure)
    top, bottom, _twin = figure.axes
    copy_lines = sorted(line.get_gid() for line in top.get_lines() if (line.get_gid() or "").startswith("copy_queue:"))
    replay_lines = sorted(
        line.get_gid() for line in bottom.get_lines() if (line.get_gid() or "").startswith("replay_queue:")
    )
    assert copy_lines == ["copy_queue:DR-MBX1", "copy_queue:HQ-MBX2"]
    assert replay_lines == ["replay_queue:DR-MBX1", "replay_queue:HQ-MBX2"]
    (ten,) = [line for line in top.get_lines() if line.get_gid() == "threshold:10"]
    (fifty,) = [line for line in bottom.get_lines() if line.get_gid() == "threshold:50"]
    assert list(ten.get_ydata()) == [10, 10] and list(fifty.get_ydata()) == [50, 50]
    # The line is the sampled copy queue: about 2,540 logs at the 16:00 peak.
    dr = next(line for line in top.get_lines() if line.get_gid() == "copy_queue:DR-MBX1")
    assert np.nanmax(dr.get_ydata()) == pytest.approx(2540, rel=0.01)


def test_queue_lengths_draws_link_capacity_in_logs_per_second(thin_wan):
    """DR-MBX1's share of the 20 Mbit/s link: 20e6/8 bytes/s / (0.7 MiB per log) / 4 copies."""
    figure = plots.queue_lengths(thin_wan, "DB1")
    twin = next(ax for ax in figure.axes if ax.get_gid() == "rates")
    (share,) = [line for line in twin.get_lines() if line.get_gid() == "capacity:DR-MBX1"]
    assert share.get_ydata()[0] == pytest.approx(20e6 / 8 / (0.7 * MiB) / 4)
    assert "logs/s" in twin.get_ylabel()
    generation = [line for line in twin.get_lines() if "log generation" in (line.get_label() or "")]
    assert len(generation) == 1


def test_queue_lengths_blanks_a_copy_while_it_is_active(server_failure):
    """After the failover RED-MBX2 holds DB01's active copy: its queue line stops at 10:00."""
    figure = plots.queue_lengths(server_failure, "DB01")
    top = figure.axes[0]
    line = next(line for line in top.get_lines() if line.get_gid() == "copy_queue:RED-MBX2")
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), dtype=float)
    assert np.isfinite(y[x < 9.9]).all() and np.isnan(y[x > 10.1]).all()


def test_queue_lengths_on_one_axes(quickstart):
    """Given one Axes, queue_lengths draws both queues on it and returns it."""
    figure = Figure()
    ax = figure.add_subplot()
    assert plots.queue_lengths(quickstart, "DB05", ax=ax) is ax
    gids = [line.get_gid() for line in ax.get_lines()]
    assert {"threshold:10", "threshold:50", "copy_queue:DUB-MBX2", "replay_queue:DUB-MBX2"} <= set(gids)


# ---------------------------------------------------------------- anatomy
PHASES = ["phase:detection", "phase:selection", "phase:last-log copy", "phase:replay", "phase:mount"]


def test_anatomy_one_bar_per_phase_summing_to_the_outage(server_failure):
    """5 s detection + 1 s selection + 10 s ACLL timeout + 0 s replay + 10 s mount = 26 s."""
    record = next(r for r in server_failure.failover_records if r.database == "DB01")
    ax = plots.failover_anatomy(server_failure, record)
    bars = _patches(ax, "phase:")
    assert list(bars) == PHASES
    widths = {gid: bar.get_width() for gid, bar in bars.items()}
    assert widths == pytest.approx({gid: w for gid, w in zip(PHASES, [5, 1, 10, 0, 10], strict=True)})
    # Consecutive: each phase starts where the previous one ended.
    ends = [bar.get_x() + bar.get_width() for bar in bars.values()]
    starts = [bar.get_x() for bar in bars.values()]
    assert starts[1:] == pytest.approx(ends[:-1])
    assert ends[-1] == pytest.approx(record.outage)
    assert "time after the failure (s)" == ax.get_xlabel()
    (mounted,) = [line for line in ax.get_lines() if line.get_gid() == "mounted"]
    assert mounted.get_xdata()[0] == pytest.approx(26)


def test_anatomy_accepts_a_database_name_or_index(server_failure):
    """failover_anatomy picks a failover by record, database name or index alike."""
    by_name = plots.failover_anatomy(server_failure, "DB05")
    assert "DB05" in by_name.get_title(loc="left")
    by_index = plots.failover_anatomy(server_failure, 0)
    assert server_failure.failover_records[0].database in by_index.get_title(loc="left")


def test_anatomy_of_a_switchover_has_a_dismount_phase(switchover):
    """The anatomy of a switchover has a dismount phase of the configured length."""
    ax = plots.failover_anatomy(switchover)
    bars = _patches(ax, "phase:")
    assert list(bars) == ["phase:detection", "phase:selection", "phase:dismount", "phase:last-log copy",
                          "phase:replay", "phase:mount"]  # fmt: skip
    assert bars["phase:dismount"].get_width() == pytest.approx(switchover.scenario.active_manager.dismount_duration)
    assert "switchover began" in ax.get_xlabel()


def test_anatomy_draws_client_rerouting_per_protocol(server_failure):
    """The anatomy chart draws one client re-routing bar per protocol of the failover's database."""
    record = next(r for r in server_failure.failover_records if r.database == "DB01")
    clients = [
        ClientOutageRecord("DB01", "outlook", "server failure", record.failure, 27, 40, 55, 58, 41, 550, 375),
        ClientOutageRecord("DB01", "owa", "server failure", record.failure, 26, 30, 32, 33, 30, 150, 75),
        ClientOutageRecord("DB01", "pop", "server failure", record.failure, 30, 300, 310, 320, 250, 10, 41),
        # Another database and another moment: not this failover's clients.
        ClientOutageRecord("DB05", "owa", "server failure", record.failure, 26, 30, 32, 33, 30, 150, 75),
        ClientOutageRecord("DB01", "owa", "CAS failure", record.failure + 3600, 20, 21, 22, 23, 21, 150, 50),
    ]
    ax = plots.failover_anatomy(dataclasses.replace(server_failure, client_outage_records=tuple(clients)), record)
    assert list(_patches(ax, "phase:")) == PHASES
    bars = _patches(ax, "client:")
    assert list(bars) == ["client:outlook", "client:owa", "client:pop"]
    # Re-routing: from the mount (26 s) to the median client.
    assert bars["client:outlook"].get_x() == pytest.approx(26)
    assert bars["client:outlook"].get_x() + bars["client:outlook"].get_width() == pytest.approx(40)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-3:] == ["Outlook clients", "OWA clients", "POP clients"]


def test_anatomy_without_failover_is_an_error(thin_wan):
    """failover_anatomy on a run without failovers raises a clear ValueError."""
    with pytest.raises(ValueError, match="no failover"):
        plots.failover_anatomy(thin_wan)


# ---------------------------------------------------------------- generation vs capacity
def test_generation_vs_capacity_thin_wan(thin_wan):
    """One direction of one link: 24 hourly bars against 3.41 logs/s, over capacity 09-12 and 13-16 h."""
    ax = plots.generation_vs_capacity(thin_wan)
    bars = [p for p in ax.patches if (p.get_gid() or "").startswith("demand:")]
    assert len(bars) == 24 and {p.get_gid() for p in bars} == {"demand:WAN-HQ-DR HQ→DR"}
    expected = Workload(thin_wan.scenario).hourly_rates().sum(axis=0)  # one DR copy per database
    assert [p.get_height() for p in bars] == pytest.approx(list(expected))
    (capacity,) = [line for line in ax.get_lines() if line.get_gid() == "capacity:WAN-HQ-DR"]
    assert capacity.get_ydata()[0] == pytest.approx(20e6 / 8 / (0.7 * MiB))
    texts = [t.get_text() for t in ax.texts]
    assert "WAN-HQ-DR HQ→DR over capacity 09-12 h, 13-16 h" in texts
    assert ax.get_yscale() == "linear" and "logs/s" in ax.get_ylabel()


def test_generation_vs_capacity_both_directions_on_a_log_scale(quickstart):
    """generation_vs_capacity shows the demand of both directions of a link against its capacity."""
    ax = plots.generation_vs_capacity(quickstart)
    gids = {p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith("demand:")}
    assert gids == {"demand:WAN-RED-DUB Redmond→Dublin", "demand:WAN-RED-DUB Dublin→Redmond"}
    assert len([p for p in ax.patches if (p.get_gid() or "").startswith("demand:")]) == 48
    assert ax.get_yscale() == "log"  # 1 Gbit/s dwarfs a peak of 3.3 logs/s
    assert not [t for t in ax.texts if "over capacity" in t.get_text()]


# ---------------------------------------------------------------- files
def test_write_plots_one_file_per_kind(server_failure, tmp_path):
    """write_plots writes one file per plot kind and format."""
    written = plots.write_plots(server_failure, tmp_path / "plots", formats=("png", "svg"))
    names = [p.name for p in written]
    drawn = [kind for kind in plots.PLOT_KINDS if kind not in plots.skipped_plots(server_failure)]
    assert drawn == ["timeline", "queues", "anatomy", "generation"]  # no mailbox moves in this run
    assert names == [f"{kind}.{fmt}" for kind in drawn for fmt in ("png", "svg")]
    for path in written:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") if path.suffix == ".png" else b"<svg" in data[:2000]
    again = plots.write_plots(server_failure, tmp_path / "again", formats=("png", "svg"))
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]


def test_write_plots_skips_anatomy_without_failover(thin_wan, tmp_path):
    """write_plots leaves out the anatomy chart when the run had no failover."""
    written = plots.write_plots(thin_wan, tmp_path)
    assert [p.name for p in written] == ["timeline.png", "queues.png", "generation.png"]


def test_write_plots_rejects_unknown_formats(thin_wan, tmp_path):
    """write_plots rejects an unknown format before writing anything."""
    with pytest.raises(ValueError, match="use png or svg"):
        plots.write_plots(thin_wan, tmp_path, formats=("gif",))
    assert not list(tmp_path.iterdir())


def test_plots_never_touch_pyplot():
    """The library draws with the object API only: pyplot is never imported."""
    code = (
        "import sys, dagsim, dagsim.plots as p, dagsim.report as r\n"
        f"res = dagsim.simulate({str(SCENARIOS / 'server-failure.yaml')!r})\n"
        "p.database_timeline(res); p.queue_lengths(res); p.failover_anatomy(res); p.generation_vs_capacity(res)\n"
        "r.render_report(res)\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_write_plots_draws_one_database_in_every_picture(server_failure, tmp_path, monkeypatch):
    """timeline, queues and anatomy written together all show the database of the dissected failover."""
    seen = {}
    real_timeline, real_queues, real_anatomy = plots.database_timeline, plots.queue_lengths, plots.failover_anatomy

    def timeline(result, database=None, ax=None):
        seen["timeline"] = database
        return real_timeline(result, database, ax)

    def queues(result, database=None, ax=None):
        seen["queues"] = database
        return real_queues(result, database, ax)

    def anatomy(result, record=None, ax=None):
        seen["anatomy"] = record.database
        return real_anatomy(result, record, ax)

    monkeypatch.setattr(plots, "database_timeline", timeline)
    monkeypatch.setattr(plots, "queue_lengths", queues)
    monkeypatch.setattr(plots, "failover_anatomy", anatomy)
    plots.write_plots(server_failure, tmp_path)
    first_mounted = next(r for r in server_failure.failover_records if r.mounted is not None)
    assert seen == {"timeline": first_mounted.database, "queues": first_mounted.database, "anatomy": first_mounted.database}


def test_anatomy_draws_a_wait_for_quorum_as_a_wait_not_as_selection():
    """A failover that waited 2 hours for quorum shows a waiting bar and a selection bar of selection_duration."""
    result = dagsim.simulate("scenarios/quorum-loss.yaml")
    record = next(r for r in result.failover_records if r.mounted is not None and r.selection_done - r.detected > 60)
    ax = plots.failover_anatomy(result, record)
    bars = _patches(ax, "phase:")
    assert list(bars)[:3] == ["phase:detection", "phase:waiting", "phase:selection"]
    selection = result.scenario.active_manager.selection_duration
    waiting = bars["phase:waiting"]
    scale = {"s": 1.0, "min": 60.0, "h": 3600.0}[ax.get_xlabel().rsplit("(", 1)[1].rstrip(")")]
    expected = record.selection_done - selection - record.detected
    assert waiting.get_width() * scale == pytest.approx(expected, rel=1e-6)
    # The selection bar itself is one second (drawn at least 1/400 of the span wide to stay visible).
    assert bars["phase:selection"].get_width() < waiting.get_width() / 100
    assert any("waiting: quorum" in label.get_text() for label in ax.get_yticklabels())


def test_queue_plot_marks_an_exact_peak_the_samples_missed():
    """With hour-long samples the copy queue's true peak falls between samples; the plot marks it."""
    data = dagsim.load_scenario("scenarios/thin-wan.yaml").model_dump(mode="json", exclude_none=True)
    data["run"]["sample_interval"] = 5 * 3600  # samples too sparse to see the peak
    from dagsim.config.schema import Scenario

    result = dagsim.simulate(Scenario.model_validate(data))
    figure = plots.queue_lengths(result, "DB1")
    marks = [line for axis in figure.axes for line in axis.lines if (line.get_gid() or "").startswith("exact_peak:copy:")]
    exact = next(r.copy_queue_peak for r in result.copy_records if r.database == "DB1" and r.server == "DR-MBX1")
    assert len(marks) == 1 and marks[0].get_ydata()[0] == pytest.approx(exact)
    dense = plots.queue_lengths(dagsim.simulate("scenarios/thin-wan.yaml"), "DB1")
    assert not [line for axis in dense.axes for line in axis.lines if (line.get_gid() or "").startswith("exact_peak:copy:")]
