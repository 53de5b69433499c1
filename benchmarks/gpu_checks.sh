#!/usr/bin/env bash
# The GPU checks, as one call on a machine where torch sees a CUDA device (about 2 minutes on an
# H200): the CUDA cases of the tests (skipped on CPU-only machines) and the dln_sgd vectorisation
# benchmark with both the batch and the per-seed loop in torch on the GPU. It uses the machine's
# own python3 (numpy, scipy, xarray, torch, pytest) with src/ on PYTHONPATH, not the project venv.
# Numbers go to $OUT (default benchmarks/results/gpu).
#
#   bash benchmarks/gpu_checks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=src PYTHONUNBUFFERED=1
out=${OUT:-benchmarks/results/gpu}
mkdir -p "$out"

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
    | tee -a "$out/gpu.txt"

echo "== CUDA cases of the dln_sgd tests"
python3 -m pytest -q -rs -p no:cacheprovider tests/test_dln_sgd_model.py \
    -k "torch_backend or gpu" 2>&1 | tee "$out/pytest_cuda.txt"

echo "== dln_sgd: SGD vectorised over seeds vs a per-seed loop, torch on the GPU"
python3 benchmarks/bench_dln_sgd_vectorised.py --backend torch --device cuda \
    --seeds 16 64 --repeats 3 --out "$out/dln_sgd_vectorised_torch_cuda.json"
