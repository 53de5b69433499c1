"""Rule script (sklearn_prepare): iris or digits from scikit-learn's bundled copy."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import sys

from initlab.data.sklearn_sets import prepare_sklearn_set

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
p = snakemake.params
prepare_sklearn_set(
    snakemake.wildcards.name,
    snakemake.output[0],
    scale=p.scale,
    split_seed=p.split_seed,
    test_fraction=p.test_fraction,
)
