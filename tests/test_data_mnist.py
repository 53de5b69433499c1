"""Prepared MNIST: counts, scaling, the seeded split, provenance, and the 70k set from a mirror."""

import json
from pathlib import Path

import numpy as np
import pytest

from initlab.data import load, load_prepared
from initlab.data.idx import read_idx
from initlab.data.mnist import prepare_mnist
from initlab.data.prepared import PROVENANCE_ATTRS, seeded_split
from initlab.data.registry import (
    MNIST_FILES,
    MNIST_LABEL_COUNTS,
    MNIST_TRAIN_MEAN_PIXEL,
    REPO_ROOT,
    SHIPPED_MNIST,
)

SHIPPED = REPO_ROOT / SHIPPED_MNIST
MIRROR = REPO_ROOT.parent / "shared/data/mnist"  # our machines' mirror (configs/mnist_mirror.yaml)
TEST_FILES = [SHIPPED / "t10k-images-idx3-ubyte.gz", SHIPPED / "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist") / "test.nc"
    prepare_mnist("test", TEST_FILES, out, split_seed=0, test_fraction=0.2, log=lambda *_: None)
    return out


def test_prepared_test_split_holds_the_canonical_10k(prepared):
    ds = load_prepared(prepared)
    assert ds.sizes == {"sample": 10000, "feature": 784}
    assert tuple(np.bincount(ds["label"].values)) == MNIST_LABEL_COUNTS["test"]
    assert set(ds["origin"].values) == {"test"}
    np.testing.assert_array_equal(ds["index"].values, np.arange(10000))
    images = read_idx(TEST_FILES[0]).reshape(10000, -1)
    np.testing.assert_allclose(
        ds["x"].values, images / 255.0, rtol=0, atol=2e-16
    )  # packed: within 1 ulp
    assert ds["x"].dtype == np.float64 and 0 <= ds["x"].values.min() and ds["x"].values.max() == 1.0


def test_prepared_file_records_its_provenance(prepared):
    attrs = load_prepared(prepared).attrs
    assert set(PROVENANCE_ATTRS) <= set(attrs) and all(isinstance(v, str) for v in attrs.values())
    assert attrs["artefact"] == "mnist/test"
    hashes = json.loads(attrs["inputs_sha256"])
    assert hashes == {
        n: MNIST_FILES[n].sha256 for n in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    }
    counts = json.loads(attrs["counts"])
    assert counts["n_samples"] == 10000 and counts["label_counts"] == list(
        MNIST_LABEL_COUNTS["test"]
    )
    assert counts["by_split"] == {"train": 8000, "test": 2000}
    assert json.loads(attrs["params"]) == {
        "subset": "test",
        "split_seed": 0,
        "test_fraction": 0.2,
        "scale": "1/255",
    }
    assert not list(prepared.parent.glob("*.tmp"))


def test_the_split_is_fixed_by_its_seed(prepared):
    ds = load_prepared(prepared)
    np.testing.assert_array_equal(ds["split"].values, seeded_split(10000, 0, 0.2))
    assert (seeded_split(10000, 1, 0.2) != ds["split"].values).any()
    assert (seeded_split(50, 3, 0.0) == "train").all()
    with pytest.raises(ValueError, match="test_fraction"):
        seeded_split(10, 0, 1.0)


def test_load_gives_the_prepared_layout_in_memory(prepared):
    ds = load("mnist", split_seed=0, test_fraction=0.2)
    ref = load_prepared(prepared)
    assert ds.attrs["artefact"] == "mnist/test"
    for name in ("label", "split", "origin", "index"):
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
    np.testing.assert_allclose(ds["x"].values, ref["x"].values, rtol=0, atol=2e-16)


def test_a_subset_missing_its_files_says_which(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="needs \\['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'\\]"
    ):
        prepare_mnist("full", TEST_FILES, tmp_path / "full.nc", split_seed=0, test_fraction=0.0)
    with pytest.raises(FileNotFoundError, match="MNIST mirror directory .*absent does not exist"):
        load("mnist", subset="train", mirror=tmp_path / "absent", root=tmp_path)
    assert not (tmp_path / "full.nc").exists()


@pytest.mark.skipif(
    not MIRROR.is_dir(), reason=f"no MNIST mirror at {MIRROR} (full MNIST needs it offline)"
)
def test_full_mnist_from_the_mirror_holds_70000_with_the_canonical_counts():
    ds = load("mnist", subset="full", mirror=Path(MIRROR), root=Path("/nonexistent"))
    assert ds.sizes["sample"] == 70000
    train = ds["origin"].values == "train"
    assert tuple(np.bincount(ds["label"].values[train])) == MNIST_LABEL_COUNTS["train"]
    assert tuple(np.bincount(ds["label"].values[~train])) == MNIST_LABEL_COUNTS["test"]
    assert round(float(ds["x"].values[train].mean() * 255), 3) == MNIST_TRAIN_MEAN_PIXEL
