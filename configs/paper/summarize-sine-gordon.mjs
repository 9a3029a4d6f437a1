// Summarises runs/paper-sine-gordon/ (configs/paper/run-sine-gordon.sh): per variant and
// noise level, each unknown's relative error in % and the solution rel-L2 over seeds
// (mean ± sample std), how many seeds GAAF beat fixed tanh on every λ, and the error of
// λ1 + λ2 − λ3, the one combination the data determine (problems/sine-gordon-inverse.yaml).
//   node configs/paper/summarize-sine-gordon.mjs
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = 'runs/paper-sine-gordon';
if (!existsSync(root)) {
  console.error(`no ${root}: run configs/paper/run-sine-gordon.sh first`);
  process.exit(2);
}
const runs = [];
for (const name of readdirSync(root)) {
  const m = /^(fixed|gaaf)-noise([\d.]+)-s(\d+)$/.exec(name);
  const file = join(root, name, 'summary.json');
  if (!m || !existsSync(file)) continue;
  const s = JSON.parse(readFileSync(file, 'utf8'));
  if (s.status !== 'completed') continue;
  const errs = Object.fromEntries(Object.entries(s.final.parameters).map(([k, v]) => [k, 100 * v.rel_error]));
  const v = Object.fromEntries(Object.entries(s.final.parameters).map(([k, p]) => [k, p.value]));
  const combo = 100 * Math.abs(v.lambda1 + v.lambda2 - v.lambda3 - 1);
  runs.push({ variant: m[1], noise: Number(m[2]), seed: Number(m[3]), errs, combo, rel: s.final.rel_l2, wall: s.wall_time_s });
}
const names = [...new Set(runs.flatMap((r) => Object.keys(r.errs)))].sort();
const stat = (x, digits, exp) => {
  const f = (v) => (exp ? v.toExponential(digits) : v.toFixed(digits));
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  if (x.length < 2) return f(mean);
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1));
  return `${f(mean)} ± ${exp ? sd.toExponential(1) : sd.toFixed(digits)}`;
};
const LABEL = { fixed: 'fixed tanh', gaaf: 'GAAF n = 5' };
console.log(`| variant | noise | seeds | ${names.map((n) => `${n} error %`).join(' | ')} | λ1+λ2−λ3 error % | solution rel-L2 | GAAF < fixed on every λ | wall s / run |`);
console.log(`|---|---|---|${names.map(() => '---|').join('')}---|---|---|---|`);
for (const noise of [...new Set(runs.map((r) => r.noise))].sort((a, b) => a - b)) {
  for (const v of ['fixed', 'gaaf']) {
    const rs = runs.filter((r) => r.noise === noise && r.variant === v).sort((a, b) => a.seed - b.seed);
    if (rs.length === 0) continue;
    let wins = '—';
    if (v === 'gaaf') {
      const fixed = new Map(runs.filter((r) => r.noise === noise && r.variant === 'fixed').map((r) => [r.seed, r]));
      const paired = rs.filter((r) => fixed.has(r.seed));
      wins = `${paired.filter((r) => names.every((n) => r.errs[n] < fixed.get(r.seed).errs[n])).length}/${paired.length}`;
    }
    const cells = names.map((n) => stat(rs.map((r) => r.errs[n]), 1, false));
    const wall = rs.reduce((a, r) => a + r.wall, 0) / rs.length;
    console.log(`| ${LABEL[v]} | ${noise * 100} % | ${rs.length} (${rs.map((r) => r.seed).join(',')}) | ${cells.join(' | ')} | ${stat(rs.map((r) => r.combo), 2, false)} | ${stat(rs.map((r) => r.rel), 2, true)} | ${wins} | ${wall.toFixed(0)} |`);
  }
}
