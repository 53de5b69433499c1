# Graph Energy Matching for molecular graph generation
# (brief: shared/studies/graph_energy_matching.md). Training checkpoints are written to
# results/graph_energy_matching/checkpoints/<init>-seed<seed>-<hash>/ (not declared outputs): a
# killed run job resumes from them, and one whose evaluation settings changed reuses them.
# Training stops at a fixed iteration count (wall_cap 0), so the model is a function of the
# config, not of the machine load; the run jobs get a priority so that, inside the default run of
# every study, they start first and the two single-thread arms run in parallel.


rule graph_energy_matching_run:
    input:
        code=study_sources("graph_energy_matching", "run"),
        data=point_data("graph_energy_matching"),
    output:
        "results/graph_energy_matching/runs/{experiment}/{point}.nc",
    log:
        "results/graph_energy_matching/logs/run/{experiment}/{point}.log",
    benchmark:
        "results/graph_energy_matching/bench/run/{experiment}/{point}.tsv"
    priority: 50
    conda:
        "../envs/initlab.yaml"
    params:
        study="graph_energy_matching",
        device=lookup(dpath="studies/graph_energy_matching/device", within=config),
        master_seed=lookup(dpath="studies/graph_energy_matching/master_seed", within=config),
        axes=point_axes("graph_energy_matching"),
        params=point_params("graph_energy_matching"),
    script:
        "../../scripts/run_point.py"


rule graph_energy_matching_figures:
    input:
        data="results/graph_energy_matching/graph_energy_matching.nc",
        code=study_sources("graph_energy_matching", "figures"),
    output:
        figure_outputs("graph_energy_matching"),
    log:
        "results/graph_energy_matching/logs/figures.log",
    benchmark:
        "results/graph_energy_matching/bench/figures.tsv"
    conda:
        "../envs/initlab.yaml"
    params:
        study="graph_energy_matching",
    script:
        "../../scripts/figures.py"
