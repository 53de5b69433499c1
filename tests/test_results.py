"""The run-file contract: dims, string attrs, atomic writes, combine, study files."""

import json

import numpy as np
import pytest
import xarray as xr

from initlab import results


def _run_data(seeds=(0, 1), n_iter=4, value=1.0):
    return xr.Dataset(
        {
            "rel_err": (("seed", "iter"), np.full((len(seeds), n_iter), value)),
            "iters": ("seed", np.arange(len(seeds), dtype=np.int64)),
            "diverged": ("seed", np.zeros(len(seeds), dtype=np.int8)),
        },
        coords={"seed": list(seeds)},
    )


def _write(tmp_path, axes, value=1.0, n_iter=4, experiment="exp"):
    name = "_".join(f"{k}~{v}" for k, v in sorted(axes.items()))
    path = tmp_path / "runs" / experiment / f"{name}.nc"
    results.write_run(
        _run_data(value=value, n_iter=n_iter),
        path,
        study="toy",
        experiment=experiment,
        axes=axes,
        params={**axes, "t_max": n_iter - 1, "flag": True},
        git_commit="abc123",
        device="cpu: test",
        wall_seconds=0.25,
    )
    return path


def test_run_file_round_trips_with_length_one_axes_and_string_attrs(tmp_path):
    path = _write(tmp_path, {"init": "spectral", "kappa": 10})
    ds = results.load_run(path)
    assert ds.sizes == {"init": 1, "kappa": 1, "seed": 2, "iter": 4}
    assert ds["init"].values.tolist() == ["spectral"] and ds["kappa"].values.tolist() == [10]
    assert all(isinstance(v, str) for v in ds.attrs.values())
    assert set(results.RUN_ATTRS) <= set(ds.attrs)
    assert json.loads(ds.attrs["params"]) == {"init": "spectral", "kappa": 10, "t_max": 3, "flag": True}
    assert float(ds.attrs["wall_seconds"]) == pytest.approx(0.25)
    assert ds["iters"].dtype == np.int64 and ds["diverged"].dtype == np.int8
    assert not list(path.parent.glob("*.tmp")), "no temporary file may remain"


def test_failed_write_leaves_no_file(tmp_path):
    bad = _run_data()
    bad["rel_err"][0, 0] = np.inf
    path = tmp_path / "x.nc"
    with pytest.raises(ValueError, match="infinite"):
        results.write_run(
            bad, path, study="toy", experiment="e", axes={"init": "a"}, params={},
            git_commit="", device="", wall_seconds=0.0,
        )
    assert not path.exists() and not list(tmp_path.iterdir())


def test_atomic_write_removes_temp_file_when_writer_fails(tmp_path):
    target = tmp_path / "y.nc"

    def broken(tmp):
        tmp.write_text("half a file")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        results._atomic_to_netcdf(broken, target)
    assert list(tmp_path.iterdir()) == []


def test_run_data_must_have_seed_and_no_axis_clash(tmp_path):
    common = dict(study="t", experiment="e", params={}, git_commit="", device="", wall_seconds=0.0)
    with pytest.raises(ValueError, match="seed"):
        results.write_run(xr.Dataset({"x": ("i", [1.0])}), tmp_path / "a.nc", axes={"init": "a"}, **common)
    with pytest.raises(ValueError, match="already dims"):
        results.write_run(_run_data(), tmp_path / "b.nc", axes={"seed": 0}, **common)


def test_combine_builds_the_outer_hypercube_of_an_incomplete_grid(tmp_path):
    paths = [
        _write(tmp_path, {"init": "spectral", "kappa": 1}, value=1.0, n_iter=4),
        _write(tmp_path, {"init": "spectral", "kappa": 10}, value=2.0, n_iter=6),
        _write(tmp_path, {"init": "random", "kappa": 1}, value=3.0, n_iter=4),
        _write(tmp_path, {"init": "any", "kappa": 1}, experiment="other"),
    ]
    combined = results.combine(paths)
    assert set(combined) == {"exp", "other"}
    ds = combined["exp"]
    assert ds.sizes == {"init": 2, "kappa": 2, "seed": 2, "iter": 6}
    assert ds["rel_err"].sel(init="spectral", kappa=10).values.tolist()[0] == [2.0] * 6
    assert np.isnan(ds["rel_err"].sel(init="spectral", kappa=1, iter=5)).all()
    assert np.isnan(ds["rel_err"].sel(init="random", kappa=10)).all(), "missing cell is NaN"
    assert ds["run_device"].sel(init="random", kappa=1).item() == "cpu: test"
    assert ds["run_device"].sel(init="random", kappa=10).item() == ""
    assert json.loads(ds["run_params"].sel(init="spectral", kappa=10).item())["t_max"] == 5


def test_study_file_round_trips_every_experiment(tmp_path):
    paths = [
        _write(tmp_path, {"init": "spectral", "kappa": 1}),
        _write(tmp_path, {"init": "spectral", "r": 2}, experiment="other"),
    ]
    combined = results.combine(paths)
    out = tmp_path / "toy.nc"
    results.write_study(combined, out, study="toy")
    back = results.load_study(out)
    assert set(back) == {"exp", "other"}
    for name in back:
        xr.testing.assert_identical(back[name], combined[name])


def test_load_run_rejects_a_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.nc"
    path.write_bytes(b"\x89HDF\r\n garbage")
    with pytest.raises(ValueError, match="corrupt.nc"):
        results.load_run(path)


def test_combine_rejects_files_that_disagree_on_axes(tmp_path):
    paths = [_write(tmp_path, {"init": "a", "kappa": 1}), _write(tmp_path, {"init": "a", "r": 1})]
    with pytest.raises(ValueError, match="disagree"):
        results.combine(paths)


def test_strings_of_different_lengths_survive_combine_and_write(tmp_path):
    paths = []
    for i, label in enumerate(["ab", "sde-dt0.01-M32"]):
        data = xr.Dataset(
            {"x": (("seed", "schedule"), [[1.0]])}, coords={"seed": [0], "schedule": [label]}
        )
        path = tmp_path / f"{i}.nc"
        results.write_run(
            data, path, study="t", experiment="e", axes={"init": "a", "k": i}, params={},
            git_commit="", device="", wall_seconds=0.0,
        )
        paths.append(path)
    results.write_study(results.combine(paths), tmp_path / "t.nc", study="t")
    back = results.load_study(tmp_path / "t.nc")["e"]
    assert sorted(back["schedule"].values.tolist()) == ["ab", "sde-dt0.01-M32"]
