"""Rule script: run one sweep point of a study and write its run file."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")  # before netCDF4 loads (NFS, Lustre)

import sys

from initlab.studies import run_to_file

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
p = snakemake.params
run_to_file(
    p.study,
    snakemake.wildcards.experiment,
    p.axes,
    p.params,
    snakemake.output[0],
    master_seed=p.master_seed,
    threads=snakemake.threads,
    device=p.device,
)
