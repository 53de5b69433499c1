"""The energy E_θ(G): a small permutation-invariant graph transformer (brief §2.1–2.2).

Graphs are dense and padded (brief §2.1):

``X``     (b, n, A) float one-hot atom types, zero rows for padding nodes;
``E``     (b, n, n, B) float one-hot bond classes (class 0 = no bond), symmetric;
``mask``  (b, n) bool, True for real nodes.

"GEM-lite" (brief §2.2, [reconstructed]): SiLU throughout, no extra features.

* inputs: [X, n/n_max] -> 2-layer MLP to h; ½(E + Eᵀ) -> 2-layer MLP to e;
* ``layers`` blocks: attention logits q_i·k_j/√h + Linear(e_ij) (softmax over valid nodes j);
  h <- LayerNorm(h + MLP[h, Σ_j att_ij v_j]); e <- LayerNorm(e + MLP[h_i + h_j, h_i ⊙ h_j, e_ij]);
  everything masked to valid nodes and valid off-diagonal pairs;
* readout: MLP[Σ_i h_i / n_max, Σ_ij e_ij / n_max², n/n_max] -> scalar.

Every operation is equivariant to a node permutation and the readout sums over nodes and pairs, so
E_θ is invariant (tests/test_graph_energy_matching_energy.py checks it to 1e-5). Edge states stay
symmetric because the edge update only sees symmetric functions of (h_i, h_j).

`energy_and_grad` returns E and the gradients the sampler and the transport loss use: ∂E/∂X and
the symmetrised ∂E/∂E, taken at the exact one-hot inputs (brief §2.1).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["GEMLite", "degree_features", "energy_and_grad", "pair_mask"]


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.SiLU(), nn.Linear(d_hidden, d_out))


def pair_mask(mask: torch.Tensor) -> torch.Tensor:
    """(b, n, n) bool: both nodes real and i != j."""
    n = mask.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=mask.device)
    return mask[:, :, None] & mask[:, None, :] & ~eye


class _Layer(nn.Module):
    def __init__(self, h: int, e: int):
        super().__init__()
        self.h = h
        self.q = nn.Linear(h, h)
        self.k = nn.Linear(h, h)
        self.v = nn.Linear(h, h)
        self.edge_bias = nn.Linear(e, 1)
        self.node_mlp = _mlp(2 * h, h, h)
        self.node_norm = nn.LayerNorm(h)
        # MLP[h_i + h_j, h_i ⊙ h_j, e_ij]: its first Linear on the concatenation, split into its
        # three blocks so that the h_i + h_j block runs per node (W(h_i + h_j) = W h_i + W h_j)
        self.edge_sum = nn.Linear(h, e)
        self.edge_prod = nn.Linear(h, e, bias=False)
        self.edge_self = nn.Linear(e, e, bias=False)
        self.edge_out = nn.Sequential(nn.SiLU(), nn.Linear(e, e))
        self.edge_norm = nn.LayerNorm(e)

    def forward(self, hx, he, mask, pmask):
        q, k, v = self.q(hx), self.k(hx), self.v(hx)
        logits = q @ k.transpose(1, 2) / math.sqrt(self.h) + self.edge_bias(he).squeeze(-1)
        logits = logits.masked_fill(~mask[:, None, :], float("-inf"))
        att = torch.softmax(logits, dim=-1)
        att = torch.nan_to_num(att) * mask[:, :, None]  # rows of padding nodes: all -inf
        msg = att @ v
        hx = self.node_norm(hx + self.node_mlp(torch.cat([hx, msg], -1))) * mask[..., None]
        s = self.edge_sum(hx)
        pre = s[:, :, None, :] + s[:, None, :, :] - self.edge_sum.bias
        pre = pre + self.edge_prod(hx[:, :, None, :] * hx[:, None, :, :]) + self.edge_self(he)
        he = self.edge_norm(he + self.edge_out(pre)) * pmask[..., None]
        return hx, he


class GEMLite(nn.Module):
    """Scalar energy of a batch of padded graphs, ``forward(X, E, mask) -> (b,)``.

    Parameters
    ----------
    n_atom, n_bond : A and B, the one-hot widths.
    n_max : the padding size (9 on QM9 without H), used to scale n and the readout sums.
    hidden, edge_hidden : h and e (64 and 32 give GEM-lite's ~106k parameters at 3 layers).
    layers : number of transformer blocks.
    features : ``"none"`` (GEM-lite as the brief states it) or ``"degree"``: per node the count
        of each bond class > 0 among its pairs and the bond-order sum / 4, computed on a detached
        copy of E (brief §2.1: extra features never carry gradient, as GEM's RRWP and molecular
        features), appended to the node input.
    """

    def __init__(
        self,
        n_atom: int,
        n_bond: int,
        n_max: int,
        *,
        hidden: int = 64,
        edge_hidden: int = 32,
        layers: int = 3,
        features: str = "none",
    ):
        super().__init__()
        if features not in ("none", "degree"):
            raise ValueError(f"features must be 'none' or 'degree', got {features!r}")
        self.n_max = n_max
        self.features = features
        n_extra = n_bond if features == "degree" else 0  # B - 1 bond counts + the valence
        self.node_in = _mlp(n_atom + 1 + n_extra, hidden, hidden)
        self.edge_in = _mlp(n_bond, edge_hidden, edge_hidden)
        self.layers = nn.ModuleList(_Layer(hidden, edge_hidden) for _ in range(layers))
        self.readout = nn.Sequential(
            nn.Linear(hidden + edge_hidden + 1, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, X: torch.Tensor, E: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.bool()
        pmask = pair_mask(mask)
        size = mask.sum(1, keepdim=True).to(X.dtype) / self.n_max  # (b, 1)
        n = X.shape[1]
        node_input = [X, size[:, None, :].expand(-1, n, -1)]
        if self.features == "degree":
            node_input.append(degree_features(E.detach(), pmask))
        hx = self.node_in(torch.cat(node_input, -1))
        hx = hx * mask[..., None]
        he = self.edge_in(0.5 * (E + E.transpose(1, 2))) * pmask[..., None]
        for layer in self.layers:
            hx, he = layer(hx, he, mask, pmask)
        pooled = torch.cat([hx.sum(1) / self.n_max, he.sum((1, 2)) / self.n_max**2, size], -1)
        return self.readout(pooled).squeeze(-1)


def degree_features(E: torch.Tensor, pmask: torch.Tensor) -> torch.Tensor:
    """(b, n, B) per node: the number of pairs of each bond class 1..B-1 and the bond-order sum
    (class k counts k) / 4, over real off-diagonal pairs. Call it on a detached E."""
    E = E * pmask[..., None]
    counts = E[..., 1:].sum(2)  # (b, n, B-1)
    order = torch.arange(1, E.shape[-1], dtype=E.dtype, device=E.device)
    valence = (counts * order).sum(-1, keepdim=True) / 4.0
    return torch.cat([counts, valence], -1)


def energy_and_grad(
    model: nn.Module,
    X: torch.Tensor,
    E: torch.Tensor,
    mask: torch.Tensor,
    *,
    create_graph: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(energy (b,), dE/dX (b, n, A), dE/dE (b, n, n, B))`` at the one-hot inputs.

    The edge gradient is symmetrised, g_ij <- ½(g_ij + g_ji), and both gradients are zero at
    padding nodes, padding pairs and the diagonal (brief §2.1). ``create_graph=True`` keeps the
    graph for the transport loss, which differentiates these gradients (second order, §2.4).
    """
    X = X.detach().requires_grad_(True)
    E = E.detach().requires_grad_(True)
    with torch.enable_grad():
        energy = model(X, E, mask)
        gX, gE = torch.autograd.grad(energy.sum(), (X, E), create_graph=create_graph)
    mask = mask.bool()
    gX = gX * mask[..., None]
    gE = 0.5 * (gE + gE.transpose(1, 2)) * pair_mask(mask)[..., None]
    if not create_graph:
        energy, gX, gE = energy.detach(), gX.detach(), gE.detach()
    return energy, gX, gE
