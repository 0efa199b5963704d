#!/usr/bin/env bash
# The whole test suite: builds, then runs every test through ctest. GPU tests
# report as skipped where no GPU is present; they run on every machine in the
# emulated build (build-emu/, docs/cuda.md), which this script builds and runs
# too (label `emulated`).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh "$@"
ctest --test-dir build --output-on-failure -j"$(nproc)"
cmake -S . -B build-emu -DCMAKE_BUILD_TYPE=Release -DSCA_CUDA_EMU=ON >/dev/null
cmake --build build-emu -j"$(nproc)" --target sca_gpu_tests
ctest --test-dir build-emu -L '^emulated$' --output-on-failure -j"$(nproc)"
