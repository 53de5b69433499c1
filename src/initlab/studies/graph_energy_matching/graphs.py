"""Batches of padded molecular graphs as integer labels, and their one-hot tensors (brief §2.1).

A batch of ``b`` graphs padded to ``n`` nodes is held as labels (numpy on the data side, torch in
the sampler):

``nodes``  (b, n) int, atom class in 0..A-1, -1 for padding nodes;
``edges``  (b, n, n) int, bond class in 0..B-1 (0 = no bond), symmetric, 0 on the diagonal of
           real nodes, -1 for pairs with a padding node.

The network sees exact one-hot tensors (`one_hot`): padding rows and padding pairs are all zero,
the diagonal of a real node is "no bond", as in the prepared artefact ``qm9``
(`initlab.data.molecules`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Graphs", "from_artefact", "one_hot", "upper_pairs"]


@dataclass
class Graphs:
    """Integer labels of a batch of graphs (numpy arrays, see the module docstring)."""

    nodes: np.ndarray
    edges: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        return self.nodes >= 0

    @property
    def n_nodes(self) -> np.ndarray:
        return self.mask.sum(1)

    def __len__(self) -> int:
        return self.nodes.shape[0]

    def take(self, index) -> Graphs:
        return Graphs(self.nodes[index], self.edges[index])

    @staticmethod
    def concat(parts) -> Graphs:
        parts = list(parts)
        return Graphs(
            np.concatenate([p.nodes for p in parts]), np.concatenate([p.edges for p in parts])
        )


def from_artefact(ds, index=None) -> Graphs:
    """Labels of the molecules ``index`` (all when None) of a prepared molecule set (``X``,
    ``E``, ``mask`` one-hots of `initlab.data.molecules`)."""
    X = np.asarray(ds["X"].values if index is None else ds["X"].values[index])
    E = np.asarray(ds["E"].values if index is None else ds["E"].values[index])
    mask = np.asarray(ds["mask"].values if index is None else ds["mask"].values[index]).astype(bool)
    nodes = np.where(mask, X.argmax(-1), -1).astype(np.int64)
    pair = mask[:, :, None] & mask[:, None, :]
    edges = np.where(pair, E.argmax(-1), -1).astype(np.int64)
    return Graphs(nodes, edges)


def upper_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the pairs i < j of an n-node padding."""
    return np.triu_indices(n, 1)


def one_hot(
    nodes, edges, n_atom: int, n_bond: int, *, device="cpu", dtype=torch.float32
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(X (b, n, A), E (b, n, n, B), mask (b, n) bool)`` torch tensors from labels (numpy or
    torch); label -1 gives an all-zero vector."""
    nodes = torch.as_tensor(nodes, device=device)
    edges = torch.as_tensor(edges, device=device)
    X = torch.nn.functional.one_hot(nodes.clamp(min=0), n_atom).to(dtype)
    X = X * (nodes >= 0)[..., None]
    E = torch.nn.functional.one_hot(edges.clamp(min=0), n_bond).to(dtype)
    E = E * (edges >= 0)[..., None]
    return X, E, nodes >= 0
