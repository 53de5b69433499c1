"""quadratic_escape claims and figures on a tiny study built the way the workflow builds it:
sweep points from a config section, `initlab.studies.run_point` per point, run files written
with `initlab.results.write_run`, merged with `combine` and read back from a study file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from initlab import results
from initlab.claims import evaluate
from initlab.plotting import save_png
from initlab.studies import run_point
from initlab.studies.quadratic_escape.claims import CLAIMS
from initlab.studies.quadratic_escape.figures import FIGURES
from initlab.sweep import study_points

ROOT = Path(__file__).resolve().parents[1]
SGD = dict(a="1/p", b="1/pstar", sigma=0.0, block=32, ode_method="LSODA", rtol=1e-9, atol=1e-12)
ODE = dict(a="1/p", b="1/pstar", gamma=0.1, sigma=0.0, ode_method="LSODA", rtol=1e-9, atol=1e-12)
TINY = {
    "experiments": {
        "sgd_vs_ode": {
            "settings": {**SGD, "t_max": 90, "records_per_unit": 2, "seeds": 2},
            "sweep": [
                {"init": ["gaussian-q1"], "N": [200], "p": [4], "pstar": [2], "gamma": [0.1]},
                {
                    "init": ["gaussian-q1"],
                    "N": [200],
                    "p": [8],
                    "pstar": [2],
                    "gamma": [0.1],
                    "t_max": 22,
                },
            ],
        },
        "implicit_bias": {
            "settings": {**SGD, "t_max": 60, "records_per_unit": 1, "seeds": 2},
            "sweep": [
                {"init": ["gaussian-q1"], "N": [100], "p": [4], "pstar": [2], "gamma": [0.1]},
                {
                    "init": ["gaussian-q1"],
                    "N": [100],
                    "p": [4],
                    "pstar": [2],
                    "gamma": [0.03],
                    "t_max": 120,
                },
            ],
        },
        "sgd_log_n": {
            "settings": {**SGD, "t_max": 50, "records_per_unit": 2, "seeds": 2},
            "sweep": [
                {"init": ["gaussian-q1"], "N": [100, 200], "p": [4], "pstar": [2], "gamma": [0.1]}
            ],
        },
        "escape_time": {
            "settings": {
                **ODE,
                "pstar": 2,
                "N_grid": [100, 10000],
                "t_max": 100,
                "points_per_unit": 5,
                "seeds": 2,
            },
            "sweep": [
                {"init": ["isotropic"], "p": [2, 8], "ode": ["second-order"]},
                {"init": ["isotropic"], "p": [2], "ode": ["gradient-flow"]},
            ],
        },
        "init_axis": {
            "settings": {
                **ODE,
                "N": 10000,
                "p": 4,
                "pstar": 2,
                "ode_variants": ["second-order", "gradient-flow"],
                "t_max": 200,
                "points_per_unit": 5,
                "store_every": 5,
                "seeds": 2,
            },
            "sweep": [
                {
                    "init": [
                        "isotropic-q0.5",
                        "isotropic-q1",
                        "isotropic-rho3",
                        "anisotropic-delta0.3",
                    ]
                }
            ],
        },
        "hessian": {
            "settings": {"a": "1/p", "b": "1/pstar", "method": "fd", "h": 1e-5, "seeds": 1},
            "sweep": [
                {"init": ["haar"], "N": [12], "p": [3], "pstar": [1]},
                {"init": ["haar"], "N": [10], "p": [4], "pstar": [2]},
            ],
        },
    }
}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quadratic_escape")
    paths = []
    for experiment, points in study_points("quadratic_escape", TINY).items():
        for name, point in points.items():
            data, wall = run_point(
                "quadratic_escape", experiment, point.params, master_seed=0, log=lambda m: None
            )
            path = folder / experiment / f"{name}.nc"
            results.write_run(
                data,
                path,
                study="quadratic_escape",
                experiment=experiment,
                axes=point.axes,
                params=point.params,
                git_commit="test",
                device="cpu: test",
                wall_seconds=wall,
            )
            paths.append(path)
    results.write_study(results.combine(paths), folder / "study.nc", study="quadratic_escape")
    return results.load_study(folder / "study.nc")


def _table(data):
    return evaluate("quadratic_escape", CLAIMS, data).set_index("claim_id")


def test_every_claim_of_the_brief_is_evaluated(study):
    table = _table(study)
    expected = {
        "B1a",
        "B1b",
        "B1c-eps",
        "B1c-q",
        "B1d",
        "B1e",
        "B2a",
        "B2b",
        "B2c",
        "B2d",
        "B2e",
        "B2f",
        "B3a",
        "B3b",
        "B3c",
        "B3d-a",
        "B3d-b",
        "B3d-c",
        "B4a-counts",
        "B4a-value",
        "B4b-min",
        "B4b-zero",
        "B5a",
        "B5b",
        "B5c",
    }
    assert set(table.index) == expected
    assert set(table.loc[["B2e", "B2f", "B5c"], "verdict"]) == {"REPORT"}
    unmeasured = table[~table["measured"].map(math.isfinite)]
    assert unmeasured.empty, unmeasured[["detail"]].to_string()


def test_exact_claims_pass_even_at_tiny_sizes(study):
    """Conservation, Hessian counts and the ODE escape slope do not need large N or many seeds."""
    table = _table(study)
    for claim in ("B2a", "B2b", "B3a", "B4a-counts", "B4a-value", "B4b-min", "B4b-zero", "B5b"):
        assert table.loc[claim, "verdict"] == "PASS", (claim, table.loc[claim, "detail"])
    assert table.loc["B4a-counts", "measured"] == 0
    assert table.loc["B3a", "measured"] < 1e-10


def test_verdicts_follow_the_data(study):
    broken = {k: v.copy(deep=True) for k, v in study.items()}
    broken["init_axis"]["polar_dev_max"] = broken["init_axis"]["polar_dev_max"] + 1e-3
    ev = broken["hessian"]["eigenvalues"]
    broken["hessian"]["eigenvalues"] = ev.where(
        ~((ev["point"] == "solution") & (ev["index"] == 0)), -1.0
    )
    table = _table(broken)
    assert table.loc["B3a", "verdict"] == "FAIL" and table.loc["B3a", "measured"] >= 1e-3
    assert table.loc["B4b-min", "verdict"] == "FAIL" and table.loc["B4b-min", "measured"] == -1.0
    assert table.loc["B4b-zero", "verdict"] == "FAIL"
    assert table.loc["B4a-counts", "verdict"] == "PASS"


def test_a_missing_experiment_is_a_fail_with_the_reason(study):
    partial = {k: v for k, v in study.items() if k != "escape_time"}
    table = _table(partial)
    for claim in ("B1c-eps", "B2a", "B2c", "B2d"):
        assert table.loc[claim, "verdict"] == "FAIL"
        assert "escape_time" in table.loc[claim, "detail"]


def test_figures_draw_from_the_study_and_from_nothing(study, tmp_path):
    captions = {p.stem for p in (ROOT / "workflow/report/quadratic_escape").glob("*.rst")}
    assert captions == set(FIGURES)
    import matplotlib.pyplot as plt

    for name, draw in FIGURES.items():
        save_png(draw(study), tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
        empty = draw({})  # every panel says "no data" instead of failing
        assert any("no data" in t.get_text() for ax in empty.axes for t in ax.texts)
        plt.close(empty)


def test_selected_values_are_consistent_with_the_runs(study):
    """A few measured numbers recomputed by hand from the study file."""
    table = _table(study)
    cell = study["hessian"].sel(N=12, p=3, pstar=1)
    neg = cell["eigenvalues"].sel(point="plateau").values
    neg = neg[np.isfinite(neg) & (neg < -1e-7)]
    assert neg.size == 3 and np.allclose(neg, -4 * (1 / 3) * 1.0 / 12, rtol=1e-6)
    th = study["init_axis"]["t_half"].sel(ode="second-order").mean("seed")
    q = th.sel(init=["isotropic-q0.5", "isotropic-q1"]).values
    assert table.loc["B5b", "measured"] == pytest.approx(q.max() / q.min() - 1)
