"""Clustering scores against the true labels: Hungarian accuracy, NMI, ARI (brief §4)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

__all__ = ["SCORES", "hungarian_accuracy", "scores"]

SCORES = ("acc", "nmi", "ari")


def hungarian_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Best accuracy over one-to-one matchings of found clusters to classes.

    ``linear_sum_assignment`` maximises the matched counts of the (classes x clusters) confusion
    matrix; the numbers of classes and clusters may differ (unmatched points count as errors).
    """
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"label arrays must be non-empty and equal in length: {y_true.shape}, {y_pred.shape}"
        )
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, c = np.unique(y_pred, return_inverse=True)
    confusion = np.zeros((len(classes), len(clusters)), dtype=np.int64)
    np.add.at(confusion, (t, c), 1)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    return float(confusion[rows, cols].sum() / y_true.size)


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """``{"acc", "nmi", "ari"}`` of one labelling."""
    return {
        "acc": hungarian_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
    }
