/**
 * The step-path registry (src/step/): paths are tried in their order of preference, the
 * first that supports the query runs, and every path before it is recorded with its reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Mlp } from '../src/nn/mlp.js';
import { Rng } from '../src/domain/rng.js';
import { chooseStep, supported, unsupported, type StepPath, type StepQuery } from '../src/step/registry.js';
import { KERNELS_OFF_BY_SPEC, STEP_PATHS, stepFor, type StepOptions } from '../src/step/paths.js';
import { float64Blocker } from '../src/step/whole-path.js';
import { checkSpec, mlpConfig } from '../src/run/solve.js';
import { repoRoot } from './helpers.js';
import { join } from 'node:path';
import { samplePoints } from '../src/problem/build.js';
import { PointSets } from '../src/train/points.js';

function net(): Mlp {
  return new Mlp({ inputs: 2, hidden: [4], outputs: 1, activation: 'tanh', adaptive: { mode: 'layer', n: 2 }, init: 'xavier' }, new Rng(1));
}

/** A path that supports orders up to `max`, and counts the implementations it made. */
function fake(name: string, max: number): StepPath & { made: number } {
  const p = {
    name, kernel: true, made: 0,
    supports: (q: StepQuery) => (q.order <= max ? supported : unsupported(`order ${q.order} > ${max}`)),
    create: (m: Mlp) => {
      p.made++;
      return m;
    },
  };
  return p;
}

test('registry: the first path (in order) that supports the query runs; the ones before it say why not', async () => {
  await tf.setBackend('cpu');
  const m = net();
  const q = (order: number): StepQuery => ({ net: m.describe(), order, backend: 'cpu' });
  const a = fake('a', 1);
  const b = fake('b', 3);
  const c = fake('c', 99);
  const paths = [a, b, c];
  const one = chooseStep(paths, q(0), m);
  assert.equal(one.path.name, 'a');
  assert.deepEqual(one.declined, []);
  const two = chooseStep(paths, q(2), m);
  assert.equal(two.path.name, 'b');
  assert.deepEqual(two.declined, [{ path: 'a', reason: 'order 2 > 1' }]);
  const three = chooseStep(paths, q(5), m);
  assert.equal(three.path.name, 'c');
  assert.deepEqual(three.declined, [{ path: 'a', reason: 'order 5 > 1' }, { path: 'b', reason: 'order 5 > 3' }]);
  assert.deepEqual([a.made, b.made, c.made], [1, 1, 1], 'only the chosen path builds its implementation');
  assert.throws(() => chooseStep([a, b], q(7), m), /no step path supports this network \(a: order 7 > 1; b: order 7 > 3\)/);
  m.dispose();
});

test('registry: the last path runs everything; kernels off (model.fused: false, LAAF_FUSED=0) skip the kernel paths with that reason', async () => {
  await tf.setBackend('cpu');
  const m = net();
  const last = STEP_PATHS.at(-1)!;
  assert.equal(last.kernel, false);
  assert.equal(last.supports({ net: m.describe(), order: 40, backend: 'some-gpu' }).ok, true);
  const off = stepFor(m, 2, { kernelsOff: 'turned off' });
  assert.equal(off.path, last);
  assert.deepEqual(off.declined, STEP_PATHS.filter((p) => p.kernel && !p.wholeStep).map((p) => ({ path: p.name, reason: 'turned off' })));
  const saved = process.env['LAAF_FUSED'];
  process.env['LAAF_FUSED'] = '0';
  try {
    assert.ok(stepFor(m, 2).declined.every((d) => d.reason === 'LAAF_FUSED=0'));
  } finally {
    if (saved === undefined) delete process.env['LAAF_FUSED'];
    else process.env['LAAF_FUSED'] = saved;
  }
  m.dispose();
});

test('registry: a training step (StepQuery.run) asks the whole-step path first; the network\'s jets alone never list it', async () => {
  await tf.setBackend('cpu');
  const spec = join(repoRoot(), 'problems', 'burgers.yaml');
  const at = (set: string[], opts: StepOptions = {}) => {
    const { loaded, problem } = checkSpec(spec, set);
    const m = new Mlp(mlpConfig(loaded.spec, problem), new Rng(1));
    const run = { spec: loaded.spec, problem, points: PointSets.initial(problem, samplePoints(problem, new Rng(2)), new Rng(3)).map(), slope: { weight: 0, form: 'paper' as const } };
    const step = stepFor(m, 2, { ...opts, run });
    const jets = stepFor(m, 2, opts);
    m.dispose();
    return { step, jets, blocker: float64Blocker(loaded.spec, problem) };
  };
  const on = at([]);
  assert.equal(on.step.path.name, 'whole-step');
  assert.ok(on.step.impl.whole !== undefined, 'the whole-step path gives the trainer its flat loss and gradient');
  assert.deepEqual(on.step.declined, []);
  assert.equal(on.jets.path.name, 'fused-jets');
  assert.equal(on.blocker, null, 'float64 asks the same check');
  const off = at(['training.whole_step=false']);
  assert.equal(off.step.path.name, 'fused-jets');
  assert.equal(off.step.impl.whole, undefined);
  assert.deepEqual(off.step.declined, [{ path: 'whole-step', reason: 'turned off (training.whole_step: false)' }]);
  assert.equal(off.blocker, 'turned off (training.whole_step: false)');
  const noFused = at([], { kernelsOff: KERNELS_OFF_BY_SPEC });
  assert.equal(noFused.step.path.name, 'tfjs-ops');
  assert.deepEqual(noFused.step.declined.map((d) => d.path), ['whole-step', 'fused-jets']);
  assert.ok(noFused.step.declined.every((d) => d.reason === KERNELS_OFF_BY_SPEC));
  assert.deepEqual(noFused.jets.declined, [{ path: 'fused-jets', reason: KERNELS_OFF_BY_SPEC }]);
  const saved = process.env['LAAF_FUSED'];
  process.env['LAAF_FUSED'] = '0';
  try {
    assert.deepEqual(at([]).step.declined, [{ path: 'whole-step', reason: 'turned off (LAAF_FUSED=0)' }, { path: 'fused-jets', reason: 'LAAF_FUSED=0' }]);
  } finally {
    if (saved === undefined) delete process.env['LAAF_FUSED'];
    else process.env['LAAF_FUSED'] = saved;
  }
});
