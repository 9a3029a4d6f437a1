/** End to end through the CLI: a short Burgers run trains and writes every output file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { laaf, readCsv, repoRoot, tempDir } from '../helpers.js';

const SMALL = [
  '--set', 'model.hidden=[12,12]',
  '--set', 'sampling.interior=300',
  '--set', 'conditions.initial.points=60',
  '--set', 'conditions.walls.points=40',
  '--set', 'training.adam.steps=60',
  '--set', 'training.adam.lr=0.005',
  '--set', 'training.log_every=20',
  // Every source of variation in one short run: a schedule, resampling, refinement, an L-BFGS phase.
  '--set', 'training.adam.schedule=cosine',
  '--set', 'training.resample={every: 25}',
  '--set', 'training.refine={every: 30, candidates: 200, add: 10}',
  '--set', 'training.lbfgs.max_iterations=20',
  '--set', 'output.grid={x: 21, t: 11}',
  '--quiet',
];

test('a short Burgers run lowers the loss and writes all four files', () => {
  const dir = tempDir();
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  const r = laaf(['solve', spec, '--out', 'run', ...SMALL], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', '--quiet prints nothing');
  const run = join(dir, 'run');
  assert.deepEqual(readdirSync(run).filter((f) => f !== 'plots').sort(), ['checkpoint.json', 'history.csv', 'solution.csv', 'spec.resolved.yaml', 'summary.json']);

  const hist = readCsv(join(run, 'history.csv'));
  assert.deepEqual(hist.map((h) => Number(h['step'])), [0, 20, 40, 60, 80]);
  assert.deepEqual(hist.map((h) => h['phase']), ['adam', 'adam', 'adam', 'adam', 'lbfgs']);
  const cols = Object.keys(hist[0]!);
  for (const c of ['step', 'elapsed_s', 'lr', 'loss', 'burgers', 'initial', 'walls', 'slope_recovery', 'na_1_mean', 'na_2_max', 'rel_l2']) {
    assert.ok(cols.includes(c), `history column ${c} in ${cols.join(',')}`);
  }
  const first = Number(hist[0]!['loss']);
  const last = Number(hist.at(-1)!['loss']);
  assert.ok(last < 0.8 * first, `loss ${first} -> ${last}`);
  // Loss = Σ terms + W_a·S(a) with unit weights and W_a = 1.
  for (const h of hist) {
    const sum = Number(h['burgers']) + Number(h['initial']) + Number(h['walls']) + Number(h['slope_recovery']);
    assert.ok(Math.abs(sum - Number(h['loss'])) <= 1e-5 * Math.abs(sum), `loss ${h['loss']} vs sum of terms ${sum}`);
  }
  // n·a starts at exactly 1 (a = 1/n) and the slopes move.
  assert.ok(Math.abs(Number(hist[0]!['na_1_mean']) - 1) < 1e-6);
  assert.notEqual(hist.at(-1)!['na_1_min'], hist.at(-1)!['na_1_max']);

  const sol = readCsv(join(run, 'solution.csv'));
  assert.equal(sol.length, 21 * 11);
  assert.deepEqual(Object.keys(sol[0]!), ['x', 't', 'u', 'u_ref', 'u_abs_err']);
  assert.ok(Math.abs(Number(sol[0]!['x']) + 1) < 1e-12 && Number(sol.at(-1)!['x']) === 1);

  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'completed');
  assert.equal(summary.steps, 80);
  assert.deepEqual(summary.phases.map((p: { phase: string; steps: number }) => [p.phase, p.steps]), [['adam', 60], ['lbfgs', 20]]);
  assert.equal(summary.seed, 1234);
  assert.equal(summary.backend, 'wasm');
  assert.equal(summary.final.loss, last === summary.final.loss ? last : summary.final.loss);
  assert.ok(Number.isFinite(summary.final.rel_l2) && summary.final.rel_l2 > 0);
  assert.ok(Math.abs(summary.final.rel_l2 - Number(hist.at(-1)!['rel_l2'])) < 1e-6);
  assert.deepEqual(summary.parameters, { total: 2 * 12 + 12 + 12 * 12 + 12 + 12 + 1 + 24, adaptive: 24 });
  assert.match(readFileSync(join(run, 'spec.resolved.yaml'), 'utf8'), /steps: 60/);

  // The same seed on the same backend gives the same history (elapsed time aside),
  // through the schedule, resampling, refinement and the L-BFGS phase.
  const r2 = laaf(['solve', spec, '--out', 'run2', ...SMALL], dir);
  assert.equal(r2.code, 0, r2.stderr);
  const hist2 = readCsv(join(dir, 'run2', 'history.csv'));
  const strip = (rows: Record<string, string>[]) => rows.map(({ elapsed_s: _, ...rest }) => rest);
  assert.deepEqual(strip(hist2), strip(hist));

  // An existing, non-empty run directory is refused and left as it was.
  const before = readFileSync(join(run, 'history.csv'), 'utf8');
  const r3 = laaf(['solve', spec, '--out', 'run', ...SMALL], dir);
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /laaf: error: run directory run exists and is not empty/);
  assert.equal(readFileSync(join(run, 'history.csv'), 'utf8'), before);
});

test('an exact reference gives the rel-L2 column; a Neumann condition trains', () => {
  const dir = tempDir();
  // u'' = -pi^2 sin(pi x) on [0, 1]... with u(0) = 0 and u'(1) = -pi: u = sin(pi x).
  writeFileSync(join(dir, 'p.yaml'), `name: poisson1d
inputs: { x: [0, 1] }
outputs: [u]
equations:
  pde: u_xx = -pi^2*sin(pi*x)
conditions:
  left: { on: x = 0, require: u = 0, points: 4 }
  right: { on: x = 1, require: u_x = -pi, points: 4 }
reference: { exact: sin(pi*x) }
model: { hidden: [16, 16], activation: tanh, adaptive: { mode: layer, n: 5 }, slope_recovery: 0.1 }
sampling: { interior: 64 }
training: { adam: { lr: 0.01, steps: 300 }, log_every: 100 }
output: { grid: { x: 51 } }
`);
  const r = laaf(['solve', 'p.yaml', '--out', 'run', '--quiet'], dir);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'completed');
  assert.ok(summary.final.rel_l2 < 0.1, `rel-L2 ${summary.final.rel_l2}`);
  const hist = readCsv(join(dir, 'run', 'history.csv'));
  assert.ok(Object.keys(hist[0]!).includes('na_2'));
  assert.ok(!existsSync(join(dir, 'runs')));
});
