"""Rule script (qm9_fetch): QM9's CSVs out of qm9pack's downloaded wheel, each verified."""

import sys

from initlab.data.fetch import fetch_qm9

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
fetch_qm9(snakemake.output, url=snakemake.params.url)
