"""Hessian of the population loss at the plateau and on the solution manifold (brief §2).

With ``A = (a W^T W - b W*^T W*) / N`` (N, N) the clean population error of students W (p, N) is
``eps(W) = (tr A)^2 / 2 + tr(A^2)`` (= ``c^2/2 + tau2`` in overlaps), its gradient
``grad eps = (2a/N) W (tr A I + 2A)``, and along a direction U, with
``A' = a (W^T U + U^T W) / N`` and ``A'' = 2a U^T U / N``,

    d^2 eps[U, U] = (tr A')^2 + tr A tr A'' + 2 tr(A'^2) + 2 tr(A A'').

Parameters are flattened row-major: coordinate ``(i, k)`` of W is index ``i N + k``.

Predicted spectra (T = I; brief §2):

plateau (rows of W orthogonal to the teacher, ``W W^T / N = q I`` with the gradient-flow
    ``q = b p* / (a (p + 2))``): ``p p*`` eigenvalues ``-4ab/N``, ``p (N - p - p*) + p (p-1)/2``
    zeros, ``p (p+1)/2`` positive;
solution (``W = sqrt(b/a) R W*``, ``R^T R = I``): none negative,
    ``(p - p*) N + p* (p*-1)/2`` zeros, ``p* N - p* (p*-1)/2`` positive.
"""

from __future__ import annotations

import numpy as np

from .initialization import stiefel
from .model import check_sizes, generalization_error, overlaps

__all__ = [
    "POINTS",
    "classify",
    "hessian_analytic",
    "hessian_fd",
    "plateau_negative_eigenvalue",
    "plateau_point",
    "population_error",
    "population_gradient",
    "predicted_counts",
    "solution_point",
]

#: The two points where the Hessian is evaluated.
POINTS = ("plateau", "solution")


def population_error(W: np.ndarray, Wstar: np.ndarray, *, a: float, b: float) -> float:
    """``eps(W)`` for students W (p, N) and teachers W* (p*, N), through the overlaps."""
    return float(generalization_error(*overlaps(W, Wstar), a, b))


def population_gradient(W: np.ndarray, Wstar: np.ndarray, *, a: float, b: float) -> np.ndarray:
    """``grad eps = (2a/N) W (tr A I + 2A)`` (p, N), without forming the (N, N) matrix A."""
    N = W.shape[1]
    trA = (a * np.sum(W * W) - b * np.sum(Wstar * Wstar)) / N
    WA = (a * (W @ W.T) @ W - b * (W @ Wstar.T) @ Wstar) / N
    return (2.0 * a / N) * (trA * W + 2.0 * WA)


def hessian_fd(
    W: np.ndarray, Wstar: np.ndarray, *, a: float, b: float, h: float = 1e-5
) -> np.ndarray:
    """Hessian (pN, pN) by central differences of `population_gradient` with step ``h``,
    symmetrised (brief pitfall 10: reliable for N <= 50)."""
    p, N = W.shape
    n = p * N
    H = np.empty((n, n))
    w = W.ravel()
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        up = population_gradient((w + e).reshape(p, N), Wstar, a=a, b=b)
        down = population_gradient((w - e).reshape(p, N), Wstar, a=a, b=b)
        H[:, j] = (up - down).ravel() / (2.0 * h)
    return 0.5 * (H + H.T)


def hessian_analytic(W: np.ndarray, Wstar: np.ndarray, *, a: float, b: float) -> np.ndarray:
    """Hessian (pN, pN) from the quadratic form ``d^2 eps[U, U]`` (module docstring):

    ``(2a/N)^2 w w^T + (2a/N) tr A I + (4a^2/N^2) [W_il W_jk + (W W^T)_ij delta_kl]
    + (4a/N) delta_ij A_kl`` at row ``(i, k)``, column ``(j, l)``.
    """
    p, N = W.shape
    A = (a * W.T @ W - b * Wstar.T @ Wstar) / N
    w = W.ravel()
    H = (2.0 * a / N) ** 2 * np.outer(w, w)
    H += (2.0 * a / N) * np.trace(A) * np.eye(p * N)
    cross = np.einsum("il,jk->ikjl", W, W).reshape(p * N, p * N)
    H += (4.0 * a * a / N**2) * (cross + np.kron(W @ W.T, np.eye(N)))
    H += (4.0 * a / N) * np.kron(np.eye(p), A)
    return H


def plateau_point(rng: np.random.Generator, N: int, p: int, pstar: int, *, a: float, b: float):
    """``(W, W*)`` at the plateau: one Haar frame of ``p* + p`` orthonormal N-vectors gives the
    teacher rows (scaled to norm sqrt(N)) and student rows orthogonal to them with
    ``W W^T / N = q I``, ``q = b p* / (a (p + 2))`` (the gradient-flow plateau: the population
    loss has no learning rate)."""
    check_sizes(N, p, pstar, overparameterized=False)
    q_frame, r = np.linalg.qr(rng.standard_normal((N, pstar + p)))
    q_frame *= np.sign(np.diag(r))
    Wstar = np.sqrt(N) * q_frame[:, :pstar].T
    q = b * pstar / (a * (p + 2))
    return np.sqrt(N * q) * q_frame[:, pstar:].T, Wstar


def solution_point(rng: np.random.Generator, N: int, p: int, pstar: int, *, a: float, b: float):
    """``(W, W*)`` on the zero-loss manifold: ``W = sqrt(b/a) R W*`` with R Haar-random
    (p, p*), ``R^T R = I``; needs p >= p*."""
    check_sizes(N, p, pstar)
    q_frame, r = np.linalg.qr(rng.standard_normal((N, pstar)))
    Wstar = np.sqrt(N) * (q_frame * np.sign(np.diag(r))).T
    return np.sqrt(b / a) * stiefel(rng, p, pstar) @ Wstar, Wstar


def plateau_negative_eigenvalue(N: int, *, a: float, b: float) -> float:
    """The predicted negative eigenvalue at the plateau, ``-4ab/N`` (multiplicity p p*)."""
    return -4.0 * a * b / N


def predicted_counts(point: str, N: int, p: int, pstar: int) -> dict[str, int]:
    """Predicted numbers of negative, zero and positive eigenvalues at ``point``."""
    if point == "plateau":
        return {
            "negative": p * pstar,
            "zero": p * (N - p - pstar) + p * (p - 1) // 2,
            "positive": p * (p + 1) // 2,
        }
    if point == "solution":
        return {
            "negative": 0,
            "zero": (p - pstar) * N + pstar * (pstar - 1) // 2,
            "positive": pstar * N - pstar * (pstar - 1) // 2,
        }
    raise ValueError(f"unknown point {point!r}; expected one of {POINTS}")


def classify(eigenvalues: np.ndarray, tol: float) -> dict[str, int]:
    """Counts of eigenvalues below ``-tol``, within ``tol`` of zero and above ``tol`` (NaN
    entries, padding from a merge, are ignored)."""
    ev = np.asarray(eigenvalues, dtype=float)
    ev = ev[np.isfinite(ev)]
    return {
        "negative": int(np.sum(ev < -tol)),
        "zero": int(np.sum(np.abs(ev) <= tol)),
        "positive": int(np.sum(ev > tol)),
    }
