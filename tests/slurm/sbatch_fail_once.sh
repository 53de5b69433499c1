#!/usr/bin/env bash
# A stand-in for `sbatch` (found first on PATH under the name sbatch) that makes the first SLURM job
# it submits fail: that job runs `exit 1` instead of its Snakemake command. Every later call goes
# to the real sbatch unchanged. The failure is a real SLURM job failure (state FAILED), so
# Snakemake's retries are exercised without touching the pipeline's code.
#   REAL_SBATCH        path of the real sbatch
#   FAIL_ONCE_MARKER   a directory created by the first call (atomically); its presence means done
set -euo pipefail
: "${REAL_SBATCH:?}" "${FAIL_ONCE_MARKER:?}"
if mkdir "$FAIL_ONCE_MARKER" 2>/dev/null; then
    args=()
    for arg in "$@"; do
        case "$arg" in
            --wrap=*) arg="--wrap=echo 'initlab test: injected failure of the first SLURM job' >&2; exit 1" ;;
        esac
        args+=("$arg")
    done
    exec "$REAL_SBATCH" "${args[@]}"
fi
exec "$REAL_SBATCH" "$@"
