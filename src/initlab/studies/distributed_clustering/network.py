"""Communication graphs and the step-size bound (brief §2 "Step size", §3 networks)."""

from __future__ import annotations

import numpy as np

__all__ = ["alpha_max", "check_connected", "laplacian", "ring"]


def ring(m: int) -> np.ndarray:
    """Adjacency (m, m) of the ring: user i linked to i +- 1 mod m (m = 1: no edges)."""
    if m < 1:
        raise ValueError(f"a network needs m >= 1 users, got {m}")
    a = np.zeros((m, m))
    if m == 1:
        return a
    for i in range(m):
        a[i, (i + 1) % m] = a[(i + 1) % m, i] = 1.0
    return a


def laplacian(adjacency: np.ndarray) -> np.ndarray:
    """Graph Laplacian ``L = Deg - A`` (m, m) of a symmetric 0/1 adjacency with empty diagonal."""
    a = np.asarray(adjacency, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be square, got shape {a.shape}")
    if not np.allclose(a, a.T) or np.any(np.diag(a) != 0):
        raise ValueError("adjacency must be symmetric with an empty diagonal (undirected graph)")
    return np.diag(a.sum(1)) - a


def check_connected(adjacency: np.ndarray) -> None:
    """Raise ValueError if the graph is disconnected (the paper assumes a connected graph)."""
    a = np.asarray(adjacency) != 0
    m = a.shape[0]
    seen, frontier = {0}, [0]
    while frontier:
        i = frontier.pop()
        for j in np.flatnonzero(a[i]):
            if j not in seen:
                seen.add(int(j))
                frontier.append(int(j))
    if len(seen) != m:
        raise ValueError(
            f"the network is disconnected: {m - len(seen)} of {m} users cannot be reached from "
            "user 0; DGC needs a connected graph"
        )


def alpha_max(lap: np.ndarray, n_max: int, rho: float, beta_f: float) -> float:
    """Safe step bound ``1 / (beta_f N_max / rho + lambda_max(L))`` [reconstructed, brief §2].

    The innovation term of (4) is a sum over a cluster, so its smoothness is ``beta_f |C|``.
    """
    lam = float(np.linalg.eigvalsh(np.asarray(lap, dtype=float))[-1]) if len(lap) else 0.0
    return 1.0 / (beta_f * n_max / rho + lam)
