"""Iris and digits through the same loader interface as MNIST, and their prepared artefacts."""

import json

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn not installed (pip install -e .[data])")

from initlab.data import load, load_prepared  # noqa: E402
from initlab.data.sklearn_sets import prepare_sklearn_set  # noqa: E402


def test_iris_is_raw_150_by_4():
    ds = load("iris")
    assert ds["x"].shape == (150, 4) and ds["x"].dtype == np.float64
    assert np.bincount(ds["label"].values).tolist() == [50, 50, 50]
    assert ds.attrs["target_names"] == "setosa,versicolor,virginica"
    assert ds["x"].values.max() == 7.9  # raw centimetres, not standardised
    assert list(ds["feature_name"].values)[0] == "sepal length (cm)"


def test_digits_are_scaled_to_the_unit_interval():
    ds = load("digits")
    assert (
        ds["x"].shape == (1797, 64) and ds["x"].values.max() == 1.0 and ds["x"].values.min() == 0.0
    )
    raw = load("digits", scale=False)
    np.testing.assert_array_equal(raw["x"].values / 16.0, ds["x"].values)
    assert len(np.unique(ds["label"].values)) == 10


def test_prepared_artefact_has_provenance_and_a_seeded_split(tmp_path):
    prepare_sklearn_set(
        "iris", tmp_path / "iris.nc", split_seed=0, test_fraction=0.2, log=lambda *_: None
    )
    ds = load_prepared(tmp_path / "iris.nc")
    assert ds.attrs["artefact"] == "iris" and "load_iris" in ds.attrs["source"]
    assert set(json.loads(ds.attrs["inputs_sha256"])) == {"iris.data", "iris.target"}
    assert json.loads(ds.attrs["counts"])["label_counts"] == [50, 50, 50]
    assert (ds["split"].values == "test").sum() == 30
    again = load("iris", split_seed=0, test_fraction=0.2)
    np.testing.assert_array_equal(again["split"].values, ds["split"].values)
    assert json.loads(again.attrs["inputs_sha256"]) == json.loads(ds.attrs["inputs_sha256"])


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match="unknown dataset 'cifar'"):
        load("cifar")
