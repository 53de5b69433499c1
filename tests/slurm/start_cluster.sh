#!/usr/bin/env bash
# Start a throwaway single-node SLURM (munged + slurmctld + slurmd, all as root) for the tests.
#
#   tests/slurm/start_cluster.sh STATE_DIR     # exit 0: the node is idle, sbatch works
#   tests/slurm/stop_cluster.sh STATE_DIR      # cancels jobs, stops the daemons, removes the config
#
# The config goes to the default path /etc/slurm/slurm.conf: the Snakemake SLURM job step clears
# every SLURM_* variable (SLURM_CONF included) before its nested `srun`, so a config elsewhere is
# not found inside jobs. A slurm.conf that is not ours (a real cluster's) is never touched: the
# script then exits 3. Everything else lives in STATE_DIR: a fresh munge key and a private munged
# socket, slurmctld state, slurmd spool, logs, pid files. The node gets this machine's CPUs (nproc)
# and 90% of its memory (free -m); the partition is "debug" (or $SLURM_TEST_PARTITION).
# Waits at most $SLURM_TEST_START_TIMEOUT seconds (default 60) for the node to be idle; on failure
# it prints the daemons' logs and exits 1, and the caller runs stop_cluster.sh.
set -euo pipefail

STATE=${1:?usage: start_cluster.sh STATE_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
CONF=/etc/slurm/slurm.conf
PARTITION=${SLURM_TEST_PARTITION:-debug}
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-16817}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-16818}
TIMEOUT=${SLURM_TEST_START_TIMEOUT:-60}
NODE=initlab-node
MARK="# initlab-test-cluster "

first=""
[ -e "$CONF" ] && IFS= read -r first <"$CONF" || true
if [ -e "$CONF" ] && [[ "$first" != "$MARK"* ]]; then
    echo "start_cluster: $CONF exists and is not a test cluster's: not touching a real SLURM" >&2
    exit 3
fi
# A test cluster left running by an interrupted run: stop it first (it holds the ports).
old_state=${first#"$MARK"}
old_state=${old_state%% *}
if [ -n "$first" ] && [ -d "$old_state" ]; then
    bash "$HERE/stop_cluster.sh" "$old_state"
fi

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
chmod 0700 "$STATE"  # munged refuses directories that others can write to
mkdir -p "$STATE"/{munge,ctld,slurmd,run,log}

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(free -m | awk '/^Mem:/ {print int($2 * 0.9)}')

mkdir -p "$(dirname "$CONF")"
sed -e "s|@STATE@|$STATE|g" -e "s|@HOST@|$HOST|g" -e "s|@NODE@|$NODE|g" \
    -e "s|@CPUS@|$CPUS|g" -e "s|@MEM_MB@|$MEM_MB|g" -e "s|@PARTITION@|$PARTITION|g" \
    -e "s|@CTLD_PORT@|$CTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" \
    "$HERE/slurm.conf.in" >"$CONF.tmp.$$"
mv "$CONF.tmp.$$" "$CONF"
echo "$CONF" >"$STATE/conf-path"
unset SLURM_CONF

# A fresh key for every cluster, and a socket of its own: a system munged (if any) is left alone.
dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$STATE/munge/munge.key"
munged --key-file="$STATE/munge/munge.key" \
    --socket="$STATE/munge/munge.socket.2" \
    --pid-file="$STATE/run/munged.pid" \
    --log-file="$STATE/log/munged.log" \
    --seed-file="$STATE/munge/munged.seed" \
    --force

slurmctld -f "$CONF"
slurmd -f "$CONF" -N "$NODE"

deadline=$((SECONDS + TIMEOUT))
state=""
while [ $SECONDS -lt $deadline ]; do
    state=$(timeout 10 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null || true)
    if [ "$state" = idle ]; then
        echo "slurm test cluster up: node $NODE ($CPUS CPUs, $MEM_MB MB), partition $PARTITION, $CONF"
        exit 0
    fi
    sleep 0.5
done
echo "start_cluster: node $NODE not idle after ${TIMEOUT}s (state: '${state:-none}')" >&2
for f in "$STATE"/log/*.log; do
    [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; } >&2
done
exit 1
