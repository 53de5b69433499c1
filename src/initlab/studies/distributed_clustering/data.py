"""Iris splits over users (brief §3 "Splits") and the padded layout used by the algorithm."""

from __future__ import annotations

import numpy as np

__all__ = ["HET_COUNTS", "HOM_COUNTS", "pad", "split_indices", "split_counts"]

#: Per-user class counts (users x classes) [sourced, read off the paper's Fig. 1].
HOM_COUNTS = np.full((10, 3), 5)
HET_COUNTS = np.array(
    [[8, 7, 0], [7, 0, 9], [0, 8, 8], [7, 7, 0], [7, 0, 9],
     [0, 7, 8], [7, 7, 0], [7, 0, 8], [0, 7, 8], [7, 7, 0]]
)  # fmt: skip


def split_counts(split: str) -> np.ndarray:
    if split == "hom":
        return HOM_COUNTS
    if split == "het":
        return HET_COUNTS
    raise ValueError(f"unknown split {split!r}; expected 'hom' or 'het'")


def split_indices(labels: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> list:
    """Hand out each class's permuted indices in consecutive chunks to users 0..m-1.

    labels : (n,) int class labels; counts : (m, C) points of each class per user (column sums
    must not exceed the class sizes). Returns a list of m index arrays.
    """
    labels = np.asarray(labels)
    counts = np.asarray(counts)
    m, n_cls = counts.shape
    users: list[list[int]] = [[] for _ in range(m)]
    for c in range(n_cls):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if counts[:, c].sum() > len(idx):
            raise ValueError(f"class {c}: {counts[:, c].sum()} points requested, {len(idx)} exist")
        start = 0
        for i in range(m):
            users[i].extend(idx[start : start + counts[i, c]].tolist())
            start += counts[i, c]
    return [np.asarray(u, dtype=np.int64) for u in users]


def pad(x: np.ndarray, parts: list) -> tuple[np.ndarray, np.ndarray]:
    """Local data padded to ``(m, N_max, d)`` with a boolean mask ``(m, N_max)``."""
    n_max = max(1, max(len(p) for p in parts))
    y = np.zeros((len(parts), n_max, x.shape[1]))
    mask = np.zeros((len(parts), n_max), dtype=bool)
    for i, p in enumerate(parts):
        y[i, : len(p)] = x[p]
        mask[i, : len(p)] = True
    return y, mask
