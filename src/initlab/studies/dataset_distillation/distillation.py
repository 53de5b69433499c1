"""Gradient-based dataset distillation matched to the learner's fixed W0 and b (brief §2.3).

Stage 1, gradient matching at the learner's init. Learn X1 (m1/2, d); the synthetic set is
S1 = {(x, +1), (-x, +1)}: labels fixed and the mirror point implied, so only X1 is stored (the
pairs cancel the odd part of the gradient). The surrogate gradient on S1 uses a smooth gate,
    G~_j = -a_j (1/m1) sum_{x in S1} sigmoid(s w0_j . x / scale) x,      s = 20,
and is matched to the hard-gate gradient G of the real data by the cosine loss
    l1 = (1/L) sum_j [1 - cos(G~_j, G_j)]                                  (Adam, lr 0.05).
Stage 2, performance matching (KIP-style). Learn X2 (m2, d) and y2 (m2,); with W1 the learner's
stage-1 output on S1, the head is kernel ridge on S2 and the loss is the MSE of that predictor on
a fresh batch of real points at every step                              (Adam, lr 0.02).
One-step DD (diagnostic): from X1 = 1e-3 N(0, I), gate sigmoid(s w0_j . x / 1e-3), loss
||G~ - G||_F^2, and one step X1 <- -grad, which erases the init.

The smooth gate lives only inside the distillation objective: the hard gate has zero derivative
in x. The learner trained on the result uses the hard gate (`learner.train_on_distilled`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .learner import features, first_layer_step, kernel_ridge_head

__all__ = [
    "Adam",
    "Stage1",
    "Stage2",
    "cosine_loss",
    "distill_stage_one",
    "distill_stage_two",
    "equal_memory_count",
    "memory_dd_floats",
    "memory_real_floats",
    "one_step",
    "smooth_gate_gradient",
    "stage_one_first_layer",
    "stage_two_loss",
]

F64 = torch.float64
#: Largest n * L for which stage 2 precomputes the features of every training point once
#: (float64: 2.5e7 elements = 200 MB); above it each batch's features are computed anew.
PRECOMPUTE_ELEMENTS = 25_000_000


def memory_dd_floats(m1: int, m2: int, d: int) -> int:
    """Floats a distilled set stores: (m1/2) d for X1 plus m2 (d + 1) for (X2, y2)."""
    return (m1 // 2) * d + m2 * (d + 1)


def memory_real_floats(n: int, d: int) -> int:
    """Floats of n real (x, y) pairs: n (d + 1)."""
    return n * (d + 1)


def equal_memory_count(m1: int, m2: int, d: int) -> int:
    """The real-subset size of equal memory: floor(M_DD / (d + 1)) (brief §5)."""
    return memory_dd_floats(m1, m2, d) // (d + 1)


def smooth_gate_gradient(
    w0: torch.Tensor,
    a: torch.Tensor,
    x1: torch.Tensor,
    *,
    sharpness: float = 20.0,
    scale: float = 1.0,
) -> torch.Tensor:
    """G~ (L, d): the stage-1 gradient on S1 = {(+-x, +1) : x in X1} with the smooth gate
    sigmoid(sharpness w0_j . x / scale). ``x1`` (m1/2, d)."""
    s1 = torch.cat([x1, -x1])
    gate = torch.sigmoid((sharpness / scale) * (s1 @ w0.T))  # (m1, L)
    return -a[:, None] * (gate.T @ s1) / s1.shape[0]


def cosine_loss(g_tilde: torch.Tensor, g: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """l1 = mean_j [1 - <G~_j, G_j> / (|G~_j| |G_j| + eps)] over the L rows."""
    cos = (g_tilde * g).sum(dim=1) / (g_tilde.norm(dim=1) * g.norm(dim=1) + eps)
    return (1.0 - cos).mean()


def _unique_rows(w0: torch.Tensor, a: torch.Tensor, g: torch.Tensor):
    """The first L/2 rows of (W0, a, G) when the init is the mirrored symmetric one, else all.

    With w0_{j+L/2} = w0_j and a_{j+L/2} = -a_j, both G_{j+L/2} = -G_j and G~_{j+L/2} = -G~_j,
    so the two halves have equal cosines and the mean over L rows equals the mean over the first
    L/2: the same loss and gradient at half the cost.
    """
    half = w0.shape[0] // 2
    mirrored = (
        w0.shape[0] % 2 == 0
        and torch.equal(w0[:half], w0[half:])
        and torch.equal(a[:half], -a[half:])
        and torch.equal(g[:half], -g[half:])
    )
    return (w0[:half], a[:half], g[:half]) if mirrored else (w0, a, g)


class Adam:
    """Adam (Kingma & Ba) with torch.optim.Adam's defaults and update, written out.

    The same arithmetic as ``torch.optim.Adam(params, lr)`` (betas 0.9, 0.999; eps 1e-8; bias
    correction; no weight decay), checked against it in the tests. Constructing a torch
    optimizer imports ``torch._dynamo``, which takes seconds: more than a whole quick job's
    distillation.
    """

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = list(params)
        self.lr, self.betas, self.eps = float(lr), betas, float(eps)
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        correction1 = 1 - b1**self.t
        correction2_sqrt = math.sqrt(1 - b2**self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / correction2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / correction1)


@dataclass(frozen=True)
class Stage1:
    """Result of stage-1 distillation: X1 (m1/2, d), the loss per step (steps,), the final loss."""

    x1: torch.Tensor
    losses: np.ndarray
    final_loss: float


def distill_stage_one(
    w0: torch.Tensor,
    a: torch.Tensor,
    g: torch.Tensor,
    x1_init: torch.Tensor,
    *,
    steps: int = 400,
    lr: float = 0.05,
    sharpness: float = 20.0,
) -> Stage1:
    """Gradient matching: Adam on X1 for ``steps`` full-batch steps of the cosine loss against
    the real-data gradient ``g`` (L, d). ``losses[t]`` is the loss before update t; the final
    loss is evaluated at the returned X1."""
    w0, a, g = _unique_rows(w0, a, g)
    x = x1_init.detach().clone().requires_grad_(True)
    opt = Adam([x], lr=lr)
    losses = torch.empty(steps, dtype=F64, device=x.device)
    for t in range(steps):
        opt.zero_grad()
        loss = cosine_loss(smooth_gate_gradient(w0, a, x, sharpness=sharpness), g)
        loss.backward()
        opt.step()
        losses[t] = loss.detach()
    x = x.detach()
    with torch.no_grad():
        final = float(cosine_loss(smooth_gate_gradient(w0, a, x, sharpness=sharpness), g))
    return Stage1(x, losses.cpu().numpy(), final)


def stage_two_loss(
    w1: torch.Tensor,
    b: torch.Tensor,
    x2: torch.Tensor,
    y2: torch.Tensor,
    phi_batch: torch.Tensor,
    y_batch: torch.Tensor,
    jitter: float,
) -> torch.Tensor:
    """MSE on a real batch of the kernel-ridge predictor fitted on S2 = (x2, y2).

    ``phi_batch`` (B, L) are the batch's features phi(x_b); the predictor phi(x) Phi2^T alpha is
    evaluated as phi(x) (Phi2^T alpha), the same number at a fraction of the cost."""
    head = kernel_ridge_head(features(w1, b, x2), y2, jitter)
    return ((phi_batch @ head - y_batch) ** 2).mean()


@dataclass(frozen=True)
class Stage2:
    """Result of stage-2 distillation: X2 (m2, d), y2 (m2,), the batch loss per step."""

    x2: torch.Tensor
    y2: torch.Tensor
    losses: np.ndarray

    @property
    def final_loss(self) -> float:
        """The batch loss of the last step."""
        return float(self.losses[-1])


def distill_stage_two(
    w1: torch.Tensor,
    b: torch.Tensor,
    x2_init: torch.Tensor,
    y2_init: torch.Tensor,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    batches: np.ndarray,
    *,
    lr: float = 0.02,
    jitter: float = 1e-4,
) -> Stage2:
    """Performance matching: one Adam step on (X2, y2) per row of ``batches`` (steps, B), the
    indices of that step's real training points."""
    n = x_train.shape[0]
    phi_all = None
    if n * w1.shape[0] <= PRECOMPUTE_ELEMENTS:  # features depend on W1 and b only: compute once
        phi_all = features(w1, b, x_train)
    x2 = x2_init.detach().clone().requires_grad_(True)
    y2 = y2_init.detach().clone().requires_grad_(True)
    opt = Adam([x2, y2], lr=lr)
    idx_all = torch.from_numpy(np.asarray(batches, dtype=np.int64)).to(x_train.device)
    losses = torch.empty(len(idx_all), dtype=F64, device=x_train.device)
    # One reused buffer for the batch features: a fresh (B, L) tensor per step would be mapped
    # and page-faulted anew each time (8 MB at B = 2048, L = 512), which costs more than the step.
    phi_b = torch.empty((idx_all.shape[1], w1.shape[0]), dtype=F64, device=x_train.device)
    for t, idx in enumerate(idx_all):
        if phi_all is not None:
            torch.index_select(phi_all, 0, idx, out=phi_b)
        else:
            phi_b = features(w1, b, x_train[idx])
        opt.zero_grad()
        loss = stage_two_loss(w1, b, x2, y2, phi_b, y_train[idx], jitter)
        loss.backward()
        opt.step()
        losses[t] = loss.detach()
    return Stage2(x2.detach(), y2.detach(), losses.cpu().numpy())


def one_step(
    w0: torch.Tensor,
    a: torch.Tensor,
    g: torch.Tensor,
    x1_init: torch.Tensor,
    *,
    scale: float,
    sharpness: float = 20.0,
) -> torch.Tensor:
    """One-step DD (brief §2.3): X1 <- -d/dX1 ||G~(X1) - G||_F^2 at X1 = ``x1_init`` (m1/2, d),
    with the gate sigmoid(sharpness w0_j . x / scale)."""
    x = x1_init.detach().clone().requires_grad_(True)
    loss = ((smooth_gate_gradient(w0, a, x, sharpness=sharpness, scale=scale) - g) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, x)
    return -grad


def stage_one_first_layer(w0: torch.Tensor, a: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """W1 the learner builds from S1 (hard gate, unit rows): what stage 2 is matched against."""
    s1 = torch.cat([x1, -x1])
    return first_layer_step(w0, a, s1, torch.ones(s1.shape[0], dtype=F64, device=s1.device))
