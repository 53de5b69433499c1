# Escape dynamics and implicit bias of one-pass SGD in quadratic networks
# (brief: shared/studies/quadratic_escape.md).


rule quadratic_escape_run:
    input:
        code=study_sources("quadratic_escape", "run"),
    output:
        "results/quadratic_escape/runs/{experiment}/{point}.nc",
    log:
        "results/quadratic_escape/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/quadratic_escape/bench/run/{experiment}/{point}.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="quadratic_escape",
        device="cpu",
        master_seed=lookup(dpath="studies/quadratic_escape/master_seed", within=config),
        axes=point_axes("quadratic_escape"),
        params=point_params("quadratic_escape"),
    script:
        "../../scripts/run_point.py"


rule quadratic_escape_figures:
    input:
        data="results/quadratic_escape/quadratic_escape.nc",
        code=study_sources("quadratic_escape", "figures"),
    output:
        figure_outputs("quadratic_escape"),
    log:
        "results/quadratic_escape/logs/figures.log",
    benchmark:
        "results/quadratic_escape/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="quadratic_escape",
    script:
        "../../scripts/figures.py"
