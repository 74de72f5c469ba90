"""Verdicts: each link direction's peak shipping demand against its bandwidth, in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagsim.config.loader import load_scenario
from dagsim.model.simulation import Simulation
from dagsim.report import render_report
from dagsim.simulate import simulate
from dagsim.text import render_run
from dagsim.verdicts import link_verdicts

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
MIB = 1024**2


def _link(result, link, from_site):
    return next(r for r in result.link_records if r.link == link and r.from_site == from_site)


def test_preferred_architecture_peak_matches_the_hand_computed_figure():
    """DC1→DC2 carries 100 flows of 15,000 logs/day at the 10 % peak hour, compressed to 0.7:
    245 Mbit/s, 24 % of 1 Gbit/s, first reached at 09:00."""
    result = simulate(SCENARIOS / "preferred-architecture.yaml")
    expected = 100 * 500 * 150 / 5 * 0.10 / 3600 * MIB * 0.7  # bytes/s
    record = _link(result, "WAN-DC1-DC2", "DC1")
    assert record.peak_demand == pytest.approx(expected, rel=1e-9)
    assert record.capacity == pytest.approx(1e9 / 8)
    assert record.peak_at == 9 * 3600
    assert len(record.copies) == 100
    verdict = next(v for v in link_verdicts(result) if v.startswith("WAN-DC1-DC2 DC1→DC2"))
    assert "peak 24% of 1 Gbit/s at 0d 09:00:00" in verdict and "headroom 4.1x" in verdict
    assert verdict.endswith("the 100 copies behind it keep their copy queues under 10 logs")
    assert _link(result, "WAN-DC1-DC3", "DC1").peak_demand == 0


def test_an_undersized_link_is_called_short_with_the_copies_that_suffer():
    """Above 100 % the verdict gives the shortfall and how many copies behind it pass 10 logs, for how long."""
    result = simulate(SCENARIOS / "thin-wan.yaml")
    record = _link(result, "WAN-HQ-DR", "HQ")
    assert record.utilization > 1
    verdict = link_verdicts(result)[0]
    longest = max(c.time_copy_queue_above_10 for c in result.copy_records)
    assert "short by" in verdict and f"{len(record.copies)} of {len(record.copies)} copies behind it exceed 10 logs" in verdict
    assert longest > 3600


def test_verdicts_appear_in_the_summary_text_json_and_report():
    """`dagsim run` text, summary.json and the HTML report all carry the link verdicts."""
    result = simulate(SCENARIOS / "thin-wan.yaml")
    verdict = link_verdicts(result)[0]
    assert verdict in render_run(result)
    links = json.loads(json.dumps(result.summary()))["links"]
    assert links[0]["verdict"] == verdict and links[0]["peak_utilization"] > 1
    assert render_report(result).count("WAN-HQ-DR HQ→DR: peak") == 1


def test_per_log_mode_reports_no_link_verdicts():
    """Only the fluid engine tracks link demand; per_log runs say nothing rather than something wrong."""
    scenario = load_scenario(SCENARIOS / "thin-wan.yaml")
    result = Simulation(scenario, mode="per_log", duration=3600).run()
    assert result.link_records == () and "Inter-site links" not in render_run(result)


def test_queues_grown_behind_a_roomy_link_are_not_blamed_on_it():
    """Copies that fall behind while their server is down are not put down to the link's bandwidth."""
    result = simulate(SCENARIOS / "server-failure.yaml")
    verdict = next(v for v in link_verdicts(result) if "Dublin→Redmond" in v)
    assert "exceed 10 logs" in verdict and verdict.endswith("(not for lack of bandwidth: the link never ran short)")


def test_run_text_says_which_copies_the_queue_table_leaves_out():
    """The passive-copy table names the active copies it leaves out; the volume table's columns are labelled."""
    result = simulate(SCENARIOS / "server-failure.yaml")
    text = render_run(result)
    active = [f"{c.database}\\{c.server}" for c, a in zip(result.copy_records, result.active_copies, strict=True) if a]
    note = next(line for line in text.splitlines() if line.startswith("Not listed: the active copies"))
    assert all(name in note for name in active)
    assert "Log volume peak Capacity Peak use" in text


def test_a_link_peak_made_only_of_seeding_says_so():
    """A link whose peak demand is a seed, with no copy shipping logs over it, is not described by copies."""
    from pathlib import Path

    import dagsim
    from dagsim.verdicts import link_verdicts

    path = Path(__file__).parent.parent / "scenarios" / "add-copy-seeding.yaml"
    # DB2 loses its DR copy: at 10:00 only DB1's new copy, seeding, crosses the WAN.
    text = path.read_text().replace("      - {server: DR-MBX2, activation_preference: 2}\n", "")
    result = dagsim.simulate(dagsim.load_scenario_text(text))
    line = next(v for v in link_verdicts(result) if v.startswith("WAN-HQ-DR HQ→DR"))
    assert "seeding traffic" in line and "0 copies" not in line
