/** The trained model (network and output transforms) on a set of points, as float64 arrays per output. */
import * as tf from '@tensorflow/tfjs-core';
import type { Mlp } from '../nn/mlp.js';
import type { Problem } from '../problem/build.js';
import { makePlan } from '../jet/plan.js';
import { hasTransforms, transformJets } from './transform.js';

/** Outputs at `points` (row-major [n, d]); with `problem`, its output transforms are applied. */
export function predict(model: Mlp, points: Float64Array, d: number, problem?: Problem, batch = 16384): Float64Array[] {
  const n = points.length / d;
  const outs = model.cfg.outputs;
  const result = Array.from({ length: outs }, () => new Float64Array(n));
  const plan = problem && hasTransforms(problem) ? makePlan(d, []) : undefined;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const values = tf.tidy(() => {
      const X = tf.tensor2d(Float32Array.from(points.subarray(s * d, (s + m) * d)), [m, d]);
      if (!plan) return model.forward(X).dataSync();
      return transformJets(problem!, plan, X, model.forwardJet(plan, X))[0]!.dataSync();
    });
    for (let i = 0; i < m; i++) for (let k = 0; k < outs; k++) result[k]![s + i] = values[i * outs + k]!;
  }
  return result;
}
