"""Batched factorised solvers for matrix sensing (brief §2.3, §2.5, §2.6).

Every solver runs a batch of ``B`` independent problems at once: the operators ``a`` have shape
``(B, m, n1*n2)``, measurements ``y`` ``(B, m)``, ground truths ``x_star`` ``(B, n1, n2)`` and
factors ``(B, n, r)``. Updates are simultaneous (both factors use the old pair).

A batch member stops when ``rel_err < eps`` (converged) or when it diverges (``rel_err``
non-finite or above `DIVERGENCE_THRESHOLD`, or a singular ``r x r`` system); stopped members are
removed from the working arrays and the loop ends when none is active (brief §7, "batched
trials"). ``rel_err_t`` is evaluated before the ``t``-th update, ``t = 0`` being the initial point.

Solvers
-------
`scaled_gd`      ScaledGD / ScaledGD(lambda): ``L+ = L - eta Z R (R^T R + lam I)^{-1}``, ...
`gd`             GD: ``L+ = L - (eta / sigma1) Z R``, ``R+ = R - (eta / sigma1) Z^T L``
`scaled_gd_psd`  PSD ScaledGD: ``L+ = L - eta Z L (L^T L + lam I)^{-1}``
`gd_psd`         PSD GD: ``L+ = L - (eta / sigma1) Z L``
`rgd`            Riemannian GD with exact line search on rank-r matrices (report-only baseline)

with ``Z = A^*(A(L R^T) - y)`` (brief §2.3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .problem import adjoint, forward

__all__ = [
    "DIVERGENCE_THRESHOLD",
    "Trace",
    "gd",
    "gd_psd",
    "gd_psd_step",
    "gd_step",
    "relative_error",
    "rgd",
    "rgd_step",
    "scaled_gd",
    "scaled_gd_psd",
    "scaled_gd_psd_step",
    "scaled_gd_step",
]

#: A run whose relative error exceeds this (or is not finite) is recorded as diverged (§2.6).
DIVERGENCE_THRESHOLD = 1e3


@dataclass(frozen=True)
class Trace:
    """What a batched solver returns; ``B`` is the batch size.

    rel_err : (B, t_max + 1) relative error per iteration, NaN after the member stopped.
    iters_to_eps : (B,) int64, first ``t`` with ``rel_err_t < eps``, -1 if not reached.
    diverged : (B,) bool.
    init_err : (B,) ``rel_err_0``.
    final_err : (B,) the last recorded ``rel_err``.
    cpu_s : (B,) CPU seconds of the iteration loop attributed to each member (see `_iterate`).
    """

    rel_err: np.ndarray
    iters_to_eps: np.ndarray
    diverged: np.ndarray
    init_err: np.ndarray
    final_err: np.ndarray
    cpu_s: np.ndarray


def relative_error(x: np.ndarray, x_star: np.ndarray) -> np.ndarray:
    """``||X - X*||_F / ||X*||_F`` per batch member: (B, n1, n2) x2 -> (B,) (brief §2.6)."""
    return np.linalg.norm(x - x_star, axis=(1, 2)) / np.linalg.norm(x_star, axis=(1, 2))


def _times_inverse(m: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``M K^{-1}`` for symmetric ``K`` (B, r, r) and ``M`` (B, n, r), by ``solve`` (no inverse).

    A member whose ``K`` is singular gets NaN, which the loop then records as diverged (§7).
    """
    mt = m.transpose(0, 2, 1)
    try:
        return np.linalg.solve(k, mt).transpose(0, 2, 1)
    except np.linalg.LinAlgError:
        out = np.full_like(mt, np.nan)
        for b in range(k.shape[0]):
            try:
                out[b] = np.linalg.solve(k[b], mt[b])
            except np.linalg.LinAlgError:
                pass
        return out.transpose(0, 2, 1)


def _per_member(value, batch: int) -> np.ndarray:
    """A scalar or (B,) parameter as a float array of shape (B,)."""
    return np.broadcast_to(np.asarray(value, dtype=float), (batch,)).copy()


def _residual_gradient(a: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``Z = A^*(A(X) - y)``, shape of ``x`` (brief §2.3)."""
    return adjoint(a, forward(a, x) - y, x.shape[1:])


def scaled_gd_step(a, y, left, right, *, eta, lam=0.0, x=None):
    """One ScaledGD(lambda) update (brief §2.5; Tong-Ma-Chi, Xu-Shen-Chi-Ma).

    ``L+ = L - eta Z R (R^T R + lam I)^{-1}``, ``R+ = R - eta Z^T L (L^T L + lam I)^{-1}``.
    ``left`` (B, n1, r), ``right`` (B, n2, r), ``lam`` scalar or (B,); ``x = L R^T`` if given.
    Returns ``(L+, R+)``.
    """
    if x is None:
        x = left @ right.transpose(0, 2, 1)
    z = _residual_gradient(a, y, x)
    damp = _per_member(lam, left.shape[0])[:, None, None] * np.eye(left.shape[2])
    new_left = left - eta * _times_inverse(z @ right, right.transpose(0, 2, 1) @ right + damp)
    new_right = right - eta * _times_inverse(
        z.transpose(0, 2, 1) @ left, left.transpose(0, 2, 1) @ left + damp
    )
    return new_left, new_right


def gd_step(a, y, left, right, *, eta, sigma1, x=None):
    """One GD update ``L+ = L - (eta/sigma1) Z R``, ``R+ = R - (eta/sigma1) Z^T L`` (§2.5).

    ``sigma1`` scalar or (B,): sigma_1(X*) (oracle) or sigma_1(A^*(y)). Returns ``(L+, R+)``.
    """
    if x is None:
        x = left @ right.transpose(0, 2, 1)
    z = _residual_gradient(a, y, x)
    step = (eta / _per_member(sigma1, left.shape[0]))[:, None, None]
    return left - step * (z @ right), right - step * (z.transpose(0, 2, 1) @ left)


def scaled_gd_psd_step(a, y, left, *, eta, lam=0.0, x=None):
    """One PSD ScaledGD update ``L+ = L - eta Z L (L^T L + lam I)^{-1}`` (§2.5), ``Z`` symmetric,
    the gradient of ``1/4 ||A(L L^T) - y||^2`` being ``Z L``. ``left`` (B, n, r) -> (B, n, r)."""
    if x is None:
        x = left @ left.transpose(0, 2, 1)
    z = _residual_gradient(a, y, x)
    damp = _per_member(lam, left.shape[0])[:, None, None] * np.eye(left.shape[2])
    return left - eta * _times_inverse(z @ left, left.transpose(0, 2, 1) @ left + damp)


def gd_psd_step(a, y, left, *, eta, sigma1, x=None):
    """One PSD GD update ``L+ = L - (eta / sigma1) Z L`` (§2.5). ``left`` (B, n, r)."""
    if x is None:
        x = left @ left.transpose(0, 2, 1)
    z = _residual_gradient(a, y, x)
    return left - (eta / _per_member(sigma1, left.shape[0]))[:, None, None] * (z @ left)


def _svd_rank(x: np.ndarray, r: int):
    """Rank-r truncated SVD ``(U (B,n1,r), S (B,r), V (B,n2,r))``; NaN for a failed member."""
    try:
        u, s, vt = np.linalg.svd(x, full_matrices=False)
    except np.linalg.LinAlgError:
        u = np.full(x.shape[:2] + (min(x.shape[1:]),), np.nan)
        s = np.full((x.shape[0], min(x.shape[1:])), np.nan)
        vt = np.full((x.shape[0], min(x.shape[1:]), x.shape[2]), np.nan)
        for b in range(x.shape[0]):
            try:
                u[b], s[b], vt[b] = np.linalg.svd(x[b], full_matrices=False)
            except np.linalg.LinAlgError:
                pass
    return u[:, :, :r], s[:, :r], vt[:, :r, :].transpose(0, 2, 1)


def _rgd_product(state):
    u, s, v = state
    return (u * s[:, None, :]) @ v.transpose(0, 2, 1)


def rgd_step(a, y, u, s, v, *, x=None):
    """One Riemannian GD step with exact line search (brief §2.5; Wei-Cai-Chan-Leung).

    ``X = U diag(S) V^T`` with ``u`` (B, n1, r), ``s`` (B, r), ``v`` (B, n2, r).
    ``G = A^*(A(X) - y)``, ``P_T G = U U^T G + G V V^T - U U^T G V V^T``,
    ``alpha = ||P_T G||_F^2 / ||A(P_T G)||^2``, ``X+ = H_r(X - alpha P_T G)``.
    Returns ``(U+, S+, V+)``.
    """
    if x is None:
        x = _rgd_product((u, s, v))
    g = _residual_gradient(a, y, x)
    ut, vt = u.transpose(0, 2, 1), v.transpose(0, 2, 1)
    ug = u @ (ut @ g)
    pg = ug + (g @ v) @ vt - (ug @ v) @ vt
    alpha = np.sum(pg**2, axis=(1, 2)) / np.sum(forward(a, pg) ** 2, axis=1)
    return _svd_rank(x - alpha[:, None, None] * pg, u.shape[2])


def _iterate(
    step: Callable,
    product: Callable,
    state: tuple[np.ndarray, ...],
    data: dict[str, np.ndarray],
    x_star: np.ndarray,
    eps: float,
    t_max: int,
) -> Trace:
    """Run ``state <- step(state, X, data)`` for up to ``t_max`` updates on the active members.

    ``product(state)`` is the current estimate ``X`` (B', n1, n2); every entry of ``state`` and
    ``data`` has the working batch as its leading dimension and is compacted when members stop.

    CPU time: `time.process_time` around the loop (all threads of the process) is split among
    the members in proportion to the number of iterations each was active for, since every
    active member costs the same per iteration; for equal iteration counts this is total / B.
    """
    batch = x_star.shape[0]
    rel_err = np.full((batch, t_max + 1), np.nan)
    iters = np.full(batch, -1, dtype=np.int64)
    diverged = np.zeros(batch, dtype=bool)
    evaluations = np.zeros(batch)
    index = np.arange(batch)  # original batch position of each working member
    norm_star = np.linalg.norm(x_star, axis=(1, 2))
    start = time.process_time()
    with np.errstate(all="ignore"):
        for t in range(t_max + 1):
            x = product(state)
            err = np.linalg.norm(x - x_star, axis=(1, 2)) / norm_star
            rel_err[index, t] = np.where(np.isinf(err), np.nan, err)  # never store inf
            evaluations[index] += 1
            converged = err < eps
            bad = ~np.isfinite(err) | (err > DIVERGENCE_THRESHOLD)
            iters[index[converged]] = t
            diverged[index[bad]] = True
            keep = ~(converged | bad)
            if t == t_max or not keep.any():
                break
            if not keep.all():
                index, x, x_star, norm_star = index[keep], x[keep], x_star[keep], norm_star[keep]
                state = tuple(s[keep] for s in state)
                data = {k: v[keep] for k, v in data.items()}
            state = step(state, x, data)
    total = time.process_time() - start
    last = np.where(np.isnan(rel_err), -1, np.arange(t_max + 1)).max(axis=1)
    return Trace(
        rel_err=rel_err,
        iters_to_eps=iters,
        diverged=diverged,
        init_err=rel_err[:, 0].copy(),
        final_err=rel_err[np.arange(batch), last],
        cpu_s=total * evaluations / evaluations.sum(),
    )


def scaled_gd(a, y, x_star, left, right, *, eta, lam=0.0, eps, t_max) -> Trace:
    """Batched ScaledGD(lambda) from ``(left, right)`` (brief §2.5); ``lam`` scalar or (B,),
    ``lam = 0`` is plain ScaledGD. Shapes: see the module docstring."""
    batch = left.shape[0]

    def step(state, x, d):
        return scaled_gd_step(d["a"], d["y"], *state, eta=eta, lam=d["lam"], x=x)

    data = {"a": a, "y": y, "lam": _per_member(lam, batch)}
    return _iterate(step, _factor_product, (left, right), data, x_star, eps, t_max)


def gd(a, y, x_star, left, right, *, eta, sigma1, eps, t_max) -> Trace:
    """Batched GD with step ``eta / sigma1`` (brief §2.5); ``sigma1`` scalar or (B,)."""
    batch = left.shape[0]

    def step(state, x, d):
        return gd_step(d["a"], d["y"], *state, eta=eta, sigma1=d["sigma1"], x=x)

    data = {"a": a, "y": y, "sigma1": _per_member(sigma1, batch)}
    return _iterate(step, _factor_product, (left, right), data, x_star, eps, t_max)


def scaled_gd_psd(a, y, x_star, left, *, eta, lam=0.0, eps, t_max) -> Trace:
    """Batched PSD ScaledGD(lambda) on ``X = L L^T``, ``left`` (B, n, r) (brief §2.5)."""
    batch = left.shape[0]

    def step(state, x, d):
        return (scaled_gd_psd_step(d["a"], d["y"], state[0], eta=eta, lam=d["lam"], x=x),)

    data = {"a": a, "y": y, "lam": _per_member(lam, batch)}
    return _iterate(step, _gram, (left,), data, x_star, eps, t_max)


def gd_psd(a, y, x_star, left, *, eta, sigma1, eps, t_max) -> Trace:
    """Batched PSD GD on ``X = L L^T`` with step ``eta / sigma1`` (brief §2.5)."""
    batch = left.shape[0]

    def step(state, x, d):
        return (gd_psd_step(d["a"], d["y"], state[0], eta=eta, sigma1=d["sigma1"], x=x),)

    data = {"a": a, "y": y, "sigma1": _per_member(sigma1, batch)}
    return _iterate(step, _gram, (left,), data, x_star, eps, t_max)


def rgd(a, y, x_star, left, right, *, eps, t_max) -> Trace:
    """Batched RGD with exact line search from ``X0 = H_r(L R^T)`` (brief §2.5, report-only).

    From the spectral factors ``L0 R0^T = U0 S0 V0^T`` exactly, as the brief prescribes.
    """
    state = _svd_rank(left @ right.transpose(0, 2, 1), left.shape[2])

    def step(state, x, d):
        return rgd_step(d["a"], d["y"], *state, x=x)

    return _iterate(step, _rgd_product, state, {"a": a, "y": y}, x_star, eps, t_max)


def _factor_product(state):
    left, right = state
    return left @ right.transpose(0, 2, 1)


def _gram(state):
    return state[0] @ state[0].transpose(0, 2, 1)
