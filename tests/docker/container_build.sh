#!/usr/bin/env bash
# Builds the Dockerfile with podman from a Debian 12 base image made here
# (debootstrap from the configured apt mirror, `podman import`), then trains
# the isolated experiment and runs a small sweep inside the runtime image.
# Needs root, podman, runc and debootstrap (tools/install-deps.sh --cluster-tests).
#   container_build.sh SOURCE_DIR
# Exit 77 (skipped) where those are missing, except under CI=true, where that fails.
set -euo pipefail
src=$(readlink -f "$1")
here=$(dirname "$(readlink -f "$0")")
missing=()
for b in podman runc debootstrap; do command -v "$b" >/dev/null || missing+=("$b"); done
if ((${#missing[@]})) || [[ $(id -u) -ne 0 ]]; then
  why="needs root and ${missing[*]:-nothing missing} (install with tools/install-deps.sh --cluster-tests)"
  if [[ "${CI:-}" == "true" ]]; then echo "FAIL: the container test cannot run in CI: $why"; exit 1; fi
  echo "SKIPPED: $why"; exit 77
fi
export CONTAINERS_CONF="$here/containers.conf"
base=localhost/sca-debian:bookworm
image=localhost/sca:ci-test-$$
work=$(mktemp -d /tmp/sca-container.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The base image: Debian 12 (minbase) from the mirror apt uses here, made once per machine.
if ! podman image exists "$base"; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n "$mirror" ]] || mirror=$(awk '/^deb / && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian
  echo "debootstrap bookworm from $mirror"
  t0=$SECONDS
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log"; fail "debootstrap failed"; }
  tar -C "$work/rootfs" -c . | podman import - "$base" > /dev/null || fail "podman import failed"
  rm -rf "$work/rootfs"
  echo "base image $base made in $((SECONDS - t0)) s"
fi

t0=$SECONDS
if ! podman build --network=host --build-arg BASE_IMAGE="$base" --build-arg RUNTIME_IMAGE="$base" \
     -t "$image" -f "$src/Dockerfile" "$src" > "$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  if grep -qiE "user namespace|newuidmap|operation not permitted|storage driver" "$work/build.log"; then
    fail "podman cannot build images on this host (see the log above): the container check did NOT run"
  fi
  fail "podman build failed"
fi
echo "image built in $((SECONDS - t0)) s; runtime image $(podman image inspect --format '{{.Size}}' "$image") bytes"
# The install step either ran now or came from podman's layer cache (a machine
# that built the image before): either way the Dockerfile ran the project's script.
grep -qE "install-deps: done|RUN .*tools/install-deps\.sh" "$work/build.log" || fail "the build did not run tools/install-deps.sh"

# `docker run IMAGE train experiments/isolated.yaml`: the entrypoint is sca.
podman run --rm --network=none "$image" train experiments/isolated.yaml --out /tmp/isolated > "$work/train.log" 2>&1 ||
  { cat "$work/train.log"; fail "training in the container failed"; }
grep -q "final validation" "$work/train.log" || { cat "$work/train.log"; fail "no final validation line"; }
tail -n 4 "$work/train.log"
cat > "$work/sweep.yaml" <<YAML
base: /opt/sca/experiments/anchored.yaml
axes:
  - seed: 0..3
YAML
podman run --rm --network=none -v "$work:/data" --entrypoint sh "$image" -c \
  "sca sweep /data/sweep.yaml --out /tmp/s -q && sca collect /tmp/s --require-all" > "$work/sweep.log" 2>&1 ||
  { cat "$work/sweep.log"; fail "a sweep in the container failed"; }
grep -q "^4 of 4 runs finished" "$work/sweep.log" || { cat "$work/sweep.log"; fail "the sweep did not finish 4 runs"; }
podman rmi "$image" > /dev/null 2>&1 || true
echo "PASS: Dockerfile built with podman from $base; train and sweep ran in the runtime image"
