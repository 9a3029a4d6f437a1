#!/usr/bin/env bash
# Runs the discontinuous-function comparison: 4 variants x 3 seeds, 15000 iterations each,
# into runs/paper-discontinuous/<variant>-s<seed>/ (skips runs that completed).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=runs/paper-discontinuous
declare -A VARIANT=(
  [fixed]="--set model.adaptive.mode=none --set model.slope_recovery=0"
  [gaaf]="--set model.adaptive.mode=global --set model.slope_recovery=0"
  [llaaf]="--set model.adaptive.mode=layer"
  [nlaaf]=""
)
for seed in 1 2 3; do
  for v in fixed gaaf llaaf nlaaf; do
    dir=$out/$v-s$seed
    if grep -q '"status": "completed"' "$dir/summary.json" 2>/dev/null; then continue; fi
    rm -rf "$dir"
    # shellcheck disable=SC2086
    node bin/laaf.js solve configs/paper/discontinuous.yaml --out "$dir" --set training.seed=$seed ${VARIANT[$v]} --quiet
    echo "$v seed $seed: $(grep -o '"rel_l2": [^,]*' "$dir/summary.json" | head -1)"
  done
done
