#!/usr/bin/env bash
# The one script a session with a lent GPU runs (issue 4), < 8 min on an H100:
# configure + build Release for sm_90, run every test (GPU ones included),
# compute-sanitizer memcheck and racecheck on a short training run, the GPU
# benchmarks (with the cuBLAS path's wide model, 768-1024-1024-16 at
# B = 1024) and the PyTorch baseline; results (JSON with GPU name, driver,
# commit) go to OUTDIR. Commit them under bench/results/.
#   tools/device-check.sh OUTDIR [extra cmake args]
set -uo pipefail
out=${1:?usage: tools/device-check.sh OUTDIR}
shift
cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=build-device
jobs=$(nproc)
status=0
step() { echo "== $*" | tee -a "$out/device-check.log"; }
run() {  # run NAME CMD...: log to OUTDIR/NAME.log, record the exit code
  local name=$1; shift
  local t0=$(date +%s%N)
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  local t1=$(date +%s%N)
  echo "{\"step\": \"$name\", \"rc\": $rc, \"ms\": $(( (t1 - t0) / 1000000 ))}" >>"$out/steps.jsonl"
  [[ $rc -ne 0 ]] && { echo "   $name failed (rc $rc), see $out/$name.log" | tee -a "$out/device-check.log"; status=1; }
  return $rc
}
: >"$out/steps.jsonl"
export PATH=/usr/local/cuda/bin:$PATH
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)

step "configure + build ($build, Release, sm_90)"
run configure cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release -DSCA_CUDA=ON -DSCA_CUDA_ARCH=90 "$@" || exit 1
run build cmake --build $build -j"$jobs" || exit 1

step "tests (CPU and GPU)"
run ctest ctest --test-dir $build --output-on-failure -j"$jobs" --timeout 600 \
  --output-junit "$out/ctest-junit.xml"
# The GPU suite once more in one process, for its printed tolerance usage.
run gpu-tests $build/tests/gpu/sca_gpu_tests --durations yes

step "compute-sanitizer memcheck and racecheck on a short training run"
run memcheck "$sanitizer" --tool memcheck --error-exitcode 1 $build/tests/gpu/sca_gpu_tests "[sanitize]"
run memcheck-wide "$sanitizer" --tool memcheck --error-exitcode 1 $build/tests/gpu/sca_gpu_tests "[wide][training]"
run racecheck "$sanitizer" --tool racecheck --racecheck-report all --error-exitcode 1 \
  $build/tests/gpu/sca_gpu_tests "[sanitize]"
run synccheck "$sanitizer" --tool synccheck --error-exitcode 1 $build/tests/gpu/sca_gpu_tests "[sanitize]"

step "benchmarks"
run bench-gpu $build/bench/sca_bench_gpu "$out/bench_gpu.json" 4096
run bench-cpu $build/bench/sca_bench_cpu experiments/isolated.yaml 5
if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  run pytorch-eager timeout 240 python3 bench/pytorch_baseline.py --runs 2 --json "$out/pytorch_eager.json"
else
  echo "   PyTorch with CUDA not available: no baseline" | tee -a "$out/device-check.log"
fi

step "results"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
python3 - "$out" "$gpu" "$driver" "$(git rev-parse HEAD)" "$status" <<'PY'
import json, sys, os, datetime
out, gpu, driver, commit, status = sys.argv[1:6]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None
steps = [json.loads(l) for l in open(os.path.join(out, "steps.jsonl")) if l.strip()]
result = {"gpu": gpu, "driver": driver, "commit": commit, "date": datetime.datetime.utcnow().isoformat() + "Z",
          "passed": status == "0", "steps": steps, "bench_gpu": load("bench_gpu.json"),
          "pytorch_eager": load("pytorch_eager.json")}
b, p = result["bench_gpu"], result["pytorch_eager"]
if b and p:
    result["speedup_single_run_vs_pytorch"] = p["median_s"] * 1e3 / b["single_run"]["gpu_ms"]
    m = max(b["many_models"], key=lambda r: r["models"])
    result["speedup_per_model_vs_pytorch"] = p["median_s"] * 1e3 / m["ms_per_model"]
if b and b.get("wide"):
    result["wide_ms_per_step"] = {str(r["models"]) + " models": r["ms_per_step"] for r in b["wide"]}
json.dump(result, open(os.path.join(out, "results.json"), "w"), indent=2)
print(json.dumps({k: v for k, v in result.items() if k not in ("steps",)}, indent=2)[:4000])
PY
echo "device-check: $([[ $status == 0 ]] && echo passed || echo FAILED); results in $out/results.json"
exit $status
