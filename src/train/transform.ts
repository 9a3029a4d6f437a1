/**
 * Output transforms (hard constraints): the network's raw outputs N replaced by
 * expressions in the inputs and N, e.g. u = t*(1 - x^2)*N - sin(pi*x). The expression is
 * evaluated on jets (src/jet/expr-ops.ts), so every derivative channel of u is exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Problem } from '../problem/build.js';
import { tensorOps } from '../expr/tensor-ops.js';
import { jetOps } from '../jet/expr-ops.js';
import type { JetPlan } from '../jet/plan.js';

export function hasTransforms(problem: Problem): boolean {
  return problem.transforms.some((t) => t !== null);
}

/**
 * Jets of the transformed outputs from the raw network jets (one [N, outputs] tensor
 * per plan channel). Call inside tf.tidy or a gradient closure.
 */
export function transformJets(problem: Problem, plan: JetPlan, X: tf.Tensor2D, jets: tf.Tensor2D[]): tf.Tensor2D[] {
  if (!hasTransforms(problem)) return jets;
  const N = X.shape[0];
  const ops = jetOps(plan, tensorOps);
  const raw = (o: number) => jets.map((j) => tf.slice(j, [0, o], [N, 1]));
  const inputs = problem.inputs.map((_, i) => ops.input(i, tf.slice(X, [0, i], [N, 1])));
  const perOutput = problem.outputs.map((_, k) => {
    const t = problem.transforms[k];
    if (!t) return raw(k);
    return t.evaluate(ops, {
      input: (i) => inputs[i]!,
      symbol: (s) => ops.constant(problem.constants[s]!),
      deriv: (ref) => raw(ref.output % problem.outputs.length),
    });
  });
  return plan.channels.map((_, c) =>
    tf.concat(perOutput.map((jet) => {
      const v = jet[c];
      return v === null || v === undefined ? tf.zeros([N, 1]) : tf.broadcastTo(v, [N, 1]);
    }), 1) as tf.Tensor2D);
}
