"""The neural-network family (brief §2, "Neural-network family"), in torch float64.

Map g_phi(x~) = W^T x~ + V2^T tanh(V1^T x~ + b1), hidden width h. V1 ~ N(0, 1/p), b1 = 0, V2 = 0
and W = the selected linear solution, so the network starts exactly at the linear model.
Collapse guard: the output is whitened over the full batch, z = L^{-1}(g - mean g) with
L L^T = Cov(g) (ddof 1, like the input whitening), so the total variance of z is I_d.

Each outer iteration: closed-form penalised EM on z (`gmm.m_step`), then ``adam_steps`` full-batch
Adam steps on phi = (W, V1, b1, V2) maximising l_eps / n (lr, weight decay). With V2 = 0 and
orthonormal W the output whitening is the identity, so l_eps equals the linear family's at that W
(claim A-nn-reduce). Never compare l across the two families: a flexible g can squeeze clusters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import gmm

__all__ = ["NNResult", "NNMap", "fit_nn", "penalised_loglik"]


class NNMap(torch.nn.Module):
    """g_phi with output whitening; parameters in float64 on ``device``."""

    def __init__(self, w0: np.ndarray, v1: np.ndarray, hidden: int, device: str):
        super().__init__()
        p, d = w0.shape
        kw = {"dtype": torch.float64, "device": device}
        self.w = torch.nn.Parameter(torch.as_tensor(w0, **kw).clone())
        self.v1 = torch.nn.Parameter(torch.as_tensor(v1, **kw).clone())
        self.b1 = torch.nn.Parameter(torch.zeros(hidden, **kw))
        self.v2 = torch.nn.Parameter(torch.zeros(hidden, d, **kw))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = x @ self.w + torch.tanh(x @ self.v1 + self.b1) @ self.v2
        gc = g - g.mean(0)
        cov = gc.T @ gc / (x.shape[0] - 1)
        chol = torch.linalg.cholesky(cov)
        return torch.linalg.solve_triangular(chol, gc.T, upper=False).T


def penalised_loglik(z: torch.Tensor, mix: gmm.Mixture, *, plain: bool = False) -> torch.Tensor:
    """l_eps / n (or plain l / n) of z (n, d) under one GMM (start 0 of ``mix``), differentiable in z."""
    kw = {"dtype": z.dtype, "device": z.device}
    mu = torch.as_tensor(mix.mu[0], **kw)
    linv = torch.as_tensor(mix.linv[0], **kw)
    d = z.shape[1]
    y = torch.einsum("kde,kne->knd", linv, z[None] - mu[:, None])
    log_norm = -0.5 * (
        d * math.log(2 * math.pi) + torch.as_tensor(mix.logdet[0], **kw)[:, None] + (y**2).sum(-1)
    )
    log_pi = torch.as_tensor(np.log(np.maximum(mix.pi[0], gmm.PI_FLOOR)), **kw)[:, None]
    a = log_pi + log_norm
    if not plain:
        a = a + torch.as_tensor(mix.penalty[0], **kw)[:, None]
    return torch.logsumexp(a, dim=0).mean()


@dataclass
class NNResult:
    """``labels`` (n,); ``trace_pen`` / ``trace_plain`` (outer + 1,) l_eps / n and plain l / n at
    the start and after each outer iteration; ``within`` = sum_k pi_k tr Sigma_k / d at the end;
    ``reduce_err`` |l_eps^NN - l_eps^lin| / n at the start (same W, theta); ``z`` (n, d)."""

    labels: np.ndarray
    trace_pen: np.ndarray
    trace_plain: np.ndarray
    within: float
    reduce_err: float
    z: np.ndarray


def fit_nn(
    x: np.ndarray,
    w0: np.ndarray,
    mix0: gmm.Mixture,
    lin_value: float,
    *,
    rng: np.random.Generator,
    hidden: int = 16,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    outer_iters: int = 30,
    adam_steps: int = 5,
    device: str = "cpu",
) -> NNResult:
    """Fit the NN family from the linear solution (``w0`` (p, d), its GMM ``mix0`` with one start,
    and its l_eps / n ``lin_value`` at (w0, mix0), for the reduction check)."""
    p = x.shape[1]
    v1 = rng.normal(0.0, 1.0 / math.sqrt(p), size=(p, hidden))
    model = NNMap(w0, v1, hidden, device)
    xt = torch.as_tensor(x, dtype=torch.float64, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    mix = mix0
    trace_pen = np.empty(outer_iters + 1)
    trace_plain = np.empty(outer_iters + 1)
    with torch.no_grad():
        z = model(xt)
        trace_pen[0] = float(penalised_loglik(z, mix))
        trace_plain[0] = float(penalised_loglik(z, mix, plain=True))
    reduce_err = abs(trace_pen[0] - lin_value)
    for t in range(1, outer_iters + 1):
        z_np = z.detach().cpu().numpy()[None]
        ev = gmm.evaluate(z_np, mix, plain=False)
        mix = gmm.m_step(z_np, ev.gamma, mix.eps, previous=mix)
        for _ in range(adam_steps):
            opt.zero_grad()
            loss = -penalised_loglik(model(xt), mix)
            loss.backward()
            opt.step()
        with torch.no_grad():
            z = model(xt)
            trace_pen[t] = float(penalised_loglik(z, mix))
            trace_plain[t] = float(penalised_loglik(z, mix, plain=True))
    if not np.isfinite(trace_pen).all():
        raise FloatingPointError("manifold_gmm: the NN objective became non-finite (diverged)")
    z_np = z.detach().cpu().numpy()[None]
    ev = gmm.evaluate(z_np, mix, plain=False)
    final = gmm.m_step(z_np, ev.gamma, mix.eps, previous=mix)
    labels = ev.gamma[0].argmax(axis=0)
    return NNResult(
        labels, trace_pen, trace_plain, float(final.within[0]), float(reduce_err), z_np[0]
    )
