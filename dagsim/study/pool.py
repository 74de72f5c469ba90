"""The process pool backend: batches spread over local worker processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dagsim.study.protocol import BatchCallback

__all__ = ["ProcessPoolBackend", "WorkerLost"]

#: How many times a study restarts a pool whose worker died before it gives up. A batch is a
#: pure function of its inputs, so running it again gives the same bytes.
MAX_POOL_RESTARTS = 3


class WorkerLost(RuntimeError):
    """The pool's workers kept dying: the study stops rather than loop."""


def _context() -> multiprocessing.context.BaseContext:
    # Forking a process that runs threads (progress bars, notebooks) is unsafe; a fork server
    # starts workers from a clean process and is much cheaper than spawning each one.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class ProcessPoolBackend:
    """A pool of ``workers`` processes, started on first use and kept for the next map."""

    name = "process pool"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def map(
        self, batch_fn: Callable[[Any], Any], batches: Sequence[Any], on_result: BatchCallback | None = None
    ) -> list[Any]:
        results: list[Any] = [None] * len(batches)
        todo = list(range(len(batches)))
        restarts = 0
        while todo:
            try:
                self._run(batch_fn, batches, todo, results, on_result)
            except BrokenProcessPool as broken:
                # A worker died (killed, out of memory): the pool is unusable. Start a fresh one
                # and run again only the batches whose results never arrived.
                self.close()
                restarts += 1
                if restarts > MAX_POOL_RESTARTS:
                    raise WorkerLost(
                        f"process pool workers died {restarts} times; {len(todo)} batches not run"
                    ) from broken
                continue
            break
        return results

    def _run(
        self,
        batch_fn: Callable[[Any], Any],
        batches: Sequence[Any],
        todo: list[int],
        results: list[Any],
        on_result: BatchCallback | None,
    ) -> None:
        """Run the batches listed in ``todo``, removing each from it as its result arrives."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=_context())
        futures: dict[Future, int] = {self._executor.submit(batch_fn, batches[i]): i for i in todo}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                # Report in batch order within one wake-up, so callbacks see a stable order.
                for future in sorted(done, key=futures.__getitem__):
                    index = futures[future]
                    results[index] = future.result()
                    todo.remove(index)
                    if on_result is not None:
                        on_result(index, results[index])
        except BaseException:
            for future in pending:
                future.cancel()
            raise

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ProcessPoolBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
