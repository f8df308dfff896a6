#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine (slurmctld + slurmd on localhost), for the
# nightly lane's `--executor slurm` test. Debian's slurm-wlm and munge; needs root.
#
#   bash scripts/slurm-single-node.sh          # install if needed, configure, start; wait for it
#   bash scripts/slurm-single-node.sh stop     # stop the daemons
#
# Idempotent: a running cluster is left alone. Exits 0 once `sinfo` shows the node idle.
set -euo pipefail

if [ "${1:-}" = "stop" ]; then
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  pkill -x munged 2>/dev/null || true
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "slurm-single-node: needs root (it installs packages and starts daemons)" >&2
  exit 2
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge >/dev/null
fi

node=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
state=/var/lib/holopipe-slurm
mkdir -p "$state/ctld" "$state/d" /var/log/slurm /run/munge /etc/slurm

# munge: one key shared by the controller and the node (both are this machine).
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

cat > /etc/slurm/slurm.conf <<CONF
# Written by holopipe's scripts/slurm-single-node.sh: one node, localhost.
ClusterName=holopipe
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=${state}/ctld
SlurmdSpoolDir=${state}/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MaxArraySize=10001
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP
CONF
: > /etc/slurm/cgroup.conf

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

for _ in $(seq 1 60); do
  if sinfo -h -o '%t' 2>/dev/null | grep -q -E '^(idle|mix|alloc)'; then
    echo "slurm-single-node: node ${node} up ($(sinfo -h -o '%P %t %c CPUs'))"
    exit 0
  fi
  scontrol update nodename="${node}" state=resume >/dev/null 2>&1 || true
  sleep 1
done
echo "slurm-single-node: the node did not come up; see /var/log/slurm/" >&2
exit 1
