"""Reseeding failed copies, by an operator or by AutoReseed (docs/active-manager.md#after-a-lossy-failover-safety-net-resync-reseed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import simpy

    from dagsim.config.schema import Scenario
    from dagsim.model.active_manager import ActiveManager
    from dagsim.model.cluster import Cluster
    from dagsim.model.engine import ControllableEngine
    from dagsim.model.layout import Layout

__all__ = ["Reseeder"]


class Reseeder:
    """AutoReseed: wait, try to resume a few times, then reseed onto a spare volume."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        layout: Layout,
        manager: ActiveManager,
        cluster: Cluster,
        engine: ControllableEngine,
        record: Callable[..., None],
    ) -> None:
        self.env, self.scenario, self.layout = env, scenario, layout
        self.manager, self.cluster, self.engine = manager, cluster, engine
        self.record = record  # the simulation's event recorder, at the current time
        self.spec = scenario.reseed
        self._running: set[int] = set()

    def start(self, row: int) -> None:
        """A copy went FailedAndSuspended."""
        if self.spec.auto_reseed and row not in self._running:
            self._running.add(row)
            self.env.process(self._auto_reseed(row))

    def resume(self, row: int) -> None:
        """An operator resumed a FailedAndSuspended copy whose volume is back: reseed it now."""
        if row not in self._running:
            self._running.add(row)
            self.env.process(self._seed(row, "Update-MailboxDatabaseCopy"))

    def update(self, row: int, cmdlet: str = "Update-MailboxDatabaseCopy") -> None:
        """Update-MailboxDatabaseCopy: discard the copy and seed it again from the active copy."""
        if row not in self._running:
            self._running.add(row)
            self.env.process(self._seed(row, cmdlet))

    def _auto_reseed(self, row: int):
        spec = self.spec
        health = self.manager.health[row]
        database, server = self.layout.copy_names[row]
        yield self.env.timeout(spec.auto_reseed_wait)
        for attempt in range(1, spec.auto_reseed_resume_attempts + 1):
            if not health.failed_and_suspended:
                self._running.discard(row)
                return
            if not health.volume_failed and self.cluster.up(server):
                self.manager.copy_resumed(row, attempt)
                self._running.discard(row)
                return
            self.record("auto_reseed_resume_failed", database, server, facts={"attempt": attempt})
            yield self.env.timeout(spec.auto_reseed_retry_interval)
        # The failed disk is given up: AutoReseed formats a spare and seeds onto it.
        self.manager.volume_replaced(row)
        yield from self._seed(row, "AutoReseed")

    def _seed(self, row: int, via: str):
        """Seed the copy, ``via`` a cmdlet or AutoReseed (onto a spare volume)."""
        database, _ = self.layout.copy_names[row]
        size = self.scenario.database(database).database_size
        self.manager.seeding_started(row, via, size, size / self.spec.seeding_rate)
        # The database crosses the network from the active copy, sharing NICs and links with
        # log shipping (the fluid engine allocates both); a thin WAN makes it slower.
        yield self.engine.start_seeding(row, size, self.spec.seeding_rate)
        self.manager.seeding_completed(row, via)
        self._running.discard(row)
