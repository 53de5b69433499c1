# Joint projection and clustering by gradient manifold optimisation
# (brief: shared/studies/manifold_gmm.md).


rule manifold_gmm_run:
    input:
        code=study_sources("manifold_gmm", "run"),
        data=point_data("manifold_gmm"),
    output:
        "results/manifold_gmm/runs/{experiment}/{point}.nc",
    log:
        "results/manifold_gmm/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/manifold_gmm/bench/run/{experiment}/{point}.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="manifold_gmm",
        device=lookup(dpath="studies/manifold_gmm/device", within=config),
        master_seed=lookup(dpath="studies/manifold_gmm/master_seed", within=config),
        axes=point_axes("manifold_gmm"),
        params=point_params("manifold_gmm"),
    script:
        "../../scripts/run_point.py"


rule manifold_gmm_figures:
    input:
        data="results/manifold_gmm/manifold_gmm.nc",
        code=study_sources("manifold_gmm", "figures"),
    output:
        figure_outputs("manifold_gmm"),
    log:
        "results/manifold_gmm/logs/figures.log",
    benchmark:
        "results/manifold_gmm/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="manifold_gmm",
    script:
        "../../scripts/figures.py"
