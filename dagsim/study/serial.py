"""The serial backend: batches run one after another in this process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dagsim.study.protocol import BatchCallback

__all__ = ["SerialBackend"]


class SerialBackend:
    """Runs every batch here, in order."""

    name = "serial"

    def map(
        self, batch_fn: Callable[[Any], Any], batches: Sequence[Any], on_result: BatchCallback | None = None
    ) -> list[Any]:
        results = []
        for index, batch in enumerate(batches):
            result = batch_fn(batch)
            results.append(result)
            if on_result is not None:
                on_result(index, result)
        return results

    def close(self) -> None:
        pass

    def __enter__(self) -> SerialBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
