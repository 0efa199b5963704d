#!/usr/bin/env bash
# sca search killed with SIGKILL mid-race, then rerun: it finishes with the
# same rankings and the same winner as a search that was never interrupted,
# and no run finished before the kill is redone (its marker is byte-identical).
#   kill_resume_search.sh SCA_BINARY SOURCE_DIR
set -euo pipefail
sca=$(realpath "$1") src=$(realpath "$2")
work=$(mktemp -d /tmp/sca-search-kill.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/configs.yaml" <<YAML
base: $src/experiments/isolated.yaml
set: {schedule.keyframes.5.step: 400, schedule.keyframes.3.step: 200}
axes:
  - sample:
      count: 8
      seed: 1
      keys:
        schedule.keyframes.3.anchor: {log-uniform: [0.02, 0.5]}
        schedule.keyframes.3.anti-subspace: {log-uniform: [0.0003, 0.03]}
YAML
cat > "$work/search.yaml" <<YAML
sweep: configs.yaml
seeds: 3
grow: 2
keep: 0.5
rungs: 3
YAML
# 8 x 3 + 4 x 3 more + 2 x 6 more = 48 runs.
"$sca" search "$work/search.yaml" --out "$work/ref" --jobs 2 -q > "$work/ref.txt"
"$sca" search "$work/search.yaml" --out "$work/out" --jobs 2 -q > /dev/null &
pid=$!
for _ in $(seq 1 3000); do
  n=$( (find "$work/out/runs" -name sweep_done.json 2>/dev/null || true) | wc -l)
  (( n >= 28 )) && break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
before=$(cd "$work/out/runs" && find . -name sweep_done.json | sort | xargs -r sha256sum)
finished=$(printf '%s' "$before" | grep -c sweep_done || true)
echo "killed with $finished of 48 runs finished"
(( finished >= 24 && finished < 48 )) || { echo "FAIL: expected the kill in rung 1 or 2 ($finished finished)"; exit 1; }
"$sca" search "$work/search.yaml" --out "$work/out" --jobs 2 -q > "$work/out.txt" 2> "$work/rerun.log"
after=$(cd "$work/out/runs" && find . -name sweep_done.json | sort | xargs -r sha256sum)
while read -r line; do
  grep -qxF "$line" <<< "$after" || { echo "FAIL: a finished run was redone: $line"; exit 1; }
done <<< "$before"
(( $(wc -l <<< "$after") == 48 )) || { echo "FAIL: expected 48 runs in all, got $(wc -l <<< "$after")"; exit 1; }
# The same rankings at every rung and the same winner (the search is a function of its runs).
for r in 0 1 2; do
  cmp "$work/ref/rung-$r/configs.csv" "$work/out/rung-$r/configs.csv" ||
    { echo "FAIL: rung $r ranks differently after the kill"; exit 1; }
done
grep "search finished" "$work/out.txt"
strip() { sed 's/ ([0-9]* trained now)//' "$1"; }
cmp <(strip "$work/ref.txt") <(strip "$work/out.txt") || { echo "FAIL: another result"; exit 1; }
echo "PASS"
