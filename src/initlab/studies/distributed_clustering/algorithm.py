"""DGC-F_rho (Algorithm 1) and centralized gradient clustering CGC (brief §2).

Layout: a batch of S independent runs (seeds) of m users with K centres in R^d.

``x``    (S, m, K, d)  centres, user i's k-th centre ``x[s, i, k]``
``y``    (S, m, N, d)  local data padded to N = N_max points
``mask`` (S, m, N)     True where ``y`` holds a real point

One DGC step, for every user in parallel (brief eq. (4), matrix form per k):
``X_k <- X_k - alpha L X_k - (alpha / rho) G_k`` with ``G_k`` the innovation sums
``sum_{r in C_i(k)} omega(||x_i(k) - y_r||) (x_i(k) - y_r)`` over the nearest-centre cells
(ties to the lowest index). An empty cell contributes no innovation; nothing is divided by a
cluster size. CGC is the same step with m = 1 and L = 0 (and rho = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import losses

__all__ = ["assign", "consensus", "dgc", "dgc_step", "innovation", "objective", "step_loop"]


def assign(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest local centre per point: labels (S, m, N) int, squared distances (S, m, N, K)."""
    d2 = np.einsum("sind,sind->sin", y, y)[..., None] - 2 * (y @ np.swapaxes(x, -1, -2))
    d2 = np.maximum(d2 + np.einsum("sikd,sikd->sik", x, x)[:, :, None, :], 0.0)
    return np.argmin(d2, axis=-1), d2


def innovation(x, y, mask, loss="kmeans", delta=1.0):
    """Innovation sums ``G`` (S, m, K, d) at the nearest-centre assignment of ``x``; also the
    labels (S, m, N) and the per-point loss values (S, m, N) (0 on padding)."""
    labels, d2 = assign(x, y)
    r = np.sqrt(np.take_along_axis(d2, labels[..., None], axis=-1)[..., 0])
    w = losses.omega(r, loss, delta) * mask
    onehot = (labels[..., None] == np.arange(x.shape[2])) * w[..., None]  # (S, m, N, K)
    g = onehot.sum(2)[..., None] * x - np.swapaxes(onehot, -1, -2) @ y
    return g, labels, losses.value(r, loss, delta) * mask


def consensus(x: np.ndarray, lap: np.ndarray) -> np.ndarray:
    """``L X_k`` for every k: (S, m, K, d)."""
    s, m, k, d = x.shape
    return (lap @ np.moveaxis(x, 1, 0).reshape(m, -1)).reshape(m, s, k, d).swapaxes(0, 1)


def objective(x, y, mask, lap, rho, loss="kmeans", delta=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Monitored objective ``F`` and ``J_rho`` as written in (2), per run (S,), at the
    nearest-centre assignment. F = 1/2 sum_k tr(X_k^T L X_k) + (1/rho) sum f; J_rho counts
    every edge twice (brief §2 "Monitored objective")."""
    _, _, fvals = innovation(x, y, mask, loss, delta)
    quad = np.einsum("sikd,sikd->s", x, consensus(x, lap))
    inner = fvals.sum((1, 2)) / rho
    return 0.5 * quad + inner, quad + inner


def dgc_step(x, y, mask, lap, *, alpha, rho, loss="kmeans", delta=1.0):
    """One DGC-F_rho iteration (Algorithm 1 steps 1-3); returns the new centres."""
    g, _, _ = innovation(x, y, mask, loss, delta)
    return x - alpha * consensus(x, lap) - (alpha / rho) * g


def step_loop(x, y, mask, lap, *, alpha, rho, steps, loss="kmeans", delta=1.0):
    """``steps`` plain DGC iterations (no recording); used by tests and the benchmark."""
    for _ in range(steps):
        x = dgc_step(x, y, mask, lap, alpha=alpha, rho=rho, loss=loss, delta=delta)
    return x


@dataclass
class Trace:
    """Recorded centres (R, S, m, K, d) at ``iters`` (R,), plus F, J_rho at every recorded step,
    the largest relative increase of F between consecutive steps (S,) and the number of
    empty (user, cluster) cells at the end (S,)."""

    iters: np.ndarray
    centres: np.ndarray
    f: np.ndarray
    j_rho: np.ndarray
    max_rel_increase: np.ndarray
    empty_cells: np.ndarray


def dgc(
    x0, y, mask, lap, *, alpha, rho, steps, record_every=50, loss="kmeans", delta=1.0,
    alpha_bound=None, check_descent=False,
) -> Trace:  # fmt: skip
    """Run DGC-F_rho from ``x0`` for ``steps`` iterations, recording every ``record_every``.

    ``alpha_bound``: if given, ``alpha`` above it raises ValueError (Theorem 1 needs
    alpha < alpha_max). ``check_descent`` evaluates F after every step (slower) to measure the
    largest relative increase [F(x^{t+1}) - F(x^t)] / |F(x^t)|; otherwise it is NaN.
    A non-finite iterate raises FloatingPointError (a diverged run is never written as numbers).
    """
    if not rho >= 1:
        raise ValueError(f"rho must be >= 1, got {rho}")
    if alpha_bound is not None and alpha >= alpha_bound:
        raise ValueError(
            f"step size alpha={alpha:g} is not below the convergence bound alpha_max="
            f"{alpha_bound:.4g} = 1/(beta_f N_max/rho + lambda_max(L)) (brief §2)"
        )
    x = np.array(x0, dtype=float)
    rec_iters, rec_x, rec_f, rec_j = [], [], [], []
    worst = np.full(x.shape[0], -np.inf if check_descent else np.nan)
    f_prev = objective(x, y, mask, lap, rho, loss, delta)[0] if check_descent else None
    for t in range(steps + 1):
        if t % record_every == 0 or t == steps:
            f, j = objective(x, y, mask, lap, rho, loss, delta)
            rec_iters.append(t), rec_x.append(x.copy()), rec_f.append(f), rec_j.append(j)
        if t == steps:
            break
        x = dgc_step(x, y, mask, lap, alpha=alpha, rho=rho, loss=loss, delta=delta)
        if not np.all(np.isfinite(x)):
            raise FloatingPointError(f"DGC diverged at step {t + 1} (alpha={alpha:g}, rho={rho:g})")
        if check_descent:
            f_new = objective(x, y, mask, lap, rho, loss, delta)[0]
            worst = np.maximum(worst, (f_new - f_prev) / np.abs(f_prev))
            f_prev = f_new
    labels, _ = assign(x, y)
    present = (labels[..., None] == np.arange(x.shape[2])) & mask[..., None]
    empty = (~present.any(2)).sum((1, 2))
    return Trace(
        np.asarray(rec_iters), np.stack(rec_x), np.stack(rec_f), np.stack(rec_j), worst, empty
    )


def cgc(x0, y, *, alpha, steps, record_every=50, loss="kmeans", delta=1.0, check_descent=False):
    """Centralized gradient clustering [ICML 2022]: DGC with one node, no edges and rho = 1.

    x0 (S, K, d), y (n, d) the pooled data. Returns a `Trace` with the user axis of size 1.
    """
    x0 = np.asarray(x0, dtype=float)[:, None]
    s = x0.shape[0]
    yy = np.broadcast_to(np.asarray(y, dtype=float)[None, None], (s, 1) + np.shape(y))
    mask = np.ones(yy.shape[:3], dtype=bool)
    return dgc(
        x0, yy, mask, np.zeros((1, 1)), alpha=alpha, rho=1.0, steps=steps,
        record_every=record_every, loss=loss, delta=delta, check_descent=check_descent,
    )  # fmt: skip
