"""Training: the transport loss with OT-paired interpolants, the optional contrastive phase, and
checkpoints from which a killed job resumes (brief §2.4, §2.5, §3.1).

Transport loss (§2.4): for data G₁, same-n noise G₀ paired by minibatch OT and τ ~ U(0, 1),
v = −k ∇E_θ(G_τ) clamped to ±``clamp``, u = onehot(G₁) − onehot(G₀),

    L_T = mean_valid nodes Σ_c Huber₁(v_X, u_X) + mean_valid i<j Σ_c Huber₁(v_E, u_E),

differentiated through ∇E (second order, ``create_graph=True``), in float32.

Contrastive phase (§2.5): L_CL = weighted mean_k [E(pos_k) − E(neg_k)], positives data graphs,
negatives sampler chains (half from noise, half from data), weight ``bad_weight`` on invalid or
disconnected negatives; total L = L_T + λ_cl·min(1, (it+1)/ramp)·L_CL.

Checkpoints: ``<checkpoint_dir>/<phase>.pt`` holds the model and optimiser states, the iteration,
the numpy generator state, the loss history and the cumulative wall time, written every
``checkpoint_every`` iterations and at the end (to a temporary name, then moved). A job started
again with the same settings resumes from it, and continues exactly as the uninterrupted run
would (all randomness comes from the stored generator); a finished checkpoint is reused as is.
A checkpoint written with other settings is refused, never silently mixed in.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from initlab.studies.graph_energy_matching.energy import energy_and_grad, pair_mask
from initlab.studies.graph_energy_matching.graphs import Graphs, one_hot
from initlab.studies.graph_energy_matching.interpolant import (
    NoiseDistribution,
    interpolate,
    sample_noise,
)
from initlab.studies.graph_energy_matching.pairing import ot_pairing

__all__ = [
    "Adam",
    "TrainConfig",
    "contrastive_loss",
    "load_checkpoint",
    "save_checkpoint",
    "train",
    "transport_batch",
    "transport_loss",
]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training phase (quick: 3,000 iterations, batch 128, Adam 3e-4, clip 10)."""

    iterations: int = 3000
    batch: int = 128
    lr: float = 3.0e-4
    clip: float = 10.0
    wall_cap: float = 0.0  # seconds of training (summed over resumed runs); 0: no cap
    warmup: int = 0  # linear warm-up iterations from 0.1 x lr (paper scale: 25)
    ot_weights: tuple = (1.0, 1.0, 1.0)
    k: float = 1.0
    clamp: float = 10.0
    log_every: int = 50
    checkpoint_every: int = 250
    # contrastive phase only (lambda_cl = 0: transport only)
    lambda_cl: float = 0.0
    cl_ramp: int = 20
    cl_positives: int = 64
    cl_bad_weight: float = 10.0
    extra: dict = field(default_factory=dict)

    def fingerprint(self) -> str:
        d = asdict(self)
        for volatile in ("wall_cap", "log_every", "checkpoint_every"):
            d.pop(volatile)
        return json.dumps(d, sort_keys=True, default=str)


def transport_batch(
    rng: np.random.Generator,
    train: Graphs,
    noise: NoiseDistribution,
    batch: int,
    n_atom: int,
    n_bond: int,
    ot_weights=(1.0, 1.0, 1.0),
) -> tuple[Graphs, Graphs, Graphs]:
    """``(G_τ, G₀, G₁)``: a data batch, OT-paired same-n noise and their interpolants."""
    data = train.take(rng.choice(len(train), size=batch, replace=False))
    g0 = sample_noise(rng, data.n_nodes, noise, train.nodes.shape[1])
    g0 = g0.take(ot_pairing(g0, data, n_atom, n_bond, ot_weights))
    tau = rng.random(batch)
    return interpolate(rng, g0, data, tau), g0, data


def transport_loss(
    model,
    gt: Graphs,
    g0: Graphs,
    g1: Graphs,
    n_atom: int,
    n_bond: int,
    *,
    k: float = 1.0,
    clamp: float = 10.0,
    device="cpu",
) -> torch.Tensor:
    """L_T of a batch of interpolants ``gt`` with their endpoints (scalar tensor, §2.4)."""
    Xt, Et, mask = one_hot(gt.nodes, gt.edges, n_atom, n_bond, device=device)
    X0, E0, _ = one_hot(g0.nodes, g0.edges, n_atom, n_bond, device=device)
    X1, E1, _ = one_hot(g1.nodes, g1.edges, n_atom, n_bond, device=device)
    _, gX, gE = energy_and_grad(model, Xt, Et, mask, create_graph=True)
    vX, vE = (-k * gX).clamp(-clamp, clamp), (-k * gE).clamp(-clamp, clamp)
    hx = torch.nn.functional.huber_loss(vX, X1 - X0, reduction="none", delta=1.0).sum(-1)
    he = torch.nn.functional.huber_loss(vE, E1 - E0, reduction="none", delta=1.0).sum(-1)
    upper = torch.triu(pair_mask(mask), 1)
    return hx[mask].mean() + he[upper].mean()


def contrastive_loss(
    model,
    positives: Graphs,
    negatives: Graphs,
    bad: np.ndarray,
    n_atom: int,
    n_bond: int,
    *,
    bad_weight: float = 10.0,
    device="cpu",
) -> torch.Tensor:
    """L_CL = Σ_k w_k (E(pos_k) − E(neg_k)) / Σ_k w_k, w = ``bad_weight`` on bad negatives."""
    Xp, Ep, mp = one_hot(positives.nodes, positives.edges, n_atom, n_bond, device=device)
    Xn, En, mn = one_hot(negatives.nodes, negatives.edges, n_atom, n_bond, device=device)
    w = torch.where(torch.as_tensor(bad, device=device), bad_weight, 1.0)
    diff = model(Xp, Ep, mp) - model(Xn, En, mn)
    return (w * diff).sum() / w.sum()


class Adam:
    """Adam (Kingma & Ba), the update of ``torch.optim.Adam`` with its defaults (β 0.9, 0.999,
    ε 1e-8, no weight decay). Written out because ``torch.optim`` imports ``torch._dynamo`` on
    first use, which costs seconds per job; tests check the two agree step for step."""

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = lr, betas, eps
        self.step_count = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.step_count += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.step_count, 1 - b2**self.step_count
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v / c2).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / c1)

    def state_dict(self) -> dict:
        return {
            "step": self.step_count,
            "m": [t.clone() for t in self.m],
            "v": [t.clone() for t in self.v],
        }

    def load_state_dict(self, state: dict) -> None:
        self.step_count = state["step"]
        for dst, src in zip(self.m + self.v, state["m"] + state["v"]):
            dst.copy_(src)


def save_checkpoint(path: Path, state: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(path: Path, fingerprint: str) -> dict | None:
    """The checkpoint at ``path``, None if there is none; refuses one of other settings."""
    path = Path(path)
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("fingerprint") != fingerprint:
        raise RuntimeError(
            f"{path} was written with other training settings; delete it (or its folder) to "
            "train again"
        )
    return state


def _lr_at(cfg: TrainConfig, lr: float, it: int) -> float:
    if cfg.warmup and it < cfg.warmup:
        return lr * (0.1 + 0.9 * it / cfg.warmup)
    return lr


def train(
    model,
    loss_fn: Callable[[np.random.Generator, int], tuple[torch.Tensor, dict]],
    cfg: TrainConfig,
    rng: np.random.Generator,
    *,
    checkpoint: Path | None = None,
    log: Callable[[str], object] = print,
    on_iteration: Callable[[int], None] | None = None,
) -> dict:
    """Adam on ``loss_fn(rng, iteration) -> (loss, parts)`` for ``cfg.iterations`` iterations or
    until ``cfg.wall_cap`` seconds, with grad-norm clipping and a NaN guard (a non-finite loss
    skips the step and halves the learning rate).

    Returns the history ``{"iter", "loss", "wall_s", <parts>...}`` (one entry per ``log_every``
    iterations, means over them) plus ``iterations_done``, ``stopped_by``, ``nan_skips`` and
    ``resumed_from``. ``on_iteration(it)`` runs after every iteration (tests use it to kill).
    """
    opt = Adam(model.parameters(), lr=cfg.lr)
    fingerprint = cfg.fingerprint()
    state = load_checkpoint(checkpoint, fingerprint) if checkpoint is not None else None
    history = {"iter": [], "loss": [], "wall_s": []}
    it, wall, lr, nan_skips, stopped_by = 0, 0.0, cfg.lr, 0, ""
    resumed_from = 0
    window: dict[str, list] = {}  # losses since the last log line
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        history = state["history"]
        it, wall, lr = state["iteration"], state["wall"], state["lr"]
        nan_skips, window = state["nan_skips"], state.get("window", {})
        # the stop is decided again: a larger iteration budget or wall cap continues training
        resumed_from = it
        log(f"resumed from {checkpoint} at iteration {it} ({wall:.0f} s trained)")

    def snapshot() -> dict:
        return {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "rng": rng.bit_generator.state,
            "history": history,
            "iteration": it,
            "wall": wall,
            "lr": lr,
            "nan_skips": nan_skips,
            "stopped_by": stopped_by,
            "window": window,
            "fingerprint": fingerprint,
        }

    model.train()
    while not stopped_by:
        if it >= cfg.iterations:
            stopped_by = "iterations"
            break
        if cfg.wall_cap and wall >= cfg.wall_cap:
            stopped_by = "wall_cap"
            log(f"wall cap of {cfg.wall_cap:.0f} s reached at iteration {it}")
            break
        start = time.perf_counter()
        opt.lr = _lr_at(cfg, lr, it)
        loss, parts = loss_fn(rng, it)
        if not torch.isfinite(loss):
            nan_skips += 1
            lr *= 0.5
            log(f"iteration {it}: non-finite loss, step skipped, lr -> {lr:.2e}")
        else:
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
        it += 1
        wall += time.perf_counter() - start
        window.setdefault("loss", []).append(float(loss.detach()))
        for name, value in parts.items():
            window.setdefault(name, []).append(float(value))
        if it % cfg.log_every == 0 or it == cfg.iterations:
            history["iter"].append(it)
            history["wall_s"].append(wall)
            for name, values in window.items():
                history.setdefault(name, []).append(float(np.nanmean(values)))
            window = {}
            log(
                f"iteration {it}/{cfg.iterations}: loss {history['loss'][-1]:.4f} "
                f"({wall:.1f} s, {it / max(wall, 1e-9):.2f} it/s)"
            )
        if checkpoint is not None and it % cfg.checkpoint_every == 0:
            save_checkpoint(checkpoint, snapshot())
        if on_iteration is not None:
            on_iteration(it)
    if checkpoint is not None:
        save_checkpoint(checkpoint, snapshot())
    model.eval()
    return {
        **history,
        "iterations_done": it,
        "stopped_by": stopped_by,
        "nan_skips": nan_skips,
        "resumed_from": resumed_from,
        "wall_total": wall,
    }


def transport_objective(train_set: Graphs, noise, cfg: TrainConfig, model, n_atom, n_bond, device):
    """``loss_fn`` for `train`: L_T on a fresh OT-paired interpolant batch."""

    def loss_fn(rng, it):
        gt, g0, g1 = transport_batch(
            rng, train_set, noise, cfg.batch, n_atom, n_bond, cfg.ot_weights
        )
        return (
            transport_loss(
                model, gt, g0, g1, n_atom, n_bond, k=cfg.k, clamp=cfg.clamp, device=device
            ),
            {},
        )

    return loss_fn
