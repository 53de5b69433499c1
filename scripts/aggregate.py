"""Rule script: merge a study's run files into results/<study>/<study>.nc."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import sys

from initlab import results

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
study = snakemake.wildcards.study
results.write_study(results.combine(snakemake.input.runs), snakemake.output[0], study=study)
