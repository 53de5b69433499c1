"""The learner A(D): Damian-style two-stage training of a width-L ReLU network (brief §2.2).

f(x) = sum_j a_j relu(w_j . x + b_j). Symmetric init: L/2 rows uniform on the sphere S^{d-1},
duplicated, with second-layer weights +1/L and -1/L, so f = 0 at init and stage 1 needs no bias.

Stage 1: one large step on W with weight decay 1/eta, which erases the init. With the hard gate,
    grad_{w_j} L_D(W0) = -(1/|D|) sum_{(x,y) in D} y a_j 1{w0_j . x > 0} x,
for L_D = (1/2|D|) sum (f - y)^2; W1 = -grad, each row normalised to unit norm.
Stage 2: biases b ~ N(0, 1) fixed by the network seed, features phi(x) = relu(W1 x + b), and a
linear head: ridge ``(Phi^T Phi/|D| + lam I)^{-1} Phi^T y/|D|`` on real data, or kernel ridge
``Phi2^T (K + jitter mean(diag K) I)^{-1} y2`` with ``K = Phi2 Phi2^T`` on a distilled S2 (§2.3).

The learner always uses the hard gate, on real and on distilled data (§7). Sums over data run in
chunks of `CHUNK` rows, so paper-scale data (millions of rows) never builds an n x L matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .teacher import CHUNK

__all__ = [
    "Network",
    "biases",
    "features",
    "first_layer_gradient",
    "first_layer_step",
    "gram",
    "kernel_ridge_head",
    "random_features",
    "ridge_head",
    "symmetric_init",
    "train_on_data",
    "train_on_distilled",
]

F64 = torch.float64


@dataclass(frozen=True)
class Network:
    """A trained two-layer network: first layer ``w1`` (L, d), biases ``b`` (L,), head (L,)."""

    w1: torch.Tensor
    b: torch.Tensor
    head: torch.Tensor

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions f(x) (n,) for inputs x (n, d), in float64."""
        return torch.cat([features(self.w1, self.b, part) @ self.head for part in x.split(CHUNK)])


def symmetric_init(
    rng: np.random.Generator, width: int, d: int, *, device="cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """W0 (L, d) and a (L,): L/2 unit rows uniform on S^{d-1}, duplicated; a = +1/L then -1/L."""
    if width < 2 or width % 2:
        raise ValueError(f"the symmetric init needs an even width L >= 2, got L={width}")
    half = rng.standard_normal((width // 2, d))
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    w0 = torch.from_numpy(np.vstack([half, half])).to(device, F64)
    a = torch.cat([torch.full((width // 2,), 1.0 / width), torch.full((width // 2,), -1.0 / width)])
    return w0, a.to(device, F64)


def biases(rng: np.random.Generator, width: int, *, device="cpu") -> torch.Tensor:
    """Stage-2 biases b (L,) ~ N(0, 1)."""
    return torch.from_numpy(rng.standard_normal(width)).to(device, F64)


def first_layer_gradient(
    w0: torch.Tensor, a: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """grad_W L_D(W0) (L, d) with the hard gate, at f = 0 (brief §2.2, stage 1).

    ``x`` (n, d), ``y`` (n,); row j is -(a_j/n) sum_i y_i 1{w0_j . x_i > 0} x_i.
    """
    if x.shape[0] == 0:
        raise ValueError("the learner needs at least one training point")
    half = w0.shape[0] // 2
    # Symmetric init: rows j and j + L/2 coincide, so do their gates; sum once per unique row.
    mirrored = w0.shape[0] % 2 == 0 and torch.equal(w0[:half], w0[half:])
    rows = w0[:half] if mirrored else w0
    acc = torch.zeros_like(rows)
    for xc, yc in zip(x.split(CHUNK), y.split(CHUNK)):
        xc = xc.to(F64)
        gate = (xc @ rows.T > 0).to(F64)  # (c, rows)
        acc += (gate * yc[:, None]).T @ xc
    if mirrored:
        acc = torch.cat([acc, acc])
    return -a[:, None] * acc / x.shape[0]


def _unit_rows(m: torch.Tensor) -> torch.Tensor:
    norms = m.norm(dim=1, keepdim=True)
    return m / torch.where(norms > 0, norms, torch.ones_like(norms))


def first_layer_step(
    w0: torch.Tensor, a: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """Stage 1: W1 = -grad_W L_D(W0), rows normalised to unit norm (an all-zero row stays 0)."""
    return _unit_rows(-first_layer_gradient(w0, a, x, y))


def features(w1: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """phi(x) = relu(W1 x + b): (n, L) for x (n, d). The bias and the ReLU are applied in place
    on the product (one n x L allocation instead of three; autograd supports both)."""
    return torch.relu_((x.to(F64) @ w1.T).add_(b))


def gram(phi: torch.Tensor) -> torch.Tensor:
    """Phi^T Phi (L, L) for phi (n, L). On the CPU through BLAS dsyrk, which computes one
    triangle only (about twice as fast as a general matmul at n = 40k, L = 512); elsewhere a
    matmul."""
    if phi.device.type != "cpu" or phi.dtype != F64:
        return phi.T @ phi
    from scipy.linalg.blas import dsyrk

    # phi is C-contiguous (n, L), so phi.T is an F-contiguous (L, n) view: no copy.
    upper = torch.from_numpy(dsyrk(1.0, phi.contiguous().numpy().T, trans=0))
    return torch.triu(upper) + torch.triu(upper, diagonal=1).T


def ridge_head(
    w1: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lam: float
) -> torch.Tensor:
    """Ridge head (L,): (Phi^T Phi/n + lam I)^{-1} Phi^T y/n, accumulated over row chunks."""
    width = w1.shape[0]
    acc = torch.zeros((width, width), dtype=F64, device=w1.device)
    rhs = torch.zeros(width, dtype=F64, device=w1.device)
    for xc, yc in zip(x.split(CHUNK), y.split(CHUNK)):
        phi = features(w1, b, xc)
        acc += gram(phi)
        rhs += phi.T @ yc
    n = x.shape[0]
    system = acc / n + lam * torch.eye(width, dtype=F64, device=w1.device)
    chol = torch.linalg.cholesky(system)  # symmetric positive definite (lam > 0)
    return torch.cholesky_solve((rhs / n)[:, None], chol)[:, 0]


def kernel_ridge_head(phi2: torch.Tensor, y2: torch.Tensor, jitter: float) -> torch.Tensor:
    """Kernel-ridge head on S2 (brief §2.3): Phi2^T alpha with
    alpha = (K + jitter mean(diag K) I)^{-1} y2 and K = Phi2 Phi2^T; ``phi2`` (m2, L) -> (L,).

    Differentiable in ``phi2`` and ``y2`` (stage-2 distillation backpropagates through it).
    """
    k = phi2 @ phi2.T
    reg = jitter * k.diagonal().mean()
    eye = torch.eye(k.shape[0], dtype=k.dtype, device=k.device)
    alpha = torch.linalg.solve(k + reg * eye, y2)
    return phi2.T @ alpha


def train_on_data(
    w0: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    lam: float,
    *,
    gradient: torch.Tensor | None = None,
) -> Network:
    """A(D) on real data (x, y): stage 1 on D, then the ridge head on D.

    ``gradient``: grad_W L_D(W0) when already computed (it is the same G that distillation
    matches), else it is computed here."""
    if gradient is None:
        gradient = first_layer_gradient(w0, a, x, y)
    w1 = _unit_rows(-gradient)
    return Network(w1, b, ridge_head(w1, b, x, y, lam))


def random_features(
    w0: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lam: float
) -> Network:
    """The random-features baseline: no stage 1, ridge on relu(W0 x + b) (brief §5)."""
    return Network(w0, b, ridge_head(w0, b, x, y, lam))


def train_on_distilled(
    w0: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    x1: torch.Tensor,
    x2: torch.Tensor,
    y2: torch.Tensor,
    jitter: float,
) -> Network:
    """A on a distilled set: stage 1 on S1 = {(x, +1), (-x, +1) : x in x1} with the hard gate,
    then kernel ridge on S2 = (x2, y2). ``x1`` (m1/2, d), ``x2`` (m2, d), ``y2`` (m2,)."""
    if x1.shape[0] == 0 or x2.shape[0] == 0:
        raise ValueError(
            f"an empty distilled set cannot train the learner: |X1| = {x1.shape[0]} stored "
            f"points, |S2| = {x2.shape[0]}"
        )
    s1 = torch.cat([x1, -x1])
    w1 = first_layer_step(w0, a, s1, torch.ones(s1.shape[0], dtype=F64, device=s1.device))
    return Network(w1, b, kernel_ridge_head(features(w1, b, x2), y2, jitter))
