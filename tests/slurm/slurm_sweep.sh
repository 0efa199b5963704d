#!/usr/bin/env bash
# A real single-node Slurm on localhost (munged, slurmctld, slurmd started by
# hand, no systemd), a 4-shard job array of a small sweep submitted with
# `sca sweep --slurm --submit`, the collect job after it; then a resubmission
# that must skip every finished run. Needs root and Debian's slurmctld, slurmd,
# slurm-client and munge (tools/install-deps.sh --cluster-tests).
#   slurm_sweep.sh SCA_BINARY SOURCE_DIR
# Exit 77 (skipped) where those are missing, except under CI=true, where that fails.
set -euo pipefail
sca=$(readlink -f "$1") src=$(readlink -f "$2")
missing=()
for b in munged slurmctld slurmd sbatch squeue sinfo; do command -v "$b" >/dev/null || missing+=("$b"); done
if ((${#missing[@]})) || [[ $(id -u) -ne 0 ]]; then
  why="needs root and ${missing[*]:-nothing missing} (install with tools/install-deps.sh --cluster-tests)"
  if [[ "${CI:-}" == "true" ]]; then echo "FAIL: the Slurm test cannot run in CI: $why"; exit 1; fi
  echo "SKIPPED: $why"; exit 77
fi

work=$(mktemp -d /tmp/sca-slurm.XXXXXX)
chmod 755 "$work"
started=()
cleanup() {
  for pidfile in "${started[@]}"; do
    [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  if [[ "${KEEP:-}" != 1 ]]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/slurmctld.log "$work"/slurmd.log "$work"/out/slurm/*.out; do
    [[ -f "$f" ]] && { echo "---- $f"; tail -n 30 "$f"; }
  done
  exit 1
}

# munge: its own socket folder, started as the munge user unless one already answers.
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  [[ -f /etc/munge/munge.key ]] || { mungekey --create 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null; }
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge; chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 755 /run/munge
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/sca-test-munged.pid
  started+=(/run/munge/sca-test-munged.pid)
  for _ in $(seq 1 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi
munge -n </dev/null | unmunge >/dev/null || fail "munged does not answer"

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=scatest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1 State=UNKNOWN
PartitionName=sca Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -c -f "$SLURM_CONF"; started+=("$work/slurmctld.pid")
slurmd -f "$SLURM_CONF"; started+=("$work/slurmd.pid")
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -n1 || true)
  [[ "$state" == idle ]] && break
  sleep 0.5
done
[[ "$state" == idle ]] || fail "the node never became idle (state '$state')"
echo "slurm up: node $host ($cpus CPUs) idle"

cat > "$work/sweep.yaml" <<YAML
base: $src/experiments/isolated.yaml
axes:
  - schedule.keyframes.3.anchor: [0.1, 0.12]
  - seed: 0..5
slurm: {shards: 4, time: "00:05:00", cpus: 1, options: [--mem=0]}
YAML
runs=12

wait_jobs() {  # until the queue is empty (or 300 s)
  for _ in $(seq 1 600); do
    [[ -z "$(squeue -h -o %i 2>/dev/null)" ]] && return 0
    sleep 0.5
  done
  fail "jobs still queued after 300 s: $(squeue 2>&1)"
}

out="$work/out"
"$sca" sweep "$work/sweep.yaml" --out "$out" --slurm --submit --partition sca > "$work/submit.txt" || fail "submit failed: $(cat "$work/submit.txt")"
cat "$work/submit.txt"
grep -q "^#SBATCH --array=0-3$" "$out/slurm/sweep.sbatch" || fail "the array script has no --array=0-3"
wait_jobs
tasks=$(ls "$out"/slurm/*_[0-3].out 2>/dev/null | wc -l)
(( tasks == 4 )) || fail "expected 4 array task logs, found $tasks"
collect_log=$(ls "$out"/slurm/*-collect-*.out | head -n1)
grep -q "^$runs of $runs runs finished" "$collect_log" || fail "collect did not see every run: $(cat "$collect_log")"
(( $(wc -l < "$out/results.csv") == runs + 1 )) || fail "results.csv should have $runs rows"
(( $(grep -c ',finished,' "$out/results.csv") == runs )) || fail "not every row is finished"
cat "$collect_log"
before=$(cd "$out/runs" && find . -name sweep_done.json | sort | xargs sha256sum)

# Resubmit: every array task finds its runs finished and trains nothing.
rm -f "$out"/slurm/*.out
"$sca" sweep "$work/sweep.yaml" --out "$out" --slurm --submit --partition sca > /dev/null || fail "second submit failed"
wait_jobs
for log in "$out"/slurm/*_[0-3].out; do
  grep -q "^0 trained, 3 finished before, 0 failed" "$log" || fail "$log: a rerun should skip its 3 finished runs: $(tail -n 3 "$log")"
done
after=$(cd "$out/runs" && find . -name sweep_done.json | sort | xargs sha256sum)
[[ "$before" == "$after" ]] || fail "a finished run was redone"
grep -q "^$runs of $runs runs finished" "$out"/slurm/*-collect-*.out || fail "the second collect"
echo "PASS: 4-task array, $runs runs collected, the resubmission skipped all of them"
