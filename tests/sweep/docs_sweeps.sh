#!/usr/bin/env bash
# docs/sweeps.md, executed: every complete sweep or search file in a yaml
# block is planned (`sca sweep --plan`, `sca search --slurm` in a scratch
# folder), blocks that name a shipped file must match it, and the commands
# after the "commands run by tests/sweep/docs_sweeps.sh" marker run in order
# from a copy of experiments/.
#   docs_sweeps.sh SCA_BINARY SOURCE_DIR
set -euo pipefail
sca=$(realpath "$1") src=$(realpath "$2")
work=$(mktemp -d /tmp/sca-docs-sweeps.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$src/experiments" "$work/experiments"
doc=$src/docs/sweeps.md
# The yaml blocks, one file each.
awk -v dir="$work/blocks" 'BEGIN{system("mkdir -p " dir)} /^```yaml/{n++; on=1; next} /^```/{on=0; next} on{print > (dir "/" n ".yaml")}' "$doc"
checked=0
for block in "$work"/blocks/*.yaml; do
  file="$work/experiments/sweeps/doc-$(basename "$block")"
  cp "$block" "$file"
  named=$(sed -n '1s/^# \(experiments\/sweeps\/[A-Za-z0-9_.-]*\.yaml\)$/\1/p' "$block")
  if grep -q '^sweep:' "$block"; then
    "$sca" search "$file" --out "$work/plan-$(basename "$block" .yaml)" --slurm > /dev/null
  elif grep -q '^base:' "$block"; then
    "$sca" sweep "$file" --plan > /dev/null 2>&1 || { echo "FAIL: $doc block $(basename "$block") does not plan:"; "$sca" sweep "$file" --plan; exit 1; }
  else
    continue
  fi
  # A block naming a shipped demo file must be that file (comments aside).
  if [[ $named == *race-demo* ]]; then
    cmp <(grep -v '^ *#' "$block" | sed 's/ *#.*//') <(grep -v '^ *#' "$src/$named" | sed 's/ *#.*//') ||
      { echo "FAIL: $doc's block for $named differs from the file"; exit 1; }
  fi
  checked=$((checked + 1))
done
echo "planned $checked sweep and search files from $doc"
(( checked >= 3 )) || { echo "FAIL: expected at least 3 complete files in $doc"; exit 1; }
# The commands after the marker, in order.
cd "$work"
awk '/commands run by tests\/sweep\/docs_sweeps.sh/{on=1; next} on && /^    sca /{print; seen=1; next} on && seen && /^[^ ]/{exit}' "$doc" > commands.txt
(( $(wc -l < commands.txt) >= 3 )) || { echo "FAIL: no commands found after the marker"; exit 1; }
while read -r line; do
  echo "+ $line"
  # shellcheck disable=SC2086
  "$sca" ${line#sca } > out.txt 2>&1 || { cat out.txt; echo "FAIL: $line"; exit 1; }
  tail -3 out.txt
done < commands.txt
[[ -f runs/race-demo/search.json ]] && [[ -f runs/race-demo/rung-0/configs.csv ]] && [[ -f runs/race-demo/rung-0/report.html ]] ||
  { echo "FAIL: the documented outputs are missing"; exit 1; }
for fig in configs-distributions configs-heatmap; do
  [[ -s runs/race-demo/rung-0/report/$fig.png ]] || { echo "FAIL: sca report drew no $fig.png"; exit 1; }
done
grep -q 'Heatmap: schedule.keyframes.3.step x schedule.keyframes.3.anchor' runs/race-demo/rung-0/report.html ||
  { echo "FAIL: the report has no heatmap of the two requested keys"; exit 1; }
echo "PASS"
