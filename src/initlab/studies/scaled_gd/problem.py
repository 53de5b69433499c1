"""Ground truth and Gaussian sensing operators (brief §2.1, §2.2, §2.7).

A batch of ``B`` sensing operators is stored as ONE dense float64 array ``A`` of shape
``(B, m, N)`` with ``N = n1 * n2``: row ``k`` of ``A[b]`` is ``vec(A_k)`` in row-major order. It is
applied only through `forward` (``A @ vec(X)``) and `adjoint` (``A^T @ z``), both batched
matmuls; ``A^* A`` is never formed and no per-measurement lists are built (brief §2.7).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "adjoint",
    "check_operator_size",
    "forward",
    "gaussian_operator",
    "ground_truth",
    "haar_basis",
    "max_batch",
    "num_measurements",
    "num_measurements_psd",
    "operator_bytes",
    "singular_values",
    "symmetric_operator",
]


def num_measurements(c: float, n1: int, n2: int, r: int) -> int:
    """``m = round(c (n1 + n2) r)`` (brief §2.2)."""
    return int(round(c * (n1 + n2) * r))


def num_measurements_psd(c: float, n: int, r: int) -> int:
    """PSD sample size ``m = round(c_psd n r)``; ``c_psd`` is twice the general ``c`` (§2.2)."""
    return int(round(c * n * r))


def singular_values(r: int, kappa: float) -> np.ndarray:
    """``sigma = linspace(1, 1/kappa, r)`` (r,): sigma_1 = 1, sigma_r = 1/kappa (brief §2.1)."""
    return np.linspace(1.0, 1.0 / kappa, r)


def haar_basis(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    """Haar-distributed orthonormal basis, shape ``(n, r)``: Q factor of an ``n x r`` Gaussian.

    The columns' signs are fixed by ``sign(diag(R))`` so that the distribution is exactly Haar.
    """
    q, rr = np.linalg.qr(rng.standard_normal((n, r)))
    return q * np.where(np.diag(rr) < 0, -1.0, 1.0)


def ground_truth(
    rng: np.random.Generator, n1: int, n2: int, sigma: np.ndarray, *, psd: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X* = U* diag(sigma) V*^T`` with independent Haar ``U*`` (n1, r) and ``V*`` (n2, r) (§2.1).

    With ``psd=True`` (requires ``n1 == n2``) ``V* = U*``, so ``X*`` is symmetric PSD.
    Returns ``(U, V, X)`` with ``X`` of shape ``(n1, n2)``.
    """
    r = len(sigma)
    u = haar_basis(rng, n1, r)
    if psd:
        if n1 != n2:
            raise ValueError(f"PSD ground truth needs n1 == n2, got {n1} and {n2}")
        v = u
    else:
        v = haar_basis(rng, n2, r)
    return u, v, (u * sigma) @ v.T


def operator_bytes(batch: int, m: int, n_entries: int) -> int:
    """Bytes of a dense float64 operator of shape ``(batch, m, n_entries)``: ``8 B m n1 n2``."""
    return 8 * batch * m * n_entries


def check_operator_size(batch: int, m: int, n_entries: int, max_gb: float) -> None:
    """Raise `ValueError` naming the size if a ``(batch, m, n_entries)`` float64 array exceeds
    ``max_gb`` GB (brief §2.7, pitfall "operator memory")."""
    size = operator_bytes(batch, m, n_entries)
    if size > max_gb * 1e9:
        raise ValueError(
            f"sensing operator of shape ({batch}, {m}, {n_entries}) needs {size / 1e9:.2f} GB "
            f"of float64, above max_operator_gb = {max_gb:g} GB; lower the batch or raise the "
            f"limit (brief §2.7 lists row-block regeneration, float32 and GPU as alternatives)"
        )


def max_batch(m: int, n_entries: int, max_gb: float, wanted: int) -> int:
    """Largest batch ``<= wanted`` whose operator fits in ``max_gb`` GB; raises if not even one."""
    check_operator_size(1, m, n_entries, max_gb)
    return max(1, min(wanted, int(max_gb * 1e9 // operator_bytes(1, m, n_entries))))


def gaussian_operator(
    rngs: Sequence[np.random.Generator], m: int, n1: int, n2: int, *, max_gb: float = 4.0
) -> np.ndarray:
    """Gaussian sensing operators, i.i.d. ``N(0, 1/m)`` entries (§2.2), so ``E[A^* A] = I``.

    One generator per batch member; member ``b`` is drawn from ``rngs[b]`` alone, so it does not
    depend on the batch it is drawn in. Returns ``A`` of shape ``(B, m, n1 * n2)``.
    """
    n_entries = n1 * n2
    check_operator_size(len(rngs), m, n_entries, max_gb)
    a = np.empty((len(rngs), m, n_entries))
    for b, rng in enumerate(rngs):
        rng.standard_normal(out=a[b])
    a *= 1.0 / np.sqrt(m)
    return a


def symmetric_operator(
    rngs: Sequence[np.random.Generator], m: int, n: int, *, max_gb: float = 4.0
) -> np.ndarray:
    """Symmetric sensing ``A_k = (G_k + G_k^T) / (2 sqrt(m))``, ``G_k`` i.i.d. ``N(0, 1)`` (§2.2).

    Isotropic on symmetric matrices: ``E <A_k, S>^2 = ||S||_F^2 / m``. Returns ``(B, m, n * n)``.
    """
    check_operator_size(len(rngs), m, n * n, max_gb)
    a = np.empty((len(rngs), m, n * n))
    for b, rng in enumerate(rngs):
        rng.standard_normal(out=a[b])
        g = a[b].reshape(m, n, n)
        g += g.transpose(0, 2, 1)  # numpy buffers the overlapping operand
    a *= 0.5 / np.sqrt(m)
    return a


def forward(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``A(X) = A @ vec(X)``: operators ``(B, m, N)``, matrices ``(B, n1, n2)`` -> ``(B, m)``."""
    return np.matmul(a, x.reshape(x.shape[0], -1, 1))[..., 0]


def adjoint(a: np.ndarray, z: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``A^*(z) = reshape(A^T z)``: operators ``(B, m, N)``, ``z`` ``(B, m)`` -> ``(B, *shape)``."""
    return np.matmul(z[:, None, :], a)[:, 0, :].reshape(z.shape[0], *shape)
