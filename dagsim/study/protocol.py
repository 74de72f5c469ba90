"""What a study backend is: the interface every backend implements (a leaf module)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["Backend", "BatchCallback"]

BatchCallback = Callable[[int, Any], None]
"""Called with (batch index, result) as each batch finishes, in completion order."""


class Backend(Protocol):
    """Runs a picklable ``batch_fn`` on every batch; results ordered by batch index."""

    name: str

    def map(
        self, batch_fn: Callable[[Any], Any], batches: Sequence[Any], on_result: BatchCallback | None = None
    ) -> list[Any]: ...

    def close(self) -> None: ...
