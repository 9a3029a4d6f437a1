/** Trainable parameters (inverse problems), in process: bounds. The engine features end to end: test/cli/engine-features.test.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { parseSpec } from '../src/spec/load.js';
import { buildProblem, samplePoints } from '../src/problem/build.js';
import { selectBackend } from '../src/backend/select.js';
import { Rng } from '../src/domain/rng.js';
import { Mlp } from '../src/nn/mlp.js';
import { PinnLoss } from '../src/train/loss.js';
import { mlpConfig } from '../src/run/solve.js';

await selectBackend('wasm');

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
