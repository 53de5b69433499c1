"""Rule script: the HTML report and the stacked claims table of every enabled study."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import sys

from initlab.report import write_report

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
write_report(
    studies=snakemake.params.studies,
    claims=snakemake.input.claims,
    figures=snakemake.input.figures,
    captions=snakemake.input.captions,
    data=snakemake.input.data,
    benchmarks=snakemake.input.benchmarks,
    config=snakemake.params.config,
    html_path=snakemake.output.html,
    claims_path=snakemake.output.claims,
)
