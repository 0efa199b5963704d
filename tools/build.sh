#!/usr/bin/env bash
# Configures and builds sca into build/ (Release). Extra arguments go to cmake,
# e.g. tools/build.sh -DSCA_CUDA=OFF or -DSCA_CUDA_ARCH=80.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
