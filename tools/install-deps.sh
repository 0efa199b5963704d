#!/usr/bin/env bash
# Installs everything sca needs to build and test, from Debian's packages
# (plus safetensors from PyPI for the PyTorch checkpoint check), and the
# `sca` Python package from python/ (its torch, numpy and PyYAML come from
# Debian, so pip installs it offline: no build isolation, no dependencies). clang-14
# and libclang-rt-14-dev build the libFuzzer targets (tools/fuzz.sh); llvm-14
# symbolizes sanitizer reports. libopenblas-pthread-dev is the BLAS of the
# wide layers (CMakeLists.txt links its pthreads build by path). Used by the
# README, CI and the Dockerfile alike, so they cannot drift.
#   tools/install-deps.sh          build + test dependencies
#   tools/install-deps.sh --build  build dependencies only (runtime images)
#   tools/install-deps.sh --cluster-tests  also Slurm, munge, podman, runc and
#       debootstrap for the Slurm and container tests (CI)
set -euo pipefail
want_tests=1 want_cluster=0
for arg in "$@"; do
  case "$arg" in
    --build) want_tests=0 ;;
    --cluster-tests) want_cluster=1 ;;
  esac
done
sudo_=""
[[ $(id -u) -ne 0 ]] && sudo_="sudo"
export DEBIAN_FRONTEND=noninteractive
build_pkgs=(build-essential cmake libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev catch2 libboost-dev libopenblas-dev libopenblas-pthread-dev)
test_pkgs=(python3 python3-numpy python3-yaml python3-torch python3-pip python3-setuptools clang-14 libclang-rt-14-dev llvm-14 python3-matplotlib python3-sklearn chromium)
cluster_pkgs=(slurmctld slurmd slurm-client munge podman runc debootstrap)
missing=()
for p in "${build_pkgs[@]}" $([[ $want_tests == 1 ]] && echo "${test_pkgs[@]}") $([[ $want_cluster == 1 ]] && echo "${cluster_pkgs[@]}"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  $sudo_ apt-get update -qq
  $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ $want_tests == 1 ]] && ! /usr/bin/python3 -c "import safetensors" 2>/dev/null; then
  $sudo_ /usr/bin/python3 -m pip install -q --break-system-packages safetensors
fi
if [[ $want_tests == 1 ]]; then
  $sudo_ /usr/bin/python3 -m pip install -q --break-system-packages --root-user-action=ignore --no-deps --no-build-isolation \
    "$(cd "$(dirname "$0")/.." && pwd)/python"
fi
echo "install-deps: done"
