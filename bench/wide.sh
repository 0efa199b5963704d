#!/usr/bin/env bash
# sca against PyTorch on experiments/wide.yaml's model, same machine, same
# threads, same BLAS (Debian's python3-torch calls libblas.so.3, which
# libopenblas0-pthread provides; the script checks). Writes synthetic data
# with tools/wide-data.py if the config's files are missing.
#   bench/wide.sh BUILD_DIR [THREADS] [STEPS]
# Prints both benchmarks' output, then the ratios (>1: sca faster).
set -euo pipefail
build=${1:?usage: bench/wide.sh BUILD_DIR [THREADS] [STEPS]}
threads=${2:-2}
steps=${3:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $root/experiments/data/wide/inputs.npy ]] || /usr/bin/python3 "$root/tools/wide-data.py" > /dev/null
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
maps=$(/usr/bin/python3 -c "import torch; torch.ones(2, 2) @ torch.ones(2, 2); print(open('/proc/self/maps').read())")
torch_blas=$(grep -o '[^ /]*blas[^ /]*\.so[^ ]*' <<<"$maps" | head -n 1 || true)
echo "PyTorch's BLAS: ${torch_blas:-unknown}"
[[ $torch_blas == *openblas* ]] || echo "warning: PyTorch does not call OpenBLAS here: the comparison is not like for like" >&2
sca_out=$("$build/bench/sca_bench_wide" "$root/experiments/wide.yaml" "$steps")
torch_out=$(/usr/bin/python3 "$root/bench/pytorch_wide.py" --steps "$steps" --threads "$threads")
echo "$sca_out" | grep -v '^[a-z_]* [0-9.]*$'
echo "$torch_out" | grep -v '^[a-z_]* [0-9.]*$'
value() { echo "$1" | awk -v k="$2" '$1 == k {print $2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "threads $threads: PyTorch / sca per step: wall (min) $(ratio "$(value "$torch_out" torch_step_ms_min)" "$(value "$sca_out" step_ms_min)")," \
     "CPU time (min) $(ratio "$(value "$torch_out" torch_step_cpu_ms_min)" "$(value "$sca_out" step_cpu_ms_min)");" \
     "sca step / its GEMMs: wall $(ratio "$(value "$sca_out" step_ms_min)" "$(value "$sca_out" gemm_ms_min)")," \
     "CPU $(ratio "$(value "$sca_out" step_cpu_ms_min)" "$(value "$sca_out" gemm_cpu_ms_min)")"
