"""Rule script (mnist_features): PCA or whitened features of a prepared MNIST subset."""

import os

os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import sys

from initlab.data.features import prepare_features

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
prepare_features(snakemake.params.name, snakemake.input.data, snakemake.output[0])
