"""The penalised full-covariance Gaussian mixture on projected data (brief §2, "Objective").

    l_eps(W, theta) = sum_i log sum_k pi_k N(z_i; mu_k, Sigma_k) exp(-(eps/2) tr Sigma_k^{-1}),
    z_i = W^T x_i.

The factor exp(-(eps/2) tr Sigma_k^{-1}) makes Sigma_k = S_k + eps I the exact M-step maximiser,
so EM never lowers l_eps. Every function is batched over R independent starts: projected data
``z`` (R, n, d), weights ``pi`` (R, K), means ``mu`` (R, K, d), covariances ``sigma``
(R, K, d, d). Log-densities use Cholesky factors (log-det from the diagonal, Mahalanobis terms
from triangular solves) and the responsibilities use log-sum-exp.

An empty component (N_k = 0) does not crash: its weight is 0 (log pi_k is floored at
log(1e-300), so it never takes a point), its mean stays where it was and Sigma_k = eps I.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Evaluation", "Mixture", "evaluate", "from_labels", "logsumexp", "m_step"]

LOG_2PI = np.log(2.0 * np.pi)
#: Floor of pi_k inside the log, so an empty component has a finite, hugely negative log-weight.
PI_FLOOR = 1e-300


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log sum exp along ``axis`` with the max subtracted (scipy's is slow on small arrays)."""
    m = a.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.exp(a - m).sum(axis=axis)) + np.squeeze(m, axis=axis)


@dataclass
class Mixture:
    """GMM parameters of R starts with the Cholesky quantities the E-step needs.

    ``pi`` (R, K), ``mu`` (R, K, d), ``sigma`` (R, K, d, d); derived: ``linv`` (R, K, d, d) the
    inverse Cholesky factor (Sigma^{-1} = linv^T linv), ``logdet`` (R, K), ``penalty`` (R, K) =
    -(eps/2) tr Sigma^{-1}.
    """

    pi: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    eps: float

    def __post_init__(self):
        try:
            chol = np.linalg.cholesky(self.sigma)
        except np.linalg.LinAlgError as exc:
            raise np.linalg.LinAlgError(
                f"a component covariance is not positive definite ({exc}); eps = {self.eps} "
                "must be > 0 to keep every Sigma_k SPD"
            ) from None
        d = self.sigma.shape[-1]
        self.linv = np.linalg.solve(chol, np.broadcast_to(np.eye(d), chol.shape))
        self.logdet = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        self.penalty = -0.5 * self.eps * (self.linv**2).sum(axis=(-2, -1))

    def take(self, idx) -> "Mixture":
        """The starts ``idx`` (an index array) as a new Mixture."""
        return Mixture(self.pi[idx], self.mu[idx], self.sigma[idx], self.eps)

    @property
    def within(self) -> np.ndarray:
        """sum_k pi_k tr Sigma_k / d per start (R,): the mean within-cluster variance."""
        d = self.sigma.shape[-1]
        return (self.pi * np.trace(self.sigma, axis1=-2, axis2=-1)).sum(-1) / d


@dataclass
class Evaluation:
    """The E-step at (W, theta): per-start totals and what the W-gradient needs.

    ``ll_pen``, ``ll_plain`` (R,): l_eps and the plain l (penalty factor dropped), summed over
    points; ``gamma`` (R, K, n) responsibilities of the penalised model; ``y`` (R, K, n, d) the
    whitened residuals linv (z_i - mu_k).
    """

    ll_pen: np.ndarray
    ll_plain: np.ndarray
    gamma: np.ndarray
    y: np.ndarray


def evaluate(z: np.ndarray, mix: Mixture, *, plain: bool = True) -> Evaluation:
    """E-step of R starts: ``z`` (R, n, d) -> `Evaluation` (brief §2, step 1); with
    ``plain=False`` the plain log-likelihood is not computed (NaN), which saves time."""
    d = z.shape[-1]
    diff = z[:, None, :, :] - mix.mu[:, :, None, :]  # (R, K, n, d)
    y = diff @ np.swapaxes(mix.linv, -1, -2)
    maha = np.einsum("rknd,rknd->rkn", y, y)
    log_norm = -0.5 * (d * LOG_2PI + mix.logdet[..., None] + maha)
    log_plain = np.log(np.maximum(mix.pi, PI_FLOOR))[..., None] + log_norm
    log_pen = log_plain + mix.penalty[..., None]
    lse = logsumexp(log_pen, axis=1)  # (R, n)
    gamma = np.exp(log_pen - lse[:, None, :])
    ll_plain = logsumexp(log_plain, axis=1).sum(-1) if plain else np.full(len(z), np.nan)
    return Evaluation(lse.sum(-1), ll_plain, gamma, y)


def m_step(
    z: np.ndarray, gamma: np.ndarray, eps: float, previous: Mixture | None = None
) -> Mixture:
    """Closed-form penalised M-step (brief §2, step 2): ``z`` (R, n, d), ``gamma`` (R, K, n).

    N_k = sum_i gamma_ik, pi_k = N_k / n, mu_k = sum_i gamma_ik z_i / N_k,
    Sigma_k = sum_i gamma_ik (z_i - mu_k)(z_i - mu_k)^T / N_k + eps I.
    An empty component keeps ``previous``'s mean (zero without one) and gets Sigma_k = eps I.
    """
    if eps <= 0:
        raise ValueError(f"eps must be > 0 (it keeps every Sigma_k SPD), got {eps}")
    n, d = z.shape[-2], z.shape[-1]
    nk = gamma.sum(-1)  # (R, K)
    empty = nk <= 1e-12 * n
    safe = np.where(empty, 1.0, nk)
    mu = (gamma @ z) / safe[..., None]
    if empty.any():
        fallback = previous.mu if previous is not None else np.zeros_like(mu)
        mu = np.where(empty[..., None], fallback, mu)
    diff = z[:, None, :, :] - mu[:, :, None, :]
    scatter = np.swapaxes(gamma[..., None] * diff, -1, -2) @ diff  # (R, K, d, d)
    sigma = scatter / safe[..., None, None] + eps * np.eye(d)
    sigma = 0.5 * (sigma + np.swapaxes(sigma, -1, -2))
    return Mixture(nk / n, mu, sigma, eps)


def from_labels(z: np.ndarray, labels: np.ndarray, k: int, eps: float) -> Mixture:
    """theta_0 from hard labels (R, n) in 0..k-1: the M-step with one-hot responsibilities."""
    labels = np.asarray(labels)
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must lie in 0..{k - 1}")
    gamma = (labels[:, None, :] == np.arange(k)[None, :, None]).astype(np.float64)
    return m_step(z, gamma, eps)
