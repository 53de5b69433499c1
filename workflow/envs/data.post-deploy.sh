#!/usr/bin/env bash
# Run by Snakemake once after it creates the data.yaml environment (--sdm conda).
# molsets ships MOSES' CSVs; never `import moses` (it fails against current RDKit and pandas).
set -euo pipefail
python -m pip install --no-deps molsets==0.3.1
