"""initlab: eight papers on gradient-based learning and initialization, reproduced as one
Snakemake pipeline whose every headline claim is checked from the run's own results."""

__version__ = "0.1.0"
