# Two commands on a fresh machine:  `make run` (default pipeline) and `make test` (all tests).
# Each first builds .venv with everything the pipeline and its tests need.

PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: setup run smoke paper test lint format clean-results

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first: the project's range then installs nothing more (an open
	# range alone would pull a multi-GB CUDA build).
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev,slurm,data]"
	# MOSES ships its CSVs in molsets, whose own pins do not build: take the files, not its deps.
	$(BIN)/python -m pip install --quiet --no-deps "molsets==0.3.1"
	touch $@

setup: $(BIN)/.installed

run: setup  ## the default (quick-scale) run; report in results/report/index.html
	$(BIN)/snakemake --cores $(CORES)

smoke: setup  ## every rule at tiny sizes, about 1.5 minutes
	$(BIN)/snakemake --cores $(CORES) --configfile configs/smoke.yaml

paper: setup  ## paper scale: meant for a cluster (add --profile profiles/slurm) or a big machine
	$(BIN)/snakemake --cores $(CORES) --configfile configs/paper.yaml

test: setup  ## unit tests, workflow tests on configs/smoke.yaml, lint and format checks
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/

format: setup
	$(BIN)/snakefmt Snakefile workflow/

clean-results:
	rm -rf results report.zip
