"""The equiangular (simplex) reduction and its mean ODE (brief §2.4).

At an equiangular configuration G = (1 - rho) I + rho 11^T let p(rho) = E<a_i, a_j> (i != j) and
q(rho) = E||a_i||^2. Inserting C_ij = (w^2/d)((1 - rho) p + rho), C_ii = (w^2/d)((1 - rho) q + rho)
into the Gram drift of `limits.gram_drift` gives the mean ODE, accurate for large d,

    d rho/dt = (w^2/d) (1 - rho) [(d - 2 + rho^2) p - (d - 1) rho q + rho (d - 2 - rho)].

(The brief writes it for w = 1; the factor w^2 comes from C.) At beta = 0, p = q = 1/n and
d rho/dt = (w^2/d)(1 - rho)(d - 2 - rho)(1 + (n - 1) rho)/n, so from rho0 = 0,
T½ ≈ (d/(d-2)) ln(n+1). For beta > 0, p and q are tabulated by Monte Carlo on a rho grid and
interpolated linearly. The mean ODE ignores fluctuations; at beta >= 3 it overestimates rho_bar.
"""

from __future__ import annotations

import math

import numpy as np

from .model import score_factor, softmax

__all__ = [
    "PQTable",
    "beta0_t_half",
    "equiangular_factor",
    "pq_at",
    "pq_table",
    "score_products",
    "simplex_ode",
    "simplex_rhs",
]


def equiangular_factor(n: int, rho: float) -> np.ndarray:
    """F (n, n) with F F^T = (1 - rho) I + rho 11^T, F = U diag(sqrt(lambda))."""
    gram = (1.0 - rho) * np.eye(n) + rho * np.ones((n, n))
    lam, u = np.linalg.eigh(gram)
    return u * np.sqrt(np.clip(lam, 0.0, None))


def score_products(n: int, d: int, rng: np.random.Generator, draws: int, *, w: float = 1.0):
    """``draws`` samples of Z_Q^T Z_K (draws, n, n), Z_Q, Z_K (d, n) i.i.d. N(0, w^2/d).

    Sampling trick (brief §2.4): the rows of Q X^T are N(0, (w^2/d) G), so Q X^T = Z F^T with
    F F^T = G, and the scores are sigma F (Z_Q^T Z_K) F^T. No d-dimensional tokens are needed (any
    d, n), and one set of products serves every rho of a table (common random numbers along the
    grid, which keeps the interpolated table smooth).
    """
    s = w / math.sqrt(d)
    zq = s * rng.standard_normal((draws, d, n))
    zk = s * rng.standard_normal((draws, d, n))
    return np.swapaxes(zq, -1, -2) @ zk


def _pq_sums(products: np.ndarray, f: np.ndarray, sigma: float) -> tuple[float, float]:
    """Sums over the draws of the per-draw p and q (divide by the number of draws)."""
    n = f.shape[0]
    a = softmax(sigma * (f @ products @ f.T))
    inner = a @ np.swapaxes(a, -1, -2)  # <a_i, a_j>
    diag = np.diagonal(inner, axis1=-2, axis2=-1)
    q = float(diag.mean(axis=-1).sum())
    p = float((inner.sum(axis=(-2, -1)) - diag.sum(axis=-1)).sum() / (n * (n - 1)))
    return p, q


def _chunks(draws: int, n: int, budget: int = 1 << 22):
    """Split ``draws`` into chunks of about ``budget`` n x n entries (memory for large n)."""
    size = max(1, budget // (n * n))
    return [min(size, draws - i) for i in range(0, draws, size)]


def pq_at(
    n: int,
    d: int,
    beta: float,
    rho: float,
    rng: np.random.Generator,
    draws: int,
    *,
    w: float = 1.0,
    score_scale: str = "beta-sqrt-d",
) -> tuple[float, float]:
    """Monte Carlo (p, q) at the equiangular configuration with overlap ``rho`` (see
    `score_products`)."""
    p, q = _table(n, d, beta, np.array([rho]), rng, draws, w, score_scale)[0]
    return float(p), float(q)


def _table(n, d, beta, grid, rng, draws, w, score_scale) -> np.ndarray:
    """(p, q) at every rho of ``grid``, (G, 2); the same draws serve every grid point."""
    sigma = float(score_factor(beta, d, score_scale))
    factors = [equiangular_factor(n, r) for r in grid]
    sums = np.zeros((len(grid), 2))
    for size in _chunks(draws, n):
        products = score_products(n, d, rng, size, w=w)
        for k, f in enumerate(factors):
            sums[k] += _pq_sums(products, f, sigma)
    return sums / draws


class PQTable:
    """Tabulated p(rho), q(rho), linearly interpolated (clamped at the grid ends)."""

    def __init__(self, rho: np.ndarray, p: np.ndarray, q: np.ndarray):
        self.rho, self.p, self.q = (np.asarray(v, dtype=float) for v in (rho, p, q))
        if not (self.rho.ndim == 1 and self.rho.size >= 2 and np.all(np.diff(self.rho) > 0)):
            raise ValueError("PQTable needs an increasing rho grid of at least two points")

    def __call__(self, rho: float) -> tuple[float, float]:
        return float(np.interp(rho, self.rho, self.p)), float(np.interp(rho, self.rho, self.q))

    @classmethod
    def uniform_attention(cls, n: int) -> PQTable:
        """beta = 0: p = q = 1/n exactly."""
        return cls(np.array([-1.0, 1.0]), np.full(2, 1.0 / n), np.full(2, 1.0 / n))


def pq_table(
    n: int,
    d: int,
    beta: float,
    rho0: float,
    rng: np.random.Generator,
    *,
    points: int = 28,
    draws: int = 400,
    rho_max: float = 0.995,
    w: float = 1.0,
    score_scale: str = "beta-sqrt-d",
) -> PQTable:
    """p, q on ``points`` equally spaced rho in [min(rho0, 0), rho_max]; the same ``draws`` (Q, K)
    draws serve every grid point."""
    grid = np.linspace(min(rho0, 0.0), rho_max, points)
    pq = _table(n, d, beta, grid, rng, draws, w, score_scale)
    return PQTable(grid, pq[:, 0], pq[:, 1])


def simplex_rhs(rho: float, p: float, q: float, d: int, w: float = 1.0) -> float:
    """d rho/dt of the mean ODE at overlap ``rho`` given p and q."""
    return (w * w / d) * (1 - rho) * ((d - 2 + rho**2) * p - (d - 1) * rho * q + rho * (d - 2 - rho))


def simplex_ode(
    rho0: float, d: int, table: PQTable, times: np.ndarray, *, w: float = 1.0, t_end=None
) -> tuple[np.ndarray, float]:
    """Integrate the mean ODE from ``rho0`` (solve_ivp, RK45, rtol 1e-9).

    Returns rho at ``times`` (R,) and T½ (first time rho = 1/2; NaN if not reached by ``t_end``,
    default ``max(times)``; an equiangular fixed point such as the simplex at beta = 0 never
    reaches it).
    """
    from scipy.integrate import solve_ivp  # imported here: a slow import

    times = np.asarray(times, dtype=float)
    t_end = float(times.max() if t_end is None else max(t_end, times.max()))

    def rhs(_t, y):
        p, q = table(y[0])
        return [simplex_rhs(y[0], p, q, d, w)]

    def half(_t, y):
        return y[0] - 0.5

    half.terminal = False
    half.direction = 1
    sol = solve_ivp(
        rhs, (0.0, t_end), [rho0], t_eval=times, events=half, rtol=1e-9, atol=1e-12
    )
    if not sol.success:
        raise RuntimeError(f"simplex ODE failed: {sol.message}")
    hits = sol.t_events[0]
    t_half = float(hits[0]) if hits.size else (0.0 if rho0 >= 0.5 else float("nan"))
    return sol.y[0], t_half


def beta0_t_half(n: int, d: int) -> float:
    """The brief's large-d estimate of T½ at beta = 0 from rho0 = 0: (d/(d-2)) ln(n+1)."""
    return d / (d - 2) * math.log(n + 1)
