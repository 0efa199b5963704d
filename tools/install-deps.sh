#!/usr/bin/env bash
# Installs everything sca needs to build and test, from Debian's packages
# (plus safetensors from PyPI for the PyTorch checkpoint check). Used by the
# README, CI and the Dockerfile alike, so they cannot drift.
#   tools/install-deps.sh          build + test dependencies
#   tools/install-deps.sh --build  build dependencies only (runtime images)
set -euo pipefail
want_tests=1
[[ "${1:-}" == "--build" ]] && want_tests=0
sudo_=""
[[ $(id -u) -ne 0 ]] && sudo_="sudo"
export DEBIAN_FRONTEND=noninteractive
build_pkgs=(build-essential cmake libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev catch2)
test_pkgs=(python3 python3-numpy python3-yaml python3-torch python3-pip python3-matplotlib chromium)
missing=()
for p in "${build_pkgs[@]}" $([[ $want_tests == 1 ]] && echo "${test_pkgs[@]}"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  $sudo_ apt-get update -qq
  $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ $want_tests == 1 ]] && ! /usr/bin/python3 -c "import safetensors" 2>/dev/null; then
  $sudo_ /usr/bin/python3 -m pip install -q --break-system-packages safetensors
fi
echo "install-deps: done"
