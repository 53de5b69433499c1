"""Rule script (mnist_prepare): flattened, scaled MNIST images of one subset, with a seeded split."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")  # before netCDF4 loads (NFS, Lustre)

import sys

from initlab.data.mnist import prepare_mnist

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
p = snakemake.params
prepare_mnist(
    snakemake.wildcards.subset,
    snakemake.input.raw,
    snakemake.output[0],
    split_seed=p.split_seed,
    test_fraction=p.test_fraction,
)
