# ScaledGD for ill-conditioned low-rank matrix recovery (brief: shared/studies/scaled_gd.md).


rule scaled_gd_run:
    input:
        code=study_sources("scaled_gd", "run"),
    output:
        "results/scaled_gd/runs/{experiment}/{point}.nc",
    log:
        "results/scaled_gd/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/scaled_gd/bench/run/{experiment}/{point}.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="scaled_gd",
        device="cpu",
        master_seed=lookup(dpath="studies/scaled_gd/master_seed", within=config),
        axes=point_axes("scaled_gd"),
        params=point_params("scaled_gd"),
    script:
        "../../scripts/run_point.py"


rule scaled_gd_figures:
    input:
        data="results/scaled_gd/scaled_gd.nc",
        code=study_sources("scaled_gd", "figures"),
    output:
        figure_outputs("scaled_gd"),
    log:
        "results/scaled_gd/logs/figures.log",
    benchmark:
        "results/scaled_gd/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="scaled_gd",
    script:
        "../../scripts/figures.py"
