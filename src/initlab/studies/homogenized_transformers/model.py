"""The finite random Transformer as an interacting particle system on the sphere (brief §2.1, §2.7).

Tokens are the rows of ``X`` with shape (..., n, d), each on the unit sphere S^{d-1}; leading
dimensions batch independent systems (seeds, temperatures). One layer with H heads is

    s_ij = sigma * <Q_h x_i, K_h x_j>,   sigma = beta * sqrt(d)   (score scale "beta-sqrt-d")
    a_ij = softmax_j(s_ij),              f_h(x_i) = sum_j a_ij V_h x_j
    x_i <- (x_i + eta * c_H * sum_h f_h(x_i)) / ||.||

with Q_h, K_h, V_h i.i.d. N(0, w^2/d) entries, drawn afresh for every layer and head and **shared
by all tokens** (the common noise); optionally V_h <- mu I + V_h (``v_mean``). The weights enter
only as standard normals ``z`` drawn by the caller (see `WeightStream`), so a layer is a pure
function of arrays.

Samplers (brief §2.7)
    ``direct``  z has shape (..., H, 3, d, d): z[..., h, 0, :, :] is sqrt(d)/w * Q_h, etc.
    ``fast``    z has shape (..., H, 3, d, k), k = min(n, d): with the thin QR X^T = U R,
                Q U has i.i.d. N(0, w^2/d) entries for Gaussian Q, so Q X^T = (w/sqrt(d)) z_Q R
                in law, and likewise for K and V. Exact in law for Gaussian weights only; cheaper
                when n < d.

The per-token control (brief §5) draws (Q_i, K_i, V_i) per token instead: the wrong physics on
purpose, to isolate the common noise. `layer_per_token` uses a reduced sampler, exact in law, that
needs 2d + k normals per token and head; `layer_per_token_direct` is its reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .statistics import collapse_stats, rho_bar

__all__ = [
    "HEAD_NORMS",
    "SAMPLERS",
    "SCORE_SCALES",
    "Trajectory",
    "WeightStream",
    "attention",
    "diffusion_dt",
    "drift_dt",
    "head_factor",
    "layer",
    "layer_per_token",
    "layer_per_token_direct",
    "normal_shape",
    "per_token_shape",
    "record_time",
    "score_factor",
    "simulate",
    "softmax",
]

SAMPLERS = ("direct", "fast")
#: score scale sigma: beta * sqrt(d) (unit-variance scores at beta = 1, w = 1) or beta.
SCORE_SCALES = ("beta-sqrt-d", "beta")
#: head normalisation c_H: 1, 1/sqrt(H) or 1/H.
HEAD_NORMS = ("one", "inv-sqrt", "inv")


# --- conventions and clocks (brief §2.1, §2.2) ---------------------------------------------------


def head_factor(heads: int, head_norm: str = "one") -> float:
    """c_H: 1 (``one``), 1/sqrt(H) (``inv-sqrt``) or 1/H (``inv``)."""
    if heads < 1:
        raise ValueError(f"heads must be >= 1, got {heads}")
    if head_norm == "one":
        return 1.0
    if head_norm == "inv-sqrt":
        return 1.0 / math.sqrt(heads)
    if head_norm == "inv":
        return 1.0 / heads
    raise ValueError(f"head_norm must be one of {HEAD_NORMS}, got {head_norm!r}")


def score_factor(beta, d: int, score_scale: str = "beta-sqrt-d"):
    """sigma with s_ij = sigma <Q x_i, K x_j>: beta sqrt(d) or beta (scalar or array like beta)."""
    if score_scale == "beta-sqrt-d":
        return np.asarray(beta, dtype=float) * math.sqrt(d)
    if score_scale == "beta":
        return np.asarray(beta, dtype=float)
    raise ValueError(f"score_scale must be one of {SCORE_SCALES}, got {score_scale!r}")


def diffusion_dt(eta: float, heads: int = 1, head_norm: str = "one") -> float:
    """Diffusion time per layer, eta^2 H c_H^2 (brief §2.2: t_sigma = L eta^2 H for c_H = 1).

    One layer adds H independent head outputs scaled by eta c_H, so the increment covariance is
    eta^2 c_H^2 H Sigma(X): H -> 1 for c_H = 1/sqrt(H) and H -> 1/H for c_H = 1/H, as in the brief.
    """
    return eta**2 * heads * head_factor(heads, head_norm) ** 2


def drift_dt(eta: float, heads: int = 1, head_norm: str = "one", v_mean: float = 1.0) -> float:
    """Drift time per layer, eta H c_H mu (brief §2.2: T = L eta H mu for c_H = 1).

    Correction to the brief: it says to replace H by 1 (c_H = 1/sqrt(H)) or 1/H (c_H = 1/H) in
    *both* clocks. The mean increment of a layer is eta c_H H b(X), so the drift clock is
    eta sqrt(H) for c_H = 1/sqrt(H) and eta for c_H = 1/H; the brief's rule holds for the
    diffusion clock only. (All quick-scale runs of the deterministic regime use H = 1.)
    """
    return eta * heads * head_factor(heads, head_norm) * v_mean


# --- attention -----------------------------------------------------------------------------------


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row softmax over the last axis, with the row maximum subtracted first (no overflow at any
    finite temperature: brief §7)."""
    z = scores - scores.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def normal_shape(n: int, d: int, heads: int, sampler: str = "direct") -> tuple[int, ...]:
    """Shape of the standard normals one layer needs per system: (H, 3, d, m) for Q, K, V of
    each head, m = d (direct) or min(n, d) (fast)."""
    if sampler == "direct":
        return (heads, 3, d, d)
    if sampler == "fast":
        return (heads, 3, d, min(n, d))
    raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")


def _base(x: np.ndarray, sampler: str) -> np.ndarray:
    """What the weights multiply: X^T (..., d, n) (direct) or R of X^T = U R (..., k, n) (fast)."""
    xt = np.swapaxes(x, -1, -2)
    if sampler == "direct":
        return xt
    if sampler == "fast":
        return np.linalg.qr(xt, mode="r")
    raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")


def _sigma(beta, d: int, score_scale: str, scores_ndim: int, lead_ndim: int) -> np.ndarray:
    """sigma broadcast against scores of ``scores_ndim`` dims: a scalar, or an array over the
    first ``lead_ndim`` (leading) dims of the tokens."""
    b = np.asarray(score_factor(beta, d, score_scale))
    if b.ndim == 0:
        return b
    if b.ndim > lead_ndim:
        raise ValueError(f"beta has shape {b.shape}, more dims than the token batch ({lead_ndim})")
    return b.reshape(b.shape + (1,) * (scores_ndim - b.ndim))


def attention(
    x: np.ndarray,
    zq: np.ndarray,
    zk: np.ndarray,
    *,
    beta,
    w: float = 1.0,
    score_scale: str = "beta-sqrt-d",
    sampler: str = "direct",
) -> np.ndarray:
    """Attention matrices A (..., M, n, n) for M weight draws given as standard normals.

    ``x`` (..., n, d); ``zq``, ``zk`` (..., M, d, m) with m as in `normal_shape` (entries of
    sqrt(d)/w Q and sqrt(d)/w K for the direct sampler). ``beta`` is a scalar or an array over the
    leading dimensions of ``x``.
    """
    d = x.shape[-1]
    base = _base(x, sampler)[..., None, :, :]
    qx, kx = zq @ base, zk @ base  # (..., M, d, n): sqrt(d)/w Q X^T
    sigma = _sigma(beta, d, score_scale, qx.ndim, x.ndim - 2)
    return softmax((sigma * (w * w / d)) * (np.swapaxes(qx, -1, -2) @ kx))


def layer(
    x: np.ndarray,
    z: np.ndarray,
    *,
    beta,
    eta: float,
    w: float = 1.0,
    v_mean: float = 0.0,
    head_norm: str = "one",
    score_scale: str = "beta-sqrt-d",
    sampler: str = "direct",
) -> np.ndarray:
    """One layer of the random Transformer (brief §2.1): returns the new tokens (..., n, d).

    ``x`` (..., n, d) on the sphere; ``z`` (..., H, 3, d, m) standard normals (see `normal_shape`),
    broadcastable against the leading dims of ``x`` (one weight draw may serve several systems,
    e.g. all temperatures of a common-random-numbers comparison). ``beta`` is a scalar or an
    array over the leading dims of ``x``.

    The heads run in a Python loop, each batched over all systems, with Q, K and V of a head in
    one matmul: measured faster than batching the heads as well, whose larger temporaries fall
    out of cache (``benchmarks/bench_homogenized_transformers_layer.py``).
    """
    n, d = x.shape[-2:]
    heads, m = z.shape[-4], z.shape[-1]
    base = _base(x, sampler)  # (..., m, n)
    lead = np.broadcast_shapes(z.shape[:-4], x.shape[:-2])
    sigma = _sigma(beta, d, score_scale, len(lead) + 2, x.ndim - 2) * (w * w / d)
    out = np.zeros(lead + (d, n))  # sum_h V_h X^T A_h^T, in units of w/sqrt(d)
    mean_part = np.zeros(lead + (n, d)) if v_mean else None
    for h in range(heads):
        zh = z[..., h, :, :, :]
        qkv = zh.reshape(zh.shape[:-3] + (3 * d, m)) @ base  # (..., 3d, n)
        q, k, v = qkv[..., :d, :], qkv[..., d : 2 * d, :], qkv[..., 2 * d :, :]
        a = softmax(sigma * (np.swapaxes(q, -1, -2) @ k))  # (..., n, n)
        out += v @ np.swapaxes(a, -1, -2)
        if v_mean:
            mean_part += a @ x
    f = (w / math.sqrt(d)) * np.swapaxes(out, -1, -2)
    if v_mean:
        f += v_mean * mean_part
    y = x + (eta * head_factor(heads, head_norm)) * f
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


# --- per-token control (brief §5) ----------------------------------------------------------------


def per_token_shape(n: int, d: int, heads: int) -> tuple[int, ...]:
    """Normals per system for `layer_per_token`: (H, n, 2d + k), k = min(n, d)."""
    return (heads, n, 2 * d + min(n, d))


def layer_per_token(
    x: np.ndarray,
    z: np.ndarray,
    *,
    beta,
    eta: float,
    w: float = 1.0,
    v_mean: float = 0.0,
    head_norm: str = "one",
    score_scale: str = "beta-sqrt-d",
) -> np.ndarray:
    """One layer with independent (Q_i, K_i, V_i) per token (the control), reduced sampler.

    For token i with its own weights: q_i = Q_i x_i = (w/sqrt(d)) xi_q (x_i is a unit vector);
    K_i X^T = (w/sqrt(d)) Z R (thin QR X^T = U R) and q_i^T Z = ||q_i|| g^T in law given q_i, so
    s_i. = sigma (w^2/d) ||xi_q|| g^T R; and V_i m_i = (w/sqrt(d)) ||m_i|| xi_v, m_i = sum_j a_ij x_j.
    ``z`` (..., H, n, 2d + k) holds [xi_q | g | xi_v]. Exact in law (tested against
    `layer_per_token_direct`).
    """
    n, d = x.shape[-2:]
    k = min(n, d)
    heads = z.shape[-3]
    r = np.linalg.qr(np.swapaxes(x, -1, -2), mode="r")[..., None, :, :]  # (..., 1, k, n)
    xi_q, g, xi_v = z[..., :d], z[..., d : d + k], z[..., d + k :]
    sigma = _sigma(beta, d, score_scale, x.ndim + 1, x.ndim - 2)
    scores = sigma * (w * w / d) * np.linalg.norm(xi_q, axis=-1, keepdims=True) * (g @ r)
    a = softmax(scores)  # (..., H, n, n)
    m = a @ x[..., None, :, :]  # (..., H, n, d)
    f = (w / math.sqrt(d)) * np.linalg.norm(m, axis=-1, keepdims=True) * xi_v
    if v_mean:
        f = f + v_mean * m
    y = x + (eta * head_factor(heads, head_norm)) * f.sum(axis=-3)
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


def layer_per_token_direct(
    x: np.ndarray,
    z: np.ndarray,
    *,
    beta,
    eta: float,
    w: float = 1.0,
    v_mean: float = 0.0,
    head_norm: str = "one",
    score_scale: str = "beta-sqrt-d",
) -> np.ndarray:
    """Reference for `layer_per_token`: full d x d matrices per token, ``z`` (..., H, n, 3, d, d)."""
    n, d = x.shape[-2:]
    heads = z.shape[-5]
    s = w / math.sqrt(d)
    q = s * np.einsum("...hiab,...ib->...hia", z[..., 0, :, :], x)  # Q_i x_i
    kx = s * np.einsum("...hiab,...jb->...hija", z[..., 1, :, :], x)  # K_i x_j
    sigma = _sigma(beta, d, score_scale, x.ndim + 1, x.ndim - 2)
    a = softmax(sigma * np.einsum("...hia,...hija->...hij", q, kx))
    m = a @ x[..., None, :, :]
    f = s * np.einsum("...hiab,...hib->...hia", z[..., 2, :, :], m)
    if v_mean:
        f = f + v_mean * m
    y = x + (eta * head_factor(heads, head_norm)) * f.sum(axis=-3)
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


# --- weight streams ------------------------------------------------------------------------------


class WeightStream:
    """Standard normals for one layer after another, one generator per system (seed).

    ``draw()`` returns an array (S, *shape): row s comes from ``rngs[s]``, so a seed's weights do
    not depend on how many seeds run beside it. Normals are drawn in chunks of layers (about
    ``chunk_bytes`` per chunk) to amortise the per-call cost; numpy fills arrays in order, so the
    numbers do not depend on the chunk size.
    """

    def __init__(
        self, rngs: Sequence[np.random.Generator], shape: Sequence[int], chunk_bytes: int = 1 << 23
    ):
        if not rngs:
            raise ValueError("WeightStream needs at least one generator")
        self.rngs = list(rngs)
        self.shape = tuple(int(s) for s in shape)
        per_layer = 8 * len(self.rngs) * max(1, math.prod(self.shape))
        self.chunk = max(1, int(chunk_bytes) // per_layer)
        self._buf: np.ndarray | None = None
        self._pos = 0

    def draw(self) -> np.ndarray:
        if self._buf is None or self._pos == self._buf.shape[0]:
            self._buf = np.stack(
                [g.standard_normal((self.chunk, *self.shape)) for g in self.rngs], axis=1
            )
            self._pos = 0
        out = self._buf[self._pos]
        self._pos += 1
        return out


# --- running many layers -------------------------------------------------------------------------


@dataclass
class Trajectory:
    """What `simulate` records.

    ``t`` (R,) record times; ``stats[name]`` (R, ...) for the names of
    `statistics.STATS`; ``t_layers`` (K+1,) and ``rho_bar_layers`` (K+1, ...) rho_bar after every
    layer run (K layers, index 0 = start); ``x`` the final tokens (..., n, d).
    """

    t: np.ndarray
    stats: dict
    t_layers: np.ndarray
    rho_bar_layers: np.ndarray
    x: np.ndarray

    @property
    def layers(self) -> int:
        return self.t_layers.size - 1


def record_time(index: int, record_every: int, dt: float) -> float:
    """The time of record ``index``, rounded so that equal times compare equal across runs."""
    return round(index * record_every * dt, 10)


def simulate(
    x0: np.ndarray,
    step: Callable[[np.ndarray], np.ndarray],
    *,
    layers: int,
    dt: float,
    record_every: int,
    stop: Callable[[float, np.ndarray], bool] | None = None,
) -> Trajectory:
    """Run up to ``layers`` layers of ``step`` from ``x0`` (..., n, d).

    ``dt`` is the time one layer adds (`diffusion_dt` or `drift_dt`); the collapse statistics are
    recorded every ``record_every`` layers (and at the start), rho_bar after every layer.
    ``stop(t, rho_bar_layers)`` is asked at each record after the start; True ends the run there.
    """
    if record_every < 1 or layers < 0:
        raise ValueError(f"need record_every >= 1 and layers >= 0, got {record_every}, {layers}")
    x = np.array(x0, dtype=float)
    first = collapse_stats(x)
    stats = {name: [v] for name, v in first.items()}
    times = [0.0]
    rho_layers = [first["rho_bar"]]
    for k in range(1, layers + 1):
        x = step(x)
        rho_layers.append(rho_bar(x))
        if k % record_every == 0:
            for name, v in collapse_stats(x).items():
                stats[name].append(v)
            times.append(record_time(k // record_every, record_every, dt))
            if stop is not None and stop(times[-1], np.asarray(rho_layers)):
                break
    if not np.all(np.isfinite(x)):
        raise FloatingPointError("the particle system left the sphere (non-finite tokens)")
    return Trajectory(
        t=np.asarray(times),
        stats={name: np.asarray(v) for name, v in stats.items()},
        t_layers=np.arange(len(rho_layers)) * dt,
        rho_bar_layers=np.asarray(rho_layers),
        x=x,
    )
