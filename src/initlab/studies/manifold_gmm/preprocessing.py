"""Whitening, which the model needs (brief §2, "Pre-processing").

Centre X (n, D), keep the top-p PCA directions of the ddof-1 sample covariance and scale them to
unit variance: x~_i = L_p^{-1/2} U_p^T (x_i - mean), so Cov(x~) = I_p (ddof 1). Without it the
projected likelihood is unbounded (W turns to low-variance directions). The PCA is
`initlab.data.features.fit_pca`, the one every study shares.
"""

from __future__ import annotations

import numpy as np

from initlab.data.features import PCA, fit_pca

__all__ = ["check_data", "whiten"]


def check_data(x: np.ndarray, k: int | None = None) -> np.ndarray:
    """``x`` as a float64 (n, D) array, with clear errors for NaN/inf and for k > n."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"data must be a 2-d (n, D) array, got shape {x.shape}")
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=1).sum())
        raise ValueError(f"data contain NaN or infinite values in {bad} rows; clean or drop them")
    if k is not None and not 1 <= k <= len(x):
        raise ValueError(f"cannot find K = {k} clusters in {len(x)} points (need 1 <= K <= n)")
    return x


def whiten(x: np.ndarray, p: int) -> tuple[np.ndarray, PCA]:
    """Whitened top-p PCA scores (n, p) with ddof-1 identity covariance, and the fitted PCA.

    Raises ``ValueError`` when the data have rank < p (constant or duplicated features leave
    fewer than p directions with variance, and whitening would divide by zero).
    """
    x = check_data(x)
    pca = fit_pca(x, p)
    return pca.transform(x, whiten=True), pca
