#!/bin/sh
# Starts a one-node Slurm cluster on this machine, for trying `repro run --executor slurm` and for
# the tests in test/slurm/. Needs root and Debian's `slurm-wlm` and `munge` packages
# (apt-get install -y slurm-wlm munge). Idempotent: when the node already answers idle, it only
# says so. Stop it with scripts/slurm/stop-local-cluster.sh.
#
# The configuration is the smallest that runs real batch jobs without cgroups or a database:
# proctrack/linuxproc, task/none, select/cons_tres, jobcomp/filetxt (the finished jobs' records),
# accounting_storage/none (so no sacct), and one node with this machine's CPUs and memory.
#
# Environment:
#   SLURM_CONF         where slurm.conf goes (default /etc/slurm/slurm.conf, where the client
#                      commands look for it)
#   REPRO_SLURM_STATE  state, spool and log directory (default /var/lib/repro-slurm)
#   REPRO_SLURM_WAIT   seconds to wait for the node to be idle (default 60)
set -eu

conf=${SLURM_CONF:-/etc/slurm/slurm.conf}
state=${REPRO_SLURM_STATE:-/var/lib/repro-slurm}
wait_s=${REPRO_SLURM_WAIT:-60}

die() { echo "start-local-cluster: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (slurmd and munged need it)"
for cmd in munged slurmctld slurmd sinfo sbatch; do
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found: apt-get install -y slurm-wlm munge"
done

node_idle() {
  SLURM_CONF="$conf" sinfo -h -N -o '%T' 2>/dev/null | grep -q -E '^(idle|mixed|allocated)'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
marker='# Written by scripts/slurm/start-local-cluster.sh'

if [ -f "$conf" ] && ! head -n 1 "$conf" | grep -qF "$marker"; then
  # Someone's real cluster: use it if it answers, never overwrite its configuration.
  if node_idle; then echo "start-local-cluster: a cluster configured by $conf answers: using it"; exit 0; fi
  die "$conf was not written by this script and its controller does not answer; set SLURM_CONF to another path to start a local cluster"
fi
# Ours and running (asking sinfo only then: with no controller it waits for MessageTimeout).
if alive "$state/slurmctld.pid" && alive "$state/slurmd.pid" && node_idle; then
  echo "start-local-cluster: already running ($conf)"
  exit 0
fi

host=$(hostname -s)
cpus=$(nproc --all)
# RealMemory in MiB, with some left for the system so slurmd never reports less than configured.
mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
mem_per_cpu=$((mem_mb / cpus))

mkdir -p "$state/ctld" "$state/d" "$(dirname "$conf")"
chmod 755 "$state"

# munge: a generated key, the daemon running as the munge user.
key=/etc/munge/munge.key
if [ ! -s "$key" ]; then
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile="$key" --force
  else dd if=/dev/urandom bs=1 count=1024 of="$key" 2>/dev/null; fi
fi
chown munge:munge "$key" && chmod 400 "$key"
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  if command -v runuser >/dev/null 2>&1; then runuser -u munge -- munged --force
  else su -s /bin/sh munge -c 'munged --force'; fi
  i=0
  until munge -n 2>/dev/null | unmunge >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || die "munged did not start (see /var/log/munge/munged.log)"
    sleep 0.1
  done
fi

cat > "$conf.tmp.$$" <<CONF
$marker: a one-node cluster on $host.
ClusterName=repro-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$mem_per_cpu
SchedulerType=sched/backfill
# Refuse at submission what the partition can never run (Slurm's own message), instead of a job
# pending forever with Reason=PartitionConfig.
EnforcePartLimits=ALL
JobCompType=jobcomp/filetxt
JobCompLoc=$state/jobcomp.txt
AccountingStorageType=accounting_storage/none
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ReturnToService=2
# Finished jobs stay visible to squeue/scontrol for 10 minutes.
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
mv "$conf.tmp.$$" "$conf"
# Debian's slurmd reads cgroup.conf only with cgroup plugins; none are configured here.

export SLURM_CONF="$conf"
if alive "$state/slurmctld.pid"; then
  scontrol reconfigure >/dev/null 2>&1 || true
else
  slurmctld -f "$conf"
fi
alive "$state/slurmd.pid" || slurmd -f "$conf"

i=0
until node_idle; do
  i=$((i + 1))
  if [ $i -ge $((wait_s * 5)) ]; then
    echo "start-local-cluster: the node is not idle after ${wait_s}s:" >&2
    sinfo -N -l >&2 || true
    tail -n 20 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
    exit 1
  fi
  # A node that was down in an earlier life of the cluster comes back on its own with
  # ReturnToService=2 once slurmd registers; say resume in case it was drained by hand.
  [ $((i % 25)) -eq 0 ] && scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
  sleep 0.2
done
echo "start-local-cluster: node $host idle with $cpus CPUs, ${mem_mb} MiB ($conf, state in $state)"
