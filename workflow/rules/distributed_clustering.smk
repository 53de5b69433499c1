# Distributed gradient clustering and the effect of initialisation
# (brief: shared/studies/distributed_clustering.md).


rule distributed_clustering_run:
    input:
        code=study_sources("distributed_clustering", "run"),
        # data/prepared/<name>.nc of the point's `data` setting (iris, mnist/test_pca50_all,
        # mnist/full_pca50_all), built once by the data stage and shared with other studies.
        data=point_data("distributed_clustering"),
    output:
        "results/distributed_clustering/runs/{experiment}/{point}.nc",
    log:
        "results/distributed_clustering/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/distributed_clustering/bench/run/{experiment}/{point}.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="distributed_clustering",
        device=lookup(dpath="studies/distributed_clustering/device", within=config),
        master_seed=lookup(dpath="studies/distributed_clustering/master_seed", within=config),
        axes=point_axes("distributed_clustering"),
        params=point_params("distributed_clustering"),
    script:
        "../../scripts/run_point.py"


rule distributed_clustering_figures:
    input:
        data="results/distributed_clustering/distributed_clustering.nc",
        code=study_sources("distributed_clustering", "figures"),
    output:
        figure_outputs("distributed_clustering"),
    log:
        "results/distributed_clustering/logs/figures.log",
    benchmark:
        "results/distributed_clustering/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="distributed_clustering",
    script:
        "../../scripts/figures.py"
