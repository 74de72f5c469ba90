"""A copy's health flags: each volume problem marks its own flag and shows in the copy status."""

from __future__ import annotations

import pytest

from dagsim.model.copy_health import CopyHealth, Volume


@pytest.mark.parametrize(
    "volume,flag",
    [(Volume.DATABASE, "database_volume_failed"), (Volume.LOG, "log_volume_failed"), (Volume.LOG_FULL, "log_volume_full")],
)
def test_each_volume_problem_sets_its_flag_and_stops_the_copy(volume, flag):
    """A failed or full volume sets exactly its flag, stops the copy, shows Failed, and clears again."""
    assert volume.flag == flag
    health = CopyHealth()
    setattr(health, volume.flag, True)
    assert [f for f in ("database_volume_failed", "log_volume_failed", "log_volume_full") if getattr(health, f)] == [flag]
    assert not health.running(server_up=True)
    assert health.passive_status(server_up=True, connected=True) == "Failed"
    setattr(health, volume.flag, False)
    assert health.running(server_up=True) and health.passive_status(server_up=True, connected=True) == "Healthy"


def test_a_full_log_volume_is_not_a_failed_volume():
    """A log volume out of space stops the copy but is not a volume failure (no reseed needed)."""
    health = CopyHealth()
    setattr(health, Volume.LOG_FULL.flag, True)
    assert not health.volume_failed
