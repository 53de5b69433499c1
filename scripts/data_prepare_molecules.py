"""Rule script (qm9_prepare, moses_prepare): molecules as dense graph tensors."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import sys

from initlab.data import molecules

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
p = snakemake.params
common = dict(
    seed=p.seed,
    subset=p.subset,
    atoms=p.atoms,
    max_nodes=p.max_nodes,
    min_nodes=p.min_nodes,
    threads=snakemake.threads,
)
if p.dataset == "qm9":
    if not snakemake.input.csv:  # data.qm9.source: package, and qm9pack is not installed
        raise FileNotFoundError(
            "data.qm9.source is `package` but qm9pack is not installed: "
            "pip install --no-deps qm9pack==1.0.3, or set data.qm9.source to download or auto"
        )
    molecules.prepare_qm9(
        snakemake.input.csv, snakemake.output[0], train=p.train, test=p.test, **common
    )
else:
    csv = snakemake.input.csv[0] if snakemake.input.csv else None
    molecules.prepare_moses(csv, snakemake.wildcards.split, snakemake.output[0], **common)
