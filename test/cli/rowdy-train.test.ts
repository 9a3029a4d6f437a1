/**
 * A high-frequency regression smoke test of the Rowdy activation (src/nn/rowdy.ts): 4 × 300
 * Adam steps in process, so it lives with the long tests. Backend: cpu, or LAAF_TEST_BACKEND=wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/backend/gradients.js'; // tfjs-core's Node build registers no gradients by itself
import { Mlp } from '../../src/nn/mlp.js';
import type { RowdyConfig } from '../../src/nn/rowdy.js';
import { Rng } from '../../src/domain/rng.js';
import { stepFor } from '../../src/step/paths.js';

const BACKEND = process.env.LAAF_TEST_BACKEND ?? 'cpu';
if (BACKEND === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
assert.ok(await tf.setBackend(BACKEND), `backend ${BACKEND}`);

/**
 * High-frequency regression, u = sin(20x) + 0.5x on [−1, 1] (200 grid points), by a
 * direct mean-squared loss on forward(): 2×20 tanh nets, Xavier init, Adam lr 5e-3,
 * 300 steps, seeds 1 and 2, identical weights for the plain and the Rowdy net
 * (K = 10, n_R = 10, sin, adaptive mode none). The plain net fits only the trend
 * (loss ≈ var(sin 20x) ≈ 0.49); the Rowdy net fits the oscillation. Measured on cpu
 * (seeds 1..5): plain 0.49; Rowdy 4e-3, 7e-4, 8e-2, 2e-4, 2e-3. Required here:
 * plain > 0.4 and Rowdy < 0.1 × plain for both seeds.
 */
test('high-frequency smoke test: Rowdy fits sin(20x) + 0.5x where plain tanh fits only the trend', () => {
  const N = 200;
  const xs = Array.from({ length: N }, (_, i) => -1 + (2 * i) / (N - 1));
  const X = tf.tensor2d(xs.map((x) => [x]));
  const Y = tf.tensor2d(xs.map((x) => [Math.sin(20 * x) + 0.5 * x]));
  const fit = (rowdy: RowdyConfig | undefined, seed: number): number => {
    const m = new Mlp({ inputs: 1, hidden: [20, 20], outputs: 1, activation: 'tanh', adaptive: { mode: 'none', n: 1 }, init: 'xavier', ...(rowdy ? { rowdy } : {}) }, new Rng(seed));
    const opt = tf.train.adam(5e-3);
    const vars = m.trainableVariables();
    let loss = NaN;
    for (let s = 0; s < 300; s++) {
      const c = opt.minimize(() => tf.mean(tf.square(tf.sub(stepFor(m, 0).impl.forward(X), Y))) as tf.Scalar, true, vars)!;
      loss = c.dataSync()[0]!;
      c.dispose();
    }
    opt.dispose();
    m.dispose();
    return loss;
  };
  for (const seed of [1, 2]) {
    const plain = fit(undefined, seed);
    const rowdy = fit({ K: 10, family: 'sin', n: 10 }, seed);
    assert.ok(plain > 0.4, `seed ${seed}: plain tanh loss ${plain} (expected to fit only the trend)`);
    assert.ok(rowdy < 0.1 * plain, `seed ${seed}: Rowdy loss ${rowdy} vs plain ${plain}`);
  }
  tf.dispose([X, Y]);
});
