"""PCA and whitened features: identity covariance on the fit rows, shapes, determinism, and the
artefact written from a prepared MNIST set."""

import json

import numpy as np
import pytest
import xarray as xr

from initlab.data import load_prepared
from initlab.data.features import fit_pca, make_features, parse_feature_name, prepare_features
from initlab.data.mnist import prepare_mnist
from initlab.data.prepared import seeded_split
from initlab.data.registry import REPO_ROOT, SHIPPED_MNIST


def correlated(n=600, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d) * 5


def tabular(x, test_fraction=0.25):
    n = len(x)
    return xr.Dataset(
        {
            "x": (("sample", "feature"), x),
            "label": ("sample", np.arange(n) % 3),
            "split": ("sample", seeded_split(n, 0, test_fraction)),
        },
        coords={"sample": np.arange(n)},
    )


@pytest.mark.parametrize("fit", ["all", "train"])
def test_whitening_gives_identity_covariance_on_the_fit_rows(fit):
    ds = tabular(correlated())
    out, pca = make_features(ds, "white", 7, fit)
    rows = np.ones(600, bool) if fit == "all" else ds["split"].values == "train"
    z = out["x"].values[rows]
    np.testing.assert_allclose(np.cov(z, rowvar=False, ddof=1), np.eye(7), atol=1e-10)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)
    assert pca.n_fit == rows.sum() and (out["fit_row"].values == rows).all()


def test_pca_scores_are_uncorrelated_with_the_eigenvalues_as_variances():
    out, pca = make_features(tabular(correlated()), "pca", 5)
    cov = np.cov(out["x"].values, rowvar=False, ddof=1)
    np.testing.assert_allclose(
        cov, np.diag(pca.explained_variance), atol=1e-8 * pca.explained_variance[0]
    )
    assert (np.diff(pca.explained_variance) <= 0).all()
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(5), atol=1e-12)


def test_shapes_and_carried_variables():
    ds = tabular(correlated(n=300, d=9))
    out, _ = make_features(ds, "pca", 4, "train")
    assert out["x"].shape == (300, 4) and out["pca_components"].shape == (4, 9)
    assert out["pca_mean"].shape == (9,) and out["explained_variance_ratio"].shape == (4,)
    np.testing.assert_array_equal(out["label"].values, ds["label"].values)
    np.testing.assert_array_equal(out["split"].values, ds["split"].values)


def test_deterministic_and_sign_fixed():
    x = correlated()
    a, _ = make_features(tabular(x), "white", 6)
    b, _ = make_features(tabular(x.copy()), "white", 6)
    np.testing.assert_array_equal(a["x"].values, b["x"].values)
    comps = a["pca_components"].values
    assert (comps[np.arange(6), np.abs(comps).argmax(axis=1)] > 0).all()


def test_matches_scikit_learn_pca_up_to_sign():
    decomposition = pytest.importorskip(
        "sklearn.decomposition", reason="scikit-learn not installed"
    )
    x = correlated()
    ours = fit_pca(x, 5)
    ref = decomposition.PCA(5, whiten=True, svd_solver="full").fit(x)
    signs = np.sign((ours.components * ref.components_).sum(axis=1))
    np.testing.assert_allclose(ours.components, ref.components_ * signs[:, None], atol=1e-10)
    np.testing.assert_allclose(ours.explained_variance, ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(ours.transform(x, whiten=True), ref.transform(x) * signs, atol=1e-9)


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="n_components must be in 1..min"):
        fit_pca(correlated(n=5, d=3), 5)
    rank2 = correlated(n=50, d=2) @ np.ones((2, 4))
    with pytest.raises(ValueError, match="rank < 3"):
        fit_pca(rank2, 3)
    with pytest.raises(ValueError, match="not a feature name"):
        parse_feature_name("full_pca50")
    assert parse_feature_name("full_white10_train") == {
        "subset": "full",
        "kind": "white",
        "components": 10,
        "fit": "train",
    }


def test_feature_artefact_from_the_shipped_mnist_split(tmp_path):
    shipped = REPO_ROOT / SHIPPED_MNIST
    files = [shipped / "t10k-images-idx3-ubyte.gz", shipped / "t10k-labels-idx1-ubyte.gz"]
    prepare_mnist(
        "test", files, tmp_path / "test.nc", split_seed=0, test_fraction=0.2, log=lambda *_: None
    )
    prepare_features(
        "test_white10_all",
        tmp_path / "test.nc",
        tmp_path / "test_white10_all.nc",
        log=lambda *_: None,
    )
    ds = load_prepared(tmp_path / "test_white10_all.nc")
    assert ds["x"].shape == (10000, 10) and ds.attrs["artefact"] == "mnist/test_white10_all"
    np.testing.assert_allclose(np.cov(ds["x"].values, rowvar=False), np.eye(10), atol=1e-9)
    counts = json.loads(ds.attrs["counts"])
    assert counts["n_fit"] == 10000 and 0.4 < counts["explained_variance_ratio"] < 0.6
    assert {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "test.nc"} <= set(
        json.loads(ds.attrs["inputs_sha256"])
    )
