"""The choice of a backend from command-line style options (the interface is in protocol.py)."""

from __future__ import annotations

from dagsim.study.protocol import Backend, BatchCallback

__all__ = ["Backend", "BatchCallback", "make_backend"]

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
