"""Decoding and sample metrics (brief §2.7): validity, valid_connected, uniqueness, novelty, VUN,
FCD (fcd_torch) and NSPDK MMD² (eden-kernel).

Conventions (GEM's, never mixed with DiGress'):

* decoding: an RDKit molecule from the atom labels and bond classes [none, single, double, triple]
  (`initlab.data.molecules.graph_to_mol`, which sanitises; hydrogens implicit);
* **validity**: ``SanitizeMol`` succeeds on the whole molecule, fragments allowed;
* **valid_connected**: valid and exactly one fragment;
* **uniqueness**: distinct canonical SMILES of the largest fragment / #valid;
* **novelty**: distinct SMILES not among the training SMILES / #distinct;
* **VUN**: #(valid ∧ unique ∧ novel) / #samples (each distinct novel SMILES counted once);
* **FCD**: ``fcd_torch.FCD(device, n_jobs=1)`` between the canonical largest-fragment SMILES of
  the valid samples and a reference set, the reference statistics computed once;
* **NSPDK**: networkx graphs (node ``label`` = atom symbol, edge ``label`` = bond order) ->
  ``eden.graph.vectorize(complexity=4, discrete=True)`` -> linear kernel;
  MMD² = mean K_XX + mean K_YY − 2 mean K_XY, over the valid samples.

Reference SMILES pass through `clean_smiles`: a malformed entry is counted, logged and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from initlab.data.molecules import graph_to_mol

__all__ = [
    "FCDScorer",
    "NSPDKScorer",
    "clean_smiles",
    "decode",
    "frechet_distance",
    "fraction_of_atom",
    "largest_fragment_smiles",
    "sample_metrics",
]


def _chem():
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem


def decode(nodes: np.ndarray, edges: np.ndarray, atoms: Sequence[str]) -> list:
    """RDKit molecules (None where sanitisation fails) of label arrays (b, n), (b, n, n)."""
    nodes, edges = np.asarray(nodes), np.asarray(edges)
    mols = []
    for a, e in zip(nodes, edges):
        real = a >= 0
        mols.append(graph_to_mol(a[real], e[np.ix_(real, real)], atoms))
    return mols


def largest_fragment_smiles(mol) -> str:
    """Canonical (non-isomeric) SMILES of the fragment with the most atoms."""
    Chem = _chem()
    frags = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    big = max(frags, key=lambda m: m.GetNumAtoms())
    return Chem.MolToSmiles(big, isomericSmiles=False)


def _n_fragments(mol) -> int:
    return len(_chem().GetMolFrags(mol))


def sample_metrics(mols: Sequence, train_smiles: set[str]) -> dict:
    """validity, valid_connected, uniqueness, novelty, vun (floats) and ``smiles`` (the largest
    fragments of the valid samples, in order)."""
    n = len(mols)
    valid = [m for m in mols if m is not None]
    smiles = [largest_fragment_smiles(m) for m in valid]
    connected = sum(_n_fragments(m) == 1 for m in valid)
    unique = set(smiles)
    novel = unique - train_smiles
    nan = float("nan")
    return {
        "validity": len(valid) / n if n else nan,
        "valid_connected": connected / n if n else nan,
        "uniqueness": len(unique) / len(valid) if valid else nan,
        "novelty": len(novel) / len(unique) if unique else nan,
        "vun": len(novel) / n if n else nan,
        "smiles": smiles,
    }


def fraction_of_atom(nodes: np.ndarray, atom: int) -> float:
    """Fraction of atom class ``atom`` among the real nodes of all graphs."""
    nodes = np.asarray(nodes)
    real = nodes[nodes >= 0]
    return float((real == atom).mean()) if real.size else float("nan")


def clean_smiles(
    smiles: Iterable[str], log: Callable[[str], object] = print, what: str = "reference"
) -> list[str]:
    """Canonical SMILES of the parsable entries; malformed ones are counted, logged, skipped."""
    Chem = _chem()
    kept, bad = [], 0
    for s in smiles:
        mol = Chem.MolFromSmiles(str(s)) if s else None
        if mol is None:
            bad += 1
            continue
        kept.append(Chem.MolToSmiles(mol, isomericSmiles=False))
    if bad:
        log(f"{what} SMILES: skipped {bad} malformed of {bad + len(kept)}")
    return kept


class FCDScorer:
    """Fréchet ChemNet distance to a fixed reference set.

    ChemNet activations and their mean and covariance come from ``fcd_torch`` (its bundled
    weights); the distance d² = |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½) is evaluated with
    tr (Σ₁Σ₂)^½ = Σ √eig(Σ₁^½ Σ₂ Σ₁^½) (symmetric eigendecompositions, with Σ₁^½ of the reference
    computed once) instead of fcd_torch's general ``scipy.linalg.sqrtm`` of the non-symmetric
    product: the same number (tests compare them) at a fraction of the cost for 512 x 512.
    """

    def __init__(self, reference: Sequence[str], device: str = "cpu"):
        from fcd_torch import FCD

        self.fcd = FCD(device=device, n_jobs=1)
        self.reference = self.fcd.precalc(list(reference))
        w, v = np.linalg.eigh(self.reference["sigma"])
        self._sqrt_ref = (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    def __call__(self, smiles: Sequence[str]) -> float:
        if len(smiles) < 2:
            return float("nan")
        gen = self.fcd.precalc(list(smiles))
        return frechet_distance(self.reference["mu"], self._sqrt_ref, gen["mu"], gen["sigma"])


def frechet_distance(mu1, sqrt_sigma1, mu2, sigma2) -> float:
    """d² between N(μ₁, Σ₁) and N(μ₂, Σ₂), given Σ₁^½ (symmetric PSD square root)."""
    sigma1 = sqrt_sigma1 @ sqrt_sigma1
    inner = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum()
    diff = np.asarray(mu1) - np.asarray(mu2)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_sqrt)


def _nx_graph(mol):
    import networkx as nx

    g = nx.Graph()
    for atom in mol.GetAtoms():
        g.add_node(atom.GetIdx(), label=atom.GetSymbol())
    for bond in mol.GetBonds():
        g.add_edge(
            bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), label=int(bond.GetBondTypeAsDouble())
        )
    return g


class NSPDKScorer:
    """NSPDK MMD² against a fixed set of reference molecules (features computed once)."""

    def __init__(self, reference_mols: Sequence):
        self.ref = self._features(reference_mols)
        self.k_yy = float(self._kernel(self.ref, self.ref).mean())

    @staticmethod
    def _features(mols):
        from eden.graph import vectorize

        return vectorize([_nx_graph(m) for m in mols], complexity=4, discrete=True)

    @staticmethod
    def _kernel(a, b) -> np.ndarray:
        # the linear kernel (sklearn pairwise_kernels(metric="linear")) on sparse features
        return np.asarray((a @ b.T).todense())

    def __call__(self, mols: Sequence) -> float:
        mols = [m for m in mols if m is not None]
        if len(mols) < 2:
            return float("nan")
        x = self._features(mols)
        return float(self._kernel(x, x).mean() + self.k_yy - 2 * self._kernel(x, self.ref).mean())
