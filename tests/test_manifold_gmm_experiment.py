"""manifold_gmm: a tiny run of each experiment, its claims table and its figures."""

import numpy as np
import pytest

import initlab.data
from initlab import claims as claims_mod
from initlab import plotting
from initlab.studies.manifold_gmm import claims, experiment, figures

COMMON = dict(
    eps=1e-3,
    riem_steps=3,
    gmm_n_init=1,
    gmm_reg=1e-3,
    spectral_max_n=150,
    spectral_neighbors=10,
    baselines=True,
    nn_hidden=[4],
    nn_lr=[1e-3],
    nn_outer=[2],
    nn_adam_steps=2,
    nn_weight_decay=1e-4,
)
SYNTH = dict(
    COMMON,
    k=4,
    d=2,
    separation=4.0,
    eta0=0.5,
    outer_iters=6,
    lda_kmeans_on="white",
    gmm_input="raw",
    pca_gmm_reg=1e-6,
    nn=True,
    nn_start="winner",
    store_projection=True,
    seeds=2,
    init="multistart-1",
    D=6,
    nuisance=5.0,
    n=200,
)
DIGITS = dict(
    COMMON,
    data="digits",
    n_subsample=300,
    k=10,
    p=12,
    d=9,
    eta0=0.3,
    outer_iters=4,
    lda_kmeans_on="raw",
    gmm_input="white",
    pca_gmm_reg=1e-3,
    nn=True,
    nn_start="lda_kmeans",
    store_projection=False,
    seeds=1,
    init="multistart-0",
)


def _run(name, params):
    return experiment.run(name, params, list(range(params["seeds"])), key=("manifold_gmm", 0, name))


def _as_point(ds, axes):
    ds = ds.expand_dims({a: [v] for a, v in axes.items()})
    ds.attrs["axes"] = "[" + ", ".join(f'"{a}"' for a in axes) + "]"
    return ds


@pytest.fixture(scope="module")
def results():
    synth = _run("synthetic", SYNTH)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(initlab.data, "MISSING", "build")  # digits built in memory if not prepared
        digits = _run("digits", DIGITS)
    return {
        "synthetic": _as_point(synth, {"init": "multistart-1", "D": 6, "nuisance": 5.0, "n": 200}),
        "digits": _as_point(digits, {"init": "multistart-0", "p": 12, "d": 9}),
    }


def test_run_records_the_brief_variables(results):
    ds = results["synthetic"].isel(init=0, D=0, nuisance=0, n=0)
    assert list(ds["start"].values) == ["lda_kmeans", "pca", "random0"]
    assert {
        "kmeans",
        "gmm",
        "gmm_white",
        "pca_kmeans",
        "pca_gmm",
        "spectral",
        "lda_gmm",
        "mgmm_lda_kmeans",
        "mgmm_pca",
        "mgmm_random",
        "mgmm_multistart",
        "nn",
    } == set(ds["method"].values)
    assert ds["loglik_pen"].sizes == {"seed": 2, "start": 3, "outer_iter": 7}
    assert ds["subspace_cos"].sizes["angle"] == 2
    assert ((ds["acc"] >= 0) & (ds["acc"] <= 1)).all()
    assert float(ds["orth_err"].max()) < 1e-10
    assert float(ds["nn_reduce_err"].max()) < 1e-10
    # the multistart method is the likelihood winner among the starts, never the ACC-best
    for s in ds["seed"].values:
        win = str(ds["winner"].sel(seed=s).values)
        assert win == str(ds["start"].values[int(ds["final_pen"].sel(seed=s).argmax("start"))])
        assert float(ds["acc"].sel({"seed": s, "method": "mgmm_multistart"})) == float(
            ds["acc_start"].sel(seed=s, start=win)
        )
    dg = results["digits"].isel(init=0, p=0, d=0)
    assert int(dg["n_points"].max()) == 300 and int(dg["spectral_n"].max()) == 150


def test_same_seed_same_numbers():
    a = _run("synthetic", dict(SYNTH, seeds=1, nn=False, baselines=False))
    b = _run("synthetic", dict(SYNTH, seeds=1, nn=False, baselines=False))
    np.testing.assert_array_equal(a["loglik_pen"].values, b["loglik_pen"].values)


def test_claims_are_measured_from_the_results(results):
    table = claims_mod.evaluate("manifold_gmm", claims.CLAIMS, results)
    by_id = table.set_index("claim_id")
    for cid in (
        "A-manifold",
        "A-manifold-tangent",
        "A-manifold-fd",
        "A-manifold-retraction",
        "A-monotone",
        "A-nn-reduce",
    ):
        assert by_id.loc[cid, "verdict"] == "PASS", by_id.loc[cid, "detail"]
    assert by_id.loc["A-MNIST", "verdict"] == "FAIL"  # not run here: a FAIL with the reason
    assert "was not run" in by_id.loc["A-MNIST", "detail"]
    assert np.isfinite(by_id.loc["A-synthetic", "measured"])
    assert np.isfinite(by_id.loc["A-digits", "measured"])
    assert set(by_id.loc[["A-init", "A-vs-GMM", "A-nn", "A-ceiling", "A-nmi-ari"], "verdict"]) == {
        "REPORT"
    }


def test_figures_draw(results, tmp_path):
    for name, draw in figures.FIGURES.items():
        plotting.save_png(draw(results), tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_figures_of_experiments_not_run_are_placeholders(tmp_path):
    nothing = {}
    for name, draw in figures.FIGURES.items():
        fig = draw(nothing)
        assert "not run" in fig.axes[0].texts[0].get_text()
        plotting.save_png(fig, tmp_path / f"{name}.png")


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="d = 4 must be <= K - 1"):
        _run("synthetic", dict(SYNTH, d=4))
    with pytest.raises(ValueError, match="nn_start lda_kmeans"):
        _run("synthetic", dict(SYNTH, init="random-2", nn_start="lda_kmeans"))
    with pytest.raises(ValueError, match="unknown manifold_gmm experiment"):
        experiment.run("cifar", SYNTH, [0], key=("k",))
