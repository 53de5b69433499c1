"""Rule script: evaluate a study's claims on its aggregated results, write claims.csv."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import sys

from initlab import claims, results, studies

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
study = snakemake.wildcards.study
table = claims.evaluate(study, studies.claims_of(study), results.load_study(snakemake.input.data))
table.to_csv(snakemake.output[0], index=False)
print(table[["claim_id", "measured", "threshold", "verdict"]].to_string(index=False))
