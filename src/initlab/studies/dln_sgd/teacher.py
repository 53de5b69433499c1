"""Teacher and online data (brief §2 "Teacher and data").

x ~ N(0, I_d) is drawn fresh at every step; labels are y = T x + sigma eps with eps ~ N(0, I_d)
and a rank-r teacher T = U diag(s_1 > ... > s_r) V^T, where U and V (d x r) are the Q factors of
d x r standard Gaussian matrices. One teacher is shared by all seeds of a seed set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["OnlineData", "check_strengths", "make_teacher"]


def check_strengths(s: Sequence[float]) -> np.ndarray:
    """The singular values as a float array (r,), checked strictly decreasing and positive."""
    s = np.asarray(s, dtype=float)
    if s.ndim != 1 or s.size == 0 or np.any(s <= 0) or np.any(np.diff(s) >= 0):
        raise ValueError(
            f"teacher singular values must be positive and strictly decreasing, got {s}"
        )
    return s


def make_teacher(rng: np.random.Generator, d: int, s: Sequence[float]):
    """``(U, V, T)``: U, V (d, r) with orthonormal columns and T = U diag(s) V^T (d, d).

    U is drawn first, then V, each the Q factor of a d x r standard Gaussian matrix (signs fixed
    so that R has a positive diagonal, which makes Q a deterministic function of the draw).
    """
    s = check_strengths(s)
    r = s.size
    if r > d:
        raise ValueError(f"teacher rank r={r} exceeds the input dimension d={d}")
    factors = []
    for _ in range(2):
        q, rr = np.linalg.qr(rng.standard_normal((d, r)))
        factors.append(q * np.sign(np.diag(rr)))
    u, v = factors
    return u, v, (u * s) @ v.T


class OnlineData:
    """Fresh Gaussian samples for S seeds, each seed with its own streams.

    Parameters
    ----------
    x_rngs : one generator per seed for the inputs x.
    noise_rngs : one generator per seed for the label noise eps (a separate stream, so runs that
        differ only in sigma see the same inputs).
    teacher : T (d, d).
    sigma : label-noise standard deviation.
    batch : samples per step B.
    """

    def __init__(self, x_rngs, noise_rngs, teacher: np.ndarray, *, sigma: float, batch: int):
        if len(x_rngs) != len(noise_rngs):
            raise ValueError("one input and one noise generator per seed")
        self.x_rngs, self.noise_rngs = list(x_rngs), list(noise_rngs)
        self.teacher = np.asarray(teacher, dtype=float)
        self.sigma, self.batch = float(sigma), int(batch)

    def draw(self, n_steps: int):
        """Inputs and labels of ``n_steps`` steps: ``x, y`` of shape (n_steps, S, d, B)."""
        d, b = self.teacher.shape[1], self.batch
        x = np.stack([g.standard_normal((n_steps, d, b)) for g in self.x_rngs], axis=1)
        y = np.einsum("ij,tsjb->tsib", self.teacher, x, optimize=False)
        if self.sigma > 0:
            eps = np.stack([g.standard_normal((n_steps, d, b)) for g in self.noise_rngs], axis=1)
            y += self.sigma * eps
        return x, y
