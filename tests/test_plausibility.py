"""Plausibility warnings: valid but implausible values are warned about, and refused with --strict."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dagsim.cli import app
from dagsim.config.loader import load_scenario_with_marks
from dagsim.config.plausibility import _detour_bound, plausibility_warnings

ROOT = Path(__file__).resolve().parent.parent
BASE = (ROOT / "tests" / "bad_inputs" / "base.yaml.txt").read_text()
# The corpus base with its witness moved to a third site C and no timeline (so a short run stays
# valid): a scenario with nothing to warn about.
PLAIN = (
    BASE.replace("- {name: B}", "- {name: B}\n  - {name: C}", 1)
    .replace("witness: {host: FSW1, site: A}", "witness: {host: FSW1, site: C}", 1)
    .replace("timeline:\n  - {at: 1h, action: fail_server, server: MBX1}\n  - {at: 2h, action: restore_server, server: MBX1}\n", "")
)
assert "timeline" not in PLAIN
runner = CliRunner()


def _warnings(tmp_path: Path, old: str, new: str, base: str = PLAIN) -> list:
    assert old in base
    path = tmp_path / "s.yaml"
    path.write_text(base.replace(old, new, 1))
    scenario, marks = load_scenario_with_marks(path)
    return plausibility_warnings(scenario, marks, str(path))


def _line_of(text: str) -> int:
    return next(i for i, line in enumerate(PLAIN.splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("bandwidth: 100Mbps", "bandwidth: 200", "200 bit/s"),
        ("latency: 20ms", "latency: 20", "20s one way"),
        ("duration: 6h", "duration: 24", "duration: 24 is 24s"),
        ("latency: 20ms", "latency: 300ms", "Exchange 2013 supports at most 500ms round trip"),
    ],
)
def test_implausible_values_are_warned_about_at_their_line(tmp_path, old, new, says):
    """Bare numbers in the base unit that give absurd values, and a latency beyond Exchange's limit, are warned at their line."""
    [warning] = _warnings(tmp_path, old, new)
    assert says in warning.message and warning.message.startswith("warning: ")
    assert warning.line == _line_of(old)


def test_a_sensible_scenario_gives_no_warning(tmp_path):
    """Values written with units, copies in both sites and the witness in a third site give no warning."""
    assert _warnings(tmp_path, "name: corpus-base", "name: corpus-base") == []


def test_witness_in_a_site_with_members_is_warned(tmp_path):
    """A witness in a datacenter that holds DAG members is warned at dag.witness.site."""
    [warning] = _warnings(tmp_path, "name: corpus-base", "name: corpus-base", base=BASE)
    assert warning.path == "dag.witness.site" and "the witness is in A, with DAG members" in warning.message


def test_copies_all_in_one_site_of_a_two_site_dag_are_warned(tmp_path):
    """A database whose copies are all in one site of a multi-site DAG is warned at its copies."""
    warnings = _warnings(tmp_path, "  - {name: MBX2, site: B}", "  - {name: MBX2, site: A}\n  - {name: MBX3, site: B}")
    assert any(w.path == "databases[0].copies" and "every copy of DB1 is in site A" in w.message for w in warnings)


def test_validate_prints_warnings_and_strict_refuses_them(tmp_path):
    """validate exits 0 and prints warnings; validate --strict exits 2 on the same file."""
    path = tmp_path / "w.yaml"
    path.write_text(PLAIN.replace("bandwidth: 100Mbps", "bandwidth: 200"))
    relaxed = runner.invoke(app, ["validate", str(path)])
    assert relaxed.exit_code == 0 and "warning: a bare number is bits per second" in relaxed.output
    strict = runner.invoke(app, ["validate", "--strict", str(path)])
    assert strict.exit_code == 2 and f"{path}:{_line_of('bandwidth: 100Mbps')}:" in strict.output


def test_shipping_detour_through_a_third_site_is_warned_with_its_path(tmp_path):
    """A direct link slower than a two-hop path through a third site is warned with the path taken and why."""
    three = PLAIN.replace(
        "    latency: 20ms\n",
        "    latency: 90ms\n"
        "  - {name: WAN-AC, sites: [A, C], bandwidth: 100Mbps, latency: 10ms}\n"
        "  - {name: WAN-CB, sites: [C, B], bandwidth: 100Mbps, latency: 15ms}\n",
        1,
    )
    [warning] = _warnings(tmp_path, "name: corpus-base", "name: corpus-base", base=three)
    assert warning.path == "links[0].latency"
    assert "goes through A → C → B over WAN-AC, WAN-CB (25ms one way), not over WAN (90ms)" in warning.message


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([("a", "b"), ("a", "c"), ("b", "c"), ("a", "d"), ("b", "d"), ("c", "d")]),
                       st.integers(min_value=0, max_value=6), min_size=1))  # fmt: skip
def test_the_detour_bound_never_skips_a_real_detour(latencies):
    """Wherever the bound says no other route can be as fast, networkx's lowest-latency route is the direct link."""
    import networkx as nx

    graph = nx.Graph()
    direct = {}
    for index, ((a, b), latency) in enumerate(latencies.items()):
        graph.add_edge(a, b, latency=latency)
        direct[frozenset((a, b))] = (index, float(latency))
    for pair, (_, latency) in direct.items():
        if _detour_bound(pair, direct) > latency:
            a, b = sorted(pair)
            assert nx.shortest_path(graph, a, b, weight="latency") == [a, b]
            assert nx.shortest_path_length(graph, a, b, weight="latency") == latency
