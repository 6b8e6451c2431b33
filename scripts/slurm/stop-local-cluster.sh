#!/bin/sh
# Stops the one-node cluster started by start-local-cluster.sh (slurmd, slurmctld; munged too
# with --munge). Jobs still running are killed with their node.
set -u
state=${REPRO_SLURM_STATE:-/var/lib/repro-slurm}
stop_pidfile() {
  f=$1
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  fi
  rm -f "$f"
}
stop_pidfile "$state/slurmd.pid"
stop_pidfile "$state/slurmctld.pid"
if [ "${1:-}" = "--munge" ] && [ -f /run/munge/munged.pid ]; then
  kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
fi
echo "stop-local-cluster: stopped"
