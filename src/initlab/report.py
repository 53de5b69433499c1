"""The HTML report: one self-contained page that says, claim by claim, what reproduced.

Order of the page (DESIGN.md, Report): a summary row per study (paper, PASS / FAIL / report-only
counts, wall time); one section per study with its claims table, its figures with captions and
what its brief marks as reconstructed; an Initialization section that sets every study's init
axis side by side; provenance last (config, git commit, package versions, device, wall time per
rule from Snakemake's ``benchmark:`` files). Figures are embedded as base64 PNG, so the page opens
from disk with no server.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

__all__ = ["FigureEntry", "StudySection", "load_benchmarks", "render"]


@dataclass
class FigureEntry:
    name: str
    png: Path
    caption: str


@dataclass
class StudySection:
    id: str
    title: str
    reference: str
    reconstructed: Sequence[str] = ()
    figures: Sequence[FigureEntry] = ()
    init_values: Sequence[str] = ()
    wall_seconds: float = math.nan
    run_devices: Sequence[str] = field(default_factory=list)


def load_benchmarks(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Snakemake ``benchmark:`` TSVs as one table with ``study`` and ``rule`` columns.

    Paths follow ``results/<study>/bench/<stage>[/...].tsv``; the rule is ``<study>_<stage>``.
    """
    rows = []
    for p in paths:
        parts = Path(p).parts
        i = parts.index("bench")
        study, stage = parts[i - 1], Path(parts[i + 1]).stem
        tsv = pd.read_csv(p, sep="\t")
        for _, r in tsv.iterrows():
            rows.append(
                {
                    "study": study,
                    "rule": f"{study}_{stage}",
                    "s": float(r["s"]),
                    "max_rss_mb": pd.to_numeric(r.get("max_rss"), errors="coerce"),
                }
            )
    return pd.DataFrame(rows, columns=["study", "rule", "s", "max_rss_mb"])


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1180px;margin:2em auto;
padding:0 1em;color:#1b1f24;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em;width:100%}
th,td{border:1px solid #d0d7de;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.PASS{background:#dafbe1;color:#116329;font-weight:600}.FAIL{background:#ffebe9;color:#a40e26;font-weight:600}
.REPORT{background:#eef2ff;color:#3730a3}
td span.PASS,td span.FAIL,td span.REPORT{display:inline-block;padding:0 .35em;margin:.1em;border-radius:3px}
figure{display:inline-block;width:48%;margin:.5em .5%;vertical-align:top}
figure img{width:100%;border:1px solid #d0d7de}figcaption{font-size:.85em;color:#444}
.muted{color:#57606a;font-size:.9em}pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.8em}
details{margin:.5em 0}
table.claims{table-layout:fixed}td.num .muted{white-space:normal;text-align:left;overflow-wrap:anywhere}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _num(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    v = float(value)
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.4g}"


def _threshold(text: str) -> str:
    return _e(text.replace("<=", "≤").replace(">=", "≥")) if text else "—"


def _verdict_counts(claims: pd.DataFrame) -> dict[str, int]:
    counts = claims["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in ("PASS", "FAIL", "REPORT")}


def _claims_table(claims: pd.DataFrame) -> str:
    rows = []
    for _, c in claims.iterrows():
        detail = f"<div class='muted'>{_e(c['detail'])}</div>" if c["detail"] else ""
        rows.append(
            f"<tr><td>{_e(c['claim_id'])}</td><td>{_e(c['statement'])}"
            f"<div class='muted'>{_e(c['quantity'])}</div></td>"
            f"<td class='num'>{_num(c['measured'])}{detail}</td>"
            f"<td class='num'>{_threshold(c['threshold'])}</td>"
            f"<td class='{_e(c['verdict'])}'>{_e(c['verdict'])}</td></tr>"
        )
    return (
        "<table class='claims'><colgroup><col style='width:7%'><col style='width:47%'>"
        "<col style='width:28%'><col style='width:9%'><col style='width:9%'></colgroup>"
        "<tr><th>id</th><th>statement (and how it is measured)</th><th>measured</th>"
        "<th>threshold</th><th>verdict</th></tr>" + "".join(rows) + "</table>"
    )


def _img(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def _study_section(s: StudySection, claims: pd.DataFrame) -> str:
    counts = _verdict_counts(claims)
    parts = [
        f"<h2 id='{_e(s.id)}'>{_e(s.title)}</h2>",
        f"<p class='muted'>{_e(s.reference)} · study <code>{_e(s.id)}</code> · "
        f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['REPORT']} report-only</p>",
        _claims_table(claims),
    ]
    for f in s.figures:
        parts.append(
            f"<figure><img alt='{_e(f.name)}' src='{_img(f.png)}'>"
            f"<figcaption><b>{_e(f.name)}</b>. {_e(f.caption)}</figcaption></figure>"
        )
    if s.reconstructed:
        items = "".join(f"<li>{_e(r)}</li>" for r in s.reconstructed)
        parts.append(f"<details><summary>Reconstructed by us, not from the paper</summary><ul>{items}</ul></details>")
    return "\n".join(parts)


def _init_section(sections: Sequence[StudySection], claims: pd.DataFrame) -> str:
    """One row per (study, init scheme a claim is tagged with): the claims as verdict chips
    (hover for the statement and the number), so the schemes of all studies read side by side."""
    rows = []
    for s in sections:
        mine = claims[(claims["study"] == s.id) & (claims["init"] != "")]
        groups = list(mine.groupby("init", sort=False)) or [("", mine)]
        for i, (init, group) in enumerate(groups):
            chips = " ".join(
                f"<span class='{_e(c['verdict'])}' title='{_e(c['statement'])} "
                f"(measured {_num(c['measured'])}"
                f"{', threshold ' + _threshold(c['threshold']) if c['threshold'] else ''})'>"
                f"{_e(c['claim_id'])}</span>"
                for _, c in group.iterrows()
            )
            first = i == 0
            rows.append(
                "<tr>"
                + (f"<td rowspan='{len(groups)}'><a href='#{_e(s.id)}'>{_e(s.id)}</a></td>" if first else "")
                + (
                    f"<td rowspan='{len(groups)}'>"
                    + ", ".join(f"<code>{_e(v)}</code>" for v in s.init_values)
                    + "</td>"
                    if first
                    else ""
                )
                + f"<td><code>{_e(init) or '—'}</code></td><td>{chips or '—'}</td></tr>"
            )
    return (
        "<h2 id='initialization'>Initialization</h2><p>Every study sweeps its initialization as "
        "the <code>init</code> axis. Each row lists the claims measured under one scheme (or "
        "comparing schemes), coloured by verdict; hover a claim for its statement and number, "
        "or follow the study link for the table.</p>"
        "<table><tr><th>study</th><th>init axis values</th><th>scheme(s) of the claim</th>"
        "<th>claims</th></tr>" + "".join(rows) + "</table>"
    )


def _provenance(
    config: Mapping, git_commit: str, versions: Mapping[str, str], device: str, bench: pd.DataFrame, created: str
) -> str:
    by_rule = (
        bench.groupby("rule")
        .agg(jobs=("s", "size"), total_s=("s", "sum"), max_s=("s", "max"), max_rss_mb=("max_rss_mb", "max"))
        .reset_index()
        if len(bench)
        else pd.DataFrame(columns=["rule", "jobs", "total_s", "max_s", "max_rss_mb"])
    )
    rule_rows = "".join(
        f"<tr><td>{_e(r.rule)}</td><td class='num'>{int(r.jobs)}</td><td class='num'>{r.total_s:.1f}</td>"
        f"<td class='num'>{r.max_s:.1f}</td><td class='num'>{_num(r.max_rss_mb)}</td></tr>"
        for r in by_rule.itertuples()
    )
    version_rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in versions.items())
    return (
        "<h2 id='provenance'>Provenance</h2>"
        f"<p>Report written {_e(created)} on {_e(device)}. Code: git <code>{_e(git_commit)}</code>.</p>"
        "<h3>Wall time per rule</h3><p class='muted'>From Snakemake's <code>benchmark:</code> files; "
        "total is summed over jobs (jobs may have run in parallel).</p>"
        "<table><tr><th>rule</th><th>jobs</th><th>total s</th><th>max s</th><th>max RSS MB</th></tr>"
        f"{rule_rows}</table>"
        "<h3>Packages</h3><table><tr><th>package</th><th>version</th></tr>"
        f"{version_rows}</table>"
        "<h3>Config</h3><details><summary>The merged config of this run</summary>"
        f"<pre>{_e(yaml.safe_dump(dict(config), sort_keys=False))}</pre></details>"
    )


def render(
    sections: Sequence[StudySection],
    claims: pd.DataFrame,
    *,
    config: Mapping,
    git_commit: str,
    versions: Mapping[str, str],
    device: str,
    bench: pd.DataFrame,
    created: str,
) -> str:
    """The whole page as one HTML string."""
    total = _verdict_counts(claims)
    summary_rows = []
    for s in sections:
        c = _verdict_counts(claims[claims["study"] == s.id])
        summary_rows.append(
            f"<tr><td><a href='#{_e(s.id)}'>{_e(s.id)}</a></td><td>{_e(s.title)}<div class='muted'>"
            f"{_e(s.reference)}</div></td><td class='num PASS'>{c['PASS']}</td>"
            f"<td class='num {'FAIL' if c['FAIL'] else ''}'>{c['FAIL']}</td>"
            f"<td class='num'>{c['REPORT']}</td><td class='num'>{_num(s.wall_seconds)}</td></tr>"
        )
    body = [
        "<h1>initlab: what reproduced</h1>",
        f"<p>{total['PASS']} claims PASS, {total['FAIL']} FAIL, {total['REPORT']} report-only, across "
        f"{len(sections)} studies. Every verdict is computed from this run's own results.</p>",
        "<table><tr><th>study</th><th>paper</th><th>PASS</th><th>FAIL</th><th>report-only</th>"
        "<th>wall s (all jobs)</th></tr>" + "".join(summary_rows) + "</table>",
    ]
    for s in sections:
        body.append(_study_section(s, claims[claims["study"] == s.id]))
    body.append(_init_section(sections, claims))
    body.append(_provenance(config, git_commit, versions, device, bench, created))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>initlab report</title><style>" + _CSS + "</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )


def _caption(path: Path) -> str:
    """The text of a reST caption file, as one paragraph."""
    return " ".join(line.strip() for line in Path(path).read_text().splitlines() if line.strip())


def write_report(
    *,
    studies: Sequence[str],
    claims: Sequence[str],
    figures: Sequence[str],
    captions: Sequence[str],
    data: Sequence[str],
    benchmarks: Sequence[str],
    config: Mapping,
    html_path: str,
    claims_path: str,
) -> None:
    """Collect every enabled study's outputs and write the report and the stacked claims table.

    ``figures`` and ``captions`` are matched by stem and by the study folder that holds them
    (``results/<study>/figures/<name>.png``, ``workflow/report/<study>/<name>.rst``); ``data``
    are the study files (``results/<study>/<study>.nc``), read for their init axes and devices.
    """
    import datetime

    import xarray as xr

    from initlab import claims as claims_mod
    from initlab import provenance
    from initlab.results import ENGINE
    from initlab.studies import STUDIES

    table = claims_mod.stack(pd.read_csv(p, keep_default_na=False, na_values=[""]) for p in claims)
    table["detail"] = table["detail"].fillna("")
    table["init"] = table["init"].fillna("")
    table["threshold"] = table["threshold"].fillna("")
    bench = load_benchmarks(benchmarks)
    caption_of = {(Path(c).parent.name, Path(c).stem): _caption(Path(c)) for c in captions}

    sections = []
    for study in studies:
        meta = STUDIES[study]
        figs = [
            FigureEntry(Path(f).stem, Path(f), caption_of.get((study, Path(f).stem), ""))
            for f in figures
            if Path(f).parts[-3] == study
        ]
        init_values, devices = set(), set()
        for path in data:
            if Path(path).stem != study:
                continue
            with xr.open_dataset(path, engine=ENGINE) as root:
                experiments = json.loads(root.attrs["experiments"])
            for experiment in experiments:
                with xr.open_dataset(path, group=experiment, engine=ENGINE) as ds:
                    init_values.update(str(v) for v in ds["init"].values)
                    devices.update(str(v) for v in ds["run_device"].values.ravel() if v)
        sections.append(
            StudySection(
                id=study,
                title=meta.title,
                reference=meta.reference,
                reconstructed=meta.reconstructed,
                figures=figs,
                init_values=sorted(init_values),
                wall_seconds=float(bench.loc[bench["study"] == study, "s"].sum()),
                run_devices=sorted(devices),
            )
        )
    devices = sorted({d for s in sections for d in s.run_devices})
    page = render(
        sections,
        table,
        config=config,
        git_commit=provenance.git_commit(),
        versions=provenance.package_versions(),
        device="; ".join(devices) or provenance.describe_device("cpu"),
        bench=bench,
        created=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    Path(html_path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(claims_path, index=False)
    Path(html_path).write_text(page)
    print(f"report: {len(table)} claims from {len(sections)} studies -> {html_path}")
