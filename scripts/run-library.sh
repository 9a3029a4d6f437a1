#!/usr/bin/env bash
# Runs problems/*.yaml (or the ones named) at their default budget into runs/library/NAME/
# (completed runs are skipped), then prints a Markdown row per problem for RESULTS.md:
#   scripts/run-library.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in problems/*.yaml; do names+=("$(basename "$f" .yaml)"); done
fi
for p in "${names[@]}"; do
  dir=runs/library/$p
  if ! grep -q '"status": "completed"' "$dir/summary.json" 2>/dev/null; then
    rm -rf "$dir"
    mkdir -p runs/library
    node bin/laaf.js solve "problems/$p.yaml" --out "$dir" --quiet || echo "$p: exit $?"
  fi
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1] + "/summary.json", "utf8"));
    const f = s.final ?? {};
    const per = f.rel_l2_per_output && Object.keys(f.rel_l2_per_output).length > 1
      ? " (" + Object.entries(f.rel_l2_per_output).map(([k, v]) => k + " " + v.toExponential(2)).join(", ") + ")" : "";
    const maxe = f.max_abs_error ? Object.values(f.max_abs_error).map((v) => v.toExponential(2)).join(", ") : "—";
    console.log(`| ${s.name} | ${s.status} | ${s.steps} | ${f.rel_l2 !== undefined ? f.rel_l2.toExponential(2) : "—"}${per} | ${maxe} | ${f.loss?.toExponential(2)} | ${s.wall_time_s?.toFixed(0)} |`);
  ' "$dir"
done
