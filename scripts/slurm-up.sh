#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the `pf sweep --slurm` tests (Debian's
# slurmctld, slurmd, slurm-client and munge; as root; no systemd needed). Idempotent: when the
# node already answers `sinfo` as idle it does nothing.
#
#   scripts/slurm-up.sh          install if needed, configure, start; prints the node line
#   scripts/slurm-up.sh down     stop the daemons it started (by their pid files)
#
# State, spool, pid and log files live under $PFLOW_SLURM_DIR (default /tmp/pflow-slurm).
set -euo pipefail

dir="${PFLOW_SLURM_DIR:-/tmp/pflow-slurm}"
conf=/etc/slurm/slurm.conf

say() { printf 'slurm-up: %s\n' "$*" >&2; }

stop() {
  for d in slurmd slurmctld; do
    if [[ -s "$dir/$d.pid" ]] && kill -0 "$(cat "$dir/$d.pid")" 2>/dev/null; then
      kill "$(cat "$dir/$d.pid")" && say "stopped $d"
    fi
  done
}

if [[ "${1:-}" == "down" ]]; then
  stop
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  say "must run as root (installs packages, starts slurmctld/slurmd)"
  exit 1
fi

# up already?
if command -v sinfo >/dev/null && sinfo -h -o '%T' 2>/dev/null | grep -qxE 'idle|mixed|allocated|completing'; then
  say "already up: $(sinfo -h -N -o '%N %c CPUs %T')"
  exit 0
fi

# 1. packages (~3.5 MB, no daemons started by their install scripts)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
  || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

# 2. munge
mkdir -p /run/munge
chown munge:munge /run/munge
chmod 0755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
  /usr/sbin/mungekey --create --force 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n | unmunge >/dev/null || { say "munged does not answer"; exit 1; }

# 3. slurm.conf: one node (this machine, as slurmd -C sees it), one default partition
stop
mkdir -p "$dir/state" "$dir/spool"
host="$(hostname -s)"
node="$(slurmd -C | head -n1)"
cpus="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")"
mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
node="$(sed -E "s/RealMemory=[0-9]+/RealMemory=$mem_mb/" <<<"$node")"
mkdir -p /etc/slurm
cat >"$conf" <<EOF
# single-node Slurm for pflow's tests (written by scripts/slurm-up.sh)
ClusterName=pflow
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=4
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
$node
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# 4. daemons (they daemonise and write their pid files)
slurmctld
slurmd
for _ in $(seq 100); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
    say "up: $(sinfo -h -N -o '%N %c CPUs %T') (conf $conf, logs $dir)"
    exit 0
  fi
  sleep 0.2
done
say "the node did not become idle in 20 s; see $dir/slurmctld.log and $dir/slurmd.log"
sinfo -N -l >&2 || true
exit 1
