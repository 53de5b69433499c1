"""Decoding and sample metrics (brief §2.7): RDKit round trips, GEM's validity / uniqueness /
novelty conventions, malformed reference SMILES, FCD and NSPDK sanity."""

import numpy as np
import pytest

from initlab.data.molecules import QM9_ATOMS, dense_labels, encode_smiles
from initlab.studies.graph_energy_matching import metrics as M

KNOWN = ["CCO", "C1CC1", "N#CC=O", "OC1COC1", "CC(C)(C)F", "C1=CC=CN1", "O=C1NC=CO1", "CC#N"]


def _labels(smiles, n_max=9):
    encoded = [encode_smiles(s, QM9_ATOMS, max_nodes=n_max) for s in smiles]
    return dense_labels(encoded, n_max), [e[2] for e in encoded]


def test_decoding_known_molecules_round_trips():
    (nodes, edges), canonical = _labels(KNOWN)
    mols = M.decode(nodes.astype(np.int64), edges.astype(np.int64), QM9_ATOMS)
    from rdkit import Chem

    got = [Chem.MolToSmiles(m, isomericSmiles=False) for m in mols]
    assert got == canonical
    assert all(M.largest_fragment_smiles(m) == s for m, s in zip(mols, canonical))


def test_sample_metrics_follow_the_gem_conventions():
    (nodes, edges), canonical = _labels(["CCO", "CCO", "C1CC1", "CC.O"])
    nodes, edges = nodes.astype(np.int64), edges.astype(np.int64)
    # an invalid graph: a carbon with five single bonds (C in the middle of a 6-node star)
    bad_nodes = np.full((1, 9), -1)
    bad_nodes[0, :6] = 0
    bad_edges = np.full((1, 9, 9), -1)
    bad_edges[0, :6, :6] = 0
    bad_edges[0, 0, 1:6] = bad_edges[0, 1:6, 0] = 1
    nodes, edges = np.concatenate([nodes, bad_nodes]), np.concatenate([edges, bad_edges])
    mols = M.decode(nodes, edges, QM9_ATOMS)
    assert mols[-1] is None
    res = M.sample_metrics(mols, train_smiles={"C1CC1"})
    assert res["validity"] == pytest.approx(4 / 5)
    assert res["valid_connected"] == pytest.approx(3 / 5)  # CC.O has two fragments
    # largest fragments: CCO, CCO, C1CC1, CC -> 3 distinct of 4 valid
    assert res["uniqueness"] == pytest.approx(3 / 4)
    assert res["novelty"] == pytest.approx(2 / 3)  # C1CC1 is in the training set
    assert res["vun"] == pytest.approx(2 / 5)
    assert M.fraction_of_atom(nodes[:1], QM9_ATOMS.index("O")) == pytest.approx(1 / 3)


def test_malformed_smiles_are_counted_logged_and_skipped():
    lines = []
    kept = M.clean_smiles(["CCO", "C1CC", "", "not a smiles", "c1ccccc1"], lines.append, "test")
    assert kept == ["CCO", "c1ccccc1"]
    assert lines == ["test SMILES: skipped 3 malformed of 5"]
    assert M.clean_smiles(["CCO"], lines.append) == ["CCO"] and len(lines) == 1


def test_nspdk_is_zero_for_identical_sets_and_positive_otherwise():
    (nodes, edges), _ = _labels(KNOWN)
    mols = M.decode(nodes.astype(np.int64), edges.astype(np.int64), QM9_ATOMS)
    scorer = M.NSPDKScorer(mols)
    assert scorer(mols) == pytest.approx(0.0, abs=1e-9)
    (n2, e2), _ = _labels(["CCCC", "CCCCC", "CCCCCC", "CC(C)C"])
    assert scorer(M.decode(n2.astype(np.int64), e2.astype(np.int64), QM9_ATOMS)) > 0.05
    assert np.isnan(scorer([None, None]))


def test_fcd_is_small_for_the_reference_itself_and_matches_fcd_torch():
    pytest.importorskip("fcd_torch")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        fcd = M.FCDScorer(KNOWN * 4)
        assert fcd(KNOWN * 4) == pytest.approx(0.0, abs=1e-3)
        other = ["CCCCCCCC", "CCCCCCCCC", "CCCCCCC", "CCCCCC", "CCO", "NCCO", "CC(=O)O"]
        ours = fcd(other)
        assert ours > 1.0 and np.isnan(fcd(["CCO"]))
        # the package's own metric (scipy sqrtm of the non-symmetric product) agrees
        ref = fcd.fcd.metric(fcd.reference, fcd.fcd.precalc(other))
        assert ours == pytest.approx(ref, rel=1e-4)


def test_frechet_distance_of_gaussians_in_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    s1 = a @ a.T
    w, v = np.linalg.eigh(s1)
    half = (v * np.sqrt(w)) @ v.T
    # equal covariances: only the mean term remains
    assert M.frechet_distance(np.zeros(5), half, np.ones(5), s1) == pytest.approx(5.0, abs=1e-8)
    # diagonal covariances: sum (sqrt(s1) - sqrt(s2))^2
    d1, d2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    got = M.frechet_distance(np.zeros(3), np.diag(np.sqrt(d1)), np.zeros(3), np.diag(d2))
    assert got == pytest.approx(((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum(), abs=1e-10)
