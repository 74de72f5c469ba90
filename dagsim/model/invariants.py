"""Rules that must hold at every moment of every run; breaking one is a bug in dagsim.

They are checked as the run goes, not afterwards, so the failure points at the moment and
the decision that broke the rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dagsim.model.selection import DIAL_LIMITS

if TYPE_CHECKING:
    import simpy

    from dagsim.model.cluster import Cluster
    from dagsim.model.engine import LogFlow
    from dagsim.model.layout import Layout

__all__ = ["InvariantViolation", "Invariants"]


class InvariantViolation(AssertionError):
    """The model reached a state Exchange never allows: a bug in dagsim, not in the scenario."""


class Invariants:
    """Checks Active Manager calls at each mount and after each change of the cluster."""

    def __init__(
        self,
        env: simpy.Environment,
        layout: Layout,
        cluster: Cluster,
        engine: LogFlow,
    ) -> None:
        self.env, self.layout, self.cluster, self.engine = env, layout, cluster, engine
        self.checks = 0
        self.split_brains: list[tuple[float, str, str]] = []  # (time, database, what was mounted where)

    def _server(self, row: int) -> str:
        return self.layout.copy_names[row][1]

    def _fail(self, database: str, message: str) -> None:
        raise InvariantViolation(f"t={self.env.now:g}s {database}: {message}")

    def check_mount(self, d: int, row: int, *, automatic: bool, lost: float, dial: str) -> None:
        """Before ``row`` mounts database ``d``."""
        self.checks += 1
        name = self.layout.database_names[d]
        mounted = int(self.engine.active[d]) if self.engine.mounted[d] else None
        if mounted is not None and mounted != row:
            self._fail(name, f"two mounted copies ({self._server(mounted)} and {self._server(row)})")
        blocker = self.cluster.mount_blocker(self._server(row))
        if blocker is not None:
            self._fail(name, f"mounted on {self._server(row)} although {blocker}")
        if automatic and lost > DIAL_LIMITS[dial] + 1e-9:
            self._fail(name, f"automatic mount lost {lost:g} logs, AutoDatabaseMountDial {dial} allows {DIAL_LIMITS[dial]:g}")

    def check_active(self, d: int, row: int) -> None:
        """Before mounting ``row``: only the active copy of ``d`` is ever mounted."""
        if row != int(self.engine.active[d]):
            self._fail(self.layout.database_names[d], f"mounting {self._server(row)}, which is not the active copy")

    def record_split_brain(self, d: int, server: str, detail: str) -> None:
        """Two copies of ``d`` are mounted, one by a stale partition on ``server``: an outcome a
        scenario can reach (so recorded, not raised), but never on a server whose DACP bit is 0."""
        name = self.layout.database_names[d]
        if not self.cluster.dac.may_mount(server):
            self._fail(name, f"split brain from {server}, whose DACP bit is 0: {detail}")
        self.split_brains.append((self.env.now, name, detail))

    def check_mounted(self) -> None:
        """After a change of hosts, networks or quorum: every mounted copy may still be mounted."""
        self.checks += 1
        for d in np.flatnonzero(self.engine.mounted):
            server = self._server(int(self.engine.active[d]))
            name = self.layout.database_names[d]
            blocker = self.cluster.mount_blocker(server)
            if blocker is not None and self.cluster.up(server):
                self._fail(name, f"still mounted on {server} although {blocker}")
