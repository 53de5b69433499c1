"""Homogenised limits of the random Transformer (brief §2.3) and their solvers (§2.7).

Stochastic regime (mu = 0, T = L eta^2 H c_H^2 fixed): the limit SDE in Itô form,

    dx_i = P_i dW_i - (d-1)/2 C_ii(X) x_i dt,   d<W_i^a, W_j^b> = C_ij(X) delta_ab dt,
    C_ij(X) = (w^2/d) E_{Q,K}[a_i^T G a_j],     G = X X^T,  P_i = I - x_i x_i^T,

whose Gram process has drift (d-2+rho_ij^2) C_ij - (d-1)/2 (C_ii + C_jj) rho_ij and quadratic
variation (1-rho_ij^2)(C_ii + C_jj - 2 rho_ij C_ij).

Deterministic regime (mu != 0, T = L eta H c_H mu fixed): the ODE dx_i/dt = P_i m_i(X) with
m_i(X) = E_{Q,K}[sum_j a_ij x_j].

Expectations over (Q, K) are Monte Carlo averages over draws given as standard normals with the
shapes of `model.normal_shape` (the draws take the place of heads).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import WeightStream, attention, normal_shape, record_time
from .statistics import STATS, collapse_stats

__all__ = [
    "PathRecord",
    "covariance",
    "gram_drift",
    "gram_quadratic_variation",
    "mean_direction",
    "ode_heun_step",
    "sde_step",
    "simulate_ode",
    "simulate_sde",
]


def _attn_x(x, zq, zk, *, beta, w, score_scale, sampler):
    """sum_j a_ij x_j for every draw: (..., M, n, d)."""
    a = attention(x, zq, zk, beta=beta, w=w, score_scale=score_scale, sampler=sampler)
    return a @ x[..., None, :, :]


def covariance(
    x: np.ndarray,
    zq: np.ndarray,
    zk: np.ndarray,
    *,
    beta,
    w: float = 1.0,
    score_scale: str = "beta-sqrt-d",
    sampler: str = "direct",
) -> np.ndarray:
    """Monte Carlo C(X) = (w^2/d) mean_m A^(m) G A^(m)T, shape (..., n, n).

    ``x`` (..., n, d); ``zq``, ``zk`` (..., M, d, m): M draws of (Q, K). Unbiased for C, hence for
    the increment covariance of one layer (brief §2.7).
    """
    d = x.shape[-1]
    ax = _attn_x(x, zq, zk, beta=beta, w=w, score_scale=score_scale, sampler=sampler)
    return (w * w / d) * (ax @ np.swapaxes(ax, -1, -2)).mean(axis=-3)


def mean_direction(
    x: np.ndarray,
    zq: np.ndarray,
    zk: np.ndarray,
    *,
    beta,
    w: float = 1.0,
    score_scale: str = "beta-sqrt-d",
    sampler: str = "direct",
) -> np.ndarray:
    """Monte Carlo m_i(X) = E_{Q,K}[sum_j a_ij x_j] over the M draws, shape (..., n, d)."""
    ax = _attn_x(x, zq, zk, beta=beta, w=w, score_scale=score_scale, sampler=sampler)
    return ax.mean(axis=-3)


def gram_drift(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Drift of rho_ij under the limit SDE: (d-2+rho^2) C_ij - (d-1)/2 (C_ii+C_jj) rho_ij (..., n, n)."""
    d = x.shape[-1]
    rho = x @ np.swapaxes(x, -1, -2)
    diag = np.diagonal(c, axis1=-2, axis2=-1)
    return (d - 2 + rho**2) * c - 0.5 * (d - 1) * (diag[..., :, None] + diag[..., None, :]) * rho


def gram_quadratic_variation(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d<M_ij>/dt = (1 - rho_ij^2)(C_ii + C_jj - 2 rho_ij C_ij), shape (..., n, n)."""
    rho = x @ np.swapaxes(x, -1, -2)
    diag = np.diagonal(c, axis1=-2, axis2=-1)
    return (1 - rho**2) * (diag[..., :, None] + diag[..., None, :] - 2 * rho * c)


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    """L with L L^T = C + 1e-12 I: Cholesky, or a symmetric square root where it fails."""
    n = c.shape[-1]
    reg = c + 1e-12 * np.eye(n)
    try:
        return np.linalg.cholesky(reg)
    except np.linalg.LinAlgError:
        lam, u = np.linalg.eigh(0.5 * (reg + np.swapaxes(reg, -1, -2)))
        return u * np.sqrt(np.clip(lam, 0.0, None))[..., None, :]


def sde_step(x: np.ndarray, c: np.ndarray, xi: np.ndarray, dt: float) -> np.ndarray:
    """One Euler–Maruyama step with retraction (brief §2.7).

    dW = sqrt(dt) L_C xi with L_C L_C^T = C + 1e-12 I and xi (..., n, d) standard normal; each row
    projected onto its tangent space; x_i + dW_i - (d-1)/2 C_ii x_i dt, renormalised.
    """
    d = x.shape[-1]
    dw = math.sqrt(dt) * (_sqrt_psd(c) @ xi)
    dw -= np.einsum("...ia,...ia->...i", dw, x)[..., None] * x
    diag = np.diagonal(c, axis1=-2, axis2=-1)[..., None]
    y = x + dw - 0.5 * (d - 1) * dt * diag * x
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


def ode_heun_step(x: np.ndarray, field, dt: float) -> np.ndarray:
    """Heun step of dx_i/dt = P_i v_i(X) with ``field(x) -> v`` (..., n, d), retracting onto the
    sphere after each stage (brief §2.7)."""

    def tangent(y):
        v = field(y)
        return v - np.einsum("...ia,...ia->...i", v, y)[..., None] * y

    def retract(y):
        return y / np.linalg.norm(y, axis=-1, keepdims=True)

    k1 = tangent(x)
    x1 = retract(x + dt * k1)
    k2 = tangent(x1)
    return retract(x + 0.5 * dt * (k1 + k2))


@dataclass
class PathRecord:
    """Records of `simulate_sde` / `simulate_ode`: ``t`` (R,), ``stats[name]`` (R, ...), final ``x``."""

    t: np.ndarray
    stats: dict
    x: np.ndarray


def _record(stats, x):
    for name, v in collapse_stats(x).items():
        stats[name].append(v)


def simulate_sde(
    x0: np.ndarray,
    qk_rngs: Sequence[np.random.Generator],
    noise_rngs: Sequence[np.random.Generator],
    *,
    steps: int,
    dt: float,
    draws: int,
    beta: float,
    w: float = 1.0,
    score_scale: str = "beta-sqrt-d",
    sampler: str = "direct",
    record_every: int = 1,
) -> PathRecord:
    """The limit SDE for P paths from ``x0`` (P, n, d), one (Q,K) and one noise generator per path.

    Each step estimates C from ``draws`` fresh (Q, K) draws per path and takes `sde_step`.
    """
    n, d = x0.shape[-2:]
    m = normal_shape(n, d, 1, sampler)[-1]
    qk = WeightStream(qk_rngs, (2, draws, d, m))
    noise = WeightStream(noise_rngs, (n, d))
    x = np.array(x0, dtype=float)
    stats = {name: [] for name in STATS}
    _record(stats, x)
    times = [0.0]
    for k in range(1, steps + 1):
        z = qk.draw()
        c = covariance(
            x, z[:, 0], z[:, 1], beta=beta, w=w, score_scale=score_scale, sampler=sampler
        )
        x = sde_step(x, c, noise.draw(), dt)
        if k % record_every == 0:
            _record(stats, x)
            times.append(record_time(k // record_every, record_every, dt))
    if not np.all(np.isfinite(x)):
        raise FloatingPointError("the limit SDE produced non-finite tokens")
    return PathRecord(np.asarray(times), {k: np.asarray(v) for k, v in stats.items()}, x)


def simulate_ode(
    x0: np.ndarray,
    rng: np.random.Generator,
    *,
    steps: int,
    dt: float,
    draws: int,
    beta: float,
    w: float = 1.0,
    score_scale: str = "beta-sqrt-d",
    record_every: int = 1,
) -> PathRecord:
    """The deterministic limit dx_i/dt = P_i m_i(X) by Heun from ``x0`` (n, d); m_i from
    ``draws`` fresh (Q, K) draws per evaluation (brief §2.7)."""
    n, d = x0.shape[-2:]

    def field(y):
        z = rng.standard_normal((2, draws, d, d))
        return mean_direction(y, z[0], z[1], beta=beta, w=w, score_scale=score_scale)

    x = np.array(x0, dtype=float)
    stats = {name: [] for name in STATS}
    _record(stats, x)
    times = [0.0]
    for k in range(1, steps + 1):
        x = ode_heun_step(x, field, dt)
        if k % record_every == 0:
            _record(stats, x)
            times.append(record_time(k // record_every, record_every, dt))
    return PathRecord(np.asarray(times), {k: np.asarray(v) for k, v in stats.items()}, x)
