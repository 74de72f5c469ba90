"""Random streams of a study: one per replica and component, all from one SeedSequence.

Replica ``i`` uses the stream ``SeedSequence(seed).spawn(i + 1)[i]`` (spawn key ``(i,)``).
Within it, each component draws from its own named child, keyed by a stable hash of its
class and name: adding a component, or a whole class, leaves every other component's
draws unchanged, and a replica never depends on how many replicas or workers a study has.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["component_generator", "component_key", "replica_sequence"]


def replica_sequence(seed: int, replica: int) -> np.random.SeedSequence:
    """The seed sequence of replica ``replica``: child ``replica`` of ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed, spawn_key=(replica,))


def component_key(component: str, name: str) -> int:
    """A stable 64-bit key for a named component (the same in every process and Python run)."""
    digest = hashlib.blake2b(f"{component}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def component_generator(seed: int, replica: int, component: str, name: str) -> np.random.Generator:
    """The generator of one component in one replica: a named child of the replica's sequence."""
    sequence = np.random.SeedSequence(seed, spawn_key=(replica, component_key(component, name)))
    return np.random.Generator(np.random.PCG64(sequence))
