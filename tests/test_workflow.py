"""The real Snakemake on configs/smoke.yaml: end to end, nothing to redo, precise reruns, lint.

The workflow runs in a copy of the checkout (so the tests can edit sources there); its Snakefile
puts the copy's ``src/`` first on the jobs' PYTHONPATH, so the copy's code is what runs.
"""

import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import ROOT, copy_checkout, snakemake
from initlab.studies import claims_of

pytestmark = pytest.mark.workflow

SMOKE = ["--configfile", "configs/smoke.yaml"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    repo = copy_checkout(tmp_path_factory.mktemp("checkout"))
    proc = snakemake("--cores", "2", *SMOKE, cwd=repo)
    return repo, proc.stdout


def planned_jobs(repo, *args):
    """``{rule: [output paths]}`` of a dry run."""
    out = snakemake("-n", "--cores", "2", *args, cwd=repo).stdout
    jobs = {}
    for rule, outputs in re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    output: (.*)$", out, re.M):
        jobs.setdefault(rule, []).extend(o.strip() for o in outputs.split(","))
    return jobs


def enabled_studies(repo):
    config = yaml.safe_load((repo / "config.yaml").read_text())
    smoke = yaml.safe_load((repo / "configs/smoke.yaml").read_text())
    return [s for s in config["studies"] if smoke["studies"].get(s, {}).get("enabled", config["studies"][s]["enabled"])]


def test_smoke_run_writes_a_report_that_lists_every_claim(smoke_run):
    repo, _ = smoke_run
    html = (repo / "results/report/index.html").read_text()
    table = pd.read_csv(repo / "results/report/claims.csv", keep_default_na=False)
    assert list(table.columns)[:6] == ["study", "claim_id", "statement", "measured", "threshold", "verdict"]
    for study in enabled_studies(repo):
        ids = [c.id for c in claims_of(study)]
        assert table.loc[table["study"] == study, "claim_id"].tolist() == ids
        per_study = pd.read_csv(repo / f"results/{study}/claims.csv", keep_default_na=False)
        assert per_study["claim_id"].tolist() == ids
        for claim_id in ids:
            assert f"<td>{claim_id}</td>" in html
        for png in (repo / f"results/{study}/figures").glob("*.png"):
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(table["verdict"]) <= {"PASS", "FAIL", "REPORT"}
    assert html.count("data:image/png;base64,") >= 1
    assert "Provenance" in html and "Wall time per rule" in html


def test_second_run_has_nothing_to_do(smoke_run):
    repo, _ = smoke_run
    proc = snakemake("--cores", "2", *SMOKE, cwd=repo)
    assert "Nothing to be done" in proc.stdout


def test_changed_value_reruns_only_the_points_it_touches(smoke_run, tmp_path):
    repo, _ = smoke_run
    config = yaml.safe_load((repo / "configs/smoke.yaml").read_text())
    block = config["studies"]["scaled_gd"]["experiments"]["psd"]["sweep"][1]
    assert block["method"] == ["gd"]
    block["t_max"] += 1
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(repo, "--configfile", str(changed))
    expected_runs = sorted(
        f"results/scaled_gd/runs/psd/c~{c}_init~spectral_kappa~{k}_method~gd.nc"
        for c in block["c"]
        for k in block["kappa"]
    )
    assert sorted(jobs.pop("scaled_gd_run")) == expected_runs
    assert sorted(jobs) == ["aggregate", "claims", "report", "scaled_gd_figures"]


def _edited(path, text="\n# an edit\n"):
    original = path.read_text()
    path.write_text(original + text)
    return original


def test_editing_study_code_reruns_that_study_and_claims_code_reruns_only_claims(smoke_run):
    repo, _ = smoke_run
    algorithms = repo / "src/initlab/studies/scaled_gd/algorithms.py"
    original = _edited(algorithms)
    try:
        jobs = planned_jobs(repo, *SMOKE)
    finally:
        algorithms.write_text(original)
    n_points = len(list((repo / "results/scaled_gd/runs").rglob("*.nc")))
    assert len(jobs.pop("scaled_gd_run")) == n_points
    assert sorted(jobs) == ["aggregate", "claims", "report", "scaled_gd_figures"]

    claims = repo / "src/initlab/studies/scaled_gd/claims.py"
    original = _edited(claims)
    try:
        jobs = planned_jobs(repo, *SMOKE)
    finally:
        claims.write_text(original)
    # Figures may draw with the claims' measurements, so they redraw; no experiment reruns.
    assert sorted(jobs) == ["claims", "report", "scaled_gd_figures"]
    assert "Nothing to be done" in snakemake("-n", *SMOKE, cwd=repo).stdout


def test_snakemake_report_zip_has_captions(smoke_run):
    repo, _ = smoke_run
    snakemake("--report", "report.zip", *SMOKE, cwd=repo)
    listing = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(repo / "report.zip")], capture_output=True, text=True, check=True
    ).stdout
    assert "claims.csv" in listing and ".png" in listing


def test_lint_and_format_are_clean():
    lint = snakemake("--lint", cwd=ROOT, check=False)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
