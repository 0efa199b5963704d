#!/usr/bin/env bash
# Runs every command and YAML block of docs/data.md (and README.md's digits commands) (runs/ becomes a scratch
# directory): the digits export reproduces the committed NPY files, the
# documented evaluation table and divergence warning are what sca prints, and
# each YAML block trains and evaluates.
#   tests/scripts/data_docs.sh SCA_BINARY SOURCE_DIR
set -euo pipefail
sca=$1 src=$2
doc=$src/docs/data.md
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sca data docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$src"
py=/usr/bin/python3
ran=0
# The indented commands, in order.
while IFS= read -r line; do
  cmd=${line#    }
  cmd=${cmd%%  #*}
  cmd=${cmd//.\/build\/sca/\"$sca\"}
  cmd=${cmd//runs\//\"$tmp\"/runs/}
  cmd=${cmd//docs\/figures\//\"$tmp\"/}
  if [[ $cmd == */usr/bin/python3\ tools/digits-data.py* ]]; then
    "$py" -c "import sklearn" 2>/dev/null || { echo "SKIP digits export: no python3-sklearn"; continue; }
    cmd="$cmd \"$tmp/digits\""
  fi
  echo "+ $cmd"
  eval "$cmd" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; echo "FAILED: $line"; exit 1; }
  ran=$((ran + 1))
  if [[ $line == *" train "* && $line != *--stop-after* ]] && grep -q "stopped after step" "$tmp/err"; then
    cat "$tmp/err"; echo "FAILED: a finished run said it stopped early"; exit 1
  fi
  if [[ $line == *digits-data.py* ]]; then
    for f in "$src"/experiments/data/digits/*.npy; do
      cmp "$f" "$tmp/digits/$(basename "$f")" || { echo "FAILED: $f differs from the export"; exit 1; }
    done
  fi
  if [[ $line == *"sca eval runs/digits" ]]; then
    # The table printed in the doc (the text block after the command).
    awk '/sca eval runs\/digits$/{f=1;next} f&&/^concept/{p=1} p&&/^```$/{exit} p' "$doc" >"$tmp/want"
    head -n "$(wc -l <"$tmp/want")" "$tmp/out" | diff "$tmp/want" - || { echo "FAILED: sca eval's table differs from docs/data.md"; exit 1; }
  fi
  if [[ $line == *model.hidden=64* ]]; then
    # Its wording, numbers masked: a diverged run's last values differ between
    # builds (a sanitized build rounds differently once the run has blown up).
    mask() { sed -E 's/[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?/N/g'; }
    want=$(grep '^warning: the run diverged' "$doc" | mask)
    mask <"$tmp/err" | grep -qxF "$want" || { cat "$tmp/err"; echo "FAILED: the divergence warning differs from docs/data.md"; exit 1; }
  fi
done < <({ grep -E '^    (\./build/sca|/usr/bin/python3 tools/)' "$doc"; grep -E '^    (\./build/sca|/usr/bin/python3 tools/).*digits' README.md; } | awk '!seen[$0]++')
# The YAML blocks: data paths made absolute, then trained and evaluated.
awk '/^```yaml$/{n++; f=1; next} /^```$/{f=0} f{print > (dir "/block-" n ".yaml")}' dir="$tmp" "$doc"
for b in "$tmp"/block-*.yaml; do
  sed -i "s|data/digits/|$src/experiments/data/digits/|g" "$b"
  echo "+ sca train $(basename "$b")"
  "$sca" train "$b" --out "$tmp/$(basename "$b" .yaml)" -q || { cat "$b"; echo "FAILED: $b"; exit 1; }
  [[ -f "$tmp/$(basename "$b" .yaml)/evaluation.json" ]]
  ran=$((ran + 1))
done
# sca collect carries the concept columns and the divergence flag; sca report draws the concepts.
printf 'base: %s/experiments/digits-two.yaml\naxes:\n  - seed: 0..1\n' "$src" >"$tmp/sweep.yaml"
"$sca" sweep "$tmp/sweep.yaml" --out "$tmp/sweep" -q
"$sca" collect "$tmp/sweep" >/dev/null
header=$(head -1 "$tmp/sweep/results.csv")
for col in diverged zero_error_on_ablate-zero zero_error_off_ablate-zero zero_ratio_ablate-zero one_ratio_ablate-one \
           zero_error_on_baseline; do
  [[ ,$header, == *,$col,* ]] || { echo "FAILED: results.csv has no column $col: $header"; exit 1; }
done
if "$py" -c "import matplotlib" 2>/dev/null; then
  "$sca" report "$tmp/runs/digits-two" >/dev/null
  [[ -s "$tmp/runs/digits-two/report/concepts.png" ]] || { echo "FAILED: sca report drew no concepts figure"; exit 1; }
  grep -q "zero error_on" "$tmp/runs/digits-two/report.html" || { echo "FAILED: report.html has no concept table"; exit 1; }
fi
((ran >= 8)) || { echo "FAILED: only $ran commands and blocks ran"; exit 1; }
echo "data docs: $ran commands and blocks ran"
