// Summarises runs/paper-gaaf/: per problem and variant, the final relative L2 error over
// seeds (mean ± sample std, min), the paper's number, and whether adaptive < fixed holds.
//   node configs/paper/summarize-gaaf.mjs
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = 'runs/paper-gaaf';
const PAPER = {
  burgers: { fixed: 1.913973e-1, gaaf1: 1.170261e-1, gaaf5: 9.928848e-2, gaaf10: 9.517134e-2 },
  'klein-gordon': { fixed: 1.953597e-1, gaaf1: 1.026246e-1, gaaf5: 9.528848e-2, gaaf10: 9.064256e-2 },
  helmholtz: { fixed: 1.0591e-1, gaaf10: 7.1945e-2 },
};
const LABEL = { fixed: 'fixed tanh', gaaf1: 'GAAF n=1', gaaf5: 'GAAF n=5', gaaf10: 'GAAF n=10', llaaf10: 'L-LAAF n=10 + SR', nlaaf10: 'N-LAAF n=10 + SR' };
const fmt = (v) => v.toExponential(3);
for (const problem of Object.keys(PAPER)) {
  const dir = join(root, problem);
  if (!existsSync(dir)) continue;
  const byVariant = {};
  for (const run of readdirSync(dir)) {
    const m = /^(.+)-s(\d+)$/.exec(run);
    const file = join(dir, run, 'summary.json');
    if (!m || !existsSync(file)) continue;
    const s = JSON.parse(readFileSync(file, 'utf8'));
    if (s.status !== 'completed') continue;
    (byVariant[m[1]] ??= []).push({ seed: Number(m[2]), rel: s.final.rel_l2, wall: s.wall_time_s });
  }
  const stats = {};
  console.log(`\n### ${problem}\n`);
  console.log('| variant | paper | seeds | laaf mean ± std | laaf min | below fixed, same seed | wall s / run |');
  console.log('|---|---|---|---|---|---|---|');
  for (const v of Object.keys(LABEL)) {
    const runs = byVariant[v];
    if (!runs) continue;
    const x = runs.map((r) => r.rel);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = x.length > 1 ? Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1)) : NaN;
    stats[v] = mean;
    const wall = runs.reduce((a, r) => a + r.wall, 0) / runs.length;
    const fixed = new Map((byVariant.fixed ?? []).map((r) => [r.seed, r.rel]));
    const paired = runs.filter((r) => fixed.has(r.seed));
    const wins = v === 'fixed' || paired.length === 0 ? '—' : `${paired.filter((r) => r.rel < fixed.get(r.seed)).length}/${paired.length}`;
    console.log(`| ${LABEL[v]} | ${PAPER[problem][v] !== undefined ? fmt(PAPER[problem][v]) : '—'} | ${x.length} (${runs.map((r) => r.seed).sort().join(',')}) | ${fmt(mean)}${x.length > 1 ? ` ± ${std.toExponential(1)}` : ''} | ${fmt(Math.min(...x))} | ${wins} | ${wall.toFixed(0)} |`);
  }
  if (stats.fixed !== undefined) {
    const better = Object.keys(stats).filter((v) => v !== 'fixed' && stats[v] < stats.fixed);
    const worse = Object.keys(stats).filter((v) => v !== 'fixed' && stats[v] >= stats.fixed);
    console.log(`\nadaptive < fixed (mean): ${better.map((v) => LABEL[v]).join(', ') || 'none'}${worse.length ? `; not: ${worse.map((v) => LABEL[v]).join(', ')}` : ''}`);
  }
}
