"""Initialisations of the factors (brief §2.4): spectral and small random.

The sweep axis ``init`` takes the values ``"spectral"`` and ``"random-<alpha>"``
(e.g. ``"random-0.001"``, ``"random-1e-6"``); `parse_init` turns them into ``(scheme, scale)``.
"""

from __future__ import annotations

import numpy as np

from .problem import adjoint

__all__ = ["parse_init", "random_init", "spectral_init", "spectral_init_psd"]


def parse_init(value: str) -> tuple[str, float | None]:
    """``"spectral"`` -> ``("spectral", None)``; ``"random-<alpha>"`` -> ``("random", alpha)``.

    Raises `ValueError` naming ``value`` for any other scheme or a non-positive/invalid alpha.
    """
    if value == "spectral":
        return "spectral", None
    scheme, sep, scale = str(value).partition("-")
    if scheme == "random" and sep:
        try:
            alpha = float(scale)
        except ValueError:
            alpha = float("nan")
        if np.isfinite(alpha) and alpha > 0:
            return "random", alpha
        raise ValueError(f"init {value!r}: the random scale must be a positive number")
    raise ValueError(f"unknown init {value!r}: expected 'spectral' or 'random-<alpha>'")


def spectral_init(
    a: np.ndarray, y: np.ndarray, shape: tuple[int, int], r: int
) -> tuple[np.ndarray, np.ndarray]:
    """Plain spectral initialisation (§2.4): top-r SVD ``U0 S0 V0^T`` of ``Y = A^*(y)``.

    ``a`` (B, m, n1*n2), ``y`` (B, m). Returns ``L0 = U0 S0^{1/2}`` (B, n1, r) and
    ``R0 = V0 S0^{1/2}`` (B, n2, r).
    """
    u, s, vt = np.linalg.svd(adjoint(a, y, shape), full_matrices=False)
    root = np.sqrt(s[:, :r])[:, None, :]
    return u[:, :, :r] * root, vt[:, :r, :].transpose(0, 2, 1) * root


def spectral_init_psd(a: np.ndarray, y: np.ndarray, n: int, r: int) -> np.ndarray:
    """PSD spectral initialisation (§2.4): top-r eigenpairs ``(w, U)`` of ``sym(A^*(y))``.

    ``a`` (B, m, n*n), ``y`` (B, m). Returns ``L0 = U diag(max(w, 0))^{1/2}``, shape (B, n, r).
    """
    g = adjoint(a, y, (n, n))
    w, u = np.linalg.eigh(0.5 * (g + g.transpose(0, 2, 1)))  # ascending eigenvalues
    w, u = w[:, ::-1][:, :r], u[:, :, ::-1][:, :, :r]
    return u * np.sqrt(np.maximum(w, 0.0))[:, None, :]


def random_init(rng: np.random.Generator, n: int, r: int, alpha: float) -> np.ndarray:
    """Small random factor ``alpha * G / sqrt(n)``, ``G`` i.i.d. N(0, 1) of shape (n, r) (§2.4)."""
    return alpha * rng.standard_normal((n, r)) / np.sqrt(n)
