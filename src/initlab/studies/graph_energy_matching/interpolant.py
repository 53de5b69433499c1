"""The noise distribution p₀ and the discrete interpolant between noise and data (brief §2.3–2.4).

p₀ (the study's ``init`` axis, the brief's ``noise``): a graph with the node count n of its data
partner; node labels i.i.d. from π_X, edge labels (i<j) i.i.d. from π_E, then symmetrised.

* ``uniform``: π_X = 1/A, π_E = 1/B (the GEM release, ``noise.transition: uniform``);
* ``marginal``: the training set's class frequencies, edges counted over all i<j pairs of real
  nodes including "no bond".

The interpolant at time τ (§2.4, step 2): every node and every i<j edge independently takes the data
label with probability τ, else the noise label (x_τ = m⊙x₁ + (1−m)⊙x₀, m ~ Bernoulli(τ)); edges are
symmetrised. Its target velocity is u = onehot(G₁) − onehot(G₀).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from initlab.studies.graph_energy_matching.graphs import Graphs

__all__ = ["NoiseDistribution", "interpolate", "sample_noise"]


@dataclass(frozen=True)
class NoiseDistribution:
    """Class probabilities π_X (A,) and π_E (B,) of p₀."""

    name: str
    pi_x: np.ndarray
    pi_e: np.ndarray

    @classmethod
    def uniform(cls, n_atom: int, n_bond: int) -> NoiseDistribution:
        return cls("uniform", np.full(n_atom, 1.0 / n_atom), np.full(n_bond, 1.0 / n_bond))

    @classmethod
    def marginal(cls, train: Graphs, n_atom: int, n_bond: int) -> NoiseDistribution:
        """Empirical frequencies of atom classes over real nodes and of bond classes over the
        i<j pairs of real nodes (including class 0, "no bond")."""
        nodes = train.nodes[train.nodes >= 0]
        iu = np.triu_indices(train.edges.shape[1], 1)
        pairs = train.edges[:, iu[0], iu[1]]
        pairs = pairs[pairs >= 0]
        pi_x = np.bincount(nodes, minlength=n_atom).astype(float)
        pi_e = np.bincount(pairs, minlength=n_bond).astype(float)
        return cls("marginal", pi_x / pi_x.sum(), pi_e / pi_e.sum())

    @classmethod
    def named(cls, name: str, train: Graphs, n_atom: int, n_bond: int) -> NoiseDistribution:
        if name == "uniform":
            return cls.uniform(n_atom, n_bond)
        if name == "marginal":
            return cls.marginal(train, n_atom, n_bond)
        raise ValueError(f"unknown noise distribution {name!r}; use 'uniform' or 'marginal'")


def sample_noise(
    rng: np.random.Generator, n_nodes: np.ndarray, noise: NoiseDistribution, n_max: int
) -> Graphs:
    """One noise graph per entry of ``n_nodes`` (b,), padded to ``n_max`` nodes."""
    n_nodes = np.asarray(n_nodes)
    b = len(n_nodes)
    real = np.arange(n_max)[None, :] < n_nodes[:, None]
    nodes = rng.choice(len(noise.pi_x), size=(b, n_max), p=noise.pi_x)
    nodes = np.where(real, nodes, -1)
    draw = rng.choice(len(noise.pi_e), size=(b, n_max, n_max), p=noise.pi_e)
    upper = np.triu(draw, 1)
    edges = upper + upper.transpose(0, 2, 1)
    edges = np.where(real[:, :, None] & real[:, None, :], edges, -1)
    return Graphs(nodes.astype(np.int64), edges.astype(np.int64))


def interpolate(rng: np.random.Generator, g0: Graphs, g1: Graphs, tau: np.ndarray) -> Graphs:
    """The discrete interpolant G_τ between paired noise ``g0`` and data ``g1`` (same node
    counts), one τ (b,) per pair."""
    if not np.array_equal(g0.mask, g1.mask):
        raise ValueError("interpolate: noise and data graphs must have the same node masks")
    tau = np.asarray(tau, dtype=float)
    b, n = g0.nodes.shape
    take_x = rng.random((b, n)) < tau[:, None]
    nodes = np.where(take_x, g1.nodes, g0.nodes)
    take_e = np.triu(rng.random((b, n, n)) < tau[:, None, None], 1)
    take_e = take_e | take_e.transpose(0, 2, 1)
    edges = np.where(take_e, g1.edges, g0.edges)
    return Graphs(nodes, edges)
