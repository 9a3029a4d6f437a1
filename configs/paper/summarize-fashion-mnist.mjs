// Summarises a sweep of configs/paper/fashion-mnist.yaml: per variant, the training loss
// (history.csv `loss`: mean cross-entropy over the batches since the previous row) at
// each logged step as mean ± sample std over seeds, the final test accuracy, and an SVG
// of the training-loss curves with mean ± 2 std bands (as the papers draw them).
//   node configs/paper/summarize-fashion-mnist.mjs SWEEP_DIR [OUT.svg]
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { renderSvg } from '../../dist/src/plot/render.js';

const dir = process.argv[2] ?? 'runs/fashion-mnist';
const out = process.argv[3];
const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v) => (v.length < 2 ? NaN : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));
const rows = [];
const curves = [];
for (const variant of plan.variants) {
  const runs = plan.runs.filter((r) => r.variant === variant.label).map((r) => join(dir, ...r.id.split('/')));
  // Per seed in plan order; a seed without a completed run is null (NaN in `bySeed`).
  const perSeed = runs.map((d) => (existsSync(join(d, 'summary.json')) && JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')).status === 'completed'
    ? { h: parse(readFileSync(join(d, 'history.csv'), 'utf8'), { columns: true }), s: JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) } : null));
  const hist = perSeed.filter((x) => x !== null);
  if (hist.length === 0) continue;
  const steps = hist[0].h.map((r) => Number(r.step));
  const bySeed = (step) => perSeed.map((x) => (x ? Number(x.h.find((r) => Number(r.step) === step)?.loss) : NaN));
  const at = (step) => bySeed(step).filter(Number.isFinite);
  for (const step of steps) {
    const v = at(step).filter(Number.isFinite);
    const m = mean(v);
    const sd = std(v);
    curves.push({ variant: variant.label, step, mean: m, lo: Math.max(m - 2 * sd, 1e-3), hi: m + 2 * sd });
  }
  const acc = hist.map(({ s }) => s.final.terms.test_accuracy);
  rows.push({ label: variant.label, seeds: hist.length, steps, at, bySeed, acc, wall: mean(hist.map(({ s }) => s.wall_time_s)) });
}
// About six loss columns: logged steps at a round spacing, and the last one.
const all = rows[0].steps;
const last = all[all.length - 1];
const spacing = all.find((s) => s >= last / 6) ?? last;
const pick = all.filter((s, i) => i === all.length - 1 || s % spacing === 0);
const f = (v) => `${mean(v).toFixed(3)} ± ${std(v).toFixed(3)}`;
console.log(`| variant | seeds | ${pick.map((s) => `loss @ ${s}`).join(' | ')} | test accuracy | wall s / run |`);
console.log(`|---|---|${pick.map(() => '---').join('|')}|---|---|`);
for (const r of rows) {
  console.log(`| ${r.label} | ${r.seeds} | ${pick.map((s) => f(r.at(s))).join(' | ')} | ${(100 * mean(r.acc)).toFixed(1)} ± ${(100 * std(r.acc)).toFixed(1)} % | ${r.wall.toFixed(0)} |`);
}
// Seed for seed (the same seed gives every variant the same initial network and batches):
// how many of each adaptive variant's seeds are below the fixed run's loss at each step.
const fixed = rows.find((r) => r.label === 'fixed');
if (fixed) {
  console.log(`\n| below fixed, same seed | ${pick.map((s) => `@ ${s}`).join(' | ')} |`);
  console.log(`|---|${pick.map(() => '---').join('|')}|`);
  for (const r of rows.filter((x) => x !== fixed)) {
    console.log(`| ${r.label} | ${pick.map((s) => {
      const a = r.bySeed(s);
      const b = fixed.bySeed(s);
      const both = a.map((v, i) => [v, b[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      return `${both.filter(([x, y]) => x < y).length} of ${both.length}`;
    }).join(' | ')} |`);
  }
}
if (out) {
  const color = { field: 'variant', type: 'nominal', title: 'variant', sort: rows.map((r) => r.label) };
  const x = { field: 'step', type: 'quantitative', title: 'step (batches of 64)' };
  const svg = await renderSvg({
    title: { text: 'Fashion-MNIST LeNet: training loss, mean ± 2 std over seeds', subtitle: `${plan.name}: ${rows[0].seeds} seeds per variant; loss = mean cross-entropy over the batches since the previous logged step` },
    width: 520, height: 320, data: { values: curves },
    layer: [
      { mark: { type: 'area', opacity: 0.12 }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'training loss (log)' }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
    ],
  });
  writeFileSync(out, svg);
  console.log(`\nwrote ${out}`);
}
