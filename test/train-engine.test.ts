/**
 * Pieces of the training engine: learning-rate schedules, the hand-written Adam (same
 * updates as tfjs's, exact state round trip), per-term loss weights, resampling and
 * residual-based refinement, the reopened CSV log and the checkpoint codec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { learningRate } from '../src/train/schedule.js';
import { AdamOptimizer } from '../src/train/adam-optimizer.js';
import { PointSets } from '../src/train/points.js';
import { evaluateNow } from '../src/train/trainer.js';
import { PinnLoss } from '../src/train/loss.js';
import { CsvLog, CsvLogError } from '../src/io/files.js';
import { readCheckpoint, writeCheckpoint } from '../src/io/checkpoint.js';
import { parseSpec } from '../src/spec/load.js';
import { buildProblem, samplePoints } from '../src/problem/build.js';
import { selectBackend } from '../src/backend/select.js';
import { Rng } from '../src/domain/rng.js';
import { Mlp } from '../src/nn/mlp.js';
import { mlpConfig } from '../src/run/solve.js';
import { tempDir } from './helpers.js';

await selectBackend('wasm');

test('learning-rate schedules', () => {
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-15 * Math.abs(b), `${a} vs ${b}`);
  assert.equal(learningRate({ kind: 'constant' }, 0.1, 500, 1000), 0.1);
  const step = { kind: 'step' as const, every: 100, factor: 0.5 };
  assert.deepEqual([0, 99, 100, 199, 200, 450].map((s) => learningRate(step, 0.1, s, 1000)), [0.1, 0.1, 0.05, 0.05, 0.025, 0.1 / 16]);
  const exp = { kind: 'exponential' as const, every: 100, factor: 0.5 };
  close(learningRate(exp, 0.1, 50, 1000), 0.1 / Math.SQRT2);
  close(learningRate(exp, 0.1, 200, 1000), 0.025);
  const cos = { kind: 'cosine' as const, min_lr: 1e-4 };
  assert.equal(learningRate(cos, 0.1, 0, 1000), 0.1);
  close(learningRate(cos, 0.1, 500, 1000), (0.1 + 1e-4) / 2);
  close(learningRate(cos, 0.1, 1000, 1000), 1e-4);
});

test('hand-written Adam follows tfjs Adam, and its saved state continues exactly', () => {
  // f(x) = Σ c_i (x_i − t_i)² on two variables.
  const target = [tf.tensor([1, -2, 3]), tf.tensor([[0.5, 4]])];
  const start = [[0, 0, 0], [[0, 0]]] as const;
  const makeVars = () => [tf.variable(tf.tensor(start[0] as unknown as number[])), tf.variable(tf.tensor(start[1] as unknown as number[][]))];
  const loss = (vs: tf.Variable[]) => tf.addN(vs.map((v, i) => tf.sum(tf.mul(tf.square(tf.sub(v, target[i]!)), i + 1)))) as tf.Scalar;
  const grads = (vs: tf.Variable[]) => {
    const { grads: g } = tf.variableGrads(() => loss(vs), vs);
    return vs.map((v) => g[v.name]!);
  };

  const ours = makeVars();
  const adam = new AdamOptimizer(ours);
  const theirs = makeVars();
  const ref = tf.train.adam(0.05, 0.9, 0.999, 1e-8);
  for (let k = 0; k < 30; k++) {
    adam.apply(grads(ours), 0.05);
    ref.minimize(() => loss(theirs), false, theirs);
  }
  ours.forEach((v, i) => {
    const a = v.dataSync();
    const b = theirs[i]!.dataSync();
    for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j]! - b[j]!) < 1e-5, `variable ${i}[${j}]: ${a[j]} vs ${b[j]}`);
  });

  // Save after 30 steps, run 20 more; restore into fresh variables and run the same 20.
  const saved = adam.state();
  const values = ours.map((v) => Float32Array.from(v.dataSync()));
  for (let k = 0; k < 20; k++) adam.apply(grads(ours), 0.02);
  const again = makeVars();
  again.forEach((v, i) => v.assign(tf.tensor(values[i]!, v.shape)));
  const adam2 = new AdamOptimizer(again);
  adam2.load(saved);
  for (let k = 0; k < 20; k++) adam2.apply(grads(again), 0.02);
  assert.equal(adam2.steps, 50);
  again.forEach((v, i) => assert.deepEqual(Array.from(v.dataSync()), Array.from(ours[i]!.dataSync())));
});

const SPEC = `name: w
inputs: { x: [0, 1], t: [0, 1] }
outputs: [u]
equations:
  heat: { require: u_t = 0.1*u_xx, weight: 3 }
conditions:
  initial: { on: t = 0, require: u = sin(pi*x), points: 20, weight: 0.5 }
  sides: { on: [x = 0, x = 1], require: u = 0, points: 10 }
model: { hidden: [8, 8] }
sampling: { interior: 50 }
`;

test('per-term weights: the loss is Σ W_term · mean(residual²)', () => {
  const { spec } = parseSpec(SPEC, 'w.yaml');
  const problem = buildProblem(spec);
  const rng = new Rng(1);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const loss = new PinnLoss(problem, model, samplePoints(problem, rng.derive('points')), { weight: 0, form: 'paper' });
  const v = evaluateNow(loss);
  const [heat, initial, sides] = v.terms as [number, number, number];
  assert.ok(heat > 0 && initial > 0 && sides > 0);
  assert.ok(Math.abs(v.total - (3 * heat + 0.5 * initial + sides)) <= 1e-6 * v.total, `${v.total} vs ${3 * heat + 0.5 * initial + sides}`);
  loss.dispose();
  model.dispose();
});

test('resampling draws new interior points, seeded; refinement adds the candidates with the largest residual', () => {
  const { spec } = parseSpec(SPEC, 'w.yaml');
  const problem = buildProblem(spec);
  const rng = new Rng(1);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const first = samplePoints(problem, rng.derive('points'));
  const sets = PointSets.initial(problem, first, rng.derive('training'));
  const twin = PointSets.fromState(problem, structuredClone(sets.state()));
  const loss = new PinnLoss(problem, model, sets.map(), { weight: 0, form: 'paper' });

  sets.resample({ every: 1, conditions: false });
  twin.resample({ every: 1, conditions: false });
  const m = sets.map();
  assert.notDeepEqual(Array.from(m.get('heat')!), Array.from(first.get('heat')!), 'new interior points');
  assert.equal(m.get('heat')!.length, first.get('heat')!.length);
  assert.equal(m.get('initial'), first.get('initial'), 'conditions kept unless asked');
  assert.deepEqual(Array.from(twin.map().get('heat')!), Array.from(m.get('heat')!), 'same RNG state, same points');
  sets.resample({ every: 1, conditions: true });
  assert.notDeepEqual(Array.from(sets.map().get('initial')!), Array.from(first.get('initial')!));
  for (let i = 0; i < 20; i++) assert.equal(sets.map().get('initial')![2 * i + 1], 0, 'initial points stay on t = 0');

  loss.setPoints(sets.map());
  const before = sets.map().get('heat')!.length / 2;
  sets.refine(loss, { every: 1, candidates: 400, add: 15 });
  const after = sets.map().get('heat')!;
  assert.equal(after.length / 2, before + 15);
  assert.equal(sets.addedCount, 15);
  // The added points are the worst: their residual is at least that of every interior point drawn at random.
  const r = loss.equationResiduals();
  assert.equal(r.length, before + 15);
  const added = Array.from(r.subarray(before));
  const base = Array.from(r.subarray(0, before)).sort((a, b) => a - b);
  const median = base[Math.floor(base.length / 2)]!;
  assert.ok(Math.min(...added) >= median, `added ${Math.min(...added)} vs median ${median}`);
  // Refinement points survive a resample.
  sets.resample({ every: 1, conditions: false });
  assert.equal(sets.map().get('heat')!.length / 2, before + 15);
  assert.deepEqual(Array.from(sets.map().get('heat')!.subarray(2 * before)), Array.from(after.subarray(2 * before)));
  loss.dispose();
  model.dispose();
});

test('a reopened CSV log drops a half-written last line and skips rows it already has', () => {
  const dir = tempDir();
  const path = join(dir, 'h.csv');
  const log = new CsvLog(path, ['step', 'loss']);
  log.append([0, 1.5]);
  log.append([10, 0.5]);
  writeFileSync(path, `${readFileSync(path, 'utf8')}20,0.2`); // killed while writing
  const again = CsvLog.reopen(path, ['step', 'loss']);
  assert.equal(again.lastKey, 10);
  assert.equal(readFileSync(path, 'utf8'), 'step,loss\n0,1.5\n10,0.5\n');
  again.append([10, 0.5]);
  again.append([20, 0.25]);
  assert.equal(readFileSync(path, 'utf8'), 'step,loss\n0,1.5\n10,0.5\n20,0.25\n');
  assert.throws(() => CsvLog.reopen(path, ['step', 'other']), CsvLogError);
});

test('checkpoint codec: typed arrays round-trip exactly', () => {
  const dir = tempDir();
  const f32 = Float32Array.from([1 / 3, -0, 3.4e38, 1e-45]);
  const f64 = Float64Array.from([Math.PI, 1e-300, -2.5]);
  writeCheckpoint(dir, { train: { step: 7, variables: [f32], points: { interior: f64 }, f: 0.125, list: [1, 2] } });
  const c = readCheckpoint(dir) as { train: { step: number; variables: Float32Array[]; points: { interior: Float64Array }; f: number; list: number[] } };
  assert.equal(c.train.step, 7);
  assert.ok(c.train.variables[0] instanceof Float32Array);
  assert.deepEqual(Array.from(c.train.variables[0]!), Array.from(f32));
  assert.ok(Object.is(c.train.variables[0]![1], -0));
  assert.deepEqual(Array.from(c.train.points.interior), Array.from(f64));
  assert.deepEqual(c.train.list, [1, 2]);
  writeFileSync(join(dir, 'checkpoint.json'), '{"format":"other"}');
  assert.throws(() => readCheckpoint(dir), /not a laaf checkpoint/);
});
