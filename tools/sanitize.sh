#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UBSan: the CPU path and the
# GPU suite on the CUDA emulator (SCA_CUDA_EMU, docs/cuda.md) built into
# build-harden/ (Release + -fsanitize=address,undefined, any report aborts
# the test that hit it).
#   tools/sanitize.sh              build and run every test
#   SANITIZE_BUILD_DIR=dir tools/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SANITIZE_BUILD_DIR:-build-harden}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSCA_CUDA=OFF -DSCA_CUDA_EMU=ON -DSCA_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
