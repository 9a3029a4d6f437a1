#!/usr/bin/env bash
# GAAF paper Tables 3-4 (N_u = 500): fixed tanh vs GAAF n = 5, 3500 iterations, noise 0/1/2 %.
# Usage: configs/paper/run-sine-gordon.sh "SEEDS" "NOISES"   (default "1 2 3" "0 0.01 0.02")
# Runs go to runs/paper-sine-gordon/<variant>-noise<level>-s<seed>/; completed runs are skipped.
# Then: node configs/paper/summarize-sine-gordon.mjs (the table in RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-"1 2 3"}
noises=${2:-"0 0.01 0.02"}
out=runs/paper-sine-gordon
for noise in $noises; do
  for seed in $seeds; do
    for v in fixed gaaf; do
      dir=$out/$v-noise$noise-s$seed
      if grep -q '"status": "completed"' "$dir/summary.json" 2>/dev/null; then continue; fi
      rm -rf "$dir"
      mode=global; [ "$v" = fixed ] && mode=none
      node bin/laaf.js solve problems/sine-gordon-inverse.yaml --out "$dir" --quiet \
        --set training.seed="$seed" --set data.obs.noise="$noise" --set model.adaptive.mode=$mode
      echo "$dir done"
    done
  done
done
