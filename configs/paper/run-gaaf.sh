#!/usr/bin/env bash
# The GAAF paper's PDE comparisons (Burgers, Klein–Gordon, Helmholtz), every variant over seeds:
#   configs/paper/run-gaaf.sh PROBLEM [SEED...]          PROBLEM: burgers | klein-gordon | helmholtz
#   VARIANTS="fixed gaaf10" configs/paper/run-gaaf.sh klein-gordon 1 2 3 4 5
# Default seeds 1..5; default variants: all of the problem's (see below). Runs go to
# runs/paper-gaaf/PROBLEM/VARIANT-sSEED/; completed runs are skipped, so the script resumes.
# Then: node configs/paper/summarize-gaaf.mjs
set -euo pipefail
cd "$(dirname "$0")/../.."
problem=${1:?usage: run-gaaf.sh burgers|klein-gordon|helmholtz [SEED...]}
shift
seeds=("$@")
[ ${#seeds[@]} -eq 0 ] && seeds=(1 2 3 4 5)
declare -A SET=(
  [fixed]="--set model.adaptive.mode=none"
  [gaaf1]="--set model.adaptive.n=1"
  [gaaf5]="--set model.adaptive.n=5"
  [gaaf10]=""
  [llaaf10]="--set model.adaptive.mode=layer --set model.slope_recovery=1"
  [nlaaf10]="--set model.adaptive.mode=neuron --set model.slope_recovery=1"
)
case $problem in
  burgers|klein-gordon) all="fixed gaaf1 gaaf5 gaaf10 llaaf10 nlaaf10" ;;
  helmholtz) all="fixed gaaf10 llaaf10 nlaaf10" ;;
  *) echo "unknown problem $problem" >&2; exit 2 ;;
esac
variants=${VARIANTS:-$all}
out=runs/paper-gaaf/$problem
for seed in "${seeds[@]}"; do
  for v in $variants; do
    dir=$out/$v-s$seed
    if grep -q '"status": "completed"' "$dir/summary.json" 2>/dev/null; then continue; fi
    rm -rf "$dir"
    mkdir -p "$out"
    # shellcheck disable=SC2086
    node bin/laaf.js solve "configs/paper/$problem.yaml" --out "$dir" --set training.seed=$seed ${SET[$v]} --quiet
    echo "$problem $v seed $seed: $(grep -o '"rel_l2": [^,]*' "$dir/summary.json" | head -1)"
  done
done
