#!/usr/bin/env bash
# The GPU suite on the CUDA emulator under ThreadSanitizer (docs/cuda.md):
# each CUDA thread is a std::thread and each barrier or shuffle a
# synchronization, so two threads touching the same shared memory between
# the same pair of barriers is a reported data race. Builds build-emu-tsan/
# (Release, -fsanitize=thread) and runs the tests labelled `emulated`.
#   tools/sanitize-threads.sh
#   TSAN_BUILD_DIR=dir tools/sanitize-threads.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TSAN_BUILD_DIR:-build-emu-tsan}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSCA_CUDA_EMU=ON -DSCA_TSAN=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target sca_gpu_tests
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
ctest --test-dir "$build" -L '^emulated$' --output-on-failure -j"$(nproc)" --timeout 1200
