# Dataset distillation encodes low-dimensional structure (multi-index models)
# (brief: shared/studies/dataset_distillation.md). torch; device from the config (auto|cpu|cuda).


rule dataset_distillation_run:
    input:
        code=study_sources("dataset_distillation", "run"),
    output:
        "results/dataset_distillation/runs/{experiment}/{point}.nc",
    log:
        "results/dataset_distillation/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/dataset_distillation/bench/run/{experiment}/{point}.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="dataset_distillation",
        device=lookup(dpath="studies/dataset_distillation/device", within=config),
        master_seed=lookup(dpath="studies/dataset_distillation/master_seed", within=config),
        axes=point_axes("dataset_distillation"),
        params=point_params("dataset_distillation"),
    script:
        "../../scripts/run_point.py"


rule dataset_distillation_figures:
    input:
        data="results/dataset_distillation/dataset_distillation.nc",
        code=study_sources("dataset_distillation", "figures"),
    output:
        figure_outputs("dataset_distillation"),
    log:
        "results/dataset_distillation/logs/figures.log",
    benchmark:
        "results/dataset_distillation/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="dataset_distillation",
    script:
        "../../scripts/figures.py"
