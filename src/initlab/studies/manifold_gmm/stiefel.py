"""The Stiefel manifold St(p, d) = {W in R^{p x d} : W^T W = I_d} (brief §2, "Linear family").

Every function is batched over leading dimensions: ``W`` has shape (..., p, d). The metric is the
one inherited from the embedding R^{p x d} (<A, B> = tr A^T B), so the Riemannian gradient is the
tangent projection of the Euclidean gradient (Absil, Mahony & Sepulchre 2008, eq. 3.35):

    grad f(W) = G - W sym(W^T G),        sym(A) = (A + A^T) / 2,

and the retraction is the Q factor of a QR decomposition with the signs fixed so that
diag(R) > 0 (ibid., example 4.1.3), W+ = qf(W + xi).
"""

from __future__ import annotations

import numpy as np

__all__ = ["orth_error", "qf", "random_point", "retract", "riemannian_gradient", "sym"]


def sym(a: np.ndarray) -> np.ndarray:
    """Symmetric part (A + A^T) / 2 of (..., d, d) matrices."""
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def qf(a: np.ndarray) -> np.ndarray:
    """Q factor of the thin QR of (..., p, d) matrices (p >= d), signs fixed so diag(R) > 0.

    This makes qf unique (for full-rank input) and ``qf(W) == W`` for W on the manifold, up to
    rounding.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.shape[-2] < a.shape[-1]:
        raise ValueError(f"qf needs p >= d, got a matrix of shape {a.shape[-2:]}")
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1)).copy()
    signs[signs == 0] = 1.0
    return q * signs[..., None, :]


def riemannian_gradient(w: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Project the Euclidean gradient ``g`` (..., p, d) to the tangent space at ``w``:
    xi = G - W sym(W^T G). Then sym(W^T xi) = 0 for W on the manifold."""
    return g - w @ sym(np.swapaxes(w, -1, -2) @ g)


def retract(w: np.ndarray, xi: np.ndarray, step=1.0) -> np.ndarray:
    """QR retraction R_W(step * xi) = qf(W + step * xi); ``step`` is a scalar or (...,) array."""
    step = np.asarray(step, dtype=np.float64)
    return qf(w + step[..., None, None] * xi)


def random_point(rng: np.random.Generator, p: int, d: int, size: int | None = None) -> np.ndarray:
    """qf of a standard normal (p, d) matrix (Haar-distributed on St(p, d)); ``size`` draws in
    order, each consuming p*d normals, so draw r is the same whatever ``size`` is."""
    if size is None:
        return qf(rng.standard_normal((p, d)))
    return qf(np.stack([rng.standard_normal((p, d)) for _ in range(size)]))


def orth_error(w: np.ndarray) -> np.ndarray:
    """||W^T W - I||_F per matrix, shape (...)."""
    d = w.shape[-1]
    return np.linalg.norm(np.swapaxes(w, -1, -2) @ w - np.eye(d), axis=(-2, -1))
