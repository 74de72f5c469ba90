"""The index of a scenario's servers, databases and copies, shared by both engines.

Engines keep per-copy state in numpy arrays; this fixes which row is which copy. Copies are
ordered database by database, so each database's copies are one contiguous slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagsim.config.schema import Scenario
from dagsim.model.workload import LOG_SIZE

__all__ = ["Layout"]


@dataclass(frozen=True, eq=False)
class Layout:
    database_names: tuple[str, ...]
    server_names: tuple[str, ...]
    copy_names: tuple[tuple[str, str], ...]  # (database, server) per copy row
    copy_db: np.ndarray
    copy_server: np.ndarray
    copy_preference: np.ndarray
    replay_lag: np.ndarray
    truncation_lag: np.ndarray
    db_first_copy: np.ndarray  # row of each database's first copy (reduceat offsets)
    initial_active: np.ndarray  # copy row of each database's activation preference 1
    replay_capacity: np.ndarray  # logs/s per server
    volume_capacity: np.ndarray  # logs per database's log volume
    circular_logging: np.ndarray

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Layout:
        servers = tuple(s.name for s in scenario.servers)
        server_row = {name: i for i, name in enumerate(servers)}
        names: list[tuple[str, str]] = []
        dbs: list[int] = []
        hosts: list[int] = []
        prefs: list[int] = []
        lags: list[float] = []
        tlags: list[float] = []
        first: list[int] = []
        active: list[int] = []
        for d, database in enumerate(scenario.databases):
            first.append(len(names))
            for copy in database.copies:
                if copy.activation_preference == 1:
                    active.append(len(names))
                names.append((database.name, copy.server))
                dbs.append(d)
                hosts.append(server_row[copy.server])
                prefs.append(copy.activation_preference)
                lags.append(copy.replay_lag_time)
                tlags.append(copy.truncation_lag_time)
        return cls(
            database_names=tuple(d.name for d in scenario.databases),
            server_names=servers,
            copy_names=tuple(names),
            copy_db=np.array(dbs, dtype=np.intp),
            copy_server=np.array(hosts, dtype=np.intp),
            copy_preference=np.array(prefs, dtype=np.intp),
            replay_lag=np.array(lags, dtype=float),
            truncation_lag=np.array(tlags, dtype=float),
            db_first_copy=np.array(first, dtype=np.intp),
            initial_active=np.array(active, dtype=np.intp),
            replay_capacity=np.array([s.replay_rate for s in scenario.servers], dtype=float),
            volume_capacity=np.array([d.log_volume_size / LOG_SIZE for d in scenario.databases]),
            circular_logging=np.array([d.circular_logging for d in scenario.databases], dtype=bool),
        )

    @property
    def n_copies(self) -> int:
        return len(self.copy_names)

    @property
    def n_databases(self) -> int:
        return len(self.database_names)

    def copy_row(self, database: str, server: str) -> int:
        return self.copy_names.index((database, server))

    def rows_of(self, d: int) -> range:
        """Rows of database ``d``'s copies (they are contiguous)."""
        first = int(self.db_first_copy[d])
        stop = int(self.db_first_copy[d + 1]) if d + 1 < self.n_databases else self.n_copies
        return range(first, stop)

    def rows_on(self, server: str) -> list[int]:
        """Rows of the copies that ``server`` holds."""
        return [r for r, (_, s) in enumerate(self.copy_names) if s == server]
