/** The trained network on a set of points, as float64 arrays per output. */
import * as tf from '@tensorflow/tfjs-core';
import type { Mlp } from '../nn/mlp.js';

export function predict(model: Mlp, points: Float64Array, d: number, batch = 16384): Float64Array[] {
  const n = points.length / d;
  const outs = model.cfg.outputs;
  const result = Array.from({ length: outs }, () => new Float64Array(n));
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const values = tf.tidy(() => {
      const X = tf.tensor2d(Float32Array.from(points.subarray(s * d, (s + m) * d)), [m, d]);
      return model.forward(X).dataSync();
    });
    for (let i = 0; i < m; i++) for (let k = 0; k < outs; k++) result[k]![s + i] = values[i * outs + k]!;
  }
  return result;
}
