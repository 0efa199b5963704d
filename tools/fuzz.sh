#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz/ and runs
# each from a fresh corpus of the project's own files.
#   tools/fuzz.sh              the gate CI runs: every target, a fixed seed and a
#                              fixed number of inputs (FUZZ_RUNS, or a per-target
#                              count of about 60 s), so the same commit explores
#                              the same inputs on every machine
#   tools/fuzz.sh safetensors  one target (experiment, override, dopesheet, safetensors, sweep, npy)
#   FUZZ_SECONDS=600 FUZZ_SEED=$RANDOM tools/fuzz.sh   exploration: time-bounded, a new seed
# Inputs that once crashed live in fuzz/regressions/<target>/ and are replayed
# first. A crash, hang (FUZZ_TIMEOUT s per input), leak, sanitizer report or
# allocation over FUZZ_MALLOC_MB fails the script; the input is saved under
# build-fuzz/artifacts/<target>/ (copy it to fuzz/regressions/ with the fix).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-}
# Inputs per target for the gate: about 60 s each on a 2-core CI machine (npy: about 40 s).
declare -A gate_runs=([experiment]=80000 [override]=40000 [sweep]=200000 [dopesheet]=600000 [safetensors]=400000 [npy]=170000)
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
    npy) ls fuzz/seeds/npy/* ;;
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
  rm -rf "$corpus"  # fresh: an accumulated corpus would explore differently from CI's
  mkdir -p "$corpus" "$artifacts"
  while read -r f; do [[ -n $f ]] && cp "$f" "$corpus/seed-$(basename "$f")"; done < <(seed_files "$t")
  # A fixed seed (FUZZ_SEED, default 1), a fresh corpus and a count of inputs
  # make the gate deterministic: CI repeats exactly what was checked before it.
  opts=(-timeout="$timeout_s" -malloc_limit_mb="$malloc_mb" -rss_limit_mb=2048 -artifact_prefix="$artifacts/"
        -seed="${FUZZ_SEED:-1}")
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    echo "== fuzz_$t: replaying fuzz/regressions/$t"
    if ! "$bin" "${opts[@]}" fuzz/regressions/"$t"/* >"$build/$t.replay.log" 2>&1; then
      tail -40 "$build/$t.replay.log"; failed+=("$t (regression)"); continue
    fi
  fi
  # Determinism also needs fixed addresses (pointer comparisons feed the
  # mutator), a fixed environment and no timed re-reads of the corpus directory.
  launch=()
  if [[ -n $seconds ]]; then
    bound=(-max_total_time="$seconds"); what="${seconds}s"
  else
    runs=${FUZZ_RUNS:-${gate_runs[$t]:-50000}}
    bound=(-runs="$runs" -max_total_time=600 -reload=0); what="$runs inputs"
    setarch "$(uname -m)" -R true 2>/dev/null && launch=(setarch "$(uname -m)" -R)
    # A fixed environment: its size moves the stack, and stack addresses reach
    # the mutator through pointer comparisons (std::string's SSO check).
    launch=(env -i PATH=/usr/bin:/bin ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" "${launch[@]}")
  fi
  echo "== fuzz_$t: $what from $(ls "$corpus" | wc -l) seeds, seed ${FUZZ_SEED:-1}"
  start=$SECONDS
  if "${launch[@]}" "$bin" "${opts[@]}" "${bound[@]}" -print_final_stats=1 "$corpus" >"$build/$t.log" 2>&1; then
    echo "   ok in $((SECONDS - start))s: $(grep -E '^#[0-9]+.*cov:' "$build/$t.log" | tail -1 | sed -E 's/^#([0-9]+)[A-Z \t]*/\1 runs, /; s/ *lim:.*//')"
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
echo "fuzz: ${#targets[@]} targets clean"
