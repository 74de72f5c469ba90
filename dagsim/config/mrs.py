"""The ``mrs:`` block: mailbox moves as migration batches (docs/mrs.md).

Figures marked *assumption* are scenario inputs with a stated default; Exchange documents the
mechanisms (move requests, the data guarantee and its constraint) more than the numbers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dagsim.config.units import Bandwidth, Count, Duration, Number, Size

__all__ = ["MAX_MOVES", "MoveBatchSpec", "MrsSpec"]

MAX_MOVES = 200_000
"""Move requests in one scenario, over every batch (bounded memory and run time)."""


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)


class MoveBatchSpec(_Spec):
    """A migration batch: ``mailboxes`` requests of ``mailbox_size`` each (moves, ``.pst`` imports
    into a database, or ``.pst`` exports out of one)."""

    name: str = Field(min_length=1, max_length=64)
    request_type: Literal["move", "import", "export"] = Field(
        default="move",
        description="move (New-MoveRequest), import (New-MailboxImportRequest: writes logs on the target) "
        "or export (New-MailboxExportRequest: reads the source, writes no logs)",
    )
    target_database: str | None = Field(default=None, min_length=1, max_length=64)
    source_database: str | None = Field(
        default=None, description="a database of the DAG; null: mailboxes come from outside (no source load)"
    )
    mailboxes: Count = Field(ge=1, le=MAX_MOVES)
    mailbox_size: Size = Field(gt=0, le=1024**4, description="each mailbox's size; with mailbox_size_p95, the median")
    mailbox_size_p95: Size | None = Field(
        default=None, gt=0, le=1024**4, description="lognormal sizes: the 95th percentile (median: mailbox_size)"
    )
    mailbox_items: Count | None = Field(
        default=None,
        ge=0,
        le=100_000_000,
        description="items in a mailbox of mailbox_size (sizes drawn from a distribution scale it); null: ignore item counts",
    )
    item_rate: Number = Field(
        default=50.0,
        gt=0,
        le=1_000_000,
        description="items one move processes per second besides moving bytes (assumption)",
    )
    start: Duration = Field(default=0.0, description="when the batch starts, from the start of the run")
    max_concurrent: Count = Field(
        default=20, ge=1, le=1000, description="moves in progress at once (assumption: MRS's per-database limit)"
    )
    transfer_rate: Bandwidth = Field(
        default=50e6 / 8, description="copy rate of one move while it is not stalled (assumption: 50 Mbit/s)"
    )
    log_factor: Number = Field(
        default=1.0,
        ge=0.1,
        le=10.0,
        description="1 MiB transaction logs written on the target per MiB moved (assumption: one for one)",
    )
    completion_time: Duration = Field(
        default=60.0, description="final incremental sync and switch of the mailbox (assumption)"
    )
    mailbox_changes_per_day: Size | None = Field(
        default=0.0,
        ge=0,
        le=1024**4,
        description="bytes a mailbox receives per day, copied by an incremental sync after the initial copy; "
        "null: the database's message profile (none for imports and exports); 0: the final sync is all in "
        "completion_time",
    )
    suspend_when_ready_to_complete: bool = Field(
        default=False, description="stop at 100 % copied (AutoSuspended) until complete_after"
    )
    complete_after: Duration | None = Field(
        default=None, description="with suspend_when_ready_to_complete: when the operator completes the batch"
    )

    @model_validator(mode="after")
    def _different(self) -> MoveBatchSpec:
        if self.request_type == "export":
            if self.source_database is None:
                raise ValueError("an export needs source_database (the mailboxes' database)")
            if self.target_database is not None:
                raise ValueError("an export writes .pst files, not into a database: leave out target_database")
        elif self.target_database is None:
            raise ValueError(f"a {self.request_type} needs target_database")
        if self.request_type == "import" and self.source_database is not None:
            raise ValueError("an import reads .pst files: leave out source_database")
        if self.source_database is not None and self.source_database == self.target_database:
            raise ValueError("source_database and target_database must differ")
        if self.mailbox_size_p95 is not None and self.mailbox_size_p95 < self.mailbox_size:
            raise ValueError("mailbox_size_p95 must be at least mailbox_size (the median)")
        if self.complete_after is not None and not self.suspend_when_ready_to_complete:
            raise ValueError("complete_after needs suspend_when_ready_to_complete: true")
        return self


class MrsSpec(_Spec):
    """The Mailbox Replication Service: migration batches and the data guarantee's timing."""

    batches: tuple[MoveBatchSpec, ...] = Field(default=(), max_length=100)
    data_guarantee_check_period: Duration = Field(
        default=5.0, gt=0, le=3600.0, description="DataGuaranteeCheckPeriod: how often a moving request checks it"
    )
    stall_retry_interval: Duration = Field(
        default=30.0, gt=0, le=3600.0, description="how often a stalled request checks again (assumption)"
    )
    max_stall_time: Duration = Field(
        default=1800.0, gt=0, le=30 * 86400.0, description="a request stalled this long at once fails (assumption)"
    )
    max_active_moves_per_target_database: Count = Field(
        default=20, ge=1, le=10_000, description="MaxActiveMovesPerTargetMDB, over every batch (assumption)"
    )
    max_active_moves_per_source_database: Count = Field(
        default=20, ge=1, le=10_000, description="MaxActiveMovesPerSourceMDB, over every batch (assumption)"
    )
    max_active_moves_per_target_server: Count = Field(
        default=100, ge=1, le=10_000, description="MaxActiveMovesPerTargetServer, over every batch (assumption)"
    )
    max_active_moves_per_source_server: Count = Field(
        default=100, ge=1, le=10_000, description="MaxActiveMovesPerSourceServer, over every batch (assumption)"
    )

    @model_validator(mode="after")
    def _bounded(self) -> MrsSpec:
        total = sum(b.mailboxes for b in self.batches)
        if total > MAX_MOVES:
            raise ValueError(f"{total:,} move requests; at most {MAX_MOVES:,} in one scenario")
        names = [b.name for b in self.batches]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"batch names must be unique: {', '.join(repeated)}")
        return self
