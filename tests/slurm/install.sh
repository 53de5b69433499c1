#!/usr/bin/env bash
# Install a single-node SLURM (controller, node daemon, client tools, munge) from Debian packages,
# for tests/test_slurm.py. Idempotent: does nothing when the binaries are already there.
# Never fails the caller: without apt, without root, or when apt fails, it says so and exits 0,
# and the SLURM tests then skip with the reason.
#   bash tests/slurm/install.sh
set -uo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge)
BINARIES=(munged slurmctld slurmd sbatch squeue sinfo scancel srun)

version() { dpkg-query -W -f='${Version}' slurmctld 2>/dev/null || echo unknown; }

missing=()
for b in "${BINARIES[@]}"; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing+=("$b")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "slurm install: already installed (slurm $(version))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "slurm install: no apt-get here, skipping (missing: ${missing[*]}); the SLURM tests will skip"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "slurm install: not root, skipping (missing: ${missing[*]}); the SLURM tests will skip"
    exit 0
fi

echo "slurm install: apt-get install ${PACKAGES[*]} (missing: ${missing[*]})"
export DEBIAN_FRONTEND=noninteractive
# The packages' postinst scripts would start munged/slurmd/slurmctld with the system config; the
# tests start their own, so a policy-rc.d (unless one exists) keeps them from starting any.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
status=0
apt-get update -qq || status=$?
if [ "$status" -eq 0 ]; then
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" || status=$?
fi
[ "$created_policy" -eq 1 ] && rm -f "$policy"
if [ "$status" -ne 0 ]; then
    echo "slurm install: apt-get failed ($status); the SLURM tests will skip"
    exit 0
fi
echo "slurm install: done (slurm $(version))"
