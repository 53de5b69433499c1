"""dln_sgd claims and figures on a tiny real run, aggregated the way the workflow does it, plus
hand-edited copies with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initlab import results
from initlab.claims import evaluate
from initlab.plotting import save_png
from initlab.studies import run_point
from initlab.studies.dln_sgd.claims import CLAIMS
from initlab.studies.dln_sgd.figures import FIGURES

NET = dict(d=5, h=16, teacher=[3.0, 2.0, 1.0], batch=1)
TRAJ = dict(
    NET,
    sigma=0.0,
    eta=0.01,
    t_max=16.0,
    seeds=3,
    record_every=2,
    trace_dt=0.1,
    late_window=2.0,
    diffusion=True,
)

#: (experiment, axes, extra params): the points every claim reads, at tiny sizes.
POINTS = [
    ("staircase", {"depth": 2, "init": "gamma-3"}, {"t_max": 8.0}),
    ("staircase", {"depth": 3, "init": "gamma-4"}, {}),
    ("staircase", {"depth": 4, "init": "gamma-2.5"}, {"eta": 0.006}),
    *[("staircase", {"depth": 3, "init": f"gamma-{g}"}, {"diffusion": False}) for g in (1, 2, 3)],
    ("gd", {"depth": 3, "init": "gamma-4"}, {"diffusion": False}),
    ("label_noise", {"init": "gamma-4", "sigma": 0.6}, {"depth": 3, "t_max": 12.0}),
    (
        "diffusion",
        {"init": "gamma-4"},
        dict(NET, depth=3, eta=0.01, t_state=2.0, samples=20000, sigmas=[0.0, 0.5], seeds=2),
    ),
    (
        "stationary",
        {"init": "gamma-4"},
        dict(
            NET,
            depth=3,
            eta=0.01,
            sigma=1.0,
            burn_in=15.0,
            duration=10.0,
            sample_every=0.5,
            seeds=2,
        ),
    ),
    *[
        (
            "scalar",
            {"init": "aligned-s", "model": m},
            dict(
                depth=3,
                teacher=[3.0, 2.0, 1.0],
                sigma=1.0,
                chains=200,
                ks_chains=2000,
                eta_batch=[[0.004, 1], [0.002, 1], [0.004, 2]],
                burn_in=2.0,
                snapshot_every=1.0,
                snapshots=2,
                seeds=1,
            ),
        )
        for m in ("sgd", "em")
    ],
    (
        "transient",
        {"init": "aligned-0.001"},
        dict(
            depth=3,
            teacher=[3.0, 2.0, 1.0],
            sigma=0.0,
            batch=1,
            eta=0.005,
            chains=200,
            t_max=12.0,
            seeds=1,
        ),
    ),
]


@pytest.fixture(scope="module")
def aggregated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dln_runs")
    paths = []
    for i, (exp, axes, extra) in enumerate(POINTS):
        params = {**(TRAJ if exp in ("staircase", "gd", "label_noise") else {}), **extra, **axes}
        data, wall = run_point("dln_sgd", exp, params, master_seed=0, log=lambda _: None)
        path = folder / f"{i}.nc"
        results.write_run(
            data,
            path,
            study="dln_sgd",
            experiment=exp,
            axes=axes,
            params=params,
            git_commit="test",
            device="cpu",
            wall_seconds=wall,
        )
        paths.append(path)
    study = folder / "dln_sgd.nc"
    results.write_study(results.combine(paths), study, study="dln_sgd")
    return study


@pytest.fixture(scope="module")
def loaded(aggregated):
    return results.load_study(aggregated)


@pytest.fixture
def res(loaded):
    """The aggregated results; tests edit copies of the datasets, never these."""
    return dict(loaded)


def _table(res):
    return evaluate("dln_sgd", CLAIMS, res).set_index("claim_id")


def test_every_claim_is_measured_on_a_complete_run(res):
    table = _table(res)
    assert list(table.index) == [c.id for c in CLAIMS]
    assert not table["detail"].str.contains("could not be measured").any(), table[
        "detail"
    ].to_dict()
    assert table["measured"].map(math.isfinite).all(), table["measured"].to_dict()
    assert set(table["verdict"]) <= {"PASS", "FAIL", "REPORT"}
    assert (table.loc[[c.id for c in CLAIMS if c.threshold is None], "verdict"] == "REPORT").all()
    # at these sizes the staircase is already clean: learned in order, sequential at small init
    for claim_id in ("A1a", "A8-order"):
        assert table.loc[claim_id, "verdict"] == "PASS", table.loc[claim_id, "detail"]


def test_a_point_that_was_not_run_is_a_fail_that_names_it(res):
    res = dict(res)
    res["staircase"] = res["staircase"].drop_sel(init=["gamma-2.5"])
    res.pop("gd")
    table = _table(res)
    for claim_id in ("A1a", "A2", "A3", "A5-m"):
        assert table.loc[claim_id, "verdict"] == "FAIL"
        assert "could not be measured" in table.loc[claim_id, "detail"]
    assert "gamma-2.5" in table.loc["A1a", "detail"]
    assert "'gd' was not run" in table.loc["A4-band", "detail"]


def test_learning_order_fraction_counts_unordered_and_diverged_seeds(res):
    res = dict(res)
    st = res["staircase"].copy(deep=True)
    where = {"depth": 3, "init": "gamma-4"}
    t = st["t_learn90"].loc[where].values.copy()
    t[0] = [5.0, 3.0, 9.0]  # seed 0 learns mode 2 before mode 1
    t[1] = np.nan  # seed 1 learned nothing (e.g. diverged)
    st["t_learn90"].loc[where] = t
    res["staircase"] = st
    table = _table(res)
    assert table.loc["A1a", "measured"] == pytest.approx(1 / 3)
    assert table.loc["A1a", "verdict"] == "FAIL"


def test_sequential_index_claims_follow_the_medians(res):
    res = dict(res)
    st = res["staircase"].copy(deep=True)
    medians = {"gamma-1": 0.95, "gamma-2": 0.6, "gamma-3": 0.3, "gamma-4": 0.1}
    for init, value in medians.items():
        seq = st["seq_index"].loc[{"depth": 3, "init": init}]
        st["seq_index"].loc[{"depth": 3, "init": init}] = np.where(seq.notnull(), value, np.nan)
    res["staircase"] = st
    table = _table(res)
    assert table.loc["A8-order", "measured"] == pytest.approx(0.2)  # smallest drop 0.3 -> 0.1
    assert table.loc["A8-g4", "measured"] == pytest.approx(0.1)
    assert table.loc["A8-g1", "measured"] == pytest.approx(0.95)
    # not decreasing any more: gamma-3 above gamma-2
    st["seq_index"].loc[{"depth": 3, "init": "gamma-3"}] = np.where(
        st["seq_index"].loc[{"depth": 3, "init": "gamma-3"}].notnull(), 0.7, np.nan
    )
    assert _table(res).loc["A8-order", "verdict"] == "FAIL"


def test_band_claims(res):
    res = dict(res)
    d = res["diffusion"].copy(deep=True)
    r = np.ones_like(d["ratio"].values)
    r.flat[3] = 1.07
    d["ratio"].values[...] = r
    res["diffusion"] = d
    table = _table(res)
    assert table.loc["A0", "measured"] == pytest.approx(0.07)
    assert table.loc["A0", "verdict"] == "FAIL"
    # A4: GD learning times scaled so that every SGD/GD ratio is 1.2
    gd = res["gd"].copy(deep=True)
    sgd = res["staircase"]["t_learn90"].sel(depth=3, init="gamma-4")
    seeds = gd["seed"].values
    gd["t_learn90"].loc[{"depth": 3, "init": "gamma-4"}] = sgd.sel(seed=seeds).values / 1.2
    res["gd"] = gd
    table = _table(res)
    assert table.loc["A4-band", "measured"] == pytest.approx(0.0)
    assert table.loc["A4-mean", "measured"] == pytest.approx(0.1)  # 1.2 - 1.10
    assert table.loc["A4-mean", "verdict"] == "FAIL"


def test_figures_draw_from_complete_and_from_empty_results(res, tmp_path):
    for name, draw in FIGURES.items():
        save_png(draw(res), tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.pyplot as plt

    for draw in FIGURES.values():  # nothing run: every panel says so instead of failing
        plt.close(draw({}))


def test_captions_match_figures():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    captions = {p.stem for p in (root / "workflow/report/dln_sgd").glob("*.rst")}
    assert captions == set(FIGURES)
