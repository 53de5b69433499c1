"""Claims of the ``manifold_gmm`` brief (§4), measured from the aggregated results.

``results`` maps experiment -> Dataset (`initlab.results.load_study`): ``synthetic``, ``digits``,
``mnist``, each with its sweep axes (``init`` and, at paper scale, ``p``, ``d``, ``D`` ...) as
dimensions besides the run's own (``seed``, ``method``, ``start``, ...). A claim reads one point
per experiment: an axis of length one is squeezed; a longer one is set to the brief's quick value
(`PREFERRED`), or to its first value. Seeds that were not run (all NaN) are dropped.

The A-manifold row of the brief holds four checks with four thresholds; each is its own claim
here (A-manifold, -tangent, -fd, -retraction), and so are the four parts of A-synthetic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import xarray as xr

from initlab.claims import Claim, Measurement, at_least, at_most

from .baselines import UNSUPERVISED

__all__ = ["CLAIMS", "PREFERRED", "point"]

Results = Mapping[str, xr.Dataset]

#: The quick-scale value of each sweep axis a claim reads, where an axis has several values.
PREFERRED = {
    "synthetic": {"init": "multistart-20", "D": 10, "nuisance": 5.0, "n": 600},
    "digits": {"init": "multistart-2", "p": 20},
    "mnist": {"init": "multistart-2", "p": 10, "d": 9},
}


def point(results: Results, experiment: str) -> xr.Dataset:
    """The dataset of one sweep point of ``experiment`` (see the module docstring)."""
    if experiment not in results:
        raise ValueError(f"experiment {experiment!r} was not run")
    ds = results[experiment]
    prefs = PREFERRED.get(experiment, {})
    for axis in json.loads(ds.attrs.get("axes", "[]")):
        if axis not in ds.dims:
            continue
        values = list(ds[axis].values)
        if len(values) == 1:
            ds = ds.isel({axis: 0})
        elif axis in prefs and prefs[axis] in values:
            ds = ds.sel({axis: prefs[axis]})
        else:
            ds = ds.isel({axis: 0})
    if "acc" in ds:
        ds = ds.isel(seed=np.flatnonzero(ds["acc"].notnull().any("method").values))
    if ds.sizes.get("seed", 0) == 0:
        raise ValueError(f"{experiment}: no seed was run at the selected point")
    return ds


def _acc(ds, method, var="acc"):
    if method not in ds["method"].values:
        raise ValueError(f"method {method!r} was not run (have {list(ds['method'].values)})")
    da = ds[var].sel({"method": method})  # dict form: `method` is a sel() keyword
    if bool(da.isnull().any()):
        raise ValueError(f"{var}[{method}] has missing seeds")
    return da


def _mean(ds, method, var="acc") -> float:
    return float(_acc(ds, method, var).mean())


def _points(results: Results, names) -> list[tuple[str, xr.Dataset]]:
    """``(name, point(results, name))`` for each experiment of ``names`` that ran, in that order."""
    return [(name, point(results, name)) for name in names if name in results]


def _all_points(results: Results, variable: str):
    """Every value of ``variable`` over every experiment and point that has it."""
    for name, ds in results.items():
        if variable in ds:
            yield name, ds[variable]


# --- A-manifold --------------------------------------------------------------------------------


def _max_over_runs(variable, check=None):
    """``results -> Measurement``: the max of ``variable`` (at ``check``) over every experiment."""

    def run(results):
        values = {}
        for name, da in _all_points(results, variable):
            if check is not None:
                da = da.sel(check=check)
            values[name] = float(da.max())
        if not values:
            raise ValueError(f"no experiment recorded {variable}")
        return Measurement(
            max(values.values()),
            "max per experiment: " + ", ".join(f"{k} {v:.2g}" for k, v in values.items()),
        )

    return run


def _monotone(results):
    ds = results.get("synthetic")
    if ds is None or "min_increase" not in ds:
        raise ValueError("the synthetic experiment was not run")
    per_point = (ds["min_increase"] / ds["n_points"]).min()
    worst_total = float(ds["min_increase"].min())
    others = ", ".join(
        f"{name} {float((d['min_increase'] / d['n_points']).min()):.2g}"
        for name, d in results.items()
        if name != "synthetic" and "min_increase" in d
    )
    runs = int(ds["min_increase"].notnull().sum())
    return Measurement(
        float(per_point),
        f"min over {runs} synthetic runs (seed x start) of the total change of l_eps in one "
        f"outer iteration, divided by n; worst total {worst_total:.2g}; other data (per point): {others}",
    )


# --- A-synthetic, A-subspace, A-digits, A-MNIST ---------------------------------------------------


def _synthetic_acc(method):
    def run(results):
        ds = point(results, "synthetic")
        acc = _acc(ds, method)
        return Measurement(
            float(acc.mean()),
            f"{ds.sizes['seed']} seeds: mean {float(acc.mean()):.3f} +- {float(acc.std()):.3f}, "
            f"min {float(acc.min()):.3f}",
        )

    return run


def _synthetic_margin(results):
    ds = point(results, "synthetic")
    mgmm = _mean(ds, "mgmm_multistart")
    base = {b: _mean(ds, b) for b in UNSUPERVISED if b in ds["method"].values}
    best = max(base, key=base.get)
    extra = ""
    if "gmm_white" in ds["method"].values:
        extra = f"; not in the brief's list: GMM on the whitened input {_mean(ds, 'gmm_white'):.3f}"
    return Measurement(
        mgmm - base[best],
        f"mgmm_multistart {mgmm:.3f} - best unsupervised baseline {best} {base[best]:.3f} ("
        + ", ".join(f"{b} {v:.3f}" for b, v in base.items())
        + ")"
        + extra,
    )


def _subspace(results):
    ds = point(results, "synthetic")
    if "subspace_cos" not in ds:
        raise ValueError("subspace_cos was not recorded")
    cos = ds["subspace_cos"].min("angle")
    win = np.array(
        [
            float(cos.sel(seed=s, start=str(ds["winner"].sel(seed=s).values)))
            for s in ds["seed"].values
        ]
    )
    pca = cos.sel(start="pca").values if "pca" in ds["start"].values else np.array([np.nan])
    frac = float(np.mean(win >= 0.9))
    return Measurement(
        frac,
        f"{int(np.sum(win >= 0.9))}/{len(win)} seeds with min cosine >= 0.9 (winner min {win.min():.3f}, "
        f"median {np.median(win):.3f}); pca start median {np.nanmedian(pca):.3f}",
    )


def _beats_kmeans(experiment):
    def run(results):
        ds = point(results, experiment)
        a, b = _acc(ds, "mgmm_lda_kmeans"), _acc(ds, "kmeans")
        return Measurement(
            float(a.mean() - b.mean()),
            f"{ds.sizes['seed']} seeds: mgmm_lda_kmeans {float(a.mean()):.3f} +- {float(a.std()):.3f} vs "
            f"k-means {float(b.mean()):.3f} +- {float(b.std()):.3f} (n = {int(ds['n_points'].max())}, "
            f"NMI {_mean(ds, 'mgmm_lda_kmeans', 'nmi'):.3f} vs {_mean(ds, 'kmeans', 'nmi'):.3f}, "
            f"ARI {_mean(ds, 'mgmm_lda_kmeans', 'ari'):.3f} vs {_mean(ds, 'kmeans', 'ari'):.3f})",
        )

    return run


# --- report-only ---------------------------------------------------------------------------------


def _init_table(results):
    ds = point(results, "synthetic")
    acc = ds["acc_start"]
    names = [str(s) for s in ds["start"].values]
    rand = [s for s in names if s.startswith("random")]
    parts = []
    for s in ("lda_kmeans", "pca"):
        if s in names:
            a = acc.sel(start=s)
            parts.append(
                f"{s} {float(a.mean()):.3f} +- {float(a.std()):.3f} (fails on {int((a < 0.9).sum())}/{a.size})"
            )
    if rand:
        r = acc.sel(start=rand)
        parts.append(
            f"one random start {float(r.mean()):.3f}, P(ACC > 0.9) = {float((r > 0.9).mean()):.3f}"
        )
    best = acc.max("start")
    win = np.array(
        [
            float(acc.sel(seed=s, start=str(ds["winner"].sel(seed=s).values)))
            for s in ds["seed"].values
        ]
    )
    agree = float(np.mean(win >= best.values - 1e-9))
    parts.append(f"multistart {win.mean():.3f}")
    for name, d in _points(results, ("digits", "mnist")):
        parts.append(
            f"{name}: "
            + ", ".join(
                f"{s} {float(d['acc_start'].sel(start=s).mean()):.3f}" for s in d["start"].values
            )
        )
    return Measurement(
        agree,
        "fraction of synthetic seeds whose l-winner is the ACC-best start; " + "; ".join(parts),
    )


def headline_method(dataset: str) -> str:
    """The MGMM run the brief compares: multistart on synthetic data, lda_kmeans on digits/MNIST."""
    return "mgmm_multistart" if dataset == "synthetic" else "mgmm_lda_kmeans"


def _vs_gmm(results):
    parts, first = [], None
    for name, ds in _points(results, ("digits", "mnist", "synthetic")):
        mg = headline_method(name)
        m = _mean(ds, mg)
        diffs = {
            b: m - _mean(ds, b)
            for b in ("pca_gmm", "spectral", "gmm", "gmm_white")
            if b in ds["method"].values
        }
        if first is None and "pca_gmm" in diffs:
            first = diffs["pca_gmm"]
        parts.append(
            f"{name} ({mg} {m:.3f}): " + ", ".join(f"-{b} {v:+.3f}" for b, v in diffs.items())
        )
    if first is None:
        raise ValueError("no dataset with PCA+GMM")
    return Measurement(
        first, "ACC(MGMM) - ACC(baseline); measured: digits vs PCA+GMM. " + "; ".join(parts)
    )


def _nn(results):
    parts, first = [], None
    for name, ds in _points(results, ("synthetic", "digits", "mnist")):
        if "nn_acc" not in ds:
            continue
        for cfg in ds["nn_config"].values:
            dacc = ds["nn_acc"].sel(nn_config=cfg) - ds["nn_linear_acc"].sel(nn_config=cfg)
            gain = ds["nn_gain"].sel(nn_config=cfg)
            within = ds["nn_within"].sel(nn_config=cfg)
            if first is None:
                first = float(dacc.mean())
            parts.append(
                f"{name} {cfg}: dACC in [{float(dacc.min()):+.3f}, {float(dacc.max()):+.3f}], "
                f"l gain {float(gain.mean()):.2f} nats/point, nn_within {float(within.mean()):.3f}"
            )
    if first is None:
        raise ValueError("the NN family was not run")
    return Measurement(
        first,
        "ACC(nn) - ACC(its linear start), mean over seeds; measured: synthetic. "
        + "; ".join(parts),
    )


def _ceiling(results):
    parts, value = [], None
    for name, ds in _points(results, ("synthetic", "digits", "mnist")):
        mg = headline_method(name)
        v = _mean(ds, "lda_gmm") - _mean(ds, mg)
        value = v if name == "mnist" else (value if value is not None else v)
        parts.append(f"{name} {v:+.3f} (LDA+GMM {_mean(ds, 'lda_gmm'):.3f})")
    if value is None:
        raise ValueError("no dataset ran the baselines")
    return Measurement(
        value, "ACC(LDA+GMM, supervised) - ACC(MGMM); measured: MNIST. " + "; ".join(parts)
    )


def _nmi_ari(results):
    parts, value = [], None
    for name, ds in _points(results, ("synthetic", "digits", "mnist")):
        mg = headline_method(name)
        if value is None:
            value = _mean(ds, mg, "nmi")
        parts.append(f"{name} {mg} NMI {_mean(ds, mg, 'nmi'):.3f} ARI {_mean(ds, mg, 'ari'):.3f}")
    return Measurement(value, "; ".join(parts))


CLAIMS = [
    Claim(
        "A-manifold",
        "The iterates stay on the Stiefel manifold.",
        "max over every accepted update, start, seed and dataset of ||W^T W - I||_F",
        at_most(1e-8),
        _max_over_runs("orth_err"),
        init="all",
    ),
    Claim(
        "A-manifold-tangent",
        "The Riemannian gradient lies in the tangent space.",
        "max over 3 random W per seed and dataset of ||sym(W^T xi)||_F, xi = G - W sym(W^T G)",
        at_most(1e-10),
        _max_over_runs("geom", "tangent"),
    ),
    Claim(
        "A-manifold-fd",
        "The Euclidean gradient of l_eps is right.",
        "max relative error ||G - G_fd||_F / ||G||_F against central differences (h = 1e-6) at 3 random W",
        at_most(1e-5),
        _max_over_runs("geom", "fd"),
    ),
    Claim(
        "A-manifold-retraction",
        "The QR retraction is a retraction (R_W(0) = W).",
        "max ||qf(W + 0 xi) - W||_F at 3 random W per seed and dataset",
        at_most(1e-12),
        _max_over_runs("geom", "retraction"),
    ),
    Claim(
        "A-monotone",
        "Alternating EM + Armijo never lowers the penalised objective.",
        "min over outer iterations, starts and synthetic seeds of l_eps(t+1) - l_eps(t) (total), / n",
        at_least(-1e-8),
        _monotone,
        init="multistart-20",
    ),
    Claim(
        "A-nn-reduce",
        "With V2 = 0 the NN family equals the linear family.",
        "max |l_eps^NN - l_eps^lin| / n at the same W and theta, over seeds and datasets",
        at_most(1e-10),
        _max_over_runs("nn_reduce_err"),
    ),
    Claim(
        "A-synthetic",
        "Joint projection + GMM recovers the synthetic clusters.",
        "mean ACC of mgmm_multistart over the synthetic seeds",
        at_least(0.95),
        _synthetic_acc("mgmm_multistart"),
        init="multistart-20",
    ),
    Claim(
        "A-synthetic-kmeans",
        "k-means on the raw synthetic data misses the clusters.",
        "mean ACC of KMeans(K, n_init=10) on raw X",
        at_most(0.45),
        _synthetic_acc("kmeans"),
    ),
    Claim(
        "A-synthetic-pcagmm",
        "PCA to d = 2 then GMM misses the clusters (PCA picks the nuisance plane).",
        "mean ACC of PCA(2) + full GMM",
        at_most(0.45),
        _synthetic_acc("pca_gmm"),
    ),
    Claim(
        "A-synthetic-margin",
        "MGMM beats every unsupervised baseline on synthetic data by a wide margin.",
        "mean ACC(mgmm_multistart) - max over k-means, GMM, PCA+k-means, PCA+GMM, spectral of mean ACC",
        at_least(0.15),
        _synthetic_margin,
        init="multistart-20",
    ),
    Claim(
        "A-subspace",
        "The learned W spans the true signal subspace.",
        "fraction of synthetic seeds whose l-winner has min principal-angle cosine >= 0.9 to "
        "T = qf(L^-1/2 U^T Q[:, :2])",
        at_least(0.8),
        _subspace,
        init="multistart-20",
    ),
    Claim(
        "A-digits",
        "MGMM beats k-means on real data (digits).",
        "mean ACC(mgmm_lda_kmeans) - mean ACC(k-means on raw), digits, p = 20, d = 9",
        at_least(0.03),
        _beats_kmeans("digits"),
        init="lda-kmeans",
    ),
    Claim(
        "A-MNIST",
        "MGMM beats k-means on MNIST (reduced: 3 subsets of 5k test images).",
        "mean ACC(mgmm_lda_kmeans, p = 10, d = 9) - mean ACC(k-means on raw 784-d)",
        at_least(0.02),
        _beats_kmeans("mnist"),
        init="lda-kmeans",
    ),
    Claim(
        "A-init",
        "Initialisation decides the outcome; selection by the likelihood works.",
        "fraction of synthetic seeds whose l-winner is the ACC-best start; per-init ACC in the detail",
        None,
        _init_table,
        init="lda-kmeans, pca, random, multistart",
    ),
    Claim(
        "A-vs-GMM",
        "MGMM against PCA+GMM and spectral clustering (not asserted).",
        "ACC(MGMM) - ACC(baseline) per dataset",
        None,
        _vs_gmm,
    ),
    Claim(
        "A-nn",
        "The NN map against the linear map: likelihood rises, accuracy does not.",
        "ACC(nn) - ACC(linear start), l gain, nn_within per dataset",
        None,
        _nn,
    ),
    Claim(
        "A-ceiling",
        "Distance to the supervised LDA+GMM reference.",
        "ACC(LDA+GMM fitted with true labels) - ACC(MGMM)",
        None,
        _ceiling,
    ),
    Claim(
        "A-nmi-ari",
        "NMI and ARI of MGMM (report-only).",
        "mean NMI of MGMM on synthetic; NMI / ARI per dataset in the detail",
        None,
        _nmi_ari,
    ),
]
