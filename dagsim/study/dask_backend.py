"""The Dask backend: batches as tasks on a ``dask.distributed`` cluster.

``"local"`` starts a LocalCluster of worker processes on the loopback interface; any other
string is a scheduler address (``tcp://host:8786``); a ``distributed.Client`` is used as is.
When a worker dies, the scheduler runs its lost batches again elsewhere; since a batch is a
pure function of its input, the results are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dagsim.study.protocol import BatchCallback

__all__ = ["DaskBackend"]


class DaskBackend:
    """Runs batches on a Dask cluster; owns (and closes) the cluster and client it started."""

    name = "dask"

    def __init__(self, target: Any = "local", *, workers: int = 2) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as error:  # pragma: no cover - the [dask] extra is not installed
            raise RuntimeError("the Dask backend needs dask.distributed: pip install 'dagsim[dask]'") from error
        self._cluster = None
        self._own_client = True
        if isinstance(target, Client):
            self.client = target
            self._own_client = False
        elif target == "local":
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self.client = Client(self._cluster)
        else:
            self.client = Client(target)

    def map(
        self, batch_fn: Callable[[Any], Any], batches: Sequence[Any], on_result: BatchCallback | None = None
    ) -> list[Any]:
        from distributed import as_completed

        futures = self.client.map(batch_fn, list(batches), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(batches)
        try:
            for future, result in as_completed(futures, with_results=True):
                results[index[future.key]] = result
                if on_result is not None:
                    on_result(index[future.key], result)
        finally:
            for future in futures:
                future.release()
        return results

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
