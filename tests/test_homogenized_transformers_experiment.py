"""homogenized_transformers: every experiment at smoke size through the run-file contract, then
claims and figures on the aggregated results."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from snakemake.utils import update_config

from conftest import ROOT
from initlab import results
from initlab.claims import evaluate
from initlab.plotting import save_png
from initlab.studies import run_to_file
from initlab.studies.homogenized_transformers import experiment
from initlab.studies.homogenized_transformers.claims import CLAIMS
from initlab.studies.homogenized_transformers.figures import FIGURES
from initlab.sweep import study_points

STUDY = "homogenized_transformers"


def _smoke_config() -> dict:
    """configs/smoke.yaml's section, plus the limit SDE and the per-token control (which the
    workflow's smoke run leaves out to keep its job count down)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    update_config(config, yaml.safe_load((ROOT / "configs/smoke.yaml").read_text()))
    section = config["studies"][STUDY]
    experiments = section["experiments"]
    experiments["homogenisation"]["sweep"] = [
        {"init": ["fixed"], "method": ["particles", "sde"], "n": [8], "d": [8], "beta": [1.0]}
    ]
    experiments["common_noise"]["sweep"] = [
        {"init": ["concentrated-1.5"], "weights": ["shared", "per-token"], "n": [16]}
    ]
    return section


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Run files of every smoke point, combined as the aggregate rule does."""
    out = tmp_path_factory.mktemp("ht")
    cfg = _smoke_config()
    paths = []
    for exp, points in study_points(STUDY, cfg).items():
        for name, point in points.items():
            path = out / "runs" / exp / f"{name}.nc"
            run_to_file(STUDY, exp, point.axes, point.params, path, master_seed=cfg["master_seed"], log=lambda s: None)
            paths.append(path)
    results.write_study(results.combine(paths), out / f"{STUDY}.nc", study=STUDY)
    return out, results.load_study(out / f"{STUDY}.nc")


def test_run_files_follow_the_contract(smoke):
    out, data = smoke
    assert set(data) == set(experiment.EXPERIMENTS)
    run = results.load_run(next((out / "runs" / "collapse").glob("*.nc")))
    assert "seed" in run.dims and {"beta", "d", "init", "n"} <= set(run.dims)
    for attr in ("w", "head_norm", "score_scale", "sampler", "init", "init_seed"):
        assert attr in run.attrs
    col = data["collapse"]
    assert np.isfinite(col["rho_ode"].dropna("t").values).all() and col["rho_ode"].count() > 5
    assert data["homogenisation"]["rho_bar"].sizes["seed"] == 40


def test_every_claim_is_measured_from_the_results(smoke):
    _, data = smoke
    table = evaluate(STUDY, CLAIMS, data)
    assert list(table["claim_id"]) == [c.id for c in CLAIMS]
    # at smoke size most grids have one point: the claims that need others say why
    missing = table[table["measured"].isna()]
    assert all("could not be measured" in d for d in missing["detail"])
    for cid in ("H1", "H2a", "H2b", "H3a", "H3b", "H10a", "H10b", "H10c", "H10d", "R-d"):
        row = table[table["claim_id"] == cid].iloc[0]
        assert math.isfinite(row["measured"]), (cid, row["detail"])


def test_claims_use_the_numbers_in_the_results(smoke):
    """Known answers: T½ values written into the collapse results drive H6, H7a and H8."""
    _, data = smoke
    col = data["collapse"]
    cells = {(n, d, b): v for (n, d, b), v in {
        (8, 64, 0.0): 2.0, (16, 64, 0.0): 3.0, (32, 64, 0.0): 3.5,
        (8, 64, 10.0): 2.5, (16, 64, 10.0): 4.5, (32, 64, 10.0): 4.0,
        (16, 16, 10.0): 6.0, (16, 128, 10.0): 5.0}.items()}  # fmt: skip
    th = col["t_half"].reindex(n=[8, 16, 32], d=[16, 64, 128], beta=[0.0, 10.0])
    th = th.where(False)
    for (n, d, b), v in cells.items():
        th.loc[{"n": n, "d": d, "beta": b, "init": "orthonormal"}] = v
    fake = {**data, "collapse": th.to_dataset(name="t_half")}
    table = evaluate(STUDY, CLAIMS, fake).set_index("claim_id")
    assert table.loc["H7a", "measured"] == pytest.approx(1.5)
    assert table.loc["H8", "measured"] == pytest.approx(1.2)
    assert table.loc["H6", "measured"] == pytest.approx(-0.5)
    assert table.loc["H6", "verdict"] == "FAIL"


def test_figures_draw_from_smoke_results(smoke, tmp_path):
    _, data = smoke
    for name, draw in FIGURES.items():
        save_png(draw(data), tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    captions = sorted(p.stem for p in (ROOT / "workflow/report" / STUDY).glob("*.rst"))
    assert captions == sorted(FIGURES)


def test_bad_inputs_are_refused():
    params = dict(_smoke_config()["experiments"]["collapse"]["settings"], init="orthonormal", n=8, d=16, beta=0.0)
    with pytest.raises(ValueError, match="unknown init"):
        experiment.run("collapse", {**params, "init": "gaussian"}, [0], key=(STUDY, 0, "collapse"))
    with pytest.raises(ValueError, match="whole number"):
        experiment.run("collapse", {**params, "record_dt": 0.033}, [0], key=(STUDY, 0, "collapse"))
    with pytest.raises(ValueError, match="device"):
        experiment.run("collapse", params, [0], key=(STUDY, 0, "collapse"), device="cuda")
    with pytest.raises(ValueError, match="needs d >= n"):
        experiment.run("collapse", {**params, "d": 4}, [0], key=(STUDY, 0, "collapse"))
