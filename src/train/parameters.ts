/**
 * Trainable unknowns of inverse problems. Each is a scalar tf.Variable; a bounded one
 * is stored as an unconstrained raw value r with value lo + (hi − lo)·sigmoid(r), so
 * every optimizer step keeps it strictly inside its bounds.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '../problem/build.js';

export class TrainableParameters {
  readonly raw: tf.Variable[];

  constructor(readonly specs: Parameter[]) {
    this.raw = specs.map((p) => tf.variable(tf.scalar(toRaw(p, p.init)), true, `param_${p.name}`));
  }

  get names(): string[] {
    return this.specs.map((p) => p.name);
  }

  /** The parameter's value as a differentiable scalar. */
  value(k: number): tf.Scalar {
    const p = this.specs[k]!;
    const r = this.raw[k]!;
    if (!p.bounds) return r as tf.Scalar;
    const [lo, hi] = p.bounds;
    return tf.add(lo, tf.mul(hi - lo, tf.sigmoid(r))) as tf.Scalar;
  }

  /** Current values as numbers. */
  values(): number[] {
    return this.specs.map((p, k) => fromRaw(p, this.raw[k]!.dataSync()[0]!));
  }

  dispose(): void {
    for (const r of this.raw) r.dispose();
  }
}

function toRaw(p: Parameter, v: number): number {
  if (!p.bounds) return v;
  const [lo, hi] = p.bounds;
  const u = (v - lo) / (hi - lo);
  return Math.log(u / (1 - u));
}

function fromRaw(p: Parameter, r: number): number {
  if (!p.bounds) return r;
  const [lo, hi] = p.bounds;
  return lo + (hi - lo) / (1 + Math.exp(-r));
}
