"""The brief's synthetic generator ``make_synth3`` and its true signal subspace (brief §3).

Draws, in this order, from the generator it is given: Q = qf(N(0,1)^{D x D}); y = integers(0, K,
n); E = N(0,1)^{n x D}. Then columns 2-3 of E are multiplied by ``nuisance`` (5, the nuisance
plane that PCA picks), columns 4..D-1 keep sigma = 1, ``separation`` cos(2 pi y / K) is added to
column 0 and ``separation`` sin(2 pi y / K) to column 1, and X = E Q^T. The clusters therefore
live in the plane spanned by Q[:, :2], with less variance than the nuisance plane Q[:, 2:4].
"""

from __future__ import annotations

import numpy as np

from initlab.data.features import PCA

from .stiefel import qf

__all__ = ["make_synth3", "signal_subspace"]


def make_synth3(
    rng: np.random.Generator,
    n: int = 600,
    dim: int = 10,
    k: int = 4,
    *,
    nuisance: float = 5.0,
    separation: float = 4.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X (n, dim), y (n,), Q (dim, dim))``; needs dim >= 4."""
    if dim < 4:
        raise ValueError(f"make_synth3 needs D >= 4 (2 signal + 2 nuisance columns), got {dim}")
    q = qf(rng.standard_normal((dim, dim)))
    y = rng.integers(0, k, n)
    e = rng.standard_normal((n, dim))
    e[:, 2:4] *= nuisance
    angle = 2.0 * np.pi * y / k
    e[:, 0] += separation * np.cos(angle)
    e[:, 1] += separation * np.sin(angle)
    return e @ q.T, y, q


def signal_subspace(q: np.ndarray, pca: PCA) -> np.ndarray:
    """T = qf(L^{-1/2} U^T Q[:, :2]) (p, 2): the generator's signal plane in whitened coordinates
    (claim A-subspace). The class means span it, and since Cov(x~) = I it is also the LDA subspace.
    """
    return qf((pca.components @ q[:, :2]) / np.sqrt(pca.explained_variance)[:, None])
