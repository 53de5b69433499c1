"""Overlap ODEs of one-pass SGD, the plateau fixed point and the escape rate (brief §2).

With ``t = steps / N`` and the update ``w_i <- w_i - (gamma / sqrt(N)) Delta lambda_i x``, the
overlaps obey, as N -> infinity (brief §2, "ODEs"),

    dM/dt = -gamma (c M + 2 S_QM)
    dQ/dt = -2 gamma (c Q + 2 S_QQ) + gamma^2 [Q (c^2 + 2 tau2 + sigma^2) + 4 c S_QQ + 8 S3]

with the moments of `initlab.studies.quadratic_escape.model.error_moments`. The gamma^2 term is
the finite-learning-rate (second-order) term; ``second_order=False`` drops it (gradient flow).

The plateau (``Q = q* I``, ``M = 0``) and its linearised escape rate are written for an
orthonormal teacher, ``T = I_p*`` (brief pitfall 8), so ``tr T = tr T^2 = p*``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from .model import error_moments, generalization_error

__all__ = [
    "OdeTrajectory",
    "escape_rate",
    "first_crossing",
    "half_plateau_threshold",
    "plateau_error",
    "plateau_fixed_point",
    "rhs",
    "solve",
]


def rhs(Q, M, T, *, a: float, b: float, gamma: float, sigma: float = 0.0, second_order=True):
    """``(dQ/dt, dM/dt)`` at overlaps Q (p, p), M (p, p*), T (p*, p*) (brief §2, "ODEs")."""
    m = error_moments(Q, M, T, a, b, third=second_order)
    dM = -gamma * (m.c * M + 2.0 * m.S_QM)
    dQ = -2.0 * gamma * (m.c * Q + 2.0 * m.S_QQ)
    if second_order:
        dQ = dQ + gamma**2 * (
            Q * (m.c**2 + 2.0 * m.tau2 + sigma**2) + 4.0 * m.c * m.S_QQ + 8.0 * m.S3
        )
    return dQ, dM


# --- the plateau (T = I) ----------------------------------------------------------------------


def _plateau_drift(q, p, pstar, a, b, gamma, sigma, second_order):
    """dQ/dt / I at ``Q = q I, M = 0, T = I``: the scalar equation of brief §2, phase 1."""
    c = a * p * q - b * pstar
    first = -2.0 * gamma * (c * q + 2.0 * a * q * q)
    if not second_order:
        return first
    tau2 = a * a * p * q * q + b * b * pstar
    return first + gamma**2 * (
        q * (c * c + 2.0 * tau2 + sigma**2) + 4.0 * c * a * q * q + 8.0 * a * a * q**3
    )


def plateau_fixed_point(
    p: int, pstar: int, *, a: float, b: float, gamma: float, sigma: float = 0.0, second_order=True
) -> float:
    """The plateau norm q* (``Q -> q* I`` with ``M = 0``), by `scipy.optimize.brentq`.

    Gradient flow gives ``q* = b p* / (a (p + 2))`` (``p / (p + 2)`` for a = 1/p, b = 1/p*); the
    gamma^2 term raises it (0.713 for p = 4 at gamma = 0.1). The drift is positive below q* and
    negative just above it; at much larger q the cubic gamma^2 term turns it positive again (the
    learning-rate instability), so the bracket ``[0.05 q_gf, q]`` is grown from the
    gradient-flow value until the drift turns negative. Raises if it never does (gamma too large
    for a plateau to exist).
    """
    q_gf = b * pstar / (a * (p + 2))
    if not second_order:
        return q_gf
    args = (p, pstar, a, b, gamma, sigma, second_order)
    lo, hi = 0.05 * q_gf, q_gf
    for _ in range(200):
        if _plateau_drift(hi, *args) < 0:
            return float(brentq(_plateau_drift, lo, hi, args=args, xtol=1e-14, rtol=1e-13))
        hi *= 1.02
    raise ValueError(
        f"no plateau fixed point for p={p}, p*={pstar}, gamma={gamma}: the learning rate is too "
        "large for the norm-learning phase to settle (one-pass SGD diverges)"
    )


def plateau_error(q: float, p: int, pstar: int, *, a: float, b: float) -> float:
    """``eps_g`` at ``Q = q I, M = 0, T = I``: ``(a p q - b p*)^2 / 2 + a^2 p q^2 + b^2 p*``."""
    return 0.5 * (a * p * q - b * pstar) ** 2 + a * a * p * q * q + b * b * pstar


def half_plateau_threshold(p: int, pstar: int, *, b: float) -> float:
    """Half the gradient-flow plateau error, ``(b^2 p*^2 / (p + 2) + b^2 p*) / 2``: t_half is the
    first t with ``eps_g`` below it (``(1/(p+2) + 1/p*) / 2`` for b = 1/p*; brief §2, phase 2)."""
    return 0.5 * (b * b * pstar * pstar / (p + 2) + b * b * pstar)


def escape_rate(
    p: int, pstar: int, *, a: float, b: float, gamma: float, sigma: float = 0.0, second_order=True
) -> float:
    """Linearised growth rate of M at the plateau, ``lambda = 2 gamma b - gamma (c* + 2 a q*)``
    (``lambda_max(T) = 1``); ``2 gamma / p*`` under gradient flow with b = 1/p*."""
    q = plateau_fixed_point(p, pstar, a=a, b=b, gamma=gamma, sigma=sigma, second_order=second_order)
    c = a * p * q - b * pstar
    return 2.0 * gamma * b - gamma * (c + 2.0 * a * q)


# --- trajectories -----------------------------------------------------------------------------


def first_crossing(times: np.ndarray, values: np.ndarray, threshold: float) -> np.ndarray:
    """First time ``values`` falls below ``threshold``, linearly interpolated between samples.

    ``times`` (n,), ``values`` (..., n). Returns (...,); 0 if it starts below, NaN if never.
    """
    values = np.asarray(values, dtype=float)
    below = values < threshold
    out = np.full(values.shape[:-1], np.nan)
    for idx in np.ndindex(out.shape):
        hits = np.flatnonzero(below[idx])
        if hits.size == 0:
            continue
        k = hits[0]
        if k == 0:
            out[idx] = times[0]
            continue
        v0, v1 = values[idx][k - 1], values[idx][k]
        out[idx] = times[k - 1] + (v0 - threshold) / (v0 - v1) * (times[k] - times[k - 1])
    return out


@dataclass(frozen=True)
class OdeTrajectory:
    """A solved trajectory: ``times`` (n,), ``Q`` (n, p, p), ``M`` (n, p, p*), ``eps`` (n,),
    ``t_half`` (first t with eps_g below the threshold, from the solver's event location; NaN if
    never), ``diverged`` (eps_g blew up; later samples are NaN), ``nfev``."""

    times: np.ndarray
    Q: np.ndarray
    M: np.ndarray
    eps: np.ndarray
    t_half: float
    diverged: bool
    nfev: int


def solve(
    Q0: np.ndarray,
    M0: np.ndarray,
    times: np.ndarray,
    *,
    a: float,
    b: float,
    gamma: float,
    sigma: float = 0.0,
    second_order: bool = True,
    T: np.ndarray | None = None,
    threshold: float | None = None,
    method: str = "LSODA",
    rtol: float = 1e-9,
    atol: float = 1e-12,
    blowup: float = 1e6,
) -> OdeTrajectory:
    """Integrate the overlap ODEs from ``(Q0, M0)`` and sample them at ``times`` (n,), from 0.

    ``T`` defaults to ``I_p*``. ``threshold`` (default `half_plateau_threshold`) defines
    ``t_half``, located by an event function rather than read off the grid. The run stops (and
    is flagged ``diverged``) if eps_g exceeds ``blowup`` times its start value plus one.
    ``scipy.integrate.solve_ivp`` with ``method``, ``rtol``, ``atol`` (brief §2: LSODA, 1e-9,
    1e-12); the state is the flattened (Q, M).
    """
    Q0, M0 = np.asarray(Q0, dtype=float), np.asarray(M0, dtype=float)
    p, pstar = M0.shape
    if Q0.shape != (p, p):
        raise ValueError(f"Q0 has shape {Q0.shape}, expected ({p}, {p}) to match M0 {M0.shape}")
    T = np.eye(pstar) if T is None else np.asarray(T, dtype=float)
    times = np.asarray(times, dtype=float)
    if threshold is None:
        threshold = half_plateau_threshold(p, pstar, b=b)
    nq = p * p
    # An exactly orthonormal teacher takes the moments' fast path (T = None means I).
    T_fast = None if np.array_equal(T, np.eye(pstar)) else T
    out = np.empty(nq + p * pstar)

    def unpack(y):
        return y[:nq].reshape(p, p), y[nq:].reshape(p, pstar)

    def f(t, y):
        dQ, dM = rhs(
            *unpack(y), T_fast, a=a, b=b, gamma=gamma, sigma=sigma, second_order=second_order
        )
        out[:nq], out[nq:] = dQ.ravel(), dM.ravel()
        return out.copy()

    diagonal = np.arange(p) * (p + 1)
    trT, trT2 = float(np.trace(T)), float(np.vdot(T, T.T))

    def crossing(t, y):
        # eps_g = c^2/2 + tau2 read off the state (Q symmetric: tr Q^2 = |Q|_F^2)
        yq, ym = y[:nq], y[nq:]
        c = a * y[diagonal].sum() - b * trT
        return 0.5 * c * c + a * a * (yq @ yq) - 2 * a * b * (ym @ ym) + b * b * trT2 - threshold

    crossing.direction = -1.0
    eps0 = float(generalization_error(Q0, M0, T, a, b))
    limit = blowup * (eps0 + 1.0)

    def blew_up(t, y):
        # eps_g grows like (a tr Q)^2 / 2 when the norms blow up: a cheap proxy on the state
        value = 0.5 * (a * y[diagonal].sum()) ** 2
        return limit - value if np.isfinite(value) else -1.0

    blew_up.terminal = True
    sol = solve_ivp(
        f,
        (float(times[0]), float(times[-1])),
        np.concatenate([Q0.ravel(), M0.ravel()]),
        method=method,
        t_eval=times,
        events=[crossing, blew_up],
        rtol=rtol,
        atol=atol,
    )
    if sol.status == -1:
        raise RuntimeError(f"overlap ODE failed: {sol.message}")
    n = sol.t.size
    Y = np.full((times.size, nq + p * pstar), np.nan)
    Y[:n] = sol.y.T
    Q, M = Y[:, :nq].reshape(-1, p, p), Y[:, nq:].reshape(-1, p, pstar)
    eps = generalization_error(Q, M, T, a, b)
    if eps0 < threshold:
        t_half = float(times[0])
    elif sol.t_events[0].size:
        t_half = float(sol.t_events[0][0])
    else:
        t_half = float("nan")
    return OdeTrajectory(times, Q, M, eps, t_half, bool(sol.status == 1), int(sol.nfev))
