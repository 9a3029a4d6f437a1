/**
 * Jet arithmetic on tfjs tensors (ARCHITECTURE.md, "Numerics").
 *
 * A `Jet` is one tensor per channel of a `JetPlan` (all the same shape): the value
 * and the input derivatives of some quantity, carried forward. Sum and scaling act
 * channelwise, products follow Leibniz, and an elementwise function f follows
 * Faà di Bruno, for which the caller supplies the derivative tower
 * `[f(z_0), f'(z_0), …, f^(maxOrder)(z_0)]` evaluated at the value channel.
 *
 * Everything here is built from ordinary first-order-differentiable tfjs ops, so a
 * loss built from jets can be differentiated once by `tf.variableGrads`.
 *
 * `SparseJet` (null = a channel known to be identically zero) lets callers skip
 * work for structurally zero channels, e.g. second derivatives of the inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { JetPlan } from './plan.js';

export type Jet = tf.Tensor[];
/** A jet where `null` marks a channel that is identically zero. Non-null entries may broadcast. */
export type SparseJet = (tf.Tensor | null)[];

function sumAll(ts: tf.Tensor[]): tf.Tensor {
  if (ts.length === 1) return ts[0]!;
  // addN needs equal shapes; fall back to pairwise add (broadcasting) otherwise.
  const s0 = ts[0]!.shape.join('x');
  if (ts.every((t) => t.shape.join('x') === s0)) return tf.addN(ts);
  return ts.reduce((acc, t) => tf.add(acc, t));
}

/**
 * Faà di Bruno on a sparse jet: h_α = Σ_k f^(k)(z_0) · Σ_{terms of order k} coef Π z_B.
 * Terms with a null factor are skipped; a channel with no surviving term is null.
 * The value channel of the result is `tower[0]`.
 */
export function jetComposeSparse(plan: JetPlan, z: SparseJet, tower: tf.Tensor[]): SparseJet {
  if (tower.length < plan.maxOrder + 1) {
    throw new Error(`jetCompose: tower has ${tower.length} entries, plan needs ${plan.maxOrder + 1}`);
  }
  const out: SparseJet = [tower[0]!];
  for (let c = 1; c < plan.channels.length; c++) {
    const byOrder = new Map<number, tf.Tensor[]>();
    for (const term of plan.faa[c]!) {
      let prod: tf.Tensor | null = null;
      let zero = false;
      for (const f of term.factors) {
        const zf = z[f];
        if (zf == null) {
          zero = true;
          break;
        }
        prod = prod === null ? zf : tf.mul(prod, zf);
      }
      if (zero || prod === null) continue;
      if (term.coef !== 1) prod = tf.mul(prod, term.coef);
      const list = byOrder.get(term.order);
      if (list) list.push(prod);
      else byOrder.set(term.order, [prod]);
    }
    if (byOrder.size === 0) {
      out.push(null);
      continue;
    }
    const parts: tf.Tensor[] = [];
    for (const [k, prods] of [...byOrder.entries()].sort((a, b) => a[0] - b[0])) {
      parts.push(tf.mul(tower[k]!, sumAll(prods)));
    }
    out.push(sumAll(parts));
  }
  return out;
}

/** h = f(z) channelwise by Faà di Bruno; tower[k] = f^(k)(z_0) for k = 0..plan.maxOrder. */
export function jetCompose(plan: JetPlan, z: Jet, tower: tf.Tensor[]): Jet {
  checkJet(plan, z, 'jetCompose');
  const h = jetComposeSparse(plan, z, tower);
  return h.map((t) => t ?? tf.zerosLike(tower[0]!));
}

/** (ab)_α = Σ coef a_a b_b over splittings of α (Leibniz). */
export function jetMul(plan: JetPlan, a: Jet, b: Jet): Jet {
  checkJet(plan, a, 'jetMul');
  checkJet(plan, b, 'jetMul');
  return plan.leibniz.map((terms) =>
    sumAll(
      terms.map((t) => {
        const p = tf.mul(a[t.a]!, b[t.b]!);
        return t.coef === 1 ? p : tf.mul(p, t.coef);
      }),
    ),
  );
}

export function jetAdd(a: Jet, b: Jet): Jet {
  if (a.length !== b.length) throw new Error(`jetAdd: jets have ${a.length} and ${b.length} channels`);
  return a.map((t, i) => tf.add(t, b[i]!));
}

/** Every channel multiplied by a constant (a number or a tensor that does not depend on the inputs). */
export function jetScale(a: Jet, s: tf.Tensor | number): Jet {
  return a.map((t) => tf.mul(t, s));
}

/** A quantity that does not depend on the inputs: value channel `value`, zeros elsewhere. */
export function jetConst(plan: JetPlan, value: tf.Tensor): Jet {
  return plan.channels.map((_, i) => (i === 0 ? value : tf.zerosLike(value)));
}

function checkJet(plan: JetPlan, j: Jet, what: string): void {
  if (j.length !== plan.channels.length) {
    throw new Error(`${what}: jet has ${j.length} channels, plan has ${plan.channels.length}`);
  }
}
