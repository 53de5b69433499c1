"""One-pass SGD on the quadratic student-teacher network (brief §2, "One-pass SGD").

Every step draws a fresh sample ``x ~ N(0, I_N)`` (samples are generated on the fly and never
stored) and updates

    w_i <- w_i - (gamma / sqrt(N)) Delta lambda_i x,    Delta = y_hat - y,

so ``t = step / N`` is the number of samples per input dimension (alpha). `sgd_step` is that
update written plainly; `one_pass_sgd` runs it for a batch of seeds at once, fast:

* seeds are batched: ``W`` has shape (S, p, N) and seed s draws its samples from its own
  generator, so a seed's trajectory does not depend on which seeds run beside it;
* samples are drawn in blocks of ``block`` steps, and the block's updates are applied in one
  matrix product. Within a block the student pre-activations follow from the block-start
  weights and the Gram matrix of the block's samples, ``lambda_t = W_0 x_t / sqrt(N) -
  sum_{s<t} c_s (x_s . x_t) / N`` with ``c_s = gamma Delta_s lambda_s``, which is exactly the
  sequential update (to rounding) at a fraction of the memory traffic.

Generating the Gaussian samples (S N numbers per step) dominates the cost
(benchmarks/bench_quadratic_escape_sgd.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .model import generalization_error, overlaps

__all__ = ["SgdTrace", "one_pass_sgd", "sgd_step"]


def sgd_step(W, Wstar, x, *, a: float, b: float, gamma: float, noise=0.0):
    """One SGD step, written plainly: returns the new students (..., p, N).

    ``W`` (..., p, N), ``Wstar`` (..., p*, N), ``x`` (..., N); ``noise`` is ``sigma zeta`` (...,),
    added to the label. Leading dimensions broadcast (seeds, or many samples at one ``W``).
    """
    N = W.shape[-1]
    lam = np.einsum("...pn,...n->...p", W, x) / np.sqrt(N)
    lam_star = np.einsum("...qn,...n->...q", Wstar, x) / np.sqrt(N)
    delta = a * np.sum(lam**2, axis=-1) - b * np.sum(lam_star**2, axis=-1) - noise
    return W - (gamma / np.sqrt(N)) * (delta[..., None] * lam)[..., None] * x[..., None, :]


@dataclass(frozen=True)
class SgdTrace:
    """Overlaps recorded along one-pass SGD for S seeds.

    ``steps`` (K,) the recorded step counts (``t = steps / N``); ``Q`` (S, K, p, p);
    ``M`` (S, K, p, p*); ``T`` (S, p*, p*); ``eps`` (S, K) the clean population error at the
    recorded overlaps; ``diverged`` (S,) bool, with NaN overlaps from the blow-up on.
    """

    steps: np.ndarray
    Q: np.ndarray
    M: np.ndarray
    T: np.ndarray
    eps: np.ndarray
    diverged: np.ndarray


def one_pass_sgd(
    W0: np.ndarray,
    Wstar: np.ndarray,
    *,
    a: float,
    b: float,
    gamma: float,
    steps: int,
    record_every: int,
    sample_rngs: Sequence[np.random.Generator],
    sigma: float = 0.0,
    noise_rngs: Sequence[np.random.Generator] | None = None,
    block: int = 32,
    blowup: float = 1e6,
    log: Callable[[str], None] | None = None,
) -> SgdTrace:
    """Run one-pass SGD from W0 (S, p, N) against teachers Wstar (S, p*, N).

    Records the overlaps at steps ``0, record_every, 2 record_every, ...`` up to ``steps``
    (rounded up to a multiple of ``record_every``). ``sample_rngs`` has one generator per seed
    (its samples); ``noise_rngs`` one per seed for the label noise (needed when ``sigma > 0``).
    A seed whose error exceeds ``blowup (eps_0 + 1)`` or becomes non-finite is flagged diverged
    and recorded as NaN from then on. ``log`` receives a progress line about every 10 %.
    """
    W = np.array(W0, dtype=float, copy=True)
    Wstar = np.asarray(Wstar, dtype=float)
    S, p, N = W.shape
    if Wstar.shape[0] != S or Wstar.shape[2] != N:
        raise ValueError(f"Wstar {Wstar.shape} does not match W0 {W.shape}")
    if len(sample_rngs) != S:
        raise ValueError(f"need one sample generator per seed: {len(sample_rngs)} for {S} seeds")
    if sigma > 0 and (noise_rngs is None or len(noise_rngs) != S):
        raise ValueError("label noise sigma > 0 needs one noise generator per seed")
    if record_every < 1 or block < 1:
        raise ValueError("record_every and block must be >= 1")
    pstar = Wstar.shape[1]
    n_records = -(-int(steps) // record_every)
    sqrt_n = np.sqrt(N)
    T = Wstar @ np.swapaxes(Wstar, 1, 2) / N
    Q = np.full((S, n_records + 1, p, p), np.nan)
    M = np.full((S, n_records + 1, p, pstar), np.nan)
    diverged = np.zeros(S, dtype=bool)
    X = np.empty((S, block, N))
    C = np.empty((S, p, block))

    def record(k):
        q, m, _ = overlaps(W, Wstar)
        Q[:, k], M[:, k] = q, m

    record(0)
    eps0 = generalization_error(Q[:, 0], M[:, 0], T, a, b)
    limit = blowup * (eps0 + 1.0)
    next_log = 0.1
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, n_records + 1):
            left = record_every
            while left > 0:
                B = min(block, left)
                left -= B
                for s, g in enumerate(sample_rngs):
                    g.standard_normal(out=X[s, :B])
                Xb = X[:, :B]
                Xt = np.swapaxes(Xb, 1, 2)
                y = b * np.sum((Wstar @ Xt) ** 2, axis=1) / N  # (S, B) teacher labels
                if sigma > 0:
                    y = y + sigma * np.stack([g.standard_normal(B) for g in noise_rngs])
                P = W @ Xt / sqrt_n  # (S, p, B): lambda at the block-start weights
                G = Xb @ Xt / N  # (S, B, B): x_s . x_t / N
                for t in range(B):
                    lam = P[:, :, t]
                    delta = a * np.einsum("sp,sp->s", lam, lam) - y[:, t]
                    c = (gamma * delta)[:, None] * lam
                    C[:, :, t] = c
                    if t + 1 < B:
                        P[:, :, t + 1 :] -= c[:, :, None] * G[:, None, t, t + 1 :]
                W -= C[:, :, :B] @ Xb / sqrt_n
            record(k)
            eps = generalization_error(Q[:, k], M[:, k], T, a, b)
            bad = ~np.isfinite(eps) | (eps > limit)
            if bad.any():
                diverged |= bad
                W[bad] = np.nan
                Q[bad, k], M[bad, k] = np.nan, np.nan
            if log is not None and k / n_records >= next_log:
                log(
                    f"  step {k * record_every}/{n_records * record_every} (t = {k * record_every / N:.1f})"
                )
                next_log += 0.1
    return SgdTrace(
        steps=np.arange(n_records + 1) * record_every,
        Q=Q,
        M=M,
        T=T,
        eps=generalization_error(Q, M, T[:, None], a, b),
        diverged=diverged,
    )
