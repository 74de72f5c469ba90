"""Shipping routes: refreshing only the copies whose active copy moved gives every route a full refresh gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dagsim.config.loader import load_scenario, load_scenario_text
from dagsim.model.shipping import ShippingPaths
from dagsim.model.simulation import Simulation

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _back_to_replication_network():
    """The library's replication-network loss, then a suspend and resume that moves shipping back."""
    text = (SCENARIOS / "library" / "replication-network-loss.yaml").read_text()
    text = text.replace(
        "  - {at: 2h, action: restore_replication_network, server: MBX-B}\n",
        "  - {at: 2h, action: restore_replication_network, server: MBX-B}\n"
        "  - {at: 2h10m, action: suspend_copy, database: DB1, server: MBX-B}\n"
        "  - {at: 2h20m, action: resume_copy, database: DB1, server: MBX-B}\n",
    )
    text = text[: text.index("expect:")] + "run: {duration: 3h}\n"
    return load_scenario_text(text)


@pytest.mark.parametrize("name", ["site-failure-dac.yaml", "server-failure.yaml", "back-to-replication-network"])
def test_partial_route_refresh_matches_a_full_one(monkeypatch, name):
    """Runs with failovers, switchovers and network failures record the same events and statistics
    when every refresh recomputes every route."""
    scenario = _back_to_replication_network() if name.startswith("back") else load_scenario(SCENARIOS / name)
    partial = Simulation(scenario).run()
    refresh = ShippingPaths.refresh

    def full_refresh(self, *args, **kwargs):
        if self._key is not None:
            self._key = (-1, *self._key[1:])  # as if the network had changed: recompute all
        return refresh(self, *args, **kwargs)

    monkeypatch.setattr(ShippingPaths, "refresh", full_refresh)
    full = Simulation(scenario).run()
    assert [dataclasses.astuple(e) for e in partial.event_records] == [dataclasses.astuple(e) for e in full.event_records]
    assert partial.copy_records == full.copy_records
    routes_moved = {"copy_disconnected", "copy_reconnected", "shipping_network_changed"}
    assert routes_moved & {e.kind for e in full.event_records}
