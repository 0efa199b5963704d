#!/usr/bin/env bash
# Kill-and-resume (issue 7): trains with frequent checkpoints, SIGKILLs the
# trainer at random moments, resumes, and demands that
#   - after every kill, each output file that exists is complete and valid,
#     and none that existed before has disappeared;
#   - every chain of kills ends bit-identical (weights, Adam state, logs) to
#     an uninterrupted run.
#   kill_resume.sh SCA_BINARY SOURCE_DIR [KILLS (24)] [STEPS (12000)] [SEED]
set -euo pipefail
sca=$1 src=$2 kills=${3:-24} steps=${4:-12000}
RANDOM=${5:-$$}
work=$(mktemp -d "${TMPDIR:-/tmp}/sca kill resume.XXXXXX")  # a space in the path on purpose
trap 'rm -rf "$work"' EXIT
check="$src/tests/scripts/check_run_files.py"
overrides=(seed=4 "schedule.keyframes.2.step=$((steps / 2))" "schedule.keyframes.4.step=$steps" checkpoint.every=250)
train() { "$sca" train "$src/experiments/anchored.yaml" "${overrides[@]}" --backend cpu --no-eval -q "$@"; }

start=$(date +%s%N)
train --out "$work/whole"
ms=$((($(date +%s%N) - start) / 1000000))
echo "uninterrupted run: ${ms} ms for $((steps + 1)) steps"
chains=4 per_chain=$(((kills + 3) / 4)) total_kills=0 landed=0
for ((c = 0; c < chains; c++)); do
  dir="$work/chain $c"
  existed=()
  for ((k = 0; k < per_chain; k++)); do
    # Fresh start for the first trial, a resume after; killed at a random
    # moment, on average half of 1/per_chain of an uninterrupted run in (so most
    # kills land before the chain has finished).
    # exec: $! must be sca itself, not a subshell whose child would outlive the kill.
    # A kill before config.yaml was written leaves nothing to resume: start again.
    if ((k == 0)) || [[ ! -e $dir/config.yaml ]]; then (exec "$sca" train "$src/experiments/anchored.yaml" "${overrides[@]}" --backend cpu --no-eval -q --out "$dir") &
    else "$sca" train --resume "$dir" --no-eval -q & fi
    pid=$!
    delay=$((RANDOM % (ms / per_chain + 20)))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    ((rc == 137)) && landed=$((landed + 1))
    ((rc == 0 || rc == 137)) || { echo "FAIL: chain $c, trial $k: sca exited $rc"; exit 1; }
    total_kills=$((total_kills + 1))
    if [[ -d $dir ]]; then
      python3 "$check" "$dir" "${existed[@]}" || { echo "FAIL: chain $c, kill $k after ${delay} ms left a bad file"; exit 1; }
      existed=()
      for f in config.yaml model.safetensors optimizer.safetensors train_log.csv validation.json; do
        [[ -e $dir/$f ]] && existed+=("$f")
      done
    fi
  done
  # Finish: resume (or start, if no kill left a config behind).
  if [[ -e $dir/config.yaml ]]; then "$sca" train --resume "$dir" --no-eval -q; else train --out "$dir"; fi
  for f in model.safetensors optimizer.safetensors train_log.csv validation.json config.yaml; do
    cmp -s "$work/whole/$f" "$dir/$f" || { echo "FAIL: chain $c: $f differs from the uninterrupted run's"; exit 1; }
  done
  leftovers=$(find "$dir" -name '*.tmp.*' -o -name '*.sca-tmp.*' | wc -l)
  ((leftovers == 0)) || { echo "FAIL: chain $c left $leftovers temporary files"; exit 1; }
done
echo "kill-resume: $total_kills kills ($landed landed mid-run) in $chains chains; every chain ended bit-identical"
((landed >= kills / 2)) || { echo "FAIL: only $landed of $total_kills kills landed mid-run: the run is too short"; exit 1; }
