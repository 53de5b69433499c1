"""The student-teacher network with quadratic activations and its overlaps (brief §2, "Model").

Input ``x ~ N(0, I_N)``; pre-activations ``lambda_i = w_i . x / sqrt(N)`` (students, ``i = 1..p``)
and ``lambda*_n = w*_n . x / sqrt(N)`` (teachers, ``n = 1..p*``). Student output
``y_hat = a sum_i lambda_i^2``, teacher label ``y = b sum_n lambda*_n^2 + sigma zeta``. The second
layers ``a``, ``b`` are fixed (default ``a = 1/p``, ``b = 1/p*``).

Everything the dynamics needs is in the overlaps ``Q = W W^T / N`` (p, p),
``M = W W*^T / N`` (p, p*) and ``T = W* W*^T / N`` (p*, p*). The activation is quadratic, so the
Gaussian moments of the error ``Delta = z^T D z - sigma zeta`` with ``z = (lambda, lambda*)`` are
polynomials in the overlaps (Isserlis); `error_moments` returns the pieces the ODEs use.

Arrays may carry leading batch dimensions (seeds, times): ``Q`` (..., p, p), ``M`` (..., p, p*),
``T`` (..., p*, p*).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ErrorMoments",
    "check_sizes",
    "error_moments",
    "generalization_error",
    "overlaps",
    "resolve_scale",
    "teacher",
]


def resolve_scale(value, width: int, name: str) -> float:
    """A second-layer weight from the config: ``"1/p"`` (or ``"1/pstar"``) gives ``1/width``.

    ``value`` is a positive number or the string ``"1/p"`` / ``"1/pstar"``; ``width`` is the
    hidden width it refers to (p for ``a``, p* for ``b``); ``name`` names it in errors.
    """
    if isinstance(value, str):
        if value.replace(" ", "") in ("1/p", "1/pstar"):
            return 1.0 / width
        raise ValueError(f"{name}: expected a positive number, '1/p' or '1/pstar', got {value!r}")
    value = float(value)
    if not value > 0:
        raise ValueError(f"{name}: must be positive, got {value}")
    return value


def check_sizes(N: int, p: int, pstar: int, *, overparameterized: bool = True) -> None:
    """Reject sizes the study cannot use, with a message that says why.

    ``N`` input dimension, ``p`` student width, ``pstar`` teacher width. The students and the
    teachers must fit in the input space with room for directions orthogonal to both
    (``N >= p + p*``: the plateau point of brief §2 has student rows orthogonal to the teacher).
    With ``overparameterized`` (the default) ``p >= p*`` is required too: the zero-loss manifold
    ``W = sqrt(b/a) R W*``, ``R^T R = I_p*`` and the polar factor of ``M`` (brief §2 and pitfall
    11) exist only then.
    """
    for name, v in (("N", N), ("p", p), ("pstar", pstar)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if N < p + pstar:
        raise ValueError(
            f"N = {N} is too small for p = {p} students and p* = {pstar} teachers: need "
            f"N >= p + p* = {p + pstar} (student rows orthogonal to the teacher at the plateau)"
        )
    if overparameterized and pstar > p:
        raise ValueError(
            f"p* = {pstar} > p = {p}: the study needs p >= p* (the zero-loss manifold "
            "W = sqrt(b/a) R W* and the polar factor of M need M to have full column rank p*)"
        )


def teacher(rng: np.random.Generator, pstar: int, N: int) -> np.ndarray:
    """Teacher rows W* (p*, N): QR-orthonormalised Gaussian vectors scaled to norm sqrt(N),
    so that ``T = W* W*^T / N = I`` (brief §2, pitfall 8)."""
    if pstar > N:
        raise ValueError(f"p* = {pstar} orthonormal teacher rows need N >= p*, got N = {N}")
    q, r = np.linalg.qr(rng.standard_normal((N, pstar)))
    q *= np.sign(np.diag(r))  # Haar-distributed frame (fix the QR sign convention)
    return np.sqrt(N) * q.T


def overlaps(W: np.ndarray, Wstar: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Q, M, T)`` of students W (..., p, N) and teachers W* (..., p*, N)."""
    N = W.shape[-1]
    Wt = np.swapaxes(W, -1, -2)
    Q = W @ Wt / N
    M = W @ np.swapaxes(Wstar, -1, -2) / N
    T = Wstar @ np.swapaxes(Wstar, -1, -2) / N
    return Q, M, T


def _trace(X: np.ndarray):
    """tr X over the last two axes (a fast path for single matrices: the ODE calls this often)."""
    return X.trace() if X.ndim == 2 else np.trace(X, axis1=-2, axis2=-1)


def _trace_of_product(X: np.ndarray, Y: np.ndarray):
    """tr(X Y) over the last two axes without forming X Y."""
    if X.ndim == 2:
        return float(np.vdot(X, Y.T))
    return np.einsum("...ij,...ji->...", X, Y)


@dataclass(frozen=True)
class ErrorMoments:
    """Closed-form Gaussian moments of the error at overlaps (Q, M, T) (brief §2).

    ``c = a tr Q - b tr T`` (...,); ``S_QQ = a Q^2 - b M M^T`` (..., p, p);
    ``S_QM = a Q M - b M T`` (..., p, p*); ``tau2 = a^2 tr Q^2 - 2ab tr(M^T M) + b^2 tr T^2``
    (...,); ``S3 = a^2 Q^3 - ab (M M^T Q + Q M M^T) + b^2 M T M^T`` (..., p, p).
    """

    c: np.ndarray
    S_QQ: np.ndarray
    S_QM: np.ndarray
    tau2: np.ndarray
    S3: np.ndarray | None


def error_moments(Q, M, T, a: float, b: float, *, third: bool = True) -> ErrorMoments:
    """The moments of brief §2 ("Closed-form moments"); ``third=False`` skips S3 (only the
    second-order term of dQ/dt needs it). ``T=None`` stands for ``I_p*`` and skips the products
    with T (the ODE solver passes it for an orthonormal teacher: it is called thousands of times
    per trajectory)."""
    Mt = np.swapaxes(M, -1, -2)
    MMt = M @ Mt
    QQ = Q @ Q
    if T is None:
        trT = trT2 = M.shape[-1]
        MT = M
    else:
        trT, trT2 = _trace(T), _trace_of_product(T, T)
        MT = M @ T
    c = a * _trace(Q) - b * trT
    S_QQ = a * QQ - b * MMt
    S_QM = a * (Q @ M) - b * MT
    tau2 = a * a * _trace_of_product(Q, Q) - 2 * a * b * _trace(MMt) + b * b * trT2
    S3 = None
    if third:
        S3 = a * a * (QQ @ Q) - a * b * (MMt @ Q + Q @ MMt) + b * b * (MT @ Mt)
    return ErrorMoments(c, S_QQ, S_QM, tau2, S3)


def generalization_error(Q, M, T, a: float, b: float) -> np.ndarray:
    """Clean-label population error ``eps_g = E[(y_hat - y*)^2] / 2 = c^2 / 2 + tau2`` (...,)."""
    m = error_moments(Q, M, T, a, b, third=False)
    return 0.5 * m.c**2 + m.tau2
