#!/usr/bin/env bash
# Disk and path faults (issue 7): an output directory that is not writable,
# a full disk (file-size limit; a small tmpfs too where mount works), an
# existing run directory, paths with spaces. Each must end in a clear message
# and a non-zero exit, with every earlier file intact.
#   disk_faults.sh SCA_BINARY SOURCE_DIR
set -uo pipefail
sca=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/sca disk faults.XXXXXX")
chmod 755 "$work"
mnt=""
cleanup() { [[ -n $mnt ]] && umount "$mnt" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
check="$src/tests/scripts/check_run_files.py"
cfg="$src/experiments/anchored.yaml"
short=(schedule.keyframes.2.step=400 schedule.keyframes.4.step=800 checkpoint.every=100)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect NAME EXPECTED_TEXT COMMAND...: the command must fail with EXPECTED_TEXT in its stderr.
expect() {
  local name=$1 text=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if ((rc == 0)); then fail "$name: exited 0"; return; fi
  if ! grep -qF -- "$text" <<<"$out"; then fail "$name: message lacks '$text': $out"; return; fi
  echo "ok: $name (exit $rc): $(grep -m1 error <<<"$out")"
}
snapshot() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
trap '' XFSZ  # a file-size limit must give EFBIG (and a message), not kill the shell

# A finished run every case compares against.
"$sca" train "$cfg" "${short[@]}" --backend cpu --no-eval -q --out "$work/good run" || fail "reference run"
before=$(snapshot "$work/good run")

# 1. An existing run directory is refused without --resume/--overwrite.
expect "existing run dir" "already holds a run" "$sca" train "$cfg" "${short[@]}" --backend cpu -q --out "$work/good run"
[[ $(snapshot "$work/good run") == "$before" ]] || fail "existing run dir: files changed"

# 2. Not writable. As root, permissions do not bind, so run as nobody.
mkdir -p "$work/locked"
as_user=()
if (($(id -u) == 0)); then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  "${as_user[@]}" true 2>/dev/null || as_user=()
fi
if (($(id -u) != 0)) || ((${#as_user[@]})); then
  chmod 555 "$work/locked"
  expect "unwritable out dir" "cannot write in the run directory" \
    "${as_user[@]}" "$sca" train "$cfg" "${short[@]}" --backend cpu -q --out "$work/locked"
  expect "unwritable parent" "cannot create the run directory" \
    "${as_user[@]}" "$sca" train "$cfg" "${short[@]}" --backend cpu -q --out "$work/locked/run"
  [[ -z $(ls -A "$work/locked") ]] || fail "unwritable out dir: something was written"
  chmod 755 "$work/locked"
else
  echo "skip: unwritable out dir (root without setpriv)"
fi
touch "$work/a file"
expect "out dir is a file" "exists and is not a directory" "$sca" train "$cfg" -q --out "$work/a file"
expect "parent is a file" "cannot create the run directory" "$sca" train "$cfg" -q --out "$work/a file/run"

# 3. Full disk, as a file-size limit (ulimit -f, 1 KiB blocks): the train log
# outgrows 48 KiB partway. The message names the file; the last checkpoint
# stays valid, and a resume without the limit ends as an uninterrupted run.
limited() { (ulimit -f 48; exec "$@"); }
expect "file-size limit" "File too large" limited "$sca" train "$cfg" "${short[@]}" --backend cpu -q --no-eval --out "$work/limited"
python3 "$check" "$work/limited" config.yaml model.safetensors optimizer.safetensors || fail "file-size limit: bad files left"
"$sca" train --resume "$work/limited" --no-eval -q || fail "file-size limit: resume"
for f in model.safetensors optimizer.safetensors train_log.csv validation.json; do
  cmp -s "$work/good run/$f" "$work/limited/$f" || fail "file-size limit: resumed $f differs from the uninterrupted run's"
done
# --overwrite under the limit fails and leaves the old run untouched.
expect "overwrite, file-size limit" "File too large" limited "$sca" train "$cfg" "${short[@]}" seed=7 --backend cpu -q --no-eval --overwrite --out "$work/good run"
ls -A "$work/.sca-staging" 2>/dev/null | grep -q "^good run\.sca-" && fail "a failed overwrite left its staging directory"
[[ $(snapshot "$work/good run") == "$before" ]] || fail "overwrite under a file-size limit changed the old run"

# 4. A really full file system: a 96 KiB tmpfs, where mount is allowed.
mkdir -p "$work/tiny"
if mount -t tmpfs -o size=96k tmpfs "$work/tiny" 2>/dev/null; then
  mnt="$work/tiny"
  expect "full tmpfs" "No space left on device" "$sca" train "$cfg" "${short[@]}" --backend cpu -q --no-eval --out "$work/tiny/run"
  python3 "$check" "$work/tiny/run" config.yaml model.safetensors optimizer.safetensors || fail "full tmpfs: bad files left"
  [[ -z $(find "$work/tiny" -name '*.tmp.*' -o -name '*.sca-tmp.*') ]] || fail "full tmpfs: temporary files left"
  umount "$mnt" && mnt=""
else
  echo "skip: full tmpfs (mount not permitted here; the file-size limit covers ENOSPC-like failures)"
fi

# 5. Paths with spaces: config, run directory, resume, evaluation.
mkdir -p "$work/my configs"
cp "$cfg" "$work/my configs/anchored copy.yaml"
"$sca" train "$work/my configs/anchored copy.yaml" "${short[@]}" --backend cpu -q --stop-after 250 --out "$work/runs here/run 1" \
  || fail "spaces: train"
"$sca" train --resume "$work/runs here/run 1" -q || fail "spaces: resume (with evaluation)"
[[ -e "$work/runs here/run 1/evaluation.json" ]] || fail "spaces: no evaluation.json"
for f in model.safetensors optimizer.safetensors train_log.csv; do
  cmp -s "$work/good run/$f" "$work/runs here/run 1/$f" || fail "spaces: $f differs from the reference"
done
echo ok: paths with spaces

((fails == 0)) || { echo "disk-faults: $fails failures"; exit 1; }
echo "disk-faults: all cases passed"
