"""The deep linear network f(x) = W_eff x with W_eff = W_L ... W_1 (brief §2 "Network").

Widths are [d, h, ..., h, d] with L weight matrices and no biases. Every function takes a list of
weights ``[W_1, ..., W_L]``, each of shape (N, fan_out, fan_in) with a leading batch axis N (seeds,
or seeds x recorded steps), and works on the whole batch at once.

Notation: P_l = W_L ... W_{l+1} (P_L = I) and S_l = W_{l-1} ... W_1 (S_1 = I), so that
W_eff = P_l W_l S_l for every l.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "balance_gaps",
    "end_to_end",
    "gradients",
    "misalignment",
    "mode_strengths",
    "partial_products",
    "population_gradients",
    "population_loss",
    "widths",
]


def widths(d: int, h: int, depth: int) -> list[int]:
    """Layer widths [d, h, ..., h, d] of a depth-L network (L weight matrices)."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    return [d] + [h] * (depth - 1) + [d]


def end_to_end(weights) -> np.ndarray:
    """W_eff = W_L ... W_1, shape (N, d_out, d_in)."""
    w = weights[0]
    for layer in weights[1:]:
        w = layer @ w
    return w


def partial_products(weights):
    """``(suffix, prefix)``: lists over l = 1..L of P_l (N, d_out, n_l) and S_l (N, n_{l-1}, d_in)."""
    n, d_in = weights[0].shape[0], weights[0].shape[2]
    d_out = weights[-1].shape[1]
    prefix = [np.broadcast_to(np.eye(d_in), (n, d_in, d_in))]
    for w in weights[:-1]:
        prefix.append(w @ prefix[-1])
    suffix = [np.broadcast_to(np.eye(d_out), (n, d_out, d_out))]
    for w in weights[:0:-1]:
        suffix.append(suffix[-1] @ w)
    return suffix[::-1], prefix


def mode_strengths(w_eff: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """m_k = u_k^T W_eff v_k, shape (N, r)."""
    return np.einsum("ik,nij,jk->nk", u, w_eff, v, optimize=False)


def misalignment(w_eff: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Frobenius norm of the off-diagonal part of U^T W_eff V (r x r), shape (N,)."""
    m = np.einsum("ik,nij,jl->nkl", u, w_eff, v, optimize=False)
    off = m - np.einsum("nkk->nk", m)[..., None] * np.eye(m.shape[-1])
    return np.sqrt(np.sum(off**2, axis=(1, 2)))


def population_loss(w_eff: np.ndarray, teacher: np.ndarray) -> np.ndarray:
    """1/2 ||W_eff - T||_F^2, shape (N,): the population loss at sigma = 0 (Sigma_xx = I)."""
    return 0.5 * np.sum((w_eff - teacher) ** 2, axis=(1, 2))


def gradients(weights, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Mini-batch gradients (1/B) sum_b dl_b/dW_l = P_l^T r x^T S_l^T / B, by backpropagation.

    x (N, d_in, B), y (N, d_out, B); l = 1/2 ||W_eff x - y||^2 per sample.
    """
    acts = [x]
    for w in weights:
        acts.append(w @ acts[-1])
    delta = acts[-1] - y
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        grads[l] = (delta @ acts[l].transpose(0, 2, 1)) / x.shape[-1]
        if l:
            delta = weights[l].transpose(0, 2, 1) @ delta
    return grads


def population_gradients(weights, teacher: np.ndarray, covariance=None) -> list[np.ndarray]:
    """Gradients of the population loss (Sigma_xx = I): P_l^T (W_eff - T) S_l^T.

    With ``covariance`` Sigma_xx given, ``teacher`` is read as the cross-covariance C_yx and the
    gradient is P_l^T (W_eff Sigma_xx - C_yx) S_l^T: full-batch GD on a finite dataset. Either may
    be (d, d) or one per network (N, d, d).
    """
    suffix, prefix = partial_products(weights)
    w_eff = suffix[0] @ weights[0]
    delta = w_eff - teacher if covariance is None else w_eff @ covariance - teacher
    return [p.transpose(0, 2, 1) @ delta @ q.transpose(0, 2, 1) for p, q in zip(suffix, prefix)]


def balance_gaps(weights) -> list[np.ndarray]:
    """W_{l+1}^T W_{l+1} - W_l W_l^T for l = 1..L-1, each (N, n_l, n_l).

    Gradient flow conserves every one of them (Arora, Cohen, Hazan 2018); a balanced network has
    them all zero.
    """
    return [
        weights[l + 1].transpose(0, 2, 1) @ weights[l + 1]
        - weights[l] @ weights[l].transpose(0, 2, 1)
        for l in range(len(weights) - 1)
    ]
