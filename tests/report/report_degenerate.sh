#!/usr/bin/env bash
# `sca report` on degenerate runs (issue 14, class 9): latent widths 1 and 2
# render (or fail in one line, never a traceback), a Python without numpy or
# matplotlib is named with what to install, and a symlink planted where a
# figure goes is replaced, not written through. Exits 77 without matplotlib.
#   report_degenerate.sh SCA_BINARY SOURCE_DIR
set -euo pipefail
sca=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
[[ -x $py ]] || py=python3
if ! $py -c "import matplotlib, numpy, yaml" 2>/dev/null; then
  echo "SKIP: no matplotlib/numpy/yaml for $py"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
one_line() { [[ $(wc -l < "$1") -le 1 ]] && ! grep -q "Traceback" "$1"; }

for k in 1 2; do
  dims=$(seq -s, 0 $((k - 1)) | sed 's/[0-9]*/0/g; s/^0/1/')
  cat > "$work/k$k.yaml" <<YAML
model: {latent: $k, hidden: 8, layers: 1}
data: {grid: 4, batch: 16}
regularizers:
  - {name: separate, kind: separate}
  - {name: anchor, kind: anchor, direction: [$dims]}
schedule:
  keyframes:
    - {step: 0, lr: 0.01, separate: 0.01, anchor: 0.1}
    - {step: 40, lr: 0.01}
YAML
  "$sca" train "$work/k$k.yaml" --backend cpu -q --out "$work/run k$k" > /dev/null
  "$sca" eval "$work/run k$k" -q --ablate 0 > /dev/null
  if "$sca" report "$work/run k$k" -q > "$work/out$k.txt" 2>&1; then
    [[ -s "$work/run k$k/report.html" ]] || fail "latent $k: no report.html"
    ! grep -q "Traceback" "$work/out$k.txt" || fail "latent $k: a traceback"
  else
    one_line "$work/out$k.txt" || { cat "$work/out$k.txt"; fail "latent $k: more than one line of error"; }
    grep -q "^error: " "$work/out$k.txt" || fail "latent $k: no error line"
  fi
  echo "latent $k: $(head -c 200 "$work/out$k.txt")"
done

# A Python that cannot import numpy (site-packages off): one line naming what to install.
printf '#!/bin/sh\nexec %s -S "$@"\n' "$py" > "$work/bare-python"
chmod +x "$work/bare-python"
if "$sca" report "$work/run k2" -q --python "$work/bare-python" > "$work/bare.txt" 2>&1; then
  fail "a Python without numpy produced a report"
fi
one_line "$work/bare.txt" || { cat "$work/bare.txt"; fail "missing numpy: not one line"; }
grep -q "python3-numpy python3-matplotlib" "$work/bare.txt" || { cat "$work/bare.txt"; fail "missing numpy: does not say what to install"; }

# A symlink planted at a figure's name is replaced by the figure; its target is untouched.
echo precious > "$work/victim"
for f in "$work/run k2/report"/*.png; do rm -f "$f"; ln -s "$work/victim" "$f"; done
ln -sf "$work/victim" "$work/run k2/report.html"
"$sca" report "$work/run k2" -q > /dev/null 2>&1 || fail "report over planted symlinks failed"
[[ $(cat "$work/victim") == precious ]] || fail "a planted symlink was written through"
[[ ! -L "$work/run k2/report.html" ]] || fail "report.html is still a symlink"
echo "report_degenerate: ok"
