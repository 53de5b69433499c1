"""Steering with the explicit energy: composition-constrained sampling and interpolation between two
molecules (brief §2.8, [reconstructed recipe]).

* Composition: sample from E'(G) = E_θ(G) + λ·P(G) in both sampler phases with a count P, here
  P = −#atoms of one class (e.g. −#O = −Σ_i X_{i,O}); it is linear in the one-hots, so its gradient
  is exact (`composition_term`).
* τ-path between G_a and G_b with the same n: one fixed uniform draw per coordinate, so the path
  is monotone; at τ a coordinate takes G_b's label when its draw is below τ (`tau_path`).
* "Geodesic" path: mixing on E(G) + μ·d_H(G, G_b) from G_a with μ ramped 0 -> μ_max; the Hamming
  distance d_H on node labels and i<j edge labels is linear in the one-hots (`hamming_term`).
"""

from __future__ import annotations

import numpy as np
import torch

from initlab.studies.graph_energy_matching.graphs import Graphs, one_hot
from initlab.studies.graph_energy_matching.sampler import LinearTerm

__all__ = ["composition_term", "hamming_distance", "hamming_term", "tau_path"]


def composition_term(lam: float, atom: int, n: int, n_atom: int, n_bond: int, device="cpu"):
    """λ·(−#atoms of class ``atom``) as a `LinearTerm` shared by the batch."""
    bx = torch.zeros(1, n, n_atom, device=device)
    bx[..., atom] = -lam
    return LinearTerm(bx, torch.zeros(1, n, n, n_bond, device=device))


def hamming_term(target: Graphs, mu: float, n_atom: int, n_bond: int, device="cpu"):
    """μ·d_H(G, target) up to a constant: d_H = Σ_i (1 − X_i·X*_i) + Σ_{i<j} (1 − E_ij·E*_ij),
    so the linear weights are −μ·onehot(target)."""
    X, E, _ = one_hot(target.nodes, target.edges, n_atom, n_bond, device=device)
    return LinearTerm(-mu * X, -mu * E)


def hamming_distance(a: Graphs, b: Graphs) -> np.ndarray:
    """d_H (per graph) over real nodes and i<j pairs of real nodes."""
    nodes = ((a.nodes != b.nodes) & (a.nodes >= 0)).sum(1)
    iu = np.triu_indices(a.edges.shape[1], 1)
    ea, eb = a.edges[:, iu[0], iu[1]], b.edges[:, iu[0], iu[1]]
    return nodes + ((ea != eb) & (ea >= 0)).sum(1)


def tau_path(rng: np.random.Generator, ga: Graphs, gb: Graphs, taus) -> list[Graphs]:
    """The monotone τ-path from ``ga`` to ``gb`` (same masks): one Graphs per τ."""
    if not np.array_equal(ga.mask, gb.mask):
        raise ValueError("tau_path: the two graphs need the same node count")
    b, n = ga.nodes.shape
    u_nodes = rng.random((b, n))
    u_edges = np.triu(rng.random((b, n, n)), 1)
    u_edges = u_edges + u_edges.transpose(0, 2, 1)
    out = []
    for tau in taus:
        nodes = np.where(u_nodes < tau, gb.nodes, ga.nodes)
        take = (u_edges < tau) & ~np.eye(n, dtype=bool)[None]
        edges = np.where(take, gb.edges, ga.edges)
        out.append(Graphs(nodes, edges))
    return out
