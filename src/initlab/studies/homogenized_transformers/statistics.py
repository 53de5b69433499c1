"""Collapse statistics of a token configuration (brief §2.6).

All functions take tokens ``x`` of shape (..., n, d) (rows on the unit sphere) and return one
value per system, shape (...,). Pair statistics run over the n(n-1)/2 pairs i < j of
rho_ij = <x_i, x_j>.

rho_bar alone misses antipodal clusters (two groups at rho = -1 give rho_bar near 0): the
largest Gram eigenvalue lambda_max(G)/n, mean rho^2 and frac(rho < -0.9) see them (claim H12).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STATS",
    "cluster_count",
    "collapse_stats",
    "lam_max_over_n",
    "pair_histogram",
    "pair_overlaps",
    "rho_bar",
    "t_half",
]

#: Names of the statistics `collapse_stats` returns, in order.
STATS = ("rho_bar", "rho2", "lam_max_over_n", "frac_pos", "frac_neg")


def rho_bar(x: np.ndarray) -> np.ndarray:
    """Mean pair overlap mean_{i<j} rho_ij, from ||sum_i x_i||^2 (O(n d), used at every layer)."""
    n = x.shape[-2]
    total = np.einsum("...a,...a->...", x.sum(axis=-2), x.sum(axis=-2))
    diag = np.einsum("...ia,...ia->...", x, x)
    return (total - diag) / (n * (n - 1))


def pair_overlaps(x: np.ndarray) -> np.ndarray:
    """rho_ij for i < j, shape (..., n(n-1)/2)."""
    n = x.shape[-2]
    iu = np.triu_indices(n, 1)
    return (x @ np.swapaxes(x, -1, -2))[..., iu[0], iu[1]]


def lam_max_over_n(x: np.ndarray) -> np.ndarray:
    """lambda_max(G)/n with G = X X^T, through the smaller of X X^T and X^T X."""
    n, d = x.shape[-2:]
    xt = np.swapaxes(x, -1, -2)
    small = xt @ x if d < n else x @ xt
    return np.linalg.eigvalsh(small)[..., -1] / n


def collapse_stats(x: np.ndarray) -> dict[str, np.ndarray]:
    """``{name: (...,)}`` for the names in `STATS`: rho_bar, mean rho^2, lambda_max(G)/n,
    frac(rho > 0.9) and frac(rho < -0.9), all over the pairs i < j.

    Computed from the full Gram matrix minus its diagonal (G is symmetric, so sums over i != j
    are twice the sums over i < j), which avoids gathering the pairs.
    """
    n = x.shape[-2]
    g = x @ np.swapaxes(x, -1, -2)
    diag = np.diagonal(g, axis1=-2, axis2=-1)
    pairs = n * (n - 1)

    def count(mask, on_diag):
        return (np.count_nonzero(mask, axis=(-2, -1)) - np.count_nonzero(on_diag, axis=-1)) / pairs

    return {
        "rho_bar": (g.sum(axis=(-2, -1)) - diag.sum(axis=-1)) / pairs,
        "rho2": (np.einsum("...ij,...ij->...", g, g) - (diag * diag).sum(axis=-1)) / pairs,
        "lam_max_over_n": lam_max_over_n(x),
        "frac_pos": count(g > 0.9, diag > 0.9),
        "frac_neg": count(g < -0.9, diag < -0.9),
    }


def cluster_count(x: np.ndarray, threshold: float = 0.99) -> np.ndarray:
    """Number of connected components of the graph {|rho_ij| > threshold}, per system (int)."""
    from scipy.sparse.csgraph import connected_components  # imported here: a slow import

    g = x @ np.swapaxes(x, -1, -2)
    flat = (np.abs(g) > threshold).reshape(-1, *g.shape[-2:])
    counts = np.array([connected_components(a, directed=False)[0] for a in flat], dtype=np.int64)
    return counts.reshape(g.shape[:-2])


def pair_histogram(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of rho_ij (i < j) in the bins ``edges`` (B+1,), summed over all systems: (B,)."""
    counts, _ = np.histogram(pair_overlaps(x).ravel(), bins=edges)
    return counts


def t_half(times: np.ndarray, mean_rho_bar: np.ndarray) -> float:
    """T½: the first time at which the seed-averaged rho_bar is >= 1/2, NaN if never (brief §2.6).

    ``times`` (L,), ``mean_rho_bar`` (L,): per-layer resolution, no interpolation.
    """
    hit = np.flatnonzero(np.asarray(mean_rho_bar) >= 0.5)
    return float(times[hit[0]]) if hit.size else float("nan")
