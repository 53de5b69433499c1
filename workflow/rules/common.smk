# Functions and constants shared by the rules. Kept light: every cluster job parses this file.

from pathlib import Path

from initlab.studies import STUDIES
from initlab.sweep import study_points


wildcard_constraints:
    study="|".join(STUDIES),
    experiment=r"[A-Za-z0-9_]+",
    point=r"[A-Za-z0-9.+~_\-]+",


SRC = Path("src/initlab")

# Snakemake's report() under a name that its parser does not take for the `report:` directive.
for_report = report

#: Studies switched on in the config, in the order of the config file.
ENABLED = [s for s, cfg in config["studies"].items() if cfg["enabled"]]

#: {study: {experiment: {point name: Point}}}, built (and checked) from the config.
POINTS = {s: study_points(s, cfg) for s, cfg in config["studies"].items()}

#: initlab modules each stage of every study depends on, besides the study's own files.
SHARED_SOURCES = {
    "run": ["__init__.py", "rng.py", "results.py", "provenance.py", "studies/__init__.py"],
    "aggregate": ["results.py"],
    "claims": ["claims.py", "results.py"],
    "figures": ["plotting.py", "results.py", "studies/__init__.py"],
    "report": ["report.py", "claims.py", "provenance.py", "results.py"],
}


def study_sources(study, stage):
    """The source files a ``stage`` of ``study`` depends on, as rule inputs.

    Snakemake does not track modules a script imports, so they are listed as inputs: an edit to
    one study's code reruns that study only. Its ``claims.py`` feeds only the claims and figures
    stages and its ``figures.py`` only the figures, so changing a threshold or a plot does not
    rerun experiments.
    """
    own = sorted((SRC / "studies" / study).glob("*.py"))
    if stage == "run":
        own = [p for p in own if p.name not in ("claims.py", "figures.py")]
    elif stage == "claims":
        own = [SRC / "studies" / study / "claims.py"]
    elif stage == "figures":  # figures may draw with the claims' measurements
        own = [SRC / "studies" / study / name for name in ("claims.py", "figures.py")]
    else:
        own = []
    return sorted(str(p) for p in own) + shared_sources(stage)


def shared_sources(stage):
    """The shared initlab modules a stage depends on (no study's own files)."""
    return [str(SRC / p) for p in SHARED_SOURCES[stage]]


def claims_sources(wildcards):
    return study_sources(wildcards.study, "claims")


def point_files(study, folder, ext):
    """One path per sweep point: ``results/<study>/<folder>/<experiment>/<point>.<ext>``."""
    return [
        f"results/{study}/{folder}/{experiment}/{name}.{ext}"
        for experiment, points in POINTS[study].items()
        for name in points
    ]


def run_files(wildcards):
    return point_files(wildcards.study, "runs", "nc")


def point_axes(study):
    """A params function: the sweep-axis values of the job's point."""
    return lambda wildcards: POINTS[study][wildcards.experiment][wildcards.point].axes


def point_params(study):
    """A params function: every parameter the job's point resolved to (tracked by value)."""
    return lambda wildcards: POINTS[study][wildcards.experiment][wildcards.point].params


def point_data(study):
    """An input function: the prepared artefacts the job's point reads, ``data/prepared/<name>.nc``.

    A study names them in its ``data`` setting (a name or a list, e.g. ``mnist/test_pca50_all``);
    every point and study naming one artefact shares the one file (built once by data.smk).
    """

    def inputs(wildcards):
        names = POINTS[study][wildcards.experiment][wildcards.point].params.get("data") or []
        return [
            f"data/prepared/{name}.nc" for name in ([names] if isinstance(names, str) else names)
        ]

    return inputs


def figure_names(study):
    """Figure names of a study: one caption file ``workflow/report/<study>/<name>.rst`` each."""
    return sorted(p.stem for p in Path("workflow/report", study).glob("*.rst"))


def figure_outputs(study):
    """The figures rule's outputs, each marked for ``snakemake --report`` with its caption."""
    outputs = []
    for name in figure_names(study):
        outputs.append(
            for_report(
                f"results/{study}/figures/{name}.png",
                caption=f"../report/{study}/{name}.rst",
                category=study,
                subcategory="figures",
                labels={"study": study, "figure": name},
            )
        )
    return outputs


def all_figures():
    return [f"results/{s}/figures/{name}.png" for s in ENABLED for name in figure_names(s)]


def all_captions():
    return [f"workflow/report/{s}/{name}.rst" for s in ENABLED for name in figure_names(s)]


def all_benchmarks():
    stages = [
        f"results/{s}/bench/{stage}.tsv"
        for s in ENABLED
        for stage in ("aggregate", "claims", "figures")
    ]
    return [f for s in ENABLED for f in point_files(s, "bench/run", "tsv")] + stages
