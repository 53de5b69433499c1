"""The eight studies, each a subpackage that reads like its paper.

A study ``<id>`` provides
    ``initlab.studies.<id>.experiment.run(experiment, params, seeds, *, key, threads, device, log)``
        -> `xarray.Dataset` with a ``seed`` dimension and no sweep dimensions;
    ``initlab.studies.<id>.claims.CLAIMS``: a list of `initlab.claims.Claim`;
    ``initlab.studies.<id>.figures.FIGURES``: ``{name: results -> matplotlib Figure}``, one caption
        file ``workflow/report/<id>/<name>.rst`` per name.
This module dispatches to them and adds what every study shares: generators keyed by
(study, master seed, experiment), thread limits, timing and the run-file contract.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["STUDIES", "Study", "claims_of", "figures_of", "draw_figures", "run_point", "run_to_file"]


@dataclass(frozen=True)
class Study:
    id: str
    title: str
    reference: str
    #: What the study's brief marks as reconstructed (not from the paper), for the report.
    reconstructed: tuple[str, ...] = ()


STUDIES: dict[str, Study] = {
    s.id: s
    for s in [
        Study(
            "scaled_gd",
            "Scaled gradient descent for ill-conditioned low-rank matrix recovery "
            "with optimal sampling complexity",
            "Li & Huang, arXiv 2604.00060 (2026)",
            reconstructed=(
                "Only the abstract was available: the experiment grid, T_max and tolerances follow "
                "the Tong-Ma-Chi protocol, not the paper's own figures.",
                "Spectral initialisation is the plain one (top-r SVD of A*(y)); the paper's refined "
                "variant is unknown.",
                "Small random init uses alpha = 1e-3 with damping lambda = 0.1 sigma_r(X*), an oracle "
                "choice.",
                "The PSD sensing ensemble A_k = (G_k + G_k^T) / (2 sqrt(m)) and its c_psd = m/(n r) "
                "convention.",
                "Claim thresholds were calibrated on replicates of the quick grid (brief, section 4).",
            ),
        ),
    ]
}


def _module(study: str, part: str):
    if study not in STUDIES:
        raise KeyError(f"unknown study {study!r}; known: {sorted(STUDIES)}")
    return importlib.import_module(f"initlab.studies.{study}.{part}")


def claims_of(study: str) -> list:
    return list(_module(study, "claims").CLAIMS)


def figures_of(study: str) -> Mapping[str, Callable]:
    return dict(_module(study, "figures").FIGURES)


def run_to_file(
    study: str,
    experiment: str,
    axes: Mapping,
    params: Mapping,
    output,
    *,
    master_seed: int,
    threads: int = 1,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> None:
    """Run one sweep point and write its run file (the whole job of a ``<study>_run`` rule)."""
    from initlab import provenance, results

    device = provenance.resolve_device(device)
    log(f"{study}/{experiment}: {results.to_json(dict(axes))} on {device}, {threads} thread(s)")
    data, wall = run_point(
        study, experiment, params, master_seed=master_seed, threads=threads, device=device, log=log
    )
    results.write_run(
        data,
        output,
        study=study,
        experiment=experiment,
        axes=axes,
        params=params,
        git_commit=provenance.git_commit(),
        device=provenance.describe_device(device),
        wall_seconds=wall,
    )
    log(f"wrote {output} in {wall:.1f} s")


def draw_figures(study: str, data_path, outputs) -> None:
    """Draw every figure of ``FIGURES`` from the study file and save each to its output PNG.

    ``outputs`` are paths whose stems are the figure names; they come from the caption files
    ``workflow/report/<study>/<name>.rst``, so a figure without a caption (or the reverse) is an
    error here rather than a silently missing picture.
    """
    from pathlib import Path

    from initlab import plotting, results

    figures = figures_of(study)
    by_name = {Path(o).stem: o for o in outputs}
    if set(by_name) != set(figures):
        raise ValueError(
            f"{study}: figures in code {sorted(figures)} differ from caption files "
            f"{sorted(by_name)} in workflow/report/{study}/; add or remove the caption"
        )
    data = results.load_study(data_path)
    for name, draw in figures.items():
        plotting.save_png(draw(data), by_name[name])
        print(f"{study}: drew {by_name[name]}")


def _limit_threads(threads: int) -> None:
    """Cap BLAS/OpenMP (and torch, where loaded) at the job's threads."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def run_point(
    study: str,
    experiment: str,
    params: Mapping,
    *,
    master_seed: int,
    threads: int = 1,
    device: str = "cpu",
    log: Callable[[str], None] = print,
):
    """Run one sweep point and return ``(data, wall_seconds)``.

    ``params`` holds every setting and axis value the point resolved to (see `initlab.sweep`);
    ``params["seeds"]`` is the number of seeds, run as ``seed = 0 .. seeds-1``.
    """
    _limit_threads(threads)
    run = _module(study, "experiment").run
    seeds: Sequence[int] = list(range(int(params["seeds"])))
    start = time.perf_counter()
    data = run(
        experiment,
        dict(params),
        seeds,
        key=(study, int(master_seed), experiment),
        threads=threads,
        device=device,
        log=log,
    )
    return data, time.perf_counter() - start
