"""The results contract: one netCDF run file per sweep point, one aggregated file per study.

Run file (``results/<study>/runs/<experiment>/<point>.nc``)
    An `xarray.Dataset` whose sweep axes are length-1 dimensions (so files tile a hypercube),
    with ``seed`` as a dimension and traces over ``iter`` or ``time``. Attributes are strings:
    ``study``, ``experiment``, ``params`` (JSON of every parameter the job received),
    ``axes`` (JSON list of the sweep axes), ``initlab_version``, ``git_commit``, ``device``,
    ``wall_seconds``. It is written to a temporary name in the same folder and moved into place,
    so a killed job never leaves a half file.

Study file (``results/<study>/<study>.nc``)
    One netCDF group per experiment, each the outer merge of that experiment's run files. A sweep
    may be a union of products, so cells that were not run hold NaN. The per-run attributes become
    string variables along the sweep dimensions (``run_params``, ``run_device``,
    ``run_git_commit``, ``run_wall_seconds``), since a merge would silently drop differing attrs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from initlab import __version__

__all__ = ["RUN_ATTRS", "combine", "load_run", "load_study", "write_run", "write_study"]

RUN_ATTRS = (
    "study",
    "experiment",
    "params",
    "axes",
    "initlab_version",
    "git_commit",
    "device",
    "wall_seconds",
)
_PROVENANCE_VARS = {
    "params": "run_params",
    "device": "run_device",
    "git_commit": "run_git_commit",
    "wall_seconds": "run_wall_seconds",
}
ENGINE = "netcdf4"


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {value!r}")


def to_json(value) -> str:
    """Canonical JSON (sorted keys) of plain values and numpy scalars."""
    return json.dumps(value, sort_keys=True, default=_json_default)


def _atomic_to_netcdf(write, path: Path) -> None:
    """Run ``write(tmp_path)`` and move the file into place; no half file survives a failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_run(
    data: xr.Dataset,
    path: str | os.PathLike,
    *,
    study: str,
    experiment: str,
    axes: Mapping,
    params: Mapping,
    git_commit: str,
    device: str,
    wall_seconds: float,
) -> xr.Dataset:
    """Add the sweep axes as length-1 dimensions and the string attributes, then write atomically.

    ``data`` is what a study's ``run`` returned: dims such as ``seed`` and ``iter``, no sweep dims.
    Returns the dataset as written.
    """
    clash = [a for a in axes if a in data.dims or a in data.coords]
    if clash:
        raise ValueError(f"{study}/{experiment}: sweep axes {clash} are already dims of the data")
    if "seed" not in data.dims:
        raise ValueError(f"{study}/{experiment}: run data needs a 'seed' dimension")
    _check_finite_or_flagged(data, f"{study}/{experiment}")
    # Every dimension gets a coordinate (0..n-1 for traces that lack one), so runs of different
    # lengths align when combined.
    data = data.assign_coords({d: np.arange(n) for d, n in data.sizes.items() if d not in data.coords})
    ds = data.expand_dims({a: [v] for a, v in axes.items()})
    ds.attrs = {
        **{k: str(v) for k, v in data.attrs.items()},
        "study": study,
        "experiment": experiment,
        "params": to_json(dict(params)),
        "axes": to_json(list(axes)),
        "initlab_version": __version__,
        "git_commit": git_commit,
        "device": device,
        "wall_seconds": f"{wall_seconds:.3f}",
    }
    _atomic_to_netcdf(lambda tmp: ds.to_netcdf(tmp, engine=ENGINE), Path(path))
    return ds


def _check_finite_or_flagged(data: xr.Dataset, where: str) -> None:
    """Refuse infinities: a diverging run is recorded through a ``diverged`` flag and NaN traces
    (or stops with an error), never written as overflowed numbers (DESIGN.md, Errors)."""
    for name, var in data.data_vars.items():
        if var.dtype.kind == "f" and np.isinf(var.values).any():
            raise ValueError(
                f"{where}: variable {name!r} holds infinite values; record divergence as NaN "
                "with a 'diverged' flag instead"
            )


def load_run(path: str | os.PathLike) -> xr.Dataset:
    """Read one run file, checking it carries the contract's attributes."""
    try:
        ds = xr.load_dataset(path, engine=ENGINE)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable netCDF run file ({exc}); delete it and rerun") from exc
    missing = [a for a in RUN_ATTRS if a not in ds.attrs]
    if missing:
        raise ValueError(f"{path}: run file lacks attributes {missing}; it was not written by write_run")
    return ds


def combine(paths: Iterable[str | os.PathLike]) -> dict[str, xr.Dataset]:
    """Merge run files into one dataset per experiment, ``{experiment: Dataset}``.

    Sweep dims are outer-joined (sorted union of coordinates); cells with no run are NaN (or ''
    for strings); integer variables of an incomplete grid therefore become float.
    """
    groups: dict[str, list[xr.Dataset]] = {}
    for path in sorted(map(str, paths)):
        ds = load_run(path)
        for var in ds.variables.values():
            # On-disk encodings (e.g. a fixed string width) belong to one file; kept, the first
            # file's would silently truncate longer strings of the others when merged.
            var.encoding = {}
        axes = json.loads(ds.attrs["axes"])
        for attr, var in _PROVENANCE_VARS.items():
            ds[var] = xr.DataArray(ds.attrs[attr]).expand_dims({a: ds[a].values for a in axes})
        groups.setdefault(ds.attrs["experiment"], []).append(ds)
    if not groups:
        raise ValueError("combine: no run files given")
    out = {}
    for experiment, parts in groups.items():
        axes = [json.loads(p.attrs["axes"]) for p in parts]
        if any(a != axes[0] for a in axes):
            raise ValueError(f"{experiment}: run files disagree on the sweep axes: {sorted(map(str, axes))}")
        merged = xr.merge(parts, join="outer", compat="no_conflicts", combine_attrs="drop")
        for name, da in merged.data_vars.items():
            if da.dtype.kind == "O":  # strings: cells with no run hold '' rather than NaN
                merged[name] = da.fillna("").astype(str)
        merged.attrs = {
            "study": parts[0].attrs["study"],
            "experiment": experiment,
            "axes": parts[0].attrs["axes"],
            "n_runs": str(len(parts)),
        }
        out[experiment] = merged
    return out


def write_study(results: Mapping[str, xr.Dataset], path: str | os.PathLike, *, study: str) -> None:
    """Write ``{experiment: Dataset}`` as one netCDF file with a group per experiment."""
    experiments = sorted(results)

    def write(tmp):
        root = xr.Dataset(
            attrs={
                "study": study,
                "experiments": to_json(experiments),
                "initlab_version": __version__,
            }
        )
        root.to_netcdf(tmp, mode="w", engine=ENGINE)
        for name in experiments:
            results[name].to_netcdf(tmp, mode="a", group=name, engine=ENGINE)

    _atomic_to_netcdf(write, Path(path))


def load_study(path: str | os.PathLike) -> dict[str, xr.Dataset]:
    """Read a study file back as ``{experiment: Dataset}``."""
    root = xr.load_dataset(path, engine=ENGINE)
    experiments = json.loads(root.attrs["experiments"])
    return {name: xr.load_dataset(path, group=name, engine=ENGINE) for name in experiments}
