"""The linear family: block-alternating EM on theta and Riemannian Armijo ascent on W (brief §2).

One outer iteration, for R independent starts at once:

1. E-step at (W, theta): responsibilities gamma of the penalised model (`gmm.evaluate`).
2. M-step on Z = X W (`gmm.m_step`): Sigma_k = S_k + eps I.
3. ``riem_steps`` (3) Riemannian ascent steps on W with theta fixed; gamma is recomputed at the
   current W each step:
   - Euclidean gradient of l_eps / n: G = -(1/n) sum_ik gamma_ik x_i (z_i - mu_k)^T Sigma_k^{-1};
   - Riemannian gradient xi = G - W sym(W^T G);
   - Armijo: from eta_0, halve eta until l_eps(qf(W + eta xi))/n >= l_eps(W)/n + 1e-4 eta ||xi||_F^2;
     if eta falls below 1e-6 the start keeps its W (the failed trial is never accepted, brief §7).

EM and accepted Armijo steps never lower l_eps, so the recorded penalised trace is monotone up to
rounding (claim A-monotone). Starts are independent; they are processed in chunks whose largest
array, (R, K, n, d) floats, stays under ``max_floats``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import gmm, stiefel

__all__ = ["ARMIJO_C", "ETA_MIN", "FitResult", "euclidean_gradient", "fit", "objective"]

#: Armijo sufficient-increase constant and the smallest step tried (brief §2).
ARMIJO_C = 1e-4
ETA_MIN = 1e-6


def _gradient(x: np.ndarray, ev: gmm.Evaluation, mix: gmm.Mixture) -> np.ndarray:
    """G (R, p, d) from an evaluation at W: (z - mu_k) Sigma_k^{-1} = y linv."""
    a = np.einsum("rkn,rkne->rne", ev.gamma, ev.y @ mix.linv)
    return -(x.T @ a) / x.shape[0]


def objective(x: np.ndarray, w: np.ndarray, mix: gmm.Mixture, *, plain: bool = False) -> np.ndarray:
    """l_eps / n (or the plain l / n) at W (R, p, d) with theta fixed, per start (R,)."""
    ev = gmm.evaluate(x @ w, mix)
    return (ev.ll_plain if plain else ev.ll_pen) / x.shape[0]


def euclidean_gradient(x: np.ndarray, w: np.ndarray, mix: gmm.Mixture) -> np.ndarray:
    """Euclidean gradient of l_eps / n with respect to W (R, p, d), theta fixed."""
    return _gradient(x, gmm.evaluate(x @ w, mix), mix)


@dataclass
class FitResult:
    """Outcome of `fit` for R starts.

    ``w`` (R, p, d) final projections; ``mix`` the final GMM; ``trace_pen`` and ``trace_plain``
    (R, T + 1): l_eps / n and plain l / n at iteration 0 (the initial (W_0, theta_0), after the
    first E-step) and after every outer iteration; ``labels0`` and ``labels`` (R, n): argmax gamma
    at iteration 0 and at the end; ``orth_err`` (R,): max over every accepted update of
    ||W^T W - I||_F; ``min_increase`` (R,): min over outer iterations of the total (not per
    point) change of l_eps; ``line_search_failures`` (R,): Armijo searches that kept W.
    """

    w: np.ndarray
    mix: gmm.Mixture
    trace_pen: np.ndarray
    trace_plain: np.ndarray
    labels0: np.ndarray
    labels: np.ndarray
    orth_err: np.ndarray
    min_increase: np.ndarray
    line_search_failures: np.ndarray


def _armijo(x, w, xi, mix, ev, eta0):
    """One batched Armijo step; returns the new W and its evaluation, and the failure mask."""
    n = x.shape[0]
    f0 = ev.ll_pen / n
    sq = (xi**2).sum(axis=(-2, -1))
    eta = np.full(len(w), float(eta0))
    w_new = w.copy()
    new = gmm.Evaluation(ev.ll_pen.copy(), ev.ll_plain.copy(), ev.gamma.copy(), ev.y.copy())
    failed = np.zeros(len(w), dtype=bool)
    active = np.arange(len(w))
    while active.size:
        trial = stiefel.retract(w[active], xi[active], eta[active])
        sub = mix.take(active)
        ev_t = gmm.evaluate(x @ trial, sub, plain=False)
        ok = ev_t.ll_pen / n >= f0[active] + ARMIJO_C * eta[active] * sq[active]
        acc = active[ok]
        w_new[acc] = trial[ok]
        new.ll_pen[acc], new.ll_plain[acc] = ev_t.ll_pen[ok], ev_t.ll_plain[ok]
        new.gamma[acc], new.y[acc] = ev_t.gamma[ok], ev_t.y[ok]
        rest = active[~ok]
        eta[rest] *= 0.5
        give_up = eta[rest] < ETA_MIN
        failed[rest[give_up]] = True
        active = rest[~give_up]
    return w_new, new, failed


def _fit_chunk(x, w, mix, *, eta0, outer_iters, riem_steps):
    n = x.shape[0]
    r = len(w)
    trace_pen = np.empty((r, outer_iters + 1))
    trace_plain = np.empty((r, outer_iters + 1))
    orth = stiefel.orth_error(w)
    failures = np.zeros(r, dtype=np.int64)
    ev = gmm.evaluate(x @ w, mix)
    labels0 = ev.gamma.argmax(axis=1)
    trace_pen[:, 0], trace_plain[:, 0] = ev.ll_pen / n, ev.ll_plain / n
    last = ev.ll_pen.copy()
    min_inc = np.full(r, np.inf)
    for t in range(1, outer_iters + 1):
        mix = gmm.m_step(x @ w, ev.gamma, mix.eps, previous=mix)
        ev = gmm.evaluate(x @ w, mix, plain=False)
        for _ in range(riem_steps):
            xi = stiefel.riemannian_gradient(w, _gradient(x, ev, mix))
            w, ev, failed = _armijo(x, w, xi, mix, ev, eta0)
            failures += failed
            orth = np.maximum(orth, stiefel.orth_error(w))
        trace_pen[:, t] = ev.ll_pen / n
        trace_plain[:, t] = gmm.evaluate(x @ w, mix).ll_plain / n
        min_inc = np.minimum(min_inc, ev.ll_pen - last)
        last = ev.ll_pen.copy()
    if not np.isfinite(trace_pen).all():
        raise FloatingPointError("manifold_gmm: the objective became non-finite (diverged)")
    return w, mix, trace_pen, trace_plain, labels0, ev.gamma.argmax(axis=1), orth, min_inc, failures


def fit(
    x: np.ndarray,
    w0: np.ndarray,
    mix0: gmm.Mixture,
    *,
    eta0: float,
    outer_iters: int,
    riem_steps: int = 3,
    max_floats: float = 5e7,
) -> FitResult:
    """Fit R starts of the linear family on whitened data ``x`` (n, p).

    ``w0`` (R, p, d) on St(p, d); ``mix0`` the R initial GMMs on ``x @ w0``; ``eta0`` the first
    Armijo step (0.5 synthetic, 0.3 digits/MNIST); ``outer_iters`` T (40 synthetic, 60 real).
    """
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("manifold_gmm: the data contain NaN or infinite values")
    w0 = np.asarray(w0, dtype=np.float64)
    if w0.ndim != 3 or w0.shape[1] != x.shape[1]:
        raise ValueError(f"w0 must be (R, p={x.shape[1]}, d), got {w0.shape}")
    if float(stiefel.orth_error(w0).max()) > 1e-8:
        raise ValueError("w0 must lie on the Stiefel manifold (W^T W = I)")
    r, k, d = len(w0), mix0.pi.shape[1], w0.shape[2]
    per_start = k * x.shape[0] * d
    chunk = max(1, int(max_floats // per_start))
    parts = []
    for lo in range(0, r, chunk):
        idx = np.arange(lo, min(r, lo + chunk))
        parts.append(
            _fit_chunk(
                x,
                w0[idx],
                mix0.take(idx),
                eta0=eta0,
                outer_iters=outer_iters,
                riem_steps=riem_steps,
            )
        )
    cat = [np.concatenate([p[i] for p in parts]) for i in (0, 2, 3, 4, 5, 6, 7, 8)]
    mixes = [p[1] for p in parts]
    mix = gmm.Mixture(
        np.concatenate([m.pi for m in mixes]),
        np.concatenate([m.mu for m in mixes]),
        np.concatenate([m.sigma for m in mixes]),
        mix0.eps,
    )
    w, trace_pen, trace_plain, labels0, labels, orth, min_inc, failures = cat
    return FitResult(w, mix, trace_pen, trace_plain, labels0, labels, orth, min_inc, failures)
