"""Rule script (mnist_fetch): put a verified copy of one MNIST file at the output."""

import sys

from initlab.data.fetch import fetch_mnist_file

sys.stdout = sys.stderr = open(snakemake.log[0], "w", buffering=1)
s = snakemake.params.sources
fetch_mnist_file(
    snakemake.wildcards.mnist_file,
    snakemake.output[0],
    shipped=s["shipped"],
    mirror=s["mirror"],
    base_url=s["base_url"],
)
