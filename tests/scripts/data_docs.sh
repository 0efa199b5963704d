#!/usr/bin/env bash
# Runs every command and YAML block of docs/data.md (runs/ becomes a scratch
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
  if [[ $line == *digits-data.py* ]]; then
    for f in "$src"/experiments/data/digits/*.npy; do
      cmp "$f" "$tmp/digits/$(basename "$f")" || { echo "FAILED: $f differs from the export"; exit 1; }
    done
  fi
  if [[ $line == *"sca eval runs/digits" ]]; then
    # The table printed in the doc (the indented lines after the command).
    awk '/sca eval runs\/digits$/{f=1;next} f&&/^    concept/{p=1} p&&/^$/{exit} p' "$doc" | sed 's/^    //' >"$tmp/want"
    head -n "$(wc -l <"$tmp/want")" "$tmp/out" | diff "$tmp/want" - || { echo "FAILED: sca eval's table differs from docs/data.md"; exit 1; }
  fi
  if [[ $line == *model.hidden=64* ]]; then
    want=$(grep '^    warning: the run diverged' "$doc" | sed 's/^    //')
    grep -qxF "$want" "$tmp/err" || { cat "$tmp/err"; echo "FAILED: the divergence warning differs from docs/data.md"; exit 1; }
  fi
done < <(grep -E '^    (\./build/sca|/usr/bin/python3 tools/)' "$doc")
# The YAML blocks: data paths made absolute, then trained and evaluated.
awk '/^```yaml$/{n++; f=1; next} /^```$/{f=0} f{print > (dir "/block-" n ".yaml")}' dir="$tmp" "$doc"
for b in "$tmp"/block-*.yaml; do
  sed -i "s|data/digits/|$src/experiments/data/digits/|g" "$b"
  echo "+ sca train $(basename "$b")"
  "$sca" train "$b" --out "$tmp/$(basename "$b" .yaml)" -q || { cat "$b"; echo "FAILED: $b"; exit 1; }
  [[ -f "$tmp/$(basename "$b" .yaml)/evaluation.json" ]]
  ran=$((ran + 1))
done
((ran >= 8)) || { echo "FAILED: only $ran commands and blocks ran"; exit 1; }
echo "data docs: $ran commands and blocks ran"
