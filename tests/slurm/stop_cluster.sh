#!/usr/bin/env bash
# Stop the cluster that start_cluster.sh started in STATE_DIR: cancel its jobs, wait (bounded) for
# them to leave, stop slurmd, slurmctld and munged by the pids in STATE_DIR/run (only those
# processes are signalled), and remove /etc/slurm/slurm.conf if it is this cluster's.
# Safe to call on a half-started or already stopped cluster; always exits 0.
set -uo pipefail

STATE=${1:?usage: stop_cluster.sh STATE_DIR}
STATE=$(cd "$STATE" 2>/dev/null && pwd) || exit 0
CONF=/etc/slurm/slurm.conf
unset SLURM_CONF

ours() {  # is $CONF the one start_cluster.sh wrote for this STATE_DIR?
    local first
    [ -f "$CONF" ] && IFS= read -r first <"$CONF" && [[ "$first" == "# initlab-test-cluster $STATE "* ]]
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

if ours && pid_alive "$STATE/run/slurmctld.pid"; then
    timeout 10 scancel --full --quiet --partition="${SLURM_TEST_PARTITION:-debug}" 2>/dev/null || true
    for _ in $(seq 1 30); do
        [ -z "$(timeout 5 squeue -h -t PENDING,RUNNING,COMPLETING -o %i 2>/dev/null)" ] && break
        sleep 0.5
    done
fi

stop_pid() {  # stop_pid NAME PIDFILE: TERM, wait up to 10 s, then KILL
    local name=$1 pidfile=$2 pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile" 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "stop_cluster: $name ($pid) ignored TERM, killing it" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -f "$pidfile"
}

stop_pid slurmd "$STATE/run/slurmd.pid"
stop_pid slurmctld "$STATE/run/slurmctld.pid"
stop_pid munged "$STATE/run/munged.pid"
ours && rm -f "$CONF"
echo "slurm test cluster in $STATE stopped"
exit 0
