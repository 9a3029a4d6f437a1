// Summarises runs/paper-discontinuous/: the loss (the data term's mean squared error,
// slope recovery excluded) at 2000, 8000 and 15000 iterations and the final rel-L2,
// mean ± std over seeds per variant, as a Markdown table.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = 'runs/paper-discontinuous';
const steps = [2000, 8000, 15000];
const variants = { fixed: 'fixed tanh', gaaf: 'GAAF', llaaf: 'L-LAAF + SR', nlaaf: 'N-LAAF + SR' };
const stat = (v) => {
  const m = v.reduce((p, q) => p + q, 0) / v.length;
  const s = Math.sqrt(v.reduce((p, q) => p + (q - m) ** 2, 0) / Math.max(1, v.length - 1));
  return `${m.toExponential(2)} ± ${s.toExponential(1)}`;
};
console.log(`| variant | seeds | ${steps.map((s) => `MSE @ ${s}`).join(' | ')} | rel-L2 @ 15000 |`);
console.log(`|---|---|${steps.map(() => '---|').join('')}---|`);
for (const [key, label] of Object.entries(variants)) {
  const runs = existsSync(root) ? readdirSync(root).filter((d) => d.startsWith(`${key}-s`)) : [];
  const rows = runs.map((d) => {
    const [head, ...lines] = readFileSync(join(root, d, 'history.csv'), 'utf8').trim().split('\n');
    const cols = head.split(',');
    const recs = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], Number(v)])));
    return { at: steps.map((s) => recs.find((r) => r.step === s)?.fit), rel: recs.at(-1).rel_l2 };
  }).filter((r) => r.at.every((v) => v !== undefined));
  if (rows.length === 0) continue;
  console.log(`| ${label} | ${rows.length} | ${steps.map((_, k) => stat(rows.map((r) => r.at[k]))).join(' | ')} | ${stat(rows.map((r) => r.rel))} |`);
}
