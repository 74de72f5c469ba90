"""The backend interface and the choice of a backend from command-line style options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["Backend", "BatchCallback", "make_backend"]

BatchCallback = Callable[[int, Any], None]
"""Called with (batch index, result) as each batch finishes, in completion order."""


class Backend(Protocol):
    """Runs a picklable ``batch_fn`` on every batch; results ordered by batch index."""

    name: str

    def map(
        self, batch_fn: Callable[[Any], Any], batches: Sequence[Any], on_result: BatchCallback | None = None
    ) -> list[Any]: ...

    def close(self) -> None: ...


def make_backend(workers: int = 1, dask: str | None = None) -> Backend:
    """Serial for one worker, a process pool for several, Dask when ``dask`` is given
    (``"local"`` starts a LocalCluster of ``workers`` processes; else a scheduler address)."""
    if dask is not None:
        from dagsim.study.dask_backend import DaskBackend

        return DaskBackend(dask, workers=max(workers, 1))
    if workers > 1:
        from dagsim.study.pool import ProcessPoolBackend

        return ProcessPoolBackend(workers)
    from dagsim.study.serial import SerialBackend

    return SerialBackend()
