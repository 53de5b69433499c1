"""The HTML report: summary first, every claim with its verdict, figures embedded, provenance."""

import math

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import xarray as xr

from initlab.claims import Claim, at_most, evaluate
from initlab.plotting import save_png, subplots
from initlab.report import FigureEntry, StudySection, load_benchmarks, render


def _claims():
    data = {"e": xr.Dataset({"x": ("seed", [1.0, 3.0])})}
    return evaluate(
        "toy",
        [
            Claim("T1", "x stays small", "max x", at_most(5.0), lambda r: r["e"]["x"].max(), init="spectral"),
            Claim("T2", "x is tiny", "max x", at_most(1.0), lambda r: r["e"]["x"].max()),
            Claim("R1", "for the record", "min x", None, lambda r: r["e"]["x"].min()),
        ],
        data,
    )


def test_page_shows_summary_claims_figures_init_and_provenance(tmp_path):
    fig, ax = subplots()
    ax.plot([0, 1], [1, 0])
    png = tmp_path / "f1.png"
    save_png(fig, png)
    section = StudySection(
        "toy", "A toy paper", "Doe 2026", reconstructed=("the grid",),
        figures=[FigureEntry("f1", png, "A falling line.")], init_values=["spectral", "random-0.1"],
        wall_seconds=12.5,
    )
    bench = pd.DataFrame({"study": ["toy"], "rule": ["toy_run"], "s": [12.5], "max_rss_mb": [100.0]})
    page = render(
        [section], _claims(), config={"studies": {"toy": {"enabled": True}}}, git_commit="abc",
        versions={"numpy": "2.0"}, device="cpu: test", bench=bench, created="now",
    )
    assert page.index("what reproduced") < page.index("id='toy'") < page.index("id='initialization'")
    assert page.index("id='initialization'") < page.index("id='provenance'")
    assert "1 claims PASS, 1 FAIL, 1 report-only" in page
    assert "<td class='FAIL'>FAIL</td>" in page and "<td class='PASS'>PASS</td>" in page
    assert "data:image/png;base64," in page and "A falling line." in page
    assert "<code>random-0.1</code>" in page and "<code>spectral</code>" in page and ">T1</span>" in page
    assert "abc" in page and "toy_run" in page and "enabled: true" in page
    assert "the grid" in page


def test_load_benchmarks_names_rules_by_study_and_stage(tmp_path):
    tsv = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n1.5\t0:00:01\t80.1\t1\t1\t1\t0\t0\t0\t1\n"
    for rel in ["toy/bench/run/e/p1.tsv", "toy/bench/run/e/p2.tsv", "toy/bench/claims.tsv"]:
        path = tmp_path / "results" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tsv)
    bench = load_benchmarks(sorted((tmp_path / "results").rglob("*.tsv")))
    assert sorted(bench["rule"]) == ["toy_claims", "toy_run", "toy_run"]
    assert bench["s"].sum() == 4.5 and bench["max_rss_mb"].max() == 80.1
    assert not math.isnan(bench["max_rss_mb"].iloc[0])
