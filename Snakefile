# initlab: eight papers on gradient-based learning and initialization, one workflow.
# Run: snakemake --cores N   (see README.md; the config is validated before any job runs)

import os
import sys

from snakemake.utils import min_version

min_version("9.19")

# Jobs import initlab from this checkout's src/, whose files the rules list as inputs, so the
# code that runs is the code that is tracked (also in conda envs and on cluster nodes).
SRC_DIR = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC_DIR)
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC_DIR, os.environ.get("PYTHONPATH")])))


configfile: "config.yaml"


from initlab.config import validate

validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/scaled_gd.smk"
include: "workflow/rules/quadratic_escape.smk"
include: "workflow/rules/dataset_distillation.smk"
include: "workflow/rules/dln_sgd.smk"
include: "workflow/rules/homogenized_transformers.smk"
include: "workflow/rules/distributed_clustering.smk"
include: "workflow/rules/graph_energy_matching.smk"
include: "workflow/rules/manifold_gmm.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/report/index.html",
