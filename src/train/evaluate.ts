/** The trained model (network and output transforms) on a set of points, as float64 arrays per output. */
import * as tf from '@tensorflow/tfjs-core';
import type { Mlp } from '../nn/mlp.js';
import type { Problem } from '../problem/build.js';
import { makePlan } from '../jet/plan.js';
import { stepFor, type StepOptions } from '../step/paths.js';
import { hasTransforms, transformJets } from './transform.js';
import type { DerivRef } from '../expr/index.js';

/** Outputs at `points` (row-major [n, d]); with `problem`, its output transforms are applied. */
export function predict(model: Mlp, points: Float64Array, d: number, problem?: Problem, batch = 16384, step: StepOptions = {}): Float64Array[] {
  const n = points.length / d;
  const outs = model.cfg.outputs;
  const result = Array.from({ length: outs }, () => new Float64Array(n));
  const plan = problem && hasTransforms(problem) ? makePlan(d, []) : undefined;
  const net = stepFor(model, 0, step).impl;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const values = tf.tidy(() => {
      const X = tf.tensor2d(Float32Array.from(points.subarray(s * d, (s + m) * d)), [m, d]);
      if (!plan) return net.forward(X).dataSync();
      return transformJets(problem!, plan, X, net.forwardJet(plan, X))[0]!.dataSync();
    });
    for (let i = 0; i < m; i++) for (let k = 0; k < outs; k++) result[k]![s + i] = values[i * outs + k]!;
  }
  return result;
}

/**
 * Outputs and chosen derivatives (each an output and a channel, e.g. u_xx = {0, [0, 0]})
 * at `points`, through the jets (output transforms included). Returns one float64
 * array per output, then one per derivative.
 */
export function predictDerivatives(model: Mlp, points: Float64Array, d: number, problem: Problem, derivs: DerivRef[], batch = 4096, step: StepOptions = {}): Float64Array[] {
  const n = points.length / d;
  const outs = model.cfg.outputs;
  const plan = makePlan(d, derivs.map((r) => r.channel));
  const net = stepFor(model, plan.maxOrder, step).impl;
  const columns = [
    ...Array.from({ length: outs }, (_, k) => ({ output: k, channel: 0 })),
    ...derivs.map((r) => ({ output: r.output, channel: plan.index(r.channel) })),
  ];
  const result = columns.map(() => new Float64Array(n));
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const values = tf.tidy(() => {
      const X = tf.tensor2d(Float32Array.from(points.subarray(s * d, (s + m) * d)), [m, d]);
      const jets = transformJets(problem, plan, X, net.forwardJet(plan, X));
      return jets.map((j) => j.dataSync());
    });
    columns.forEach((c, j) => {
      const v = values[c.channel]!;
      for (let i = 0; i < m; i++) result[j]![s + i] = v[i * outs + c.output]!;
    });
  }
  return result;
}
