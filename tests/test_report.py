"""The HTML report: valid, self-contained, with the failover table, copy status and plots."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pytest
from helpers import count_simulations

import dagsim
from dagsim.report import default_status_times, render_report, write_report

matplotlib.use("Agg")  # no display needed; the library never uses pyplot

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Checker(HTMLParser):
    """Parses a document and records what a test needs: structure problems, ids, tables, resources."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.resources: list[tuple[str, str, str]] = []  # tag, attribute, value
        self.images: list[str] = []
        self.doctype = ""
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.text: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        values = dict(attrs)
        if "id" in values:
            self.ids.append(values["id"])
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            if name in values:
                self.resources.append((tag, name, values[name] or ""))
        if tag == "img":
            self.images.append(values.get("src", ""))
        if tag == "table":
            self._table = values.get("id", f"table-{len(self.tables)}")
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag == "style":
            self._in_style = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problems.append(f"end tag for void element <{tag}>")
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_style:
            self.style += data
        self.text.append(data)


def _check(document: str) -> Checker:
    checker = Checker()
    checker.feed(document)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert not checker.problems, checker.problems[:5]
    assert not checker.stack, f"unclosed: {checker.stack}"
    assert checker.tags[:3] == ["html", "head", "meta"]
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"
    return checker


def _assert_offline(checker: Checker, document: str) -> None:
    """No network reference: every src/href is a data: URI or an anchor in the page."""
    for tag, attribute, value in checker.resources:
        assert not re.match(r"\s*(https?:)?//", value, re.IGNORECASE), (tag, attribute, value)
        assert value.startswith(("data:", "#")), (tag, attribute, value[:60])
    anchors = {value[1:] for _, _, value in checker.resources if value.startswith("#")}
    assert anchors <= set(checker.ids)
    assert not {"script", "link", "iframe", "object", "embed", "base"} & set(checker.tags)
    assert "@import" not in checker.style and "url(" not in checker.style
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", document, re.IGNORECASE)


@pytest.fixture(scope="module")
def server_failure():
    return dagsim.simulate(SCENARIOS / "server-failure.yaml")


@pytest.fixture(scope="module")
def report(server_failure, tmp_path_factory):
    path = write_report(server_failure, tmp_path_factory.mktemp("report") / "sub" / "report.html")
    return path, path.read_text(encoding="utf-8")


def test_report_is_valid_self_contained_html(report):
    """The report parses as HTML and references nothing outside itself."""
    path, document = report
    assert path.name == "report.html" and path.is_file()
    checker = _check(document)
    _assert_offline(checker, document)
    for section in ("summary", "failovers", "plots", "copy-status", "copies", "events", "scenario"):
        assert section in checker.ids


def test_report_has_the_failover_table(report, server_failure):
    """The report holds the failover table with every failover of the run."""
    _, document = report
    checker = _check(document)
    header, *rows = checker.tables["failover-table"]
    assert header[:7] == ["Time", "Database", "Kind", "Cause", "From", "To", "Outcome"]
    assert len(rows) == len(server_failure.failover_records) == 2
    db01 = next(row for row in rows if row[1] == "DB01")
    assert db01[4:7] == ["RED-MBX1", "RED-MBX2", "mounted"]
    assert db01[header.index("Mounted")] == "+26.0 s"
    assert db01[header.index("Outage")] == "26s"


def test_report_embeds_the_plots_as_images(report):
    """The report embeds the plots as base64 images."""
    _, document = report
    checker = _check(document)
    # generation, a timeline per database that failed over (2), queues, and one anatomy: the two
    # failovers of the failed server took the same phases at the same moment, so they share it
    assert len(checker.images) == 5
    for src in checker.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")


def test_report_shows_copy_status_at_default_times(report, server_failure):
    """Without chosen times the report shows copy status around the first failure and at the end."""
    _, document = report
    times = default_status_times(server_failure)
    # just after the failure, just after the mount, the longest copy queue, the end of the run
    assert times[:2] == [36001.0, 36027.0] and times[-1] == server_failure.duration
    checker = _check(document)
    status = [rows for name, rows in checker.tables.items() if rows and rows[0][:2] == ["Name", "Status"]]
    assert len(status) == len(times)
    after_failure = {row[0]: row[1] for row in status[0][1:]}
    assert after_failure["DB01\\RED-MBX1"] == "Dismounted"
    after_mount = {row[0]: row[1] for row in status[1][1:]}
    assert after_mount["DB01\\RED-MBX2"] == "Mounted"
    assert "At 0d 10:00:01" in "".join(checker.text)


def test_report_status_times_are_chosen_by_the_caller(server_failure, tmp_path):
    """The report shows copy status at the times the caller chose."""
    path = write_report(server_failure, tmp_path / "r.html", status_times=[11 * 3600])
    checker = _check(path.read_text(encoding="utf-8"))
    text = "".join(checker.text)
    assert "At 0d 11:00:00" in text and "At 0d 10:00:01" not in text
    with pytest.raises(ValueError, match="outside the run"):
        render_report(server_failure, status_times=[2 * 86400])


def test_report_without_failovers_still_has_an_empty_failover_table(tmp_path):
    """A run without failovers still gets a (empty) failover table in the report."""
    result = dagsim.simulate(SCENARIOS / "thin-wan.yaml")
    document = write_report(result, tmp_path / "thin.html").read_text(encoding="utf-8")
    checker = _check(document)
    _assert_offline(checker, document)
    assert checker.tables["failover-table"] == [
        ["Time", "Database", "Kind", "Cause", "From", "To", "Outcome", "Detected", "Selected", "Last logs",
         "Replayed", "Mounted", "Outage", "Logs lost", "Messages lost", "Redelivered"],
    ]  # fmt: skip
    assert "No failover or switchover happened" in document
    assert len(checker.images) == 3  # generation, timeline, queues


def test_report_with_svg_images_is_still_offline(server_failure):
    """With SVG images the report still references nothing outside itself."""
    document = render_report(server_failure, image_format="svg", status_times=[])
    checker = _check(document)
    _assert_offline(checker, document)
    assert checker.images and all(src.startswith("data:image/svg+xml;base64,") for src in checker.images)


def test_report_escapes_text(server_failure):
    """Scenario text is HTML-escaped in the report."""
    scenario = server_failure.scenario.model_copy(update={"description": "<script>alert('x')</script> & more"})
    result = dagsim.simulate(scenario)
    document = render_report(result, status_times=[])
    checker = _check(document)
    assert "script" not in checker.tags
    assert "&lt;script&gt;" in document


def test_report_is_deterministic(server_failure):
    """The same result renders the same report, byte for byte."""
    assert render_report(server_failure, status_times=[40000]) == render_report(server_failure, status_times=[40000])




def test_report_at_named_moments_runs_the_scenario_once(tmp_path, monkeypatch):
    """`dagsim report --at ...` takes its copy status tables during its one run, and they equal copy_status."""
    from typer.testing import CliRunner

    import dagsim
    from dagsim.cli import app

    built = count_simulations(monkeypatch)
    scenario_path = Path(__file__).resolve().parent.parent / "scenarios" / "server-failure.yaml"
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(scenario_path), "--out", str(out), "--at", "10:00:30", "--at", "12h"])
    assert result.exit_code == 0, result.output
    assert len(built) == 1
    html = out.read_text()
    monkeypatch.undo()
    status = dagsim.copy_status(dagsim.load_scenario(scenario_path), at="10:00:30")
    for name, state in zip(status["Name"], status["Status"], strict=True):
        assert f"<td>{name}</td><td>{state}</td>" in html.replace("\\\\", "\\")


def test_default_moments_cost_one_more_simulation(monkeypatch):
    """Default status moments (known only after the run) are read from one more simulation, not one per moment."""
    import dagsim
    from dagsim.report import default_status_times, render_report

    result = dagsim.simulate(Path(__file__).resolve().parent.parent / "scenarios" / "server-failure.yaml")
    assert len(default_status_times(result)) >= 3
    built = count_simulations(monkeypatch)
    render_report(result)
    assert len(built) == 1


def test_report_totals_client_outage_per_protocol_and_counts_whole_mailboxes(report, server_failure):
    """The client outage section starts with user-minutes per protocol (and all protocols), and
    affected mailboxes print as whole numbers."""
    _, document = report
    checker = _check(document)
    header, *rows = checker.tables["client-outage-totals"]
    assert header == ["protocol", "user-minutes", "longest", "outages"]
    total = rows[-1]
    assert total[0] == "all protocols"
    assert float(total[1].replace(",", "")) == pytest.approx(server_failure.user_minutes(), abs=0.05)
    assert sum(float(r[1].replace(",", "")) for r in rows[:-1]) == pytest.approx(server_failure.user_minutes(), abs=0.05 * len(rows))
    detail_header, *detail = checker.tables["client-outage-table"]
    column = detail_header.index("affected mailboxes")
    assert all("." not in row[column] for row in detail)


def test_identical_failovers_share_one_anatomy_chart():
    """Failovers with the same phases at the same moment get one chart naming every database, not one each."""
    import re

    from dagsim.report import render_report

    result = dagsim.simulate("scenarios/quorum-loss.yaml")
    titles = re.findall(r"<h3>(Anatomy of[^<]*)</h3>", render_report(result))
    assert len(result.failover_records) == 5
    assert len(titles) == 3
    named = ", ".join(titles)
    assert all(record.database in named for record in result.failover_records)
    assert sum("the same phases for 2 databases" in t for t in titles) == 2
