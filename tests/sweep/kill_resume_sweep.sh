#!/usr/bin/env bash
# sca sweep killed with SIGKILL in the middle, then rerun: every run finishes,
# no finished run is redone (its marker is byte-identical), and the rerun
# trains exactly the runs that had no marker.
#   kill_resume_sweep.sh SCA_BINARY SOURCE_DIR
set -euo pipefail
sca=$1 src=$2
work=$(mktemp -d /tmp/sca-sweep-kill.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/sweep.yaml" <<YAML
base: $src/experiments/isolated.yaml
axes:
  - schedule.keyframes.3.anchor: [0.1, 0.12]
  - seed: 0..11
YAML
total=24
"$sca" sweep "$work/sweep.yaml" --out "$work/out" --jobs 2 -q &
pid=$!
# Kill once a few runs are finished, while others are in flight.
for _ in $(seq 1 3000); do
  n=$( (find "$work/out/runs" -name sweep_done.json 2>/dev/null || true) | wc -l)
  (( n >= 4 )) && break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
before=$(cd "$work/out/runs" && find . -name sweep_done.json | sort | xargs -r sha256sum)
finished=$(printf '%s' "$before" | grep -c sweep_done || true)
echo "killed with $finished of $total runs finished"
(( finished >= 4 && finished < total )) || { echo "FAIL: expected the kill mid-sweep ($finished finished)"; exit 1; }
"$sca" sweep "$work/sweep.yaml" --out "$work/out" --jobs 2 2> "$work/rerun.log"
cat "$work/rerun.log" | tail -2
grep -q "^$((total - finished)) trained, $finished finished before, 0 failed" "$work/rerun.log" ||
  { echo "FAIL: the rerun should train $((total - finished)) and skip $finished"; exit 1; }
after=$(cd "$work/out/runs" && find . -name sweep_done.json | sort | xargs -r sha256sum)
while read -r line; do
  grep -qxF "$line" <<< "$after" || { echo "FAIL: a finished run was redone: $line"; exit 1; }
done <<< "$before"
(( $(wc -l <<< "$after") == total )) || { echo "FAIL: not every run finished"; exit 1; }
"$sca" collect "$work/out" --require-all
echo "PASS"
