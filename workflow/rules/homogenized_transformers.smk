# Homogenized random Transformers and representation collapse
# (brief: shared/studies/homogenized_transformers.md). numpy only: device is always cpu.


rule homogenized_transformers_run:
    input:
        code=study_sources("homogenized_transformers", "run"),
    output:
        "results/homogenized_transformers/runs/{experiment}/{point}.nc",
    log:
        "results/homogenized_transformers/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/homogenized_transformers/bench/run/{experiment}/{point}.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="homogenized_transformers",
        device="cpu",
        master_seed=lookup(dpath="studies/homogenized_transformers/master_seed", within=config),
        axes=point_axes("homogenized_transformers"),
        params=point_params("homogenized_transformers"),
    script:
        "../../scripts/run_point.py"


rule homogenized_transformers_figures:
    input:
        data="results/homogenized_transformers/homogenized_transformers.nc",
        code=study_sources("homogenized_transformers", "figures"),
    output:
        figure_outputs("homogenized_transformers"),
    log:
        "results/homogenized_transformers/logs/figures.log",
    benchmark:
        "results/homogenized_transformers/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="homogenized_transformers",
    script:
        "../../scripts/figures.py"
