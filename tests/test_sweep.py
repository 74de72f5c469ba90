"""`dagsim sweep`: paths and values, identical tables on every backend, resuming, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config.loader import load_scenario
from dagsim.sweep import SweepError, apply_point, grid, latin_hypercube, parse_vary, sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
THIN = SCENARIOS / "thin-wan.yaml"
VARY = ["links.WAN-HQ-DR.bandwidth=15Mbps,25Mbps", "databases[*].mailboxes=1000,1250"]


def test_paths_set_named_items_every_item_and_copy_counts():
    """A name picks a list item, [*] every item, and databases[*].copies sets a copy count."""
    scenario = load_scenario(SCENARIOS / "availability-four-copies.yaml")
    variations = parse_vary(["links.WAN-DC1-DC2.bandwidth=200Mbps", "databases[*].mailboxes=7", "databases[*].copies=2"])
    point = apply_point(scenario, variations, grid(variations)[0])
    assert next(l for l in point.links if l.name == "WAN-DC1-DC2").bandwidth == 200e6 / 8
    assert {d.mailboxes for d in point.databases} == {7}
    assert {len(d.copies) for d in point.databases} == {2}
    assert next(l for l in point.links if l.name == "WAN-DC1-DC3").bandwidth == 100e6 / 8  # untouched


def test_values_ranges_and_grid_order():
    """a..b is an inclusive integer range; the grid varies the last path fastest."""
    variations = parse_vary(["a=1..3", "b=x,y"])
    assert variations[0].values == (1, 2, 3)
    assert grid(variations) == [(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")]


def test_latin_hypercube_covers_each_value_and_repeats_with_its_seed():
    """With as many samples as values, each value appears once per path; the same seed, the same design."""
    variations = parse_vary(["a=1..5", "b=10..14"])
    design = latin_hypercube(variations, 5, seed=3)
    assert sorted(p[0] for p in design) == [1, 2, 3, 4, 5]
    assert sorted(p[1] for p in design) == [10, 11, 12, 13, 14]
    assert design == latin_hypercube(variations, 5, seed=3)
    assert design != latin_hypercube(variations, 5, seed=4)


def test_bad_specifications_list_every_problem():
    """Malformed --vary options are all reported, not just the first."""
    with pytest.raises(SweepError) as refused:
        parse_vary(["nothing", "a=3..1", "a..b.c=1"])
    assert len(refused.value.problems) == 3


def test_invalid_points_are_refused_before_anything_runs():
    """A point whose scenario breaks the schema or a rule names the point and the reason."""
    scenario = load_scenario(THIN)
    variations = parse_vary(["links.WAN-HQ-DR.bandwidth=20Mbps,-5", "links.NOPE.latency=1ms"])
    with pytest.raises(SweepError) as refused:
        sweep(scenario, variations)
    problems = refused.value.problems
    assert len(problems) == 2
    assert all("no item named 'NOPE'" in p for p in problems)


def test_run_sweep_table_is_tidy_and_matches_single_runs():
    """One row per point and metric; each point's figures are those of a run of that scenario."""
    import dagsim

    scenario = load_scenario(THIN)
    variations = parse_vary(VARY)
    result = sweep(scenario, variations)
    table = result.table
    assert len(table) == 4 * len(set(table.metric))
    assert not table.duplicated(["point", "metric"]).any()
    point = apply_point(scenario, variations, ("15Mbps", 1250))
    expected = dagsim.simulate(point).copies.copy_queue_peak.max()
    got = table.query("metric == 'copy_queue_peak'").set_index("point").value[1]
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.fixture(scope="module")
def cluster():
    """A real LocalCluster: two worker processes on the loopback interface."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as local:
        yield local


def test_serial_pool_and_dask_give_identical_tables(cluster):
    """The same sweep serially, on 2 processes and on a Dask LocalCluster: the same table."""
    scenario = load_scenario(THIN)
    variations = parse_vary(VARY)
    serial = sweep(scenario, variations).table
    pooled = sweep(scenario, variations, workers=2).table
    dasked = sweep(scenario, variations, dask=cluster.scheduler_address).table
    pd.testing.assert_frame_equal(serial, pooled)
    pd.testing.assert_frame_equal(serial, dasked)


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    """Points finished before an interruption are read back; only the rest run, and the table is the same."""
    scenario = load_scenario(THIN)
    variations = parse_vary(VARY)
    clean = sweep(scenario, variations).table

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(scenario, variations, checkpoint=tmp_path, progress=interrupt)
    assert len(list((tmp_path / "points").glob("*.json"))) == 2
    resumed = sweep(scenario, variations, checkpoint=tmp_path)
    assert resumed.computed == 2
    pd.testing.assert_frame_equal(resumed.table, clean)
    again = sweep(scenario, variations, checkpoint=tmp_path)
    assert again.computed == 0


def test_a_folder_of_another_sweep_is_refused(tmp_path):
    """Resuming into a folder that holds another sweep's points is an error, not a mix."""
    scenario = load_scenario(THIN)
    sweep(scenario, parse_vary(["links.WAN-HQ-DR.bandwidth=15Mbps"]), checkpoint=tmp_path)
    with pytest.raises(SweepError, match="another sweep"):
        sweep(scenario, parse_vary(["links.WAN-HQ-DR.bandwidth=25Mbps"]), checkpoint=tmp_path)


def test_cli_sweep_writes_table_summary_and_plot(tmp_path):
    """`dagsim sweep --out --plots` writes sweep.csv, summary.json and sweep.png and prints one line per point."""
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        app, ["sweep", str(THIN), "--vary", VARY[0], "--vary", VARY[1], "--out", str(out), "--plots"]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert set(table.point) == {0, 1, 2, 3}
    assert json.loads((out / "summary.json").read_text())["points"] == 4
    assert (out / "sweep.png").stat().st_size > 0
    assert result.output.count("Mbps") >= 4


def test_cli_sweep_refuses_bad_input_with_exit_2():
    """A malformed --vary or an unknown metric is exit 2 with a message, no traceback."""
    runner = CliRunner()
    bad = runner.invoke(app, ["sweep", str(THIN), "--vary", "links"])
    assert bad.exit_code == 2 and "PATH=VALUES" in bad.output
    metric = runner.invoke(app, ["sweep", str(THIN), "--vary", VARY[0], "--metric", "nope"])
    assert metric.exit_code == 2 and "is not one of" in metric.output


def test_fast_sweep_matches_fast_studies_and_leaves_out_lossy_failovers():
    """--study fast: each point's figures are those of a fast study of that point's scenario."""
    from dagsim.availability import availability

    scenario = load_scenario(SCENARIOS / "availability-four-copies.yaml")
    variations = parse_vary(["databases[*].copies=2,4"])
    result = sweep(scenario, variations, kind="fast", years=200, seed=3)
    table = result.table
    assert "lossy_failovers" not in set(table.metric)
    by_point = table[table.metric == "unavailability"].set_index("point")
    for index, values in enumerate(grid(variations)):
        study = availability(apply_point(scenario, variations, values), years=200, seed=3, method="fast")
        assert by_point.loc[index, "value"] == study.headline.value
        assert by_point.loc[index, "high"] == study.headline.high
    assert by_point.loc[0, "value"] != by_point.loc[1, "value"]  # the copy count reached the study
