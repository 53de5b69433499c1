"""The conserved polar factor and the closest zero-loss solution (brief §2, "Conserved quantity").

For ``T = I`` the ODE for M is ``dM/dt = K(t) M`` with K symmetric; when Q0 commutes with
``M0 M0^T`` (e.g. ``Q0 = q0 I``) Q and ``M M^T`` stay simultaneously diagonalisable, so the polar
factor ``P(M) = M (M^T M)^(-1/2) = U V^T`` (thin SVD ``M = U S V^T``) is conserved and the
dynamics ends at ``M_inf = sqrt(b/a) P(M0)``: among the zero-loss solutions
``W = sqrt(b/a) R W*`` (``R^T R = I_p*``), ``R = P(M0)`` maximises ``tr(W W0^T) = N tr(R M0^T)``,
i.e. it is the solution closest to the initialisation.

Arrays may carry leading batch dimensions: ``M`` (..., p, p*).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "alignment",
    "closest_solution",
    "polar_deviation",
    "polar_factor",
    "random_pairing_deviation",
]


def polar_factor(M: np.ndarray) -> np.ndarray:
    """``P(M) = U V^T`` (..., p, p*) from the thin SVD of M (..., p, p*); needs p >= p*.

    Matrices holding NaN (a diverged run) give NaN.
    """
    M = np.asarray(M, dtype=float)
    p, pstar = M.shape[-2:]
    if pstar > p:
        raise ValueError(
            f"the polar factor of a ({p}, {pstar}) overlap needs p >= p* (brief pitfall 11)"
        )
    bad = ~np.isfinite(M).all(axis=(-2, -1))
    U, _, Vt = np.linalg.svd(np.where(bad[..., None, None], 0.0, M), full_matrices=False)
    P = U @ Vt
    P[bad] = np.nan
    return P


def polar_deviation(M: np.ndarray, P0: np.ndarray) -> np.ndarray:
    """``||P(M) - P0||_F`` (...,), the drift of the conserved quantity from ``P0`` (p, p*)."""
    return np.linalg.norm(polar_factor(M) - P0, axis=(-2, -1))


def closest_solution(M0: np.ndarray, *, a: float, b: float) -> np.ndarray:
    """The overlap ``M_inf = sqrt(b/a) P(M0)`` of the zero-loss solution closest to the init."""
    return np.sqrt(b / a) * polar_factor(M0)


def alignment(R: np.ndarray, M0: np.ndarray) -> np.ndarray:
    """``tr(R M0^T) = tr(W W0^T) / N`` for the solution ``W = sqrt(b/a) R W*`` (up to the factor
    sqrt(b/a)); maximised over ``R^T R = I`` by ``R = P(M0)``."""
    return np.einsum("...ij,...ij->...", R, M0)


def random_pairing_deviation(
    rng: np.random.Generator, p: int, pstar: int, draws: int
) -> np.ndarray:
    """``||R - P||_F / sqrt(p*)`` (draws,) for Haar-random R against a fixed orthonormal P: the
    baseline of a selection that ignores the initialisation (mean 1.39 for p=4, p*=2; rms
    sqrt(2) for any p, p*, since E tr(R^T P) = 0)."""
    P = np.eye(p, pstar)
    q, r = np.linalg.qr(rng.standard_normal((draws, p, pstar)))
    R = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
    return np.linalg.norm(R - P, axis=(-2, -1)) / np.sqrt(pstar)
