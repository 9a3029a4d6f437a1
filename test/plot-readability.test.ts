/**
 * Plots a scientist can read (issue 17 "Plots", issue 16's ±2 std band): each item
 * checked on the Vega-Lite spec laaf builds and on the SVG it renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineColOf, repoRoot, tempDir } from './helpers.js';
import { readRun } from '../src/plot/read.js';
import { runPlotSpecs, writeRunPlots } from '../src/plot/run-plots.js';
import { renderSvg, type VlSpec } from '../src/plot/render.js';
import { colorTable, decodePng } from '../src/plot/png.js';
import { gridValueText, linearColours, logColours, logTicks, roundNumbersIn } from '../src/plot/scales.js';
import { convergenceSeries, sweepPlotSpecs, writeSweepPlots } from '../src/plot/sweep-plots.js';
import { plotSweepDir } from '../src/cli/plot.js';
import { loadSweepFile } from '../src/sweep/define.js';
import { expandPlan } from '../src/sweep/plan.js';
import { openSweepDir } from '../src/sweep/sweep.js';
import { UserError } from '../src/spec/errors.js';

const csv = (header: string[], rows: number[][]) => [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';

interface FakeRun {
  inputs: Record<string, [number, number]>;
  n?: Record<string, number>;
  outputs?: string[];
  /** u(inputs), the reference is u + err(inputs) */
  u?: (p: number[]) => number;
  err?: (p: number[]) => number;
  reference?: string;
  slopes?: 'layer' | 'neuron';
  layers?: number;
  /** history rel_l2 values per output (and overall), by row */
  relL2?: (row: number) => number;
  phases?: { phase: string; first_step: number; last_step: number }[];
  /** a run still going: summary.json without phases (history.csv still has its phase column) */
  running?: boolean;
  steps?: number;
}

/** A run directory as `laaf solve` writes one. */
function fakeRun(o: FakeRun): string {
  const dir = tempDir('laaf-plotread-');
  const names = Object.keys(o.inputs);
  const outputs = o.outputs ?? ['u'];
  writeFileSync(join(dir, 'spec.resolved.yaml'), `name: fake\ninputs:\n${names.map((k) => `  ${k}: [${o.inputs[k]!.join(', ')}]`).join('\n')}\noutputs: [${outputs.join(', ')}]\n`);
  const L = o.layers ?? 3;
  const slopeCols = o.slopes === 'layer' ? Array.from({ length: L }, (_, k) => `na_${k + 1}`)
    : o.slopes === 'neuron' ? Array.from({ length: L }, (_, k) => [`na_${k + 1}_mean`, `na_${k + 1}_min`, `na_${k + 1}_max`]).flat() : [];
  const errCols = ['rel_l2', ...(outputs.length > 1 ? outputs.map((x) => `rel_l2_${x}`) : [])];
  const header = ['step', 'phase', 'elapsed_s', 'lr', 'loss', 'pde', 'bc', 'slope_recovery', ...slopeCols, ...errCols];
  const rows: string[] = [header.join(',')];
  const steps = o.steps ?? 100;
  for (let s = 0, r = 0; s <= steps; s += 10, r++) {
    const l = Math.exp(-s / 20);
    const phase = o.phases?.find((p) => s > p.first_step && s <= p.last_step)?.phase ?? 'adam';
    const slope = slopeCols.map((c) => 1 + s / 100 + (c.endsWith('min') ? -0.2 : c.endsWith('max') ? 0.2 : 0));
    const e = o.relL2 ? o.relL2(r) : 0.5 * l + 0.01;
    rows.push([s, phase, s / 10, 1e-3, 2 * l + 0.5, l, l / 10, 0, ...slope, ...errCols.map((_, k) => e * (1 + 0.1 * k))].join(','));
  }
  writeFileSync(join(dir, 'history.csv'), rows.join('\n') + '\n');
  const u = o.u ?? ((p: number[]) => p.reduce((a, b) => a + Math.sin(b), 0));
  const err = o.err ?? ((p: number[]) => 0.01 * p[0]!);
  const grids = names.map((k) => {
    const n = o.n?.[k] ?? 9;
    return Array.from({ length: n }, (_, i) => o.inputs[k]![0] + (i / (n - 1)) * (o.inputs[k]![1] - o.inputs[k]![0]));
  });
  const sol: number[][] = [];
  const rec = (prefix: number[], d: number) => {
    if (d === names.length) {
      const cells: number[] = [];
      for (let j = 0; j < outputs.length; j++) {
        const v = u(prefix) * (j + 1);
        const ref = v + err(prefix);
        cells.push(v);
        if (o.reference !== undefined) cells.push(ref, Math.abs(v - ref));
      }
      sol.push([...prefix, ...cells]);
      return;
    }
    for (const v of grids[d]!) rec([...prefix, v], d + 1);
  };
  rec([], 0);
  writeFileSync(join(dir, 'solution.csv'), csv([...names, ...outputs.flatMap((x) => (o.reference !== undefined ? [x, `${x}_ref`, `${x}_abs_err`] : [x]))], sol));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({
    status: o.running ? 'running' : 'completed', name: 'fake', ...(o.reference !== undefined ? { reference: o.reference } : {}),
    ...(o.phases && !o.running ? { phases: o.phases } : {}), ...(o.running ? {} : { final: { loss: 0.5 } }),
  }));
  return dir;
}

/** The plot named `file` of a run: its spec and its rendered SVG. */
async function plotOf(dir: string, file: string): Promise<{ spec: VlSpec; svg: string }> {
  const p = runPlotSpecs(readRun(dir)).find((x) => x.file === file);
  assert.ok(p, `${file} is drawn`);
  return { spec: p.spec, svg: await renderSvg(p.spec) };
}

/** Every object inside a spec (depth first) for which `pick` holds. */
function find(spec: unknown, pick: (o: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (pick(v as Record<string, unknown>)) out.push(v as Record<string, unknown>);
      Object.values(v).forEach(walk);
    }
  };
  walk(spec);
  return out;
}

/** The text labels of an SVG (axis ticks, titles, legends). */
const texts = (svg: string) => [...svg.matchAll(/<(?:text|tspan)[^>]*>([^<]*)<\/(?:text|tspan)>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));

const pngsOf = (svg: string) => [...svg.matchAll(/xlink:href="data:image\/png;base64,([^"]+)"/g)].map((m) => decodePng(Buffer.from(m[1]!, 'base64')));

// ---------------------------------------------------------------------------- log axes

test('log axes: a labelled tick at or beyond each end of the data, for narrow and wide ranges', () => {
  // The issue's case: kovasznay rel-L2 from 0.61 to 1.50 was labelled only from 0.7 to 1.
  const k = logTicks([0.61, 1.5])!;
  assert.ok(k.ticks[0]! <= 0.61 && k.ticks.at(-1)! >= 1.5, `ticks ${k.ticks} enclose 0.61–1.50`);
  assert.ok(k.ticks.length >= 4);
  for (const [lo, hi] of [[0.61, 1.5], [0.5, 3.83], [1e-5, 1e4], [1e-3, 2e-3], [0.98, 1.02], [3e-7, 0.94], [1e-12, 1e12], [0.05, 0.9], [0.397, 1.16], [7.3, 7.9]] as const) {
    const t = logTicks([lo, hi, Math.sqrt(lo * hi)], 240, 16)!;
    const span = Math.log10(hi / lo);
    // The end ticks sit outside the data or at most 3% of its span inside it.
    assert.ok(Math.log10(t.ticks[0]! / lo) <= 0.03 * span + 1e-12, `[${lo}, ${hi}]: first tick ${t.ticks[0]}`);
    assert.ok(Math.log10(hi / t.ticks.at(-1)!) <= 0.03 * span + 1e-12, `[${lo}, ${hi}]: last tick ${t.ticks.at(-1)}`);
    assert.ok(t.domain[0] <= lo && t.domain[1] >= hi, 'the domain holds the data');
    assert.ok(t.ticks.length >= 3, `[${lo}, ${hi}]: ${t.ticks.length} ticks`);
    const total = Math.log10(t.domain[1] / t.domain[0]);
    for (let i = 1; i < t.ticks.length; i++) assert.ok((Math.log10(t.ticks[i]! / t.ticks[i - 1]!) / total) * 240 >= 16 - 1e-9, `[${lo}, ${hi}]: ticks ${t.ticks} not crowded`);
  }
});

test('the rel-L2 panel of a run from 0.61 to 1.50 is labelled at both ends, every tick drawn', async () => {
  const dir = fakeRun({ inputs: { x: [0, 1] }, reference: 'exact: test', relL2: (r) => 0.61 + (r * (1.5 - 0.61)) / 10 });
  const { spec, svg } = await plotOf(dir, 'loss.svg');
  const axis = find(spec, (o) => o['title'] === 'rel-L2 of u (log)')[0]!;
  const ticks = (axis['axis'] as { values: number[] }).values;
  assert.ok(ticks[0]! <= 0.61 && ticks.at(-1)! >= 1.5);
  const labels = texts(svg);
  for (const t of ticks) assert.ok(labels.includes(String(t)), `tick ${t} labelled (labels: ${labels.join(' ')})`);
});

test('several outputs: one rel-L2 panel per output, each with its own y title', async () => {
  const dir = fakeRun({ inputs: { x: [0, 1], y: [0, 1] }, outputs: ['u', 'v', 'p'], reference: 'exact: test' });
  const { svg } = await plotOf(dir, 'loss.svg');
  const labels = texts(svg);
  for (const o of ['u', 'v', 'p']) {
    assert.equal(labels.filter((l) => l === `rel-L2 of ${o} (log)`).length, 1, `one y title for ${o}`);
    assert.equal(labels.filter((l) => l === `Error of ${o}: ‖${o} − ${o}_ref‖₂ / ‖${o}_ref‖₂`).length, 1, `the panel of ${o} names its formula`);
  }
  assert.ok(labels.includes('rel-L2, all outputs (log)') && labels.includes('Relative L2 error, all outputs: ‖(u, v, p) − ref‖₂ / ‖ref‖₂'), 'the error over all outputs says so');
  assert.ok(!labels.some((l) => l.includes('‖u − u_ref') && l.includes('v')));
});

// ---------------------------------------------------------------------------- handover

test('a rule and a label where L-BFGS takes over from Adam, on loss, slopes and nowhere without L-BFGS', async () => {
  const phases = [{ phase: 'adam', first_step: 0, last_step: 60 }, { phase: 'lbfgs', first_step: 60, last_step: 100 }];
  const dir = fakeRun({ inputs: { x: [0, 1] }, reference: 'exact: test', slopes: 'layer', phases });
  for (const file of ['loss.svg', 'slopes.svg']) {
    const { spec, svg } = await plotOf(dir, file);
    const rules = find(spec, (o) => (o['mark'] as { type?: string } | undefined)?.type === 'rule');
    assert.ok(rules.length >= 1, `${file}: a rule`);
    for (const r of rules) assert.deepEqual((r['data'] as { values: { step: number }[] }).values.map((v) => v.step), [60]);
    assert.ok(texts(svg).includes('L-BFGS →'), `${file}: labelled`);
  }
  // A run still going has no phases in summary.json: history.csv's phase column tells.
  const running = fakeRun({ inputs: { x: [0, 1] }, reference: 'exact: test', phases, running: true });
  const live = find((await plotOf(running, 'loss.svg')).spec, (o) => (o['mark'] as { type?: string } | undefined)?.type === 'rule');
  assert.deepEqual(live.map((r) => (r['data'] as { values: { step: number }[] }).values[0]!.step), [60, 60]);
  const plain = fakeRun({ inputs: { x: [0, 1] }, reference: 'exact: test', slopes: 'layer', phases: [{ phase: 'adam', first_step: 0, last_step: 100 }] });
  const { spec, svg } = await plotOf(plain, 'loss.svg');
  assert.equal(find(spec, (o) => (o['mark'] as { type?: string } | undefined)?.type === 'rule').length, 0);
  assert.ok(!texts(svg).includes('L-BFGS →'));
});

// ---------------------------------------------------------------------------- heatmaps

test('the pointwise error heatmap has log colours: errors decades apart get clearly different colours', async () => {
  // Error 1e-5 on the left half, 1e-3 on the right, 1e-1 in a thin strip (a shock): linear colours would paint both halves the bottom colour.
  const err = (p: number[]) => (Math.abs(p[0]! - 0.9) < 0.06 ? 1e-1 : p[0]! < 0.5 ? 1e-5 : 1e-3);
  const dir = fakeRun({ inputs: { x: [0, 1], y: [0, 1] }, n: { x: 41, y: 5 }, reference: 'exact: test', err });
  const { spec, svg } = await plotOf(dir, 'solution.svg');
  const scale = find(spec, (o) => o['title'] === 'abs. error')[0]!['scale'] as { type: string; domain: number[] };
  assert.equal(scale.type, 'log');
  const [w, h, rgb] = pngsOf(svg)[2]!;
  const table = colorTable('inferno');
  const px = (x: number) => [...rgb.subarray((Math.floor(h / 2) * w + x) * 3, (Math.floor(h / 2) * w + x) * 3 + 3)];
  const left = px(Math.round(w * 0.2));
  const right = px(Math.round(w * 0.7));
  const dist = (a: number[], b: number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
  assert.ok(dist(left, right) > 60, `1e-5 ${left} and 1e-3 ${right} differ`);
  // 1e-3 lies 2/4 decades up a 1e-5..1e-1 scale → the middle of the colour map, not its bottom.
  const mid = [...table.subarray(3 * 128, 3 * 129)];
  assert.ok(dist(right, mid) < 40, `1e-3 at mid-scale: ${right} vs ${mid}`);
  assert.ok(texts(svg).includes('1e-3'), 'decades labelled on the colour bar');
});

test('colour bars: labelled between their ends; signed data on a diverging scale centred at 0 with 0 labelled', async () => {
  const signed = linearColours(-0.8, 1, 'viridis');
  assert.notEqual(signed.scheme, 'viridis');
  const [a, b] = signed.scale['domain'] as number[];
  assert.equal(a, -b!, 'symmetric about 0');
  assert.equal(signed.unit(0), 0.5, '0 is the middle colour');
  assert.ok(signed.ticks.includes(0) && signed.ticks.length >= 5);
  const unsigned = linearColours(0.2, 3.7, 'viridis');
  assert.equal(unsigned.scheme, 'viridis');
  assert.ok(unsigned.ticks.length >= 4 && unsigned.ticks[0]! <= 0.2 && unsigned.ticks.at(-1)! >= 3.7);
  const log = logColours([0, 1e-9, 3e-3, 0.94], 'inferno');
  assert.equal(log.clippedBelow, log.ticks[0], 'zeros and tiny errors clipped at the bottom');
  assert.ok(log.ticks.length >= 5);

  // Burgers-like u = −sin(πx): the rendered bar shows −1, 0 and 1 and values between.
  const dir = fakeRun({ inputs: { x: [-1, 1], t: [0, 1] }, n: { x: 21, t: 11 }, reference: 'exact: test', u: (p) => -Math.sin(Math.PI * p[0]!) });
  const { svg } = await plotOf(dir, 'solution.svg');
  const labels = texts(svg);
  for (const l of ['0', '0.5', '−0.5', '1', '−1']) assert.ok(labels.includes(l), `colour bar label ${l} (labels ${labels.join(' ')})`);
  assert.ok(labels.some((l) => l.startsWith('≤ ')), 'the clipped bottom of the error bar says so');
});

test('heatmaps of two space inputs are aspect-true; space–time ones say they are not', async () => {
  const dir = fakeRun({ inputs: { x: [0, 1], y: [-1, 2] }, reference: 'exact: test' });
  const { spec, svg } = await plotOf(dir, 'solution.svg');
  const img = find(spec, (o) => (o['mark'] as { type?: string } | undefined)?.type === 'image')[0]!['mark'] as { width: number; height: number };
  assert.ok(Math.abs(img.height / img.width - 3) < 0.02, `3:1 domain drawn ${img.width}x${img.height}`);
  const [w, h] = pngsOf(svg)[0]!;
  assert.ok(Math.abs(h / w - 3) < 0.02);
  assert.ok(svg.includes('axes to scale'));
  const st = fakeRun({ inputs: { x: [-1, 1], t: [0, 1] }, reference: 'exact: test' });
  assert.ok((await plotOf(st, 'solution.svg')).svg.includes('t and x axes not to the same scale'));
});

// ---------------------------------------------------------------------------- slopes

test('neuron-mode slopes: one panel per layer, a light min–max band under the mean line', async () => {
  const dir = fakeRun({ inputs: { x: [0, 1] }, slopes: 'neuron', layers: 6 });
  const { spec, svg } = await plotOf(dir, 'slopes.svg');
  const panels = (spec['concat'] as VlSpec[]);
  assert.equal(panels.length, 6);
  for (const p of panels) {
    const marks = (p['layer'] as VlSpec[]).map((l) => (l['mark'] as { type: string; opacity?: number }));
    const area = marks.findIndex((m) => m.type === 'area');
    const line = marks.findIndex((m) => m.type === 'line');
    assert.ok(area >= 0 && line > area, 'band drawn first, mean line on top');
    assert.ok(marks[area]!.opacity! <= 0.3, 'the band is light');
  }
  // Every panel shares one y domain.
  const domains = find(spec, (o) => o['type'] === 'quantitative' && (o['scale'] as { domain?: unknown } | undefined)?.domain !== undefined && o['field'] !== 'step')
    .map((o) => JSON.stringify((o['scale'] as { domain: unknown }).domain));
  assert.equal(new Set(domains).size, 1);
  for (let k = 1; k <= 6; k++) assert.ok(texts(svg).includes(`layer ${k}`));
});

// ---------------------------------------------------------------------------- curves and slices

test('the PINN curve is drawn on top of the reference (reference dashed and wider underneath)', async () => {
  const dir = fakeRun({ inputs: { x: [0, 1] }, n: { x: 41 }, reference: 'exact: test', err: () => 0 });
  const { spec, svg } = await plotOf(dir, 'solution.svg');
  const layers = find(spec, (o) => Array.isArray(o['layer']) && (o['layer'] as VlSpec[]).some((l) => JSON.stringify(l['transform'] ?? '').includes('PINN')))[0]!['layer'] as VlSpec[];
  const names = layers.map((l) => (l['transform'] as { filter: { equal: string } }[])[0]!.filter.equal);
  assert.deepEqual(names, ['reference', 'PINN'], 'later layers are drawn on top');
  const widths = layers.map((l) => (l['mark'] as { strokeWidth: number }).strokeWidth);
  assert.ok(widths[0]! > widths[1]!, 'the reference is wider, so it shows on both sides of the PINN');
  // In the SVG the PINN's path comes after the reference's.
  const ref = svg.indexOf('stroke="#9a9a9a"');
  const pinn = svg.indexOf('stroke="#1f5fa8"');
  assert.ok(ref > 0 && pinn > ref);
});

test('slice titles and mid-slice notes print grid values rounded to the grid spacing', async () => {
  assert.equal(gridValueText(25 / 99, 1 / 99), '0.25');
  assert.equal(gridValueText(0.5, 0.1), '0.5');
  assert.equal(gridValueText(1.23456, 1e-3), '1.235');
  const dir = fakeRun({ inputs: { x: [-1, 1], t: [0, 1] }, n: { x: 11, t: 100 }, reference: 'exact: test' });
  const { svg } = await plotOf(dir, 'slices.svg');
  const labels = texts(svg);
  for (const l of ['t = 0', 't = 0.25', 't = 0.49', 't = 0.75', 't = 1']) assert.ok(labels.includes(l), `${l} in ${labels.filter((x) => x.startsWith('t =')).join(', ')}`);
  assert.ok(!svg.includes('0.2525'));
  const d3 = fakeRun({ inputs: { x: [0, 1], y: [0, 1], z: [0, 1] }, n: { x: 5, y: 5, z: 100 } });
  assert.ok((await plotOf(d3, 'solution.svg')).svg.includes('slice at z = 0.49'));
});

test('constants in subtitles with four significant digits', async () => {
  assert.equal(roundNumbersIn('nu = 0.0031830988618379067, a = 1.5, sin(10*pi*x), b = 2.718281828e-7'), 'nu = 0.003183, a = 1.5, sin(10*pi*x), b = 2.718e-7');
  const dir = fakeRun({ inputs: { x: [-1, 1], t: [0, 1] }, reference: 'Burgers Cole-Hopf, u(x,0) = -sin(pi x), nu = 0.0031830988618379067' });
  const { svg } = await plotOf(dir, 'solution.svg');
  assert.ok(svg.includes('nu = 0.003183'));
  assert.ok(!svg.includes('0.0031830988'));
});

// ---------------------------------------------------------------------------- sweeps

test('sweep mean: a seed that ends early holds its last value, so the mean has no dip where it ends', () => {
  // Seed A logs every 10 steps to 100 at value 1; seed B stops at 50 with value 3 and logged an extra step 55 ... no: A logs 55.
  const a = { step: [0, 10, 20, 30, 40, 50, 55, 60, 70, 80, 90, 100], value: Array(12).fill(1) as number[] };
  const b = { step: [0, 10, 20, 30, 40, 50], value: [3, 3, 3, 3, 3, 3] };
  const s = convergenceSeries([a, b], 1, 'v');
  assert.deepEqual(s.map((p) => p.step), a.step);
  for (const p of s) {
    assert.equal(p.n, 2, `step ${p.step}: both seeds`);
    assert.ok(Math.abs(p.mean - 2) < 1e-12, `step ${p.step}: mean ${p.mean}`);
  }
  assert.deepEqual(s.map((p) => p.carried), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  // Band: sample std of {1, 3} is √2; ±2 std reaches 2 + 2√2 on top, and below 0 falls back to the smallest seed.
  const two = convergenceSeries([a, b], 2, 'v')[0]!;
  assert.ok(Math.abs(two.hi - (2 + 2 * Math.SQRT2)) < 1e-12);
  assert.equal(two.lo, 1);
  const one = convergenceSeries([{ step: [0], value: [10] }, { step: [0], value: [12] }], 1, 'v')[0]!;
  assert.ok(Math.abs(one.lo - (11 - Math.SQRT2)) < 1e-12 && Math.abs(one.hi - (11 + Math.SQRT2)) < 1e-12);
});

/** A sweep directory with two variants of two seeds; seed 2 of variant A stops at step 50. */
function fakeSweep(band?: string): { dir: string; variants: { label: string; runDirs: string[] }[] } {
  const dir = tempDir('laaf-plotsweep-');
  const variants: { label: string; runDirs: string[] }[] = [];
  const runs: { id: string; variant: string }[] = [];
  for (const [vi, label] of ['A', 'B'].entries()) {
    const runDirs: string[] = [];
    for (const k of [1, 2]) {
      const id = `runs/${label}/s${k}`;
      const d = join(dir, id);
      mkdirSync(d, { recursive: true });
      const last = label === 'A' && k === 2 ? 50 : 100;
      const rows: number[][] = [];
      for (let s = 0; s <= last; s += 10) rows.push([s, (1 + vi) * (k === 1 ? 1 : 3) * Math.exp(-s / 50), 0.1 * k]);
      writeFileSync(join(d, 'history.csv'), csv(['step', 'loss', 'rel_l2'], rows));
      writeFileSync(join(d, 'summary.json'), JSON.stringify({ status: 'completed', seed: k, final: { loss: rows.at(-1)![1], rel_l2: 0.1 * k } }));
      runDirs.push(d);
      runs.push({ id, variant: label });
    }
    variants.push({ label, runDirs });
  }
  writeFileSync(join(dir, 'plan.json'), JSON.stringify({ name: 'fake-sweep', variants: variants.map((v) => ({ label: v.label })), runs, ...(band ? { plots: { band } } : {}) }));
  return { dir, variants };
}

test('sweep plots: bands ±1 std by default, ±2 std when asked; the legend says how early-ending seeds count', async () => {
  const { variants } = fakeSweep();
  const one = sweepPlotSpecs({ name: 's', variants });
  const two = sweepPlotSpecs({ name: 's', variants, band: '2std' });
  const bandOf = (specs: typeof one) => {
    const v = find(specs[0]!.spec, (o) => Array.isArray((o['data'] as { values?: unknown[] } | undefined)?.values))[0]!;
    return ((v['data'] as { values: { step: number; variant: string; mean: number; hi: number }[] }).values).find((p) => p.variant === 'B' && p.step === 0)!;
  };
  // Variant B at step 0: seeds 2 and 6 → mean 4, sample std 2√2.
  assert.ok(Math.abs(bandOf(one).hi - (4 + 2 * Math.SQRT2)) < 1e-9);
  assert.ok(Math.abs(bandOf(two).hi - (4 + 4 * Math.SQRT2)) < 1e-9);
  const svg1 = await renderSvg(one[0]!.spec);
  const svg2 = await renderSvg(two[0]!.spec);
  assert.ok(svg1.includes('±1 sample std') && !svg1.includes('±2 sample std'));
  assert.ok(svg2.includes('±2 sample std'));
  assert.ok(texts(svg2).includes('band: ±2 std'), 'legend names the band');
  assert.ok(texts(svg2).includes('hold their last value'), 'legend says how a seed that ended early counts');
  assert.ok((await renderSvg(two[1]!.spec)).includes('whiskers: ±2 sample std'));
  // Variant A after step 50: seed 2 carried, mean over both seeds (no jump to seed 1 alone).
  const va = (find(one[0]!.spec, (o) => Array.isArray((o['data'] as { values?: unknown[] } | undefined)?.values))[0]!['data'] as { values: { step: number; variant: string; n: number; carried: number }[] }).values.filter((p) => p.variant === 'A');
  assert.ok(va.filter((p) => p.step > 50).every((p) => p.n === 2 && p.carried === 1));
});

test('band width from the sweep file (plots.band) and from laaf plot --band; a bad value is an error at its line', async () => {
  const { dir } = fakeSweep('2std');
  await plotSweepDir(dir);
  assert.ok(readFileSync(join(dir, 'plots', 'convergence.svg'), 'utf8').includes('±2 sample std'), 'plan.json plots.band');
  await plotSweepDir(dir, '1std');
  assert.ok(readFileSync(join(dir, 'plots', 'convergence.svg'), 'utf8').includes('±1 sample std'), '--band overrides');
  const { dir: d1, variants } = fakeSweep();
  await writeSweepPlots({ name: 'x', variants }, join(d1, 'p'));
  assert.ok(readFileSync(join(d1, 'p', 'convergence.svg'), 'utf8').includes('±1 sample std'), 'default');

  const f = join(tempDir('laaf-sweepfile-'), 'sweep.yaml');
  writeFileSync(f, 'spec: base.yaml\nseeds: 3\nplots: { band: 2std }\n');
  assert.deepEqual(loadSweepFile(f).plots, { band: '2std' });
  // The sweep file's choice reaches plan.json, where --collect and laaf plot find it.
  writeFileSync(f, `spec: ${JSON.stringify(join(repoRoot(), 'problems', 'poisson-1d.yaml'))}\nseeds: 1\nplots: { band: 2std }\n`);
  const sweepDir = join(tempDir('laaf-sweepdir-'), 'sw');
  openSweepDir(expandPlan(loadSweepFile(f)), sweepDir);
  assert.deepEqual(JSON.parse(readFileSync(join(sweepDir, 'plan.json'), 'utf8')).plots, { band: '2std' });
  const bad = 'spec: base.yaml\nseeds: 3\nplots:\n  band: 3std\n';
  writeFileSync(f, bad);
  assert.throws(() => loadSweepFile(f), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /plots\.band: expected 1std or 2std/);
    const where = e.where;
    assert.deepEqual(where && { line: where.line, col: where.col }, lineColOf(bad, '3std'));
    return true;
  });
  writeFileSync(f, 'spec: base.yaml\nplots: { width: 2 }\n');
  assert.throws(() => loadSweepFile(f), /unknown key 'width' in plots/);
});

test('writeRunPlots renders every readable plot of a run with L-BFGS, neuron slopes and two outputs', async () => {
  const dir = fakeRun({ inputs: { x: [0, 1], y: [0, 2] }, outputs: ['u', 'v'], reference: 'exact: test', slopes: 'neuron', phases: [{ phase: 'adam', first_step: 0, last_step: 50 }, { phase: 'lbfgs', first_step: 50, last_step: 100 }] });
  const files = (await writeRunPlots(dir)).map((f) => f.slice(dir.length + 7)).sort();
  assert.deepEqual(files, ['loss.svg', 'slopes.svg', 'solution.svg']);
});
