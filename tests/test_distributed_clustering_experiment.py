"""Experiment contract, the brief's reference numbers, and the claims on tiny runs."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from initlab.claims import evaluate
from initlab.studies.distributed_clustering import claims, experiment

KEY = ("distributed_clustering", 0, "test")
BASE = dict(users=10, k=3, steps=1000, record_every=50, rho_hom=10.0, rho_het=100.0, alpha=0.01)


def test_dgc_run_contract_and_the_briefs_reference_numbers():
    """With the brief's stream layout, 20 seeds of hom reproduce the reference reconstruction:
    random init cost 327.8 -> final 122.9 and acc 0.857; dkmc-L1 init cost 112.3 (brief §3-4)."""
    seeds = list(range(20))
    out = {}
    for init in ("random", "dkmc-L1"):
        params = dict(BASE, init=init, streams="brief")
        ds = experiment._dgc_split(params, "hom", init, seeds, *experiment._iris(),
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
        experiment.run("cgc", dict(k=3, alpha=0.001, steps=30, record_every=10, init=i), list(range(8)),
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


def test_mnist_scaleup_runs_small_and_skips_without_data(monkeypatch):
    params = dict(subset="test", components=10, users=10, k=10, graphs=["ring", "rgg"], er_p=0.3,
                  rgg_radius=0.5, rho_iris_hom=10.0, rho_iris_het=100.0, alpha_fraction=0.25,
                  steps=5, init="random")  # fmt: skip
    ds = experiment.run("mnist", params, [0], key=KEY)
    assert ds["acc_final"].dims == ("graph", "split", "seed", "user")
    assert ds["lambda_max"].sel(graph="ring").values.tolist() == pytest.approx([4.0])
    assert 0.4 < float(ds["lloyd_acc"]) < 0.7 and int(ds["mnist_skipped"].max()) == 0

    def missing(_):
        raise FileNotFoundError("no train split")

    monkeypatch.setattr(experiment, "_mnist_features", missing)
    notes = []
    skipped = experiment.run("mnist", params, [0, 1], key=KEY, log=notes.append)
    assert skipped["mnist_skipped"].values.tolist() == [1, 1] and "NOTICE" in notes[0]
