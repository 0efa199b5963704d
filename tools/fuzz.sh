#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs
# each for a bounded time from a seed corpus of the project's own files.
#   tools/fuzz.sh                 every target, FUZZ_SECONDS (default 60) each
#   tools/fuzz.sh safetensors     one target (experiment, override, dopesheet, safetensors, ...)
#   FUZZ_SECONDS=600 FUZZ_SEED=$RANDOM tools/fuzz.sh   (a longer, different exploration)
# Inputs that once crashed live in fuzz/regressions/<target>/ and are replayed
# first. A crash, hang (FUZZ_TIMEOUT s per input), leak, sanitizer report or
# allocation over FUZZ_MALLOC_MB fails the script; the input is saved under
# build-fuzz/artifacts/<target>/ (copy it to fuzz/regressions/ with the fix).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-60}
timeout_s=${FUZZ_TIMEOUT:-10}
malloc_mb=${FUZZ_MALLOC_MB:-1024}
build=${FUZZ_BUILD_DIR:-build-fuzz}
CXX=${FUZZ_CXX:-clang++-14} cmake -S fuzz -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

# Seeds: the project's own files for each reader.
seed_files() {
  case "$1" in
    experiment) ls experiments/*.yaml ;;
    override) ls fuzz/seeds/override/* ;;
    dopesheet) ls experiments/dopesheets/*.csv fuzz/seeds/dopesheet/* ;;
    safetensors) ls tests/fixtures/*.safetensors ;;
    sweep) ls experiments/sweeps/*.yaml sweeps/*.yaml 2>/dev/null || true ;;
  esac
}

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$build"/fuzz_*; do [[ -x $f && -f $f ]] && targets+=("${f##*/fuzz_}"); done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  bin=$build/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz: no target fuzz_$t" >&2; failed+=("$t"); continue; }
  corpus=$build/corpus/$t artifacts=$build/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  while read -r f; do [[ -n $f ]] && cp "$f" "$corpus/seed-$(basename "$f")"; done < <(seed_files "$t")
  # A fixed seed (FUZZ_SEED, default 1) makes a run from the same corpus explore
  # the same inputs in the same order: CI repeats what was checked before it.
  opts=(-timeout="$timeout_s" -malloc_limit_mb="$malloc_mb" -rss_limit_mb=2048 -artifact_prefix="$artifacts/"
        -seed="${FUZZ_SEED:-1}")
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    echo "== fuzz_$t: replaying fuzz/regressions/$t"
    if ! "$bin" "${opts[@]}" fuzz/regressions/"$t"/* >"$build/$t.replay.log" 2>&1; then
      tail -40 "$build/$t.replay.log"; failed+=("$t (regression)"); continue
    fi
  fi
  echo "== fuzz_$t: ${seconds}s from $(ls "$corpus" | wc -l) inputs"
  start=$SECONDS
  if "$bin" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 "$corpus" >"$build/$t.log" 2>&1; then
    echo "   ok: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/$t.log" | grep -o '[0-9]*$') runs," \
         "corpus $(ls "$corpus" | wc -l), $((SECONDS - start))s"
  else
    tail -60 "$build/$t.log"
    echo "   FAILED: input saved in $artifacts/ (log: $build/$t.log)"
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean (${seconds}s each)"
