"""The multi-index teacher y = g(U x) (brief §2.1).

x ~ N(0, I_d); U (r, d) has orthonormal rows spanning the task's r-dimensional subspace;
``g(z) = sum_i (z_i^2 - 1)/sqrt(2) + z_1 z_2`` (the cross term only when r >= 2). g is even and
E[hess g] has full rank r; Var(y) = 3 at r = 2 and (r + 1) in general (r >= 2).
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: Rows per chunk when drawing or transforming data (bounds float64 scratch memory).
CHUNK = 1 << 16

__all__ = ["CHUNK", "link", "relative_mse", "sample", "task_subspace", "variance"]


def task_subspace(rng: np.random.Generator, r: int, d: int) -> np.ndarray:
    """U (r, d) with orthonormal rows: U = Q^T, Q from the QR of a d x r standard Gaussian.

    Raises ValueError unless 1 <= r <= d: a teacher with more directions than inputs does not
    exist.
    """
    if not (isinstance(r, (int, np.integer)) and isinstance(d, (int, np.integer))):
        raise TypeError(f"r and d must be integers, got r={r!r}, d={d!r}")
    if d < 1 or r < 1:
        raise ValueError(f"the teacher needs d >= 1 and r >= 1, got d={d}, r={r}")
    if r > d:
        raise ValueError(
            f"the teacher's intrinsic dimension r={r} exceeds the input dimension d={d}; "
            "a multi-index model needs r <= d"
        )
    q, _ = np.linalg.qr(rng.standard_normal((d, r)))
    return np.ascontiguousarray(q.T)


def link(z: torch.Tensor) -> torch.Tensor:
    """g(z) for z (n, r) -> (n,): sum_i (z_i^2 - 1)/sqrt(2) + z_1 z_2 (brief §2.1)."""
    y = ((z * z - 1.0) / math.sqrt(2.0)).sum(dim=1)
    if z.shape[1] >= 2:
        y = y + z[:, 0] * z[:, 1]
    return y


def variance(r: int) -> float:
    """Var(g(z)) for z ~ N(0, I_r): 1 per squared term, 1 for the cross term (r >= 2)."""
    return float(r + (1 if r >= 2 else 0))


def sample(
    rng: np.random.Generator, u: torch.Tensor, n: int, *, dtype=torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` teacher samples: x (n, d) ~ N(0, I_d) and y = g(U x) (n,), on ``u``'s device.

    x is stored in ``dtype`` (float32 halves the memory of paper-scale data, brief §3.2); y and
    U x are computed in float64 from the stored x.
    """
    if n < 1:
        raise ValueError(f"need at least one sample, got n={n}")
    d = u.shape[1]
    x = torch.empty((n, d), dtype=dtype, device=u.device)
    for start in range(0, n, CHUNK):  # bounded float64 scratch at paper scale
        rows = min(CHUNK, n - start)
        x[start : start + rows] = torch.from_numpy(rng.standard_normal((rows, d)))
    y = torch.cat([link(part.to(torch.float64) @ u.T) for part in x.split(CHUNK)])
    return x, y


def relative_mse(prediction: torch.Tensor, y: torch.Tensor) -> float:
    """relMSE = mean (f(x) - y)^2 / Var(y) over the test points (brief §2.1)."""
    return float(((prediction - y) ** 2).mean() / y.var(unbiased=False))
