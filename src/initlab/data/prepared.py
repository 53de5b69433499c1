"""Prepared artefacts: netCDF files under ``data/prepared/`` with their provenance in the attrs.

The results.py conventions apply: engine ``netcdf4``, attributes are strings (JSON for structured
values), and files are written to a temporary name in the same folder and moved into place.
Every artefact carries

``artefact``        what it is (``mnist/full``, ``mnist/test_white10_all``, ``qm9``, ``iris`` ...)
``source``          where the data came from, in words
``inputs_sha256``   JSON ``{input: sha256}``: the pinned raw files (decompressed bytes for MNIST,
                    the CSVs for molecules, the arrays for scikit-learn's bundled sets)
``counts``          JSON of the counts that matter (samples, labels, molecules kept/dropped ...)
``params``          JSON of every parameter that shaped the content (seeds, sizes, components)
``created_by``, ``initlab_version``, ``git_commit``, ``wall_seconds`` (building it, before the write)
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from initlab import __version__
from initlab.results import ENGINE, _atomic_to_netcdf, to_json

__all__ = ["PROVENANCE_ATTRS", "Timer", "load_prepared", "seeded_split", "write_prepared"]

PROVENANCE_ATTRS = (
    "artefact",
    "source",
    "inputs_sha256",
    "counts",
    "params",
    "created_by",
    "initlab_version",
    "git_commit",
    "wall_seconds",
)


def seeded_split(n: int, seed: int, test_fraction: float) -> np.ndarray:
    """``train`` / ``test`` per sample: the first ``round(test_fraction * n)`` indices of
    ``np.random.default_rng(seed).permutation(n)`` are ``test``, the rest ``train``."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    split = np.full(n, "train", dtype="<U5")
    split[perm[: int(round(test_fraction * n))]] = "test"
    return split


class Timer:
    """Wall seconds since construction."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


def write_prepared(
    ds: xr.Dataset,
    path: str | os.PathLike,
    *,
    artefact: str,
    source: str,
    inputs_sha256: Mapping[str, str],
    counts: Mapping,
    params: Mapping,
    created_by: str,
    wall_seconds: float,
    encoding: Mapping | None = None,
    extra: Callable[[Path], None] | None = None,
) -> xr.Dataset:
    """Attach the provenance attributes and write ``ds`` atomically; return it as written.

    ``extra(tmp_path)`` may append further variables (large arrays written block by block with
    netCDF4) before the file is moved into place.
    """
    from initlab.provenance import git_commit

    ds = ds.copy()
    ds.attrs = {
        **{k: v if isinstance(v, str) else to_json(v) for k, v in ds.attrs.items()},
        "artefact": artefact,
        "source": source,
        "inputs_sha256": to_json(dict(inputs_sha256)),
        "counts": to_json(dict(counts)),
        "params": to_json(dict(params)),
        "created_by": created_by,
        "initlab_version": __version__,
        "git_commit": git_commit(),
        "wall_seconds": f"{wall_seconds:.3f}",
    }

    def write(tmp):
        with warnings.catch_warnings():
            # Packed variables (uint8 + scale_factor) have no _FillValue on purpose: no NaNs.
            warnings.filterwarnings("ignore", message=".*without any _FillValue.*")
            ds.to_netcdf(tmp, engine=ENGINE, encoding=dict(encoding or {}))
        if extra is not None:
            extra(tmp)

    _atomic_to_netcdf(write, Path(path))
    return ds


def load_prepared(path: str | os.PathLike, *, lazy: bool = False) -> xr.Dataset:
    """Open a prepared artefact, checking its provenance attributes. ``lazy`` keeps the arrays on
    disk until indexed (for the large molecule tensors); close the dataset when done."""
    try:
        ds = (xr.open_dataset if lazy else xr.load_dataset)(path, engine=ENGINE)
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{path}: not a readable prepared netCDF file ({exc}); delete it and rerun"
        ) from exc
    missing = [a for a in PROVENANCE_ATTRS if a not in ds.attrs]
    if missing:
        ds.close()
        raise ValueError(
            f"{path}: lacks provenance attributes {missing}; it was not written by initlab.data"
        )
    return ds
