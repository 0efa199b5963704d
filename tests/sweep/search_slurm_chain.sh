#!/usr/bin/env bash
# `sca search --slurm --submit` end to end against a stand-in sbatch that runs
# each script at once (array tasks one by one, with SLURM_ARRAY_TASK_ID):
# every rung's array script and advance script is executed as written, the
# advance job submits the next rung, and the chain finishes the search with
# the result a local `sca search` gives. (tests/slurm runs plain sweeps under
# a real Slurm; this checks the search's scripts and their chaining.)
#   search_slurm_chain.sh SCA_BINARY SOURCE_DIR
set -euo pipefail
sca=$(realpath "$1") src=$(realpath "$2")
work=$(mktemp -d /tmp/sca-search-slurm.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/configs.yaml" <<YAML
base: $src/experiments/isolated.yaml
set: {schedule.keyframes.5.step: 300, schedule.keyframes.3.step: 150}
axes:
  - sample:
      count: 6
      seed: 2
      keys:
        schedule.keyframes.3.anchor: {log-uniform: [0.02, 0.5]}
slurm: {shards: 3, time: "00:05:00"}
YAML
printf 'sweep: configs.yaml\nseeds: 2\ngrow: 2\nkeep: 0.34\nrungs: 3\n' > "$work/search.yaml"
cat > "$work/sbatch" <<'SH'
#!/usr/bin/env bash
# A stand-in for `sbatch --parsable [--dependency=...] SCRIPT`: runs SCRIPT now.
set -euo pipefail
script=${*: -1}
bash -n "$script"
n=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\)$/\1/p' "$script")
echo "submitted $(basename "$script") ${*:1:$#-1}" >> "$SBATCH_LOG"
if [[ -n $n ]]; then
  for i in $(seq 0 "$n"); do SLURM_ARRAY_TASK_ID=$i bash "$script" >> "$SBATCH_LOG" 2>&1; done
else
  bash "$script" >> "$SBATCH_LOG" 2>&1
fi
echo "$((RANDOM + 1000))"
SH
chmod +x "$work/sbatch"
export SCA_SBATCH="$work/sbatch" SBATCH_LOG="$work/sbatch.log"
"$sca" search "$work/search.yaml" --out "$work/out" --slurm --submit > "$work/submit.txt"
grep "^submitted" "$work/sbatch.log"
for r in 0 1 2; do
  grep -q "^submitted rung-$r.sbatch" "$work/sbatch.log" || { echo "FAIL: rung $r was not submitted"; cat "$work/sbatch.log"; exit 1; }
  grep -q "^submitted advance-$r.sbatch .*--dependency=afterany:" "$work/sbatch.log" || { echo "FAIL: no advance job after rung $r"; exit 1; }
  grep -q "^#SBATCH --array=0-" "$work/out/slurm/rung-$r.sbatch" || { echo "FAIL: rung $r is not an array"; exit 1; }
done
(( $(grep -c "^submitted" "$work/sbatch.log") == 6 )) || { echo "FAIL: expected 6 submissions"; exit 1; }
"$sca" search "$work/search.yaml" --out "$work/local" --jobs 2 -q > "$work/local.txt"
"$sca" search "$work/search.yaml" --out "$work/out" --slurm > "$work/final.txt"   # finished: prints the result
strip() { sed 's/ ([0-9]* trained now)//' "$1"; }
cmp <(strip "$work/local.txt") <(strip "$work/final.txt") || { echo "FAIL: the chained search found another result"; diff <(strip "$work/local.txt") <(strip "$work/final.txt"); exit 1; }
grep -q '"finished": true' "$work/out/search.json" || { echo "FAIL: search.json does not say finished"; exit 1; }
grep "search finished" "$work/final.txt"
echo "PASS"
