#!/usr/bin/env bash
# The whole test suite: builds, then runs every test through ctest. GPU tests
# report as skipped where no GPU is present.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh "$@"
ctest --test-dir build --output-on-failure -j"$(nproc)"
