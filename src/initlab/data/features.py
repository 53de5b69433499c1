"""PCA and whitened features of a prepared tabular set (MNIST pixels, digits, iris), numpy only.

Conventions (the manifold_gmm brief, section 2): centre on the fit rows, take the top-p
eigenvectors U_p and eigenvalues L_p of the **ddof = 1** sample covariance of the fit rows, then

    pca:    z = U_p^T (x - mean)
    white:  z = L_p^(-1/2) U_p^T (x - mean)      so Cov(z over the fit rows, ddof=1) = I_p.

Each eigenvector's sign is fixed so that its largest-magnitude entry is positive, so the features
are a deterministic function of the data. The fit rows are all samples (``fit="all"``) or those
whose ``split`` is ``train`` (``fit="train"``); the transform is applied to every sample.

A feature artefact ``data/prepared/mnist/<subset>_<kind><p>_<fit>.nc`` (e.g. ``full_pca50_all``,
``test_white10_all``) holds ``x`` (sample, feature = component), the input's per-sample variables
(``label``, ``split``, ...), and the fitted ``pca_mean`` (pixel), ``pca_components``
(feature, pixel), ``explained_variance`` and ``explained_variance_ratio`` (feature).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = [
    "FEATURE_NAME",
    "PCA",
    "feature_name",
    "fit_pca",
    "make_features",
    "parse_feature_name",
    "prepare_features",
]

KINDS = ("pca", "white")
FITS = ("all", "train")
#: ``<subset>_<kind><components>_<fit>``
FEATURE_NAME = re.compile(
    r"^(?P<subset>[a-z0-9]+)_(?P<kind>pca|white)(?P<components>[1-9][0-9]*)_(?P<fit>all|train)$"
)


def feature_name(subset: str, kind: str, components: int, fit: str) -> str:
    return f"{subset}_{kind}{components}_{fit}"


def parse_feature_name(name: str) -> dict:
    match = FEATURE_NAME.match(name)
    if not match:
        raise ValueError(
            f"{name!r} is not a feature name <subset>_<pca|white><p>_<all|train>, e.g. full_pca50_all"
        )
    out = match.groupdict()
    out["components"] = int(out["components"])
    return out


@dataclass(frozen=True)
class PCA:
    mean: np.ndarray  # (d,)
    components: np.ndarray  # (p, d), orthonormal rows
    explained_variance: np.ndarray  # (p,), ddof = 1
    total_variance: float
    n_fit: int

    def transform(self, x: np.ndarray, *, whiten: bool = False) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - self.mean) @ self.components.T
        return z / np.sqrt(self.explained_variance) if whiten else z


def fit_pca(x: np.ndarray, n_components: int) -> PCA:
    """PCA of the rows of ``x`` from the eigendecomposition of the ddof-1 covariance."""
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    if not 1 <= n_components <= min(d, n - 1):
        raise ValueError(f"n_components must be in 1..min(d={d}, n-1={n - 1}), got {n_components}")
    mean = x.mean(axis=0)
    xc = x - mean
    cov = (xc.T @ xc) / (n - 1)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][:n_components]
    evals, evecs = evals[order], evecs[:, order].T
    if evals[-1] <= 1e-12 * max(evals[0], 1e-300):
        raise ValueError(
            f"component {n_components} has variance {evals[-1]:.3g}: the data has rank < {n_components}, "
            "so whitening would divide by zero; ask for fewer components"
        )
    flip = np.sign(evecs[np.arange(n_components), np.argmax(np.abs(evecs), axis=1)])
    return PCA(mean, evecs * flip[:, None], evals, float(np.trace(cov)), n)


def make_features(
    ds: xr.Dataset, kind: str, n_components: int, fit: str = "all"
) -> tuple[xr.Dataset, PCA]:
    """Features of a prepared tabular dataset (variables ``x`` (sample, feature), optional ``split``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    x = ds["x"].values
    if fit == "all":
        rows = np.ones(len(x), dtype=bool)
    else:
        if "split" not in ds:
            raise ValueError("fit='train' needs a 'split' variable in the input")
        rows = ds["split"].values == "train"
        if rows.sum() < 2:
            raise ValueError(f"fit='train': only {rows.sum()} training samples")
    pca = fit_pca(x[rows], n_components)
    z = pca.transform(x, whiten=kind == "white")
    keep = {k: v for k, v in ds.data_vars.items() if k != "x" and v.dims == ("sample",)}
    out = xr.Dataset(
        {
            "x": (("sample", "feature"), z),
            **keep,
            "fit_row": ("sample", rows.astype(np.int8)),
            "pca_mean": ("input_feature", pca.mean),
            "pca_components": (("feature", "input_feature"), pca.components),
            "explained_variance": ("feature", pca.explained_variance),
            "explained_variance_ratio": ("feature", pca.explained_variance / pca.total_variance),
        },
        coords={"sample": ds["sample"].values, "feature": np.arange(n_components)},
    )
    out["x"].attrs["description"] = (
        f"{'whitened ' if kind == 'white' else ''}PCA scores, {n_components} components, fitted "
        f"(ddof=1) on {'all samples' if fit == 'all' else 'the train split'}"
    )
    return out, pca


def prepare_features(
    name: str,
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    log: Callable[[str], object] = print,
) -> xr.Dataset:
    """Read the prepared set ``source``, compute the features ``name`` says, write ``output``."""
    from initlab.data.fetch import sha256_file
    from initlab.data.prepared import Timer, load_prepared, write_prepared

    timer = Timer()
    spec = parse_feature_name(name)
    ds = load_prepared(source)
    out, pca = make_features(ds, spec["kind"], spec["components"], spec["fit"])
    ratio = float(out["explained_variance_ratio"].sum())
    counts = {
        "n_samples": out.sizes["sample"],
        "n_fit": pca.n_fit,
        "n_features": spec["components"],
        "explained_variance_ratio": round(ratio, 6),
    }
    artefact_source = f"{ds.attrs['artefact']} ({os.fspath(source)})"
    inputs = {
        **json.loads(ds.attrs["inputs_sha256"]),
        os.path.basename(source): sha256_file(source),
    }
    written = write_prepared(
        out,
        output,
        artefact=f"{ds.attrs['artefact']}_{spec['kind']}{spec['components']}_{spec['fit']}",
        source=f"{spec['kind']} features of {artefact_source}",
        inputs_sha256=inputs,
        counts=counts,
        params={**spec, "input_params": ds.attrs["params"], "ddof": 1},
        created_by="initlab.data.features.prepare_features",
        wall_seconds=timer(),
    )
    log(
        f"{name}: {counts['n_samples']} x {spec['components']} features fitted on {pca.n_fit} rows, "
        f"explained variance ratio {ratio:.4f}, {timer():.2f} s -> {output}"
    )
    return written
