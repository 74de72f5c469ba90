"""What each database copy is, beyond its queues: failed volumes, suspensions, seeding,
content index — and the copy status string an administrator reads (docs/active-manager.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["CopyHealth", "Volume"]


class Volume(StrEnum):
    """What went wrong with a copy's disks."""

    DATABASE = "database"  # the database volume failed
    LOG = "log"  # the log volume failed
    LOG_FULL = "log_full"  # the log volume ran out of space

    @property
    def flag(self) -> str:
        """The :class:`CopyHealth` field that records it."""
        return _VOLUME_FLAGS[self]


_VOLUME_FLAGS = {
    Volume.DATABASE: "database_volume_failed",
    Volume.LOG: "log_volume_failed",
    Volume.LOG_FULL: "log_volume_full",
}


@dataclass
class CopyHealth:
    """Health flags of one database copy."""

    operator_suspended: bool = False
    activation_suspended: bool = False
    database_volume_failed: bool = False
    log_volume_failed: bool = False
    log_volume_full: bool = False
    failed_and_suspended: bool = False
    seeding: bool = False
    diverged_logs: float = 0.0  # logs it holds beyond the active's position after a lossy failover
    content_index: str = "Healthy"
    absent: bool = False  # declared with added: false and not added yet
    notes: list[str] = field(default_factory=list)

    @property
    def volume_failed(self) -> bool:
        return self.database_volume_failed or self.log_volume_failed

    def running(self, server_up: bool) -> bool:
        """Whether the copy copies and replays logs."""
        blocked = (
            self.absent
            or self.operator_suspended
            or self.failed_and_suspended
            or self.seeding
            or self.volume_failed
            or self.log_volume_full
        )
        return server_up and not blocked

    @property
    def holds_truncation(self) -> bool:
        """A suspended copy (by an operator or by Exchange) stops the active truncating logs."""
        return self.operator_suspended or self.failed_and_suspended

    def passive_status(self, *, server_up: bool, connected: bool) -> str:
        if not server_up:
            return "ServiceDown"
        if self.seeding:
            return "Seeding"
        if self.failed_and_suspended:
            return "FailedAndSuspended"
        if self.volume_failed or self.log_volume_full:
            return "Failed"
        if self.operator_suspended:
            return "Suspended"
        return "Healthy" if connected else "DisconnectedAndHealthy"
