"""Rule script: draw a study's figures from its aggregated results, one PNG per output."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import sys

from initlab import studies

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
studies.draw_figures(snakemake.params.study, snakemake.input.data, list(snakemake.output))
