"""The per-mode diffusion of SGD, in closed form (brief §2 "Closed-form per-mode diffusion").

For any weights (not only aligned ones), let psi_k = grad_theta m_k and g_k = <psi_k, grad_theta l>
the per-sample gradient projected on mode k. Then g_k = r^T J_k x with

    J_k = sum_l (P_l P_l^T u_k)(S_l^T S_l v_k)^T,      r = W_eff x - y = Delta x - sigma eps,

Delta = W_eff - T, and with K_k = Delta^T J_k:

    E g_k = tr K_k,    Var g_k = 2 ||sym K_k||_F^2 + sigma^2 ||J_k||_F^2,    D_k = (eta/B) Var g_k.

This is exact for Gaussian x and eps, so no estimator noise enters (pitfall 4); `projected_gradients`
gives the samples g_k for the Monte Carlo check (E0, claim A0).

In the aligned-balanced case D_k(u) = (eta/B) L^2 u^(4-4/L) [2 (s-u)^2 + sigma^2], which at
sigma = 0 peaks at u* = 2(L-1)/(3L-2) s, the inflection point of the learning curve.
"""

from __future__ import annotations

import numpy as np

from .network import end_to_end, partial_products

__all__ = [
    "aligned_diffusion",
    "critical_noise",
    "empirical_moments",
    "gradient_moments",
    "mode_jacobians",
    "peak_fraction",
    "projected_gradients",
]


def mode_jacobians(weights, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J_k = sum_l (P_l P_l^T u_k)(S_l^T S_l v_k)^T for every mode, shape (N, r, d_out, d_in)."""
    suffix, prefix = partial_products(weights)
    j = 0.0
    for p, q in zip(suffix, prefix):
        left = p @ (p.transpose(0, 2, 1) @ u)  # (N, d_out, r)
        right = q.transpose(0, 2, 1) @ (q @ v)  # (N, d_in, r)
        j = j + np.einsum("nik,njk->nkij", left, right, optimize=False)
    return j


def gradient_moments(weights, teacher, u, v, *, sigma: float):
    """``(mean, var)`` of g_k over fresh (x, eps), each (N, r): tr K_k and 2||sym K_k||^2 +
    sigma^2 ||J_k||^2. Multiply ``var`` by eta/B for the diffusion D_k."""
    j = mode_jacobians(weights, u, v)
    delta = end_to_end(weights) - teacher
    k = np.einsum("nji,nkjl->nkil", delta, j, optimize=False)  # Delta^T J_k
    sym = 0.5 * (k + k.transpose(0, 1, 3, 2))
    var = 2.0 * np.sum(sym**2, axis=(2, 3))
    if sigma:
        var = var + sigma**2 * np.sum(j**2, axis=(2, 3))
    mean = np.einsum("nkii->nk", k)
    return mean, var


def empirical_moments(weights, u, v, x: np.ndarray, y: np.ndarray):
    """``(mean, var)`` of g_k = r^T J_k x over a finite dataset, each (N, r).

    x (N, n, d_in) and y (N, n, d_out) are each network's n samples (inputs and labels); the
    variance is over the samples (ddof = 0), so (eta/B) var is SGD's exact per-mode diffusion when
    it samples the dataset uniformly (the closed form of `gradient_moments` assumes Gaussian x;
    brief pitfall 8).
    """
    j = mode_jacobians(weights, u, v)  # (N, r, d_out, d_in)
    resid = np.einsum("nij,nsj->nsi", end_to_end(weights), x, optimize=False) - y
    g = np.einsum("nsi,nkij,nsj->nsk", resid, j, x, optimize=True)
    return g.mean(axis=1), g.var(axis=1)


def projected_gradients(weights, teacher, u, v, x, eps, *, sigma: float) -> np.ndarray:
    """Samples g_k = r^T J_k x for given inputs x (n, d_in) and label noise eps (n, d_out).

    ``weights`` must hold a single network (N = 1). Returns (n, r).
    """
    j = mode_jacobians(weights, u, v)[0]
    resid = x @ (end_to_end(weights)[0] - teacher).T - sigma * eps
    return np.einsum("ni,kij,nj->nk", resid, j, x, optimize=True)


def aligned_diffusion(u, s, depth: int, *, eta: float, batch: int, sigma: float):
    """D_k(u) = (eta/B) L^2 u^(4-4/L) [2 (s-u)^2 + sigma^2] of an aligned, balanced mode."""
    u = np.asarray(u, dtype=float)
    return eta / batch * depth**2 * u ** (4 - 4 / depth) * (2 * (s - u) ** 2 + sigma**2)


def peak_fraction(depth: int) -> float:
    """u*/s = 2(L-1)/(3L-2): where the sigma = 0 aligned diffusion peaks (0.5, 0.571, 0.6 at
    L = 2, 3, 4), the inflection point of the gradient-flow learning curve."""
    return 2 * (depth - 1) / (3 * depth - 2)


def critical_noise(depth: int) -> float:
    """sigma_crit/s below which the transient peak D(u*) beats the stationary D(s) (brief §2):
    solve 2 (1-z)^2 + x^2 = x^2 / z^(4-4/L) at z = u*/s for x = sigma/s."""
    z = peak_fraction(depth)
    w = z ** (4 - 4 / depth)
    return float(np.sqrt(2 * (1 - z) ** 2 * w / (1 - w)))
