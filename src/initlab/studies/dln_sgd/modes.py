"""One aligned, balanced mode: scalar SGD, the per-mode SDE and gradient flow (brief §2).

Aligned and balanced means W_l = R_{l+1} diag(a) R_l^T with equal a in every layer; a mode's
strength is u = a^L. Gradient flow then obeys du/dt = L u^(2-2/L) (s - u) for each mode.

Scalar SGD (the exact 1-D restriction of SGD, off-diagonal components dropped)
    a <- a - eta a^(L-1) (1/B) sum_b [ (a^L - s) xi_b^2 - eps_b xi_b ],  xi ~ N(0,1), eps ~ N(0, sigma^2).
    Only Q = sum_b xi_b^2 ~ chi^2_B and sum_b eps_b xi_b | xi ~ N(0, sigma^2 Q) enter, so one step
    draws a chi-square and one normal per chain whatever B (the same law as B pairs (xi, eps)).
Per-mode SDE by Euler-Maruyama in the a-coordinate, dt = eta (no Ito term needed there)
    a <- a + eta a^(L-1) (s - a^L) + eta a^(L-1) sqrt(V(a^L) / B) Z,   V(u) = (kappa-1)(s-u)^2 + sigma^2,
    kappa = E xi^4 = 3.

Chains are vectorised: ``a`` and ``s`` are flat arrays (one entry per chain and mode).
"""

from __future__ import annotations

import numpy as np

from .algorithms import BLOWUP

__all__ = [
    "KAPPA",
    "euler_maruyama",
    "gf_learning_time",
    "gf_solution",
    "scalar_sgd",
    "simulate",
]

#: Fourth moment of a standard Gaussian input projection.
KAPPA = 3.0


def _powers(a, depth):
    """``(a^(L-1), a^L)`` by repeated multiplication (exact integer powers, faster than pow)."""
    p = np.ones_like(a)
    for _ in range(depth - 1):
        p = p * a
    return p, p * a


def scalar_sgd(a, s, depth, rng, *, eta, batch, sigma):
    """One step of aligned-balanced scalar SGD for every chain; returns the new ``a``."""
    z = rng.standard_normal(a.shape)
    q = z * z if batch == 1 else 2.0 * rng.standard_gamma(batch / 2, a.shape)
    grow, u = _powers(a, depth)
    force = (u - s) * q
    if sigma:
        force -= sigma * np.sqrt(q) * rng.standard_normal(a.shape)
    a = a - (eta / batch) * grow * force
    return a


def euler_maruyama(a, s, depth, rng, *, eta, batch, sigma):
    """One Euler-Maruyama step (dt = eta) of the per-mode SDE in the a-coordinate."""
    grow, u = _powers(a, depth)
    noise_sd = np.sqrt(((KAPPA - 1) * (s - u) ** 2 + sigma**2) / batch)
    return a + eta * grow * ((s - u) + noise_sd * rng.standard_normal(a.shape))


def simulate(
    a0, s, depth, rng, *, model, eta, batch, sigma, n_steps, snapshot_steps=(), learn_level=None
):
    """Run ``n_steps`` steps of ``model`` ("sgd" or "em") from a0 for every chain.

    Parameters
    ----------
    a0, s : (n,) start values and teacher strengths per chain.
    snapshot_steps : step indices at which u = a^L is stored.
    learn_level : if given (n,), also return the first step at which u >= learn_level per chain
        (-1 if never), checked after every step.

    Returns ``(snapshots (len(snapshot_steps), n), first_step (n,) or None, diverged (n,) bool)``.
    A chain whose |a| exceeds `BLOWUP` or turns non-finite is flagged and kept at NaN.
    """
    step = {"sgd": scalar_sgd, "em": euler_maruyama}[model]
    a = np.array(a0, dtype=float)
    s = np.broadcast_to(np.asarray(s, dtype=float), a.shape)
    snaps = sorted(int(k) for k in snapshot_steps)
    if snaps and (snaps[0] < 0 or snaps[-1] > n_steps):
        raise ValueError(f"snapshot steps must lie in [0, {n_steps}]")
    out = np.full((len(snaps), a.size), np.nan)
    first = None if learn_level is None else np.full(a.size, -1, dtype=np.int64)
    todo = None if learn_level is None else np.ones(a.size, dtype=bool)
    diverged = np.zeros(a.size, dtype=bool)
    j = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(n_steps + 1):
            while j < len(snaps) and snaps[j] == i:
                out[j] = _powers(a, depth)[1]
                j += 1
            if i == n_steps:
                break
            a = step(a, s, depth, rng, eta=eta, batch=batch, sigma=sigma)
            if i % 64 == 63 or i == n_steps - 1:
                bad = ~(np.abs(a) <= BLOWUP)
                if bad.any():
                    diverged |= bad
                    a[bad] = np.nan
            if first is not None:
                hit = todo & (_powers(a, depth)[1] >= learn_level)
                if hit.any():
                    first[hit] = i + 1
                    todo &= ~hit
    return out, first, diverged


def gf_solution(t, u0, s, depth):
    """Gradient flow u(t) of one mode from u0: closed-form logistic for L = 2, RK45 otherwise."""
    t = np.asarray(t, dtype=float)
    if depth == 2:
        e = np.exp(2 * s * t)
        return s * u0 * e / (s - u0 + u0 * e)
    from scipy.integrate import solve_ivp

    sol = solve_ivp(
        lambda _, u: depth * u ** (2 - 2 / depth) * (s - u),
        (0.0, float(t.max())),
        [u0],
        t_eval=t,
        rtol=1e-8,
        atol=1e-14,
    )
    if not sol.success:
        raise RuntimeError(f"gradient flow integration failed: {sol.message}")
    return sol.y[0]


def gf_learning_time(u0: float, s: float, depth: int, fraction: float = 0.9) -> float:
    """Time for gradient flow to reach u = fraction * s from u0.

    L = 2: (ln(f/(1-f)) + ln((s-u0)/u0)) / (2s) exactly (ln 9 at f = 0.9). L >= 3: RK45 with
    rtol 1e-8 and a terminal event at u = fraction * s.
    """
    if not 0 < u0 < fraction * s:
        raise ValueError(f"need 0 < u0 < {fraction} s, got u0={u0}, s={s}")
    if depth == 2:
        return float((np.log(fraction / (1 - fraction)) + np.log((s - u0) / u0)) / (2 * s))
    from scipy.integrate import solve_ivp

    def event(_, u):
        return u[0] - fraction * s

    event.terminal, event.direction = True, 1
    horizon = 10.0 * (u0 ** (-(1 - 2 / depth)) / ((depth - 2) * s) + 1.0 / s)
    sol = solve_ivp(
        lambda _, u: depth * u ** (2 - 2 / depth) * (s - u),
        (0.0, horizon),
        [u0],
        events=event,
        rtol=1e-8,
        atol=1e-14,
    )
    if not sol.t_events[0].size:
        raise RuntimeError(f"gradient flow did not reach {fraction} s by t={horizon:g}")
    return float(sol.t_events[0][0])
