#!/usr/bin/env bash
# The cluster checks of issue 5 (docs/sweeps.md), run by CI after tools/test.sh:
#   slurm      a real single-node Slurm on localhost runs a sweep as a job array
#   container  the Dockerfile built with podman from a debootstrapped Debian 12,
#              then a training and a sweep inside the image
# They need root and tools/install-deps.sh --cluster-tests, and use build/sca
# as tools/test.sh left it (SCA_BUILD_DIR=dir for another build).
#   tools/cluster-tests.sh [slurm] [container]     (default: both)
# A check that cannot run here says SKIPPED (exit 77 of its script) outside CI;
# under CI=true it fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
checks=("$@")
((${#checks[@]})) || checks=(slurm container)
build=${SCA_BUILD_DIR:-build}
[[ -x "$build/sca" ]] || tools/build.sh
status=0
for c in "${checks[@]}"; do
  echo "== cluster check: $c"
  t0=$SECONDS
  case "$c" in
    slurm) cmd=(tests/slurm/slurm_sweep.sh "$build/sca" .) ;;
    container) cmd=(tests/docker/container_build.sh .) ;;
    *) echo "unknown check '$c' (slurm, container)"; exit 2 ;;
  esac
  rc=0
  "${cmd[@]}" || rc=$?
  case $rc in
    0) echo "== $c: passed in $((SECONDS - t0)) s" ;;
    77) echo "== $c: SKIPPED (not run)" ;;
    *) echo "== $c: FAILED (exit $rc)"; status=1 ;;
  esac
done
exit $status
