/** Plots: drawn from a run's files (1D lines, 2D heatmaps, 1D+time slices, slopes), the PNG inside heatmaps, and the CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laaf, repoRoot, tempDir } from './helpers.js';
import { writeRunPlots } from '../src/plot/run-plots.js';
import { colorTable, decodePng, encodePng, fieldImage } from '../src/plot/png.js';

function csv(header: string[], rows: number[][]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** A fake run directory written the way `laaf solve` writes one. */
function fakeRun(inputs: Record<string, [number, number]>, opts: { reference: boolean; slopes: 'layer' | 'neuron' | 'none'; n?: number }): string {
  const dir = tempDir('laaf-plot-');
  const names = Object.keys(inputs);
  writeFileSync(join(dir, 'spec.resolved.yaml'), `# resolved\nname: fake\ninputs:\n${names.map((k) => `  ${k}: [${inputs[k]!.join(', ')}]`).join('\n')}\noutputs: [u]\n`);
  const slopeCols = opts.slopes === 'layer' ? ['na_1', 'na_2'] : opts.slopes === 'neuron' ? ['na_1_mean', 'na_1_min', 'na_1_max', 'na_2_mean', 'na_2_min', 'na_2_max'] : [];
  const header = ['step', 'elapsed_s', 'lr', 'loss', 'pde', 'bc', 'slope_recovery', ...slopeCols, ...(opts.reference ? ['rel_l2'] : [])];
  const rows: number[][] = [];
  for (let s = 0; s <= 100; s += 10) {
    const l = Math.exp(-s / 20);
    rows.push([s, s / 10, 1e-3, 2 * l + 0.5, l, l / 10, opts.slopes === 'none' ? 0 : 0.5, ...slopeCols.map((c) => 1 + s / 100 + (c.endsWith('min') ? -0.2 : c.endsWith('max') ? 0.2 : 0)), ...(opts.reference ? [0.5 * l + 0.01] : [])]);
  }
  writeFileSync(join(dir, 'history.csv'), csv(header, rows));
  const n = opts.n ?? 9;
  const grids = names.map((k) => Array.from({ length: n }, (_, i) => inputs[k]![0] + (i / (n - 1)) * (inputs[k]![1] - inputs[k]![0])));
  const sol: number[][] = [];
  const rec = (prefix: number[], d: number) => {
    if (d === names.length) {
      const u = prefix.reduce((a, b) => a + Math.sin(b), 0);
      const ref = u + 0.01 * prefix[0]!;
      sol.push([...prefix, u, ...(opts.reference ? [ref, Math.abs(u - ref)] : [])]);
      return;
    }
    for (const v of grids[d]!) rec([...prefix, v], d + 1);
  };
  rec([], 0);
  writeFileSync(join(dir, 'solution.csv'), csv([...names, 'u', ...(opts.reference ? ['u_ref', 'u_abs_err'] : [])], sol));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ status: 'completed', name: 'fake', ...(opts.reference ? { reference: 'exact: test' } : {}), final: { loss: 0.5 } }));
  return dir;
}

const text = (f: string) => readFileSync(f, 'utf8');
const images = (svg: string) => [...svg.matchAll(/xlink:href="data:image\/png;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64'));


test('PNG encoder round-trips, and a field image maps low values to the first colour and high to the last', () => {
  const rgb = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37) % 256);
  const [w, h, back] = decodePng(encodePng(3, 2, rgb));
  assert.deepEqual([w, h], [3, 2]);
  assert.deepEqual([...back], [...rgb]);

  const table = colorTable('viridis');
  // Increasing in x (left → right), constant in y.
  const url = fieldImage([0, 1, 2], [0, 1], (i) => i, 30, 10, (v) => v / 2, 'viridis');
  const [, , px] = decodePng(Buffer.from(url.split(',')[1]!, 'base64'));
  const at = (x: number, y: number) => [...px.subarray((y * 30 + x) * 3, (y * 30 + x) * 3 + 3)];
  assert.deepEqual(at(0, 5), [...table.subarray(3 * 4, 3 * 5)], 'left edge: value 1/30 of the way → colour 4 of 256');
  assert.deepEqual(at(29, 0), [...table.subarray(3 * 251, 3 * 252)]);
  assert.deepEqual(at(15, 0), at(15, 9), 'constant along y');
});

test('a 1D run: loss and rel-L2 on log axes, slopes per layer, solution with reference and error', async () => {
  const dir = fakeRun({ x: [-3, 3] }, { reference: true, slopes: 'layer', n: 61 });
  const files = await writeRunPlots(dir);
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)).sort(), ['plots/loss.svg', 'plots/slopes.svg', 'plots/solution.svg']);
  const loss = text(join(dir, 'plots', 'loss.svg'));
  assert.match(loss, /^<svg/);
  for (const t of ['fake: training history', 'Loss terms', '>step<', 'loss (total J)', '>pde<', '>bc<', 'S(a) slope recovery', '>rel-L2<', '(log)']) assert.ok(loss.includes(t), `loss.svg has ${t}`);
  const slopes = text(join(dir, 'plots', 'slopes.svg'));
  for (const t of ['layer 1', 'layer 2', 'n·a', '>step<']) assert.ok(slopes.includes(t), `slopes.svg has ${t}`);
  const sol = text(join(dir, 'plots', 'solution.svg'));
  for (const t of ['u: PINN and reference', '>reference<', '>PINN<', 'pointwise error', '>x<', 'exact: test']) assert.ok(sol.includes(t), `solution.svg has ${t}`);
  assert.equal(images(sol).length, 0, 'lines, not heatmaps');
});

test('1D + time: heatmaps of solution, reference and error, and time slices', async () => {
  const dir = fakeRun({ x: [-1, 1], t: [0, 1] }, { reference: true, slopes: 'neuron', n: 21 });
  const files = (await writeRunPlots(dir)).map((f) => f.slice(dir.length + 7)).sort();
  assert.deepEqual(files, ['loss.svg', 'slices.svg', 'slopes.svg', 'solution.svg']);
  const sol = text(join(dir, 'plots', 'solution.svg'));
  const pngs = images(sol);
  assert.equal(pngs.length, 3, 'PINN, reference, error');
  const [w, h] = decodePng(pngs[0]!);
  assert.deepEqual([w, h], [250, 190]);
  for (const t of ['u: PINN', 'u: reference', 'pointwise error', 'abs. error', '>t<', '>x<']) assert.ok(sol.includes(t), `solution.svg has ${t}`);
  const slices = text(join(dir, 'plots', 'slices.svg'));
  for (const t of ['t = 0<', 't = 0.25', 't = 0.5', 't = 0.75', 't = 1<']) assert.ok(slices.includes(t), `slices.svg has ${t}`);
  assert.ok(text(join(dir, 'plots', 'slopes.svg')).includes('min to max'), 'neuron mode: band explained');
});

test('2D without time and without reference; 3D as a mid slice; no slopes without adaptivity', async () => {
  const d2 = fakeRun({ x: [0, 1], y: [0, 2] }, { reference: false, slopes: 'none' });
  const f2 = (await writeRunPlots(d2)).map((f) => f.slice(d2.length + 7)).sort();
  assert.deepEqual(f2, ['loss.svg', 'solution.svg']);
  const s2 = text(join(d2, 'plots', 'solution.svg'));
  assert.equal(images(s2).length, 1);
  assert.ok(s2.includes('no reference'));
  assert.ok(!text(join(d2, 'plots', 'loss.svg')).includes('slope recovery'), 'S(a) = 0 is not drawn');

  const d3 = fakeRun({ x: [0, 1], y: [0, 1], z: [-1, 1] }, { reference: true, slopes: 'layer', n: 5 });
  await writeRunPlots(d3);
  const s3 = text(join(d3, 'plots', 'solution.svg'));
  assert.equal(images(s3).length, 3);
  assert.ok(s3.includes('slice at z = 0'), 'the third input fixed mid-range');
});

test('laaf solve draws plots unless --no-plots; laaf plot redraws; a wrong directory is exit 2', () => {
  const dir = tempDir();
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  const small = ['--set', 'model.hidden=[8,8]', '--set', 'sampling.interior=100', '--set', 'conditions.initial.points=30',
    '--set', 'conditions.walls.points=20', '--set', 'training.adam.steps=10', '--set', 'training.log_every=5', '--set', 'output.grid={x: 21, t: 11}', '--quiet'];
  const a = laaf(['solve', spec, '--out', 'a', ...small], dir);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(readdirSync(join(dir, 'a', 'plots')).sort(), ['loss.svg', 'slices.svg', 'slopes.svg', 'solution.svg']);
  const b = laaf(['solve', spec, '--out', 'b', '--no-plots', ...small], dir);
  assert.equal(b.code, 0, b.stderr);
  assert.ok(!existsSync(join(dir, 'b', 'plots')));
  const p = laaf(['plot', 'b'], dir);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(readdirSync(join(dir, 'b', 'plots')).length, 4);
  mkdirSync(join(dir, 'empty'));
  const bad = laaf(['plot', 'empty'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^laaf: error: empty is neither a run directory/);
  assert.deepEqual(readdirSync(join(dir, 'empty')), []);
});
