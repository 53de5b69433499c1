"""Paper-scale pieces (brief §3 "MNIST scale-up", "Networks larger than the ring") [reconstructed].

Graphs: ring, Erdos-Renyi G(m, p) and the random geometric graph (m nodes in the unit square,
radius r); random graphs are resampled with generator j = 0, 1, ... until connected. MNIST
splits: ``hom`` a random equal partition; ``het`` sort by label, cut into 2m equal shards, two
random shards per user.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import network

__all__ = ["GRAPHS", "graph", "graph_stats", "shard_split"]

GRAPHS = ("ring", "er", "rgg")


def _connected(a: np.ndarray) -> bool:
    try:
        network.check_connected(a)
    except ValueError:
        return False
    return True


def graph(kind: str, m: int, rng_for: Callable[[int], np.random.Generator], *, p: float = 0.1,
          radius: float = 0.25, max_tries: int = 1000) -> np.ndarray:  # fmt: skip
    """Adjacency (m, m); ``rng_for(j)`` gives the generator of the j-th resampling."""
    if kind == "ring":
        return network.ring(m)
    for j in range(max_tries):
        g = rng_for(j)
        if kind == "er":
            upper = np.triu(g.random((m, m)) < p, 1)
        elif kind == "rgg":
            pts = g.random((m, 2))
            dist = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
            upper = np.triu(dist < radius, 1)
        else:
            raise ValueError(f"unknown graph {kind!r}; expected one of {GRAPHS}")
        a = (upper | upper.T).astype(float)
        if _connected(a):
            return a
    raise ValueError(f"{kind} graph with m={m}: no connected sample in {max_tries} tries")


def graph_stats(a: np.ndarray) -> dict:
    """lambda_max(L), lambda_2(L) and the maximum degree."""
    ev = np.linalg.eigvalsh(network.laplacian(a))
    return {"lambda_max": float(ev[-1]), "lambda_2": float(ev[1]) if len(ev) > 1 else 0.0,
            "max_degree": int(a.sum(1).max())}  # fmt: skip


def shard_split(labels: np.ndarray, m: int, split: str, rng: np.random.Generator) -> list:
    """Index arrays of m users with N = n // m points each (the remainder is dropped)."""
    n_i = len(labels) // m
    if n_i < 1:
        raise ValueError(f"{len(labels)} points cannot be shared among {m} users")
    if split == "hom":
        perm = rng.permutation(len(labels))[: n_i * m]
        return [perm[i * n_i : (i + 1) * n_i] for i in range(m)]
    if split == "het":
        order = np.argsort(labels, kind="stable")[: n_i * m]
        shard = n_i // 2
        shards = [order[j * shard : (j + 1) * shard] for j in range(2 * m)]
        pick = rng.permutation(2 * m)
        return [np.concatenate([shards[pick[2 * i]], shards[pick[2 * i + 1]]]) for i in range(m)]
    raise ValueError(f"unknown split {split!r}; expected 'hom' or 'het'")
