/**
 * Problem features beyond equations on faces: data terms (regression, files, noise),
 * trainable parameters (inverse problems), periodic and point conditions, CSV references
 * and output transforms (hard constraints).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseSpec } from '../src/spec/load.js';
import { buildProblem, samplePoints } from '../src/problem/build.js';
import { selectBackend } from '../src/backend/select.js';
import { Rng } from '../src/domain/rng.js';
import { Mlp } from '../src/nn/mlp.js';
import { PinnLoss } from '../src/train/loss.js';
import { trainAdam } from '../src/train/adam.js';
import { mlpConfig } from '../src/run/solve.js';
import { laaf, tempDir } from './helpers.js';

await selectBackend('wasm');

function csvColumn(file: string, name: string): number[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const k = head!.split(',').indexOf(name);
  return rows.map((r) => Number(r.split(',')[k]));
}

test('inverse problem: a wave number is recovered within 2 % from 50 observations', async () => {
  const { spec } = parseSpec(`name: inv
inputs: { x: [0, 1] }
outputs: [u]
parameters:
  k: { init: 1.2, bounds: [0.5, 4], true_value: 2 }
equations:
  pde: u_xx/pi^2 + k^2*u = 0
data:
  obs: { target: sin(2*pi*x), points: 50 }
model: { hidden: [20, 20] }
sampling: { interior: 100 }
training: { seed: 7, adam: { lr: 0.01, steps: 1500 } }
`, 'inv.yaml');
  const problem = buildProblem(spec);
  const rng = new Rng(spec.training.seed);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const loss = new PinnLoss(problem, model, samplePoints(problem, rng.derive('points')), { weight: 0, form: 'paper' });
  assert.equal(loss.parameters.values()[0]!.toFixed(6), '1.200000');
  const r = await trainAdam(loss, { steps: 1500, lr: 0.01, logEvery: 500, evaluateErrors: () => [], onLog: () => {} });
  assert.equal(r.status, 'completed');
  const truth = problem.parameters[0]!.trueValue!;
  const err = Math.abs(loss.parameters.values()[0]! - truth) / Math.abs(truth);
  assert.ok(err! < 0.02, `k = ${loss.parameters.values()[0]} (error ${(100 * err!).toFixed(2)} %)`);
  loss.dispose();
  model.dispose();
});

test('bounded parameters stay inside their bounds', () => {
  const { spec } = parseSpec(`name: b
inputs: { x: [0, 1] }
outputs: [u]
parameters: { lam: { init: 0.9, bounds: [0, 1] }, free: -3 }
equations: { e: u_x = lam*u + free }
conditions: { c: { on: x = 0, require: u = 1 } }
`, 'b.yaml');
  const problem = buildProblem(spec);
  assert.deepEqual(problem.parameters.map((p) => p.name), ['lam', 'free']);
  const loss = new PinnLoss(problem, new Mlp(mlpConfig(spec, problem), new Rng(1)), samplePoints(problem, new Rng(2)), { weight: 0, form: 'paper' });
  const v = loss.parameters.values();
  assert.ok(Math.abs(v[0]! - 0.9) < 1e-6 && v[1] === -3);
  loss.parameters.raw[0]!.assign(tf.add(loss.parameters.raw[0]!, 100));
  assert.ok(loss.parameters.values()[0]! <= 1);
});

test('regression: a data term alone fits a discontinuous target', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'r.yaml'), `name: reg
inputs: { x: [-3, 3] }
outputs: [u]
data:
  fit: { target: "x <= 0 ? 0.2*sin(6*x) : 1 + 0.1*x*cos(18*x)", points: 200, sampling: grid }
reference: { exact: "x <= 0 ? 0.2*sin(6*x) : 1 + 0.1*x*cos(18*x)" }
model: { hidden: [30, 30], adaptive: { mode: layer, n: 10 }, slope_recovery: 1, init: normal }
training: { adam: { lr: 0.002, steps: 400 }, log_every: 200 }
output: { grid: { x: 301 } }
`);
  const r = laaf(['solve', 'r.yaml', '--out', 'run', '--quiet'], dir);
  assert.equal(r.code, 0, r.stderr);
  const fit = csvColumn(join(dir, 'run', 'history.csv'), 'fit');
  assert.ok(fit.at(-1)! < 0.2 * fit[0]!, `data loss ${fit[0]} -> ${fit.at(-1)}`);
});

test('observations from a CSV file with mapped columns; bad cells are located', () => {
  const dir = tempDir();
  const rows = Array.from({ length: 40 }, (_, i) => { const x = i / 39; return `${x},${Math.sin(Math.PI * x)}`; });
  writeFileSync(join(dir, 'obs.csv'), `position,value\n${rows.join('\n')}\n`);
  const spec = `name: f
inputs: { x: [0, 1] }
outputs: [u]
data:
  obs: { file: obs.csv, columns: { x: position, u: value } }
model: { hidden: [10] }
training: { adam: { lr: 0.01, steps: 200 }, log_every: 100 }
`;
  writeFileSync(join(dir, 'f.yaml'), spec);
  const ok = laaf(['solve', 'f.yaml', '--out', 'run', '--quiet'], dir);
  assert.equal(ok.code, 0, ok.stderr);
  const obs = csvColumn(join(dir, 'run', 'history.csv'), 'obs');
  assert.ok(obs.at(-1)! < obs[0]!);

  writeFileSync(join(dir, 'obs.csv'), `position,value\n0,0\n0.5,oops\n`);
  const bad = laaf(['validate', 'f.yaml'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^laaf: error: obs\.csv:3:5: 'oops' in column 'value' is not a finite number/);
  writeFileSync(join(dir, 'f.yaml'), spec.replace('u: value', 'u: val'));
  const missing = laaf(['validate', 'f.yaml'], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /obs\.csv:1:1: no column 'val' \(for u\)/);
  assert.deepEqual(readdirSync(dir).sort(), ['f.yaml', 'obs.csv', 'run']);
});

test('periodic and point conditions train an advection problem; a CSV reference interpolates', () => {
  const dir = tempDir();
  const lines = ['x,t,u'];
  for (let i = 0; i <= 40; i++) for (let j = 0; j <= 10; j++) {
    const x = (2 * i) / 40;
    const t = (0.5 * j) / 10;
    lines.push(`${x},${t},${Math.sin(Math.PI * (x - t))}`);
  }
  writeFileSync(join(dir, 'ref.csv'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'p.yaml'), `name: per
inputs: { x: [0, 2], t: [0, 0.5] }
outputs: [u]
equations:
  adv: u_t + u_x = 0
conditions:
  ic: { on: t = 0, require: u = sin(pi*x), points: 100 }
  pbc: { periodic: x, match: [u], points: 50 }
  pin: { at: [[1, 0.25], [0.5, 0.5]], require: u = sin(pi*(x - t)) }
reference: { file: ref.csv }
model: { hidden: [20, 20] }
sampling: { interior: 400 }
training: { adam: { lr: 0.005, steps: 500 }, log_every: 250 }
output: { grid: { x: 21, t: 6 } }
`);
  const r = laaf(['solve', 'p.yaml', '--out', 'run', '--quiet'], dir);
  assert.equal(r.code, 0, r.stderr);
  const rel = csvColumn(join(dir, 'run', 'history.csv'), 'rel_l2');
  assert.ok(rel.at(-1)! < 0.25 && rel.at(-1)! < 0.5 * rel[0]!, `rel-L2 ${rel[0]} -> ${rel.at(-1)}`);
  const pbc = csvColumn(join(dir, 'run', 'history.csv'), 'pbc');
  assert.ok(pbc.at(-1)! < 1e-2, `periodic mismatch ${pbc.at(-1)}`);
  // The interpolated reference equals the exact solution at the grid nodes it shares.
  const ref = csvColumn(join(dir, 'run', 'solution.csv'), 'u_ref');
  const xs = csvColumn(join(dir, 'run', 'solution.csv'), 'x');
  const ts = csvColumn(join(dir, 'run', 'solution.csv'), 't');
  ref.forEach((v, i) => assert.ok(Math.abs(v - Math.sin(Math.PI * (xs[i]! - ts[i]!))) < 2e-3));
});

test('an output transform imposes the initial condition exactly', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'h.yaml'), `name: hard
inputs: { x: [-1, 1], t: [0, 1] }
outputs: [u]
constants: { nu: 0.01/pi }
equations:
  burgers: u_t + u*u_x = nu*u_xx
transform: { u: t*(1 - x^2)*N - sin(pi*x) }
model: { hidden: [10, 10] }
sampling: { interior: 200 }
training: { adam: { steps: 20 } }
output: { grid: { x: 11, t: 3 } }
`);
  const r = laaf(['solve', 'h.yaml', '--out', 'run', '--quiet'], dir);
  assert.equal(r.code, 0, r.stderr);
  const x = csvColumn(join(dir, 'run', 'solution.csv'), 'x');
  const t = csvColumn(join(dir, 'run', 'solution.csv'), 't');
  const u = csvColumn(join(dir, 'run', 'solution.csv'), 'u');
  u.forEach((v, i) => {
    if (t[i] === 0) assert.ok(Math.abs(v + Math.sin(Math.PI * x[i]!)) < 1e-6, `u(${x[i]}, 0) = ${v}`);
    if (Math.abs(x[i]!) === 1) assert.ok(Math.abs(v) < 1e-6, `u(${x[i]}, ${t[i]}) = ${v}`);
  });
  writeFileSync(join(dir, 'h.yaml'), readFileSync(join(dir, 'h.yaml'), 'utf8').replace('*N -', '*N_x -'));
  const bad = laaf(['validate', 'h.yaml'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /h\.yaml:7:\d+: a transform uses the raw network output, not its derivatives/);
});

test('inverse runs write parameters.csv and report the parameters in summary.json', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'i.yaml'), `name: inv
inputs: { x: [0, 1] }
outputs: [u]
parameters:
  k: { init: 1.2, bounds: [0.5, 4], true_value: 2 }
  bias: 0.1
equations:
  pde: u_xx/pi^2 + k^2*u = bias*0
data:
  obs: { target: sin(2*pi*x), points: 50 }
model: { hidden: [20, 20] }
sampling: { interior: 100 }
training: { seed: 7, adam: { lr: 0.01, steps: 200 }, log_every: 100 }
`);
  const r = laaf(['solve', 'i.yaml', '--out', 'run'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}k = [\d.]+ \(true 2, error [\d.]+ %\)$/m);
  const k = csvColumn(join(dir, 'run', 'parameters.csv'), 'k');
  assert.deepEqual(csvColumn(join(dir, 'run', 'parameters.csv'), 'step'), [0, 100, 200]);
  assert.ok(Math.abs(k[0]! - 1.2) < 1e-6 && k[2] !== k[0]);
  const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
  assert.ok(Math.abs(summary.final.parameters.k.value - k[2]!) < 1e-6);
  assert.ok(Math.abs(summary.final.parameters.k.rel_error - Math.abs(k[2]! - 2) / 2) < 1e-7);
  assert.deepEqual(Object.keys(summary.final.parameters.bias), ['value']);
});
