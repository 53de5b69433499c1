"""Molecules as dense graph tensors: the encoding rules, the tensors' layout, the QM9 round trip
SMILES -> tensors -> RDKit molecule -> canonical SMILES, and the prepared QM9 / MOSES files."""

import json

import numpy as np
import pytest

Chem = pytest.importorskip("rdkit.Chem", reason="RDKit not installed (pip install -e .[data])")

from initlab.data import load_prepared  # noqa: E402
from initlab.data.molecules import (  # noqa: E402
    BONDS,
    MOSES_ATOMS,
    QM9_ATOMS,
    decode_labels,
    dense_labels,
    encode_many,
    encode_smiles,
    graph_to_smiles,
    one_hot,
    prepare_moses,
    prepare_qm9,
    read_qm9_smiles,
    split_labels,
)
from initlab.data.registry import moses_csv_paths, qm9_csv_paths  # noqa: E402

QM9 = qm9_csv_paths()
MOSES = moses_csv_paths()
needs_qm9 = pytest.mark.skipif(
    QM9 is None, reason="qm9pack not installed: pip install --no-deps qm9pack==1.0.3"
)
needs_moses = pytest.mark.skipif(
    MOSES is None, reason="molsets not installed: pip install --no-deps molsets==0.3.1"
)


def canonical(smiles):
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles), isomericSmiles=False)


def tensors(smiles_list, atoms=QM9_ATOMS, max_nodes=9):
    kept, encoded, dropped = encode_many(smiles_list, atoms, max_nodes=max_nodes)
    node, edge = dense_labels(encoded, max_nodes)
    return (
        one_hot(node, len(atoms)),
        one_hot(edge, len(BONDS)),
        (node >= 0).astype(np.uint8),
        kept,
        dropped,
    )


def test_aromatic_rings_are_kekulised_and_hydrogens_implicit():
    labels, bonds, smiles = encode_smiles("c1ccoc1", QM9_ATOMS, max_nodes=9)  # furan
    assert smiles == "c1ccoc1" and labels.tolist() == [0, 0, 0, 2, 0]
    assert sorted(bonds[:, 2].tolist()) == [
        1,
        1,
        1,
        2,
        2,
    ]  # single / double only, no aromatic class
    labels, bonds, smiles = encode_smiles("[H]OC([H])([H])[H]", QM9_ATOMS, max_nodes=9)
    assert smiles == "CO" and len(labels) == 2 and bonds.tolist() == [[0, 1, 1]]


@pytest.mark.parametrize(
    "smiles, reason",
    [
        ("[NH3+]CCC([O-])=O", "charged"),
        ("C[N+](C)(C)C", "charged"),
        ("C", "too_few_atoms"),
        ("CCCCCCCCCC", "too_many_atoms"),
        ("CCS", "atom_not_in_vocab"),
        ("C[CH2]", "radical"),
        ("C1CC", "unparsable"),
    ],
)
def test_molecules_the_tensors_cannot_hold_are_dropped_with_a_reason(smiles, reason):
    assert encode_smiles(smiles, QM9_ATOMS, max_nodes=9) == reason


def test_tensor_layout_one_hot_symmetric_masked():
    X, E, mask, kept, dropped = tensors(["CC#N", "OC1CC1", "[NH4+]"])
    assert kept == [0, 1] and dropped == {"charged": 1}
    assert X.shape == (2, 9, 4) and E.shape == (2, 9, 9, 4) and mask.shape == (2, 9)
    assert mask.sum(axis=1).tolist() == [3, 4]
    assert (X.sum(-1) == mask).all()  # one-hot on real nodes, zero rows on padding
    pair = mask[:, :, None] * mask[:, None, :]
    assert (E.sum(-1) == pair).all()  # one-hot on real pairs (diagonal included), zero on padding
    assert (E == E.transpose(0, 2, 1, 3)).all()
    assert (np.diagonal(E[..., 0], axis1=1, axis2=2) == mask).all()  # diagonal = "no bond"
    assert E[0, 1, 2].tolist() == [0, 0, 0, 1]  # C#N is a triple bond
    atoms, edges = decode_labels(X[1], E[1], mask[1])
    assert atoms.tolist() == [2, 0, 0, 0] and edges.shape == (4, 4)


def test_split_sizes_counts_fractions_and_the_rest():
    assert split_labels(10, 6, 3).tolist() == ["train"] * 6 + ["test"] * 3 + ["val"]
    assert split_labels(100, 0.5, 0.1).tolist().count("test") == 10
    assert split_labels(10, -1, 2).tolist().count("train") == 8
    with pytest.raises(ValueError, match="does not fit 10 molecules"):
        split_labels(10, 8, 3)


@needs_qm9
def test_qm9_round_trip_over_1000_random_molecules():
    """SMILES -> tensors -> RDKit molecule -> canonical SMILES on 1,000 random QM9 molecules."""
    smiles, _ = read_qm9_smiles(QM9)
    assert len(smiles) == 130831
    sample = [
        smiles[i] for i in np.random.default_rng(2024).choice(len(smiles), 1000, replace=False)
    ]
    X, E, mask, kept, dropped = tensors(sample)
    assert set(dropped) <= {"charged"}  # zwitterions and ions, as the GEM brief says
    decoded = [graph_to_smiles(X[k], E[k], mask[k], QM9_ATOMS) for k in range(len(kept))]
    expected = [canonical(sample[i]) for i in kept]
    rate = np.mean([d == e for d, e in zip(decoded, expected)])
    print(
        f"QM9 round trip: {rate:.4f} of {len(kept)} kept ({sum(dropped.values())} charged dropped of 1000)"
    )
    assert rate >= 0.999


@needs_qm9
def test_prepared_qm9_records_vocabularies_counts_and_split(tmp_path):
    out = tmp_path / "qm9.nc"
    prepare_qm9(None, out, seed=0, subset=600, train=500, test=60, log=lambda *_: None)
    ds = load_prepared(out)
    assert (
        ds.sizes["mol"] == 600 and ds["X"].shape == (600, 9, 4) and ds["E"].shape == (600, 9, 9, 4)
    )
    assert (
        ds.attrs["atom_vocab"] == "C,N,O,F"
        and ds.attrs["bond_vocab"] == "none,single,double,triple"
    )
    assert ds.attrs["max_nodes"] == "9" and int(ds.attrs["max_nodes_seen"]) <= 9
    counts = json.loads(ds.attrs["counts"])
    assert counts["by_split"] == {"train": 500, "test": 60, "val": 40}
    assert counts["n_considered"] == 600 + sum(counts["dropped"].values())
    assert ds["node_count_hist"].sel(hist_split="all").sum() == 600
    assert (
        ds["node_count_hist"].sel(hist_split="all").values
        == np.bincount(ds["n_nodes"].values, minlength=10)
    ).all()
    assert len(json.loads(ds.attrs["inputs_sha256"])) == 3
    for k in range(0, 600, 37):
        assert (
            graph_to_smiles(ds["X"].values[k], ds["E"].values[k], ds["mask"].values[k], QM9_ATOMS)
            == ds["smiles"].values[k]
        )
    again = tmp_path / "again.nc"
    prepare_qm9(None, again, seed=0, subset=600, train=500, test=60, threads=2, log=lambda *_: None)
    assert (load_prepared(again)["source_index"].values == ds["source_index"].values).all()


@needs_moses
def test_prepared_moses_split_round_trips(tmp_path):
    out = tmp_path / "test.nc"
    prepare_moses(None, "test", out, seed=0, subset=300, log=lambda *_: None)
    ds = load_prepared(out)
    assert ds.sizes["mol"] == 300 and ds["E"].shape == (300, 27, 27, 4)
    assert ds.attrs["atom_vocab"] == ",".join(MOSES_ATOMS) and set(ds["split"].values) == {"test"}
    ok = [
        graph_to_smiles(ds["X"].values[k], ds["E"].values[k], ds["mask"].values[k], MOSES_ATOMS)
        == ds["smiles"].values[k]
        for k in range(300)
    ]
    assert np.mean(ok) >= 0.99
