# SGD in the saddle-to-saddle regime of deep linear networks (brief: shared/studies/dln_sgd.md).


rule dln_sgd_run:
    input:
        code=study_sources("dln_sgd", "run"),
    output:
        "results/dln_sgd/runs/{experiment}/{point}.nc",
    log:
        "results/dln_sgd/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/dln_sgd/bench/run/{experiment}/{point}.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="dln_sgd",
        device=lookup(dpath="studies/dln_sgd/device", within=config),
        master_seed=lookup(dpath="studies/dln_sgd/master_seed", within=config),
        axes=point_axes("dln_sgd"),
        params=point_params("dln_sgd"),
    script:
        "../../scripts/run_point.py"


rule dln_sgd_figures:
    input:
        data="results/dln_sgd/dln_sgd.nc",
        code=study_sources("dln_sgd", "figures"),
    output:
        figure_outputs("dln_sgd"),
    log:
        "results/dln_sgd/logs/figures.log",
    benchmark:
        "results/dln_sgd/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="dln_sgd",
    script:
        "../../scripts/figures.py"
