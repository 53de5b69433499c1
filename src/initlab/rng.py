"""Deterministic random streams.

Every random number in initlab comes from a generator derived from a *key*: a tuple of plain
values such as ``("scaled_gd", master_seed, "conditioning", "operator", c, seed)``. The key is
serialised to canonical JSON and hashed with SHA-256, so the same key gives the same stream in
every process, on every machine, in any job order (Python's ``hash()`` is salted per process and
must never be used for this).

A study chooses what goes into each key, and so decides which random objects are shared across
sweep points. Leaving ``kappa`` out of the sensing-operator key, for instance, makes every
condition number see the same operator for a given seed.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

__all__ = ["generator", "seed_sequence"]


def _canonical(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"rng key items must be JSON-like, got {type(value).__name__}: {value!r}")


def seed_sequence(*key) -> np.random.SeedSequence:
    """The `SeedSequence` for ``key``: 256 bits of SHA-256 over the key's canonical JSON."""
    text = json.dumps(_canonical(key), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).digest()
    return np.random.SeedSequence(list(np.frombuffer(digest, dtype=np.uint32)))


def generator(*key) -> np.random.Generator:
    """A numpy `Generator` (PCG64) seeded from ``key``; equal keys give equal streams."""
    return np.random.Generator(np.random.PCG64(seed_sequence(*key)))
