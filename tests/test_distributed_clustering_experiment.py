"""Experiment contract, the brief's reference numbers, and the claims on tiny runs."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

import initlab.data
from initlab.claims import evaluate
from initlab.studies.distributed_clustering import claims, experiment

KEY = ("distributed_clustering", 0, "test")
BASE = dict(data="iris", users=10, k=3, steps=1000, record_every=50, rho_hom=10.0, rho_het=100.0, alpha=0.01)


pytestmark = pytest.mark.usefixtures("build_missing_artefacts")


def test_dgc_run_contract_and_the_briefs_reference_numbers():
    """With the brief's stream layout, 20 seeds of hom reproduce the reference reconstruction:
    random init cost 327.8 -> final 122.9 and acc 0.857; dkmc-L1 init cost 112.3 (brief §3-4)."""
    seeds = list(range(20))
    out = {}
    for init in ("random", "dkmc-L1"):
        params = dict(BASE, init=init, streams="brief")
        ds = experiment._dgc_split(params, "hom", init, seeds, *experiment.read_data(BASE),
                                   experiment._Streams("brief", KEY), lambda s: None)  # fmt: skip
        out[init] = ds
    assert out["random"]["cost_joint"][0].mean() == pytest.approx(327.8, abs=0.05)
    assert out["random"]["cost_joint"][-1].mean() == pytest.approx(122.9, abs=0.05)
    assert out["random"]["acc_joint"][-1].mean() == pytest.approx(0.857, abs=5e-4)
    assert out["dkmc-L1"]["cost_joint"][0].mean() == pytest.approx(112.3, abs=0.05)


def test_run_returns_seed_dim_without_sweep_dims():
    ds = experiment.run("dgc", dict(BASE, steps=20, record_every=10, init="kmpp-L0"), [0, 1], key=KEY)
    assert isinstance(ds, xr.Dataset)
    assert "seed" in ds.dims and "init" not in ds.dims and "alpha" not in ds.dims
    assert ds["acc_joint"].dims == ("split", "seed", "user", "iter")
    assert ds["iter"].values.tolist() == [0, 10, 20]
    with pytest.raises(ValueError, match="unknown distributed_clustering experiment"):
        experiment.run("nope", {}, [0], key=KEY)
    with pytest.raises(ValueError, match="only 'cpu'"):
        experiment.run("dgc", {}, [0], key=KEY, device="cuda")
    with pytest.raises(ValueError, match="not below the convergence bound"):
        experiment.run("dgc", dict(BASE, steps=2, alpha=0.5, init="random"), [0], key=KEY)


def _tiny_results():
    s = dict(steps=30, record_every=10)
    res = {}
    parts = [
        experiment.run("dgc", dict(BASE, **s, init=i), [0, 1, 2], key=KEY).expand_dims(init=[i], alpha=[0.01])
        for i in ("random", "kmpp-L0", "dkmc-L1")
    ]  # fmt: skip
    res["dgc"] = xr.merge(parts, join="outer", compat="no_conflicts")
    res["cgc"] = xr.merge([
        experiment.run("cgc", dict(data="iris", k=3, alpha=0.001, steps=30, record_every=10, init=i), list(range(8)),
                       key=KEY).expand_dims(init=[i])
        for i in ("random", "kmpp-greedy")
    ], join="outer", compat="no_conflicts")  # fmt: skip
    res["rho"] = experiment.run("rho", dict(BASE, **s, rhos=[10.0, 100.0], init="kmpp-L0"), [0, 1],
                                key=KEY).expand_dims(init=["kmpp-L0"])  # fmt: skip
    res["descent"] = experiment.run("descent", dict(BASE, steps=20, losses=["kmeans", "fair"], delta=1.0,
                                    init="random"), [0], key=KEY).expand_dims(init=["random"])  # fmt: skip
    res["losses"] = experiment.run("losses", dict(BASE, steps=10, losses=["fair"], deltas=[1.0], init="random"),
                                   [0, 1], key=KEY).expand_dims(init=["random"])  # fmt: skip
    res["checks"] = experiment.run("checks", dict(BASE, steps=20, alpha=0.001, init="random"), [0],
                                   key=KEY).expand_dims(init=["random"])  # fmt: skip
    return res


def test_claims_are_measured_from_results_and_can_fail():
    res = _tiny_results()
    table = evaluate("distributed_clustering", claims.CLAIMS, res).set_index("claim_id")
    measured_ok = ["B-conv", "B-descent", "B-robust-sd", "B-init-cost", "B-sanity-a", "B-sanity-b",
                   "B-sanity-c", "B-init-acc-het"]  # fmt: skip
    for cid in measured_ok:
        assert np.isfinite(table.loc[cid, "measured"]), table.loc[cid, "detail"]
    assert table.loc["B-sanity-a", "verdict"] == "PASS"
    assert table.loc["B-descent", "verdict"] == "PASS"
    # missing blocks are FAILs with the reason, not silent passes
    assert table.loc["B-losses", "verdict"] == "REPORT"
    assert "could not be measured" in table.loc["B-losses", "detail"]
    # every figure draws from these (incomplete) results
    from initlab.studies.distributed_clustering.figures import FIGURES

    for draw in FIGURES.values():
        fig = draw(res)
        assert fig.axes
        plt.close(fig)
    # tamper: make CGC perfectly consistent -> DGC is no longer "less sensitive"
    res["cgc"]["cgc_acc"][:] = 0.8 + 0.001 * np.arange(res["cgc"].sizes["seed"])[None, :, None]
    table = evaluate("distributed_clustering", claims.CLAIMS, res).set_index("claim_id")
    assert table.loc["B-robust-sd", "verdict"] == "FAIL"
    # tamper: DGC and CGC identical sanity difference -> FAIL
    res["checks"]["sanity_a"][:] = 1e-3
    table = evaluate("distributed_clustering", claims.CLAIMS, res).set_index("claim_id")
    assert table.loc["B-sanity-a", "verdict"] == "FAIL"


def test_iris_artefact_is_raw_cm_as_the_workflow_prepares_it(tmp_path, monkeypatch):
    """The sklearn_prepare rule passes scale=True (it divides digits by 16): Iris must stay the raw
    measurements in cm, or every Iris number of the brief (costs, alpha_max) would change."""
    from sklearn.datasets import load_iris

    from initlab.data.sklearn_sets import prepare_sklearn_set

    prepare_sklearn_set("iris", tmp_path / "data/prepared/iris.nc", scale=True, test_fraction=0.2, log=str)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(initlab.data, "MISSING", "error")
    x, labels = experiment.read_data({"data": "iris"})
    bunch = load_iris()
    assert np.array_equal(x, bunch.data) and np.array_equal(labels, bunch.target)
    # in the workflow a missing artefact is an error that says how to build it
    with pytest.raises(FileNotFoundError, match="data/prepared/digits.nc does not exist"):
        experiment.read_data({"data": "digits"})


def test_mnist_scaleup_and_probe_run_small(monkeypatch):
    """The scale-up code path on a stand-in for MNIST features (building the real 10k PCA artefact
    in memory takes ~10 s; the data stage's own tests cover it): 10 Gaussian blobs in R^10."""
    g = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 60)
    x = 6.0 * g.standard_normal((10, 10))[labels] + g.standard_normal((600, 10))
    monkeypatch.setattr(experiment, "read_data", lambda params: (x, labels))
    params = dict(data="mnist/test_pca50_all", users=10, k=10, graphs=["ring", "rgg"], er_p=0.3,
                  rgg_radius=0.5, rho_iris_hom=10.0, rho_iris_het=100.0, alpha_fraction=0.25, steps=5)  # fmt: skip
    runs = {i: experiment.run("probe", dict(params, init=i), [3], key=KEY) for i in ("random", "dkmc-L1")}
    ds = runs["random"]
    assert ds["acc_final"].dims == ("graph", "split", "seed", "user")
    assert ds["lambda_max"].sel(graph="ring").values.tolist() == pytest.approx([4.0])
    assert float(ds["lloyd_acc"]) > 0.95 and int(ds["n_samples"]) == 600
    # rho = rho_Iris N_i / 15 with N_i = 60; alpha a quarter of the bound
    assert ds["run_rho"].sel(split="het").values == pytest.approx(100.0 * 60 / 15)
    assert ds["run_alpha"].values == pytest.approx(0.25 * ds["run_alpha_max"].values)
    assert (ds["run_wall_s"] > 0).all()
    # the same seed sees the same graph, split and spectrum whatever the init (paired comparison)
    assert np.array_equal(runs["dkmc-L1"]["lambda_2"], ds["lambda_2"])
    res = {"probe": xr.concat([r.expand_dims(init=[i]) for i, r in runs.items()], "init")}
    row = evaluate("distributed_clustering", claims.CLAIMS, res).set_index("claim_id").loc["B-MNIST-probe"]
    assert row["verdict"] == "REPORT" and 0 < row["measured"] < 1, row["detail"]  # DKM+C starts better
    from initlab.studies.distributed_clustering.figures import mnist_probe, mnist_scaleup

    for draw in (mnist_probe, mnist_scaleup):
        plt.close(draw({**res, "mnist": res["probe"]}))
