"""Clustering accuracy (Hungarian-matched) and K-means cost on the joint data (brief §3)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["accuracy", "cost", "predict"]


def predict(centres: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre (lowest index on ties) of each point for every centre set.

    centres (..., K, d), y (n, d) -> labels (..., n), squared distance to it (..., n).
    """
    d2 = (
        np.einsum("nd,nd->n", y, y)[:, None]
        - 2 * np.einsum("nd,...kd->...nk", y, centres)
        + np.einsum("...kd,...kd->...k", centres, centres)[..., None, :]
    )
    d2 = np.maximum(d2, 0.0)
    labels = np.argmin(d2, -1)
    return labels, np.take_along_axis(d2, labels[..., None], -1)[..., 0]


def cost(centres: np.ndarray, y: np.ndarray) -> np.ndarray:
    """K-means cost sum_n min_k ||y_n - x_k||^2 of every centre set: (...,)."""
    return predict(centres, y)[1].sum(-1)


def accuracy(labels: np.ndarray, truth: np.ndarray, k: int, n_classes: int | None = None):
    """Fraction of points correctly labelled after the best one-to-one matching of clusters to
    classes (Hungarian on the confusion matrix; an empty cluster is allowed).

    labels (..., n) ints in [0, K), truth (n,) ints in [0, C) -> (...,).
    """
    n_classes = int(truth.max()) + 1 if n_classes is None else n_classes
    lab = labels.reshape(-1, labels.shape[-1])
    conf = np.zeros((lab.shape[0], k, n_classes))
    idx = lab * n_classes + truth[None, :]
    for b in range(lab.shape[0]):
        conf[b] = np.bincount(idx[b], minlength=k * n_classes).reshape(k, n_classes)
    if k == n_classes and k <= 6:  # exact, vectorised over all permutations
        perms = np.array(list(itertools.permutations(range(k))))
        best = conf[:, np.arange(k)[None, :], perms].sum(-1).max(-1)
    else:
        best = np.empty(lab.shape[0])
        for b in range(lab.shape[0]):
            r, c = linear_sum_assignment(-conf[b])
            best[b] = conf[b][r, c].sum()
    return (best / labels.shape[-1]).reshape(labels.shape[:-1])
