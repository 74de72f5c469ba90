"""Sizing: the bandwidth a link needs, and the copies a database needs (docs/sizing.md).

:func:`~dagsim.sizing.wan.size_wan` bisects whole fluid runs for the smallest bandwidth
that keeps copy queues under a limit, beside the static peak-hour estimate;
:func:`~dagsim.sizing.copies.size_copies` finds the fewest copies meeting an availability
target with the exact, rare-event or Monte Carlo answer that applies.
"""

from dagsim.sizing.copies import CopiesPoint, CopiesSizing, size_copies, with_copies
from dagsim.sizing.wan import WanPoint, WanSizing, size_wan, wan_point

__all__ = [
    "CopiesPoint",
    "CopiesSizing",
    "WanPoint",
    "WanSizing",
    "size_copies",
    "size_wan",
    "wan_point",
    "with_copies",
]
