"""Iris and digits from scikit-learn's bundled copies (offline), in the tabular layout.

``x`` (sample, feature) float64, ``label`` (sample) int64, ``split`` (sample) str (a fixed
seeded split as for MNIST; all ``train`` at the default ``test_fraction = 0``), feature names as
the ``feature_name`` variable and the class names in the ``target_names`` attribute.

- ``iris``: 150 x 4, raw measurements in cm (no standardisation; the distributed_clustering brief).
- ``digits``: 1797 x 64, pixel counts / 16 so that x is in [0, 1] (the manifold_gmm brief);
  ``scale=False`` keeps the raw 0..16 counts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import numpy as np
import xarray as xr

__all__ = ["SETS", "build_sklearn_set", "prepare_sklearn_set"]

SETS = ("iris", "digits")


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def build_sklearn_set(
    name: str, *, scale: bool = True, split_seed: int = 0, test_fraction: float = 0.0
) -> tuple[xr.Dataset, dict, dict, str]:
    """``(dataset, inputs_sha256, counts, source)`` of a bundled scikit-learn set."""
    import sklearn
    from sklearn import datasets

    from initlab.data.prepared import seeded_split

    if name not in SETS:
        raise KeyError(f"unknown scikit-learn set {name!r}; known: {SETS}")
    bunch = getattr(datasets, f"load_{name}")()
    raw = np.asarray(bunch.data, dtype=np.float64)
    label = np.asarray(bunch.target, dtype=np.int64)
    x = raw / 16.0 if (name == "digits" and scale) else raw
    names = list(getattr(bunch, "feature_names", [f"f{i}" for i in range(raw.shape[1])]))
    ds = xr.Dataset(
        {
            "x": (("sample", "feature"), x),
            "label": ("sample", label),
            "split": ("sample", seeded_split(len(x), split_seed, test_fraction)),
            "feature_name": ("feature", np.asarray(names, dtype=str)),
        },
        coords={"sample": np.arange(len(x)), "feature": np.arange(x.shape[1])},
        attrs={"target_names": ",".join(map(str, bunch.target_names))},
    )
    ds["x"].attrs["description"] = (
        "pixel counts / 16" if (name == "digits" and scale) else "raw values"
    )
    inputs = {f"{name}.data": _sha256(raw), f"{name}.target": _sha256(label)}
    counts = {
        "n_samples": len(x),
        "n_features": x.shape[1],
        "label_counts": np.bincount(label).tolist(),
    }
    source = f"scikit-learn {sklearn.__version__} sklearn.datasets.load_{name}() (bundled, offline)"
    return ds, inputs, counts, source


def prepare_sklearn_set(
    name: str,
    output: str | os.PathLike,
    *,
    scale: bool = True,
    split_seed: int = 0,
    test_fraction: float = 0.0,
    log: Callable[[str], object] = print,
) -> xr.Dataset:
    from initlab.data.prepared import Timer, write_prepared

    timer = Timer()
    ds, inputs, counts, source = build_sklearn_set(
        name, scale=scale, split_seed=split_seed, test_fraction=test_fraction
    )
    written = write_prepared(
        ds,
        output,
        artefact=name,
        source=source,
        inputs_sha256=inputs,
        counts=counts,
        params={
            "name": name,
            "scale": scale,
            "split_seed": split_seed,
            "test_fraction": test_fraction,
        },
        created_by="initlab.data.sklearn_sets.prepare_sklearn_set",
        wall_seconds=timer(),
    )
    log(
        f"{name}: {counts['n_samples']} x {counts['n_features']}, labels {counts['label_counts']}, {timer():.2f} s"
    )
    return written
