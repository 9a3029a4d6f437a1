/**
 * The PINN loss: every term's residual evaluated on its points from ONE jet forward
 * pass over all points, J = Σ W_term · mean(residual²) + W_a · S(a).
 * Residual expressions run on tfjs tensors through expr/'s tensorOps, so tfjs reverse
 * mode differentiates the whole loss once with respect to the parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Problem } from '../problem/build.js';
import { tensorOps, type DerivRef, type Env } from '../expr/index.js';
import { makePlan, type JetPlan } from '../jet/plan.js';
import type { Mlp } from '../nn/mlp.js';

export interface LossParts {
  total: tf.Scalar;
  /** weighted? no: the plain mean(residual²) of each term, in problem.terms order */
  terms: tf.Scalar[];
  /** S(a), unweighted (0 when off) */
  slopeRecovery: tf.Scalar;
}

export interface SlopeRecoveryOptions { weight: number; form: 'paper' | 'script' }

interface Block { start: number; n: number }

export class PinnLoss {
  readonly plan: JetPlan;
  private readonly X: tf.Tensor2D;
  private readonly blocks: Block[];
  private readonly inputCols: tf.Tensor2D[][];
  private readonly symbols: Map<string, tf.Scalar>;

  constructor(
    readonly problem: Problem,
    readonly model: Mlp,
    points: Map<string, Float64Array>,
    readonly slope: SlopeRecoveryOptions,
  ) {
    this.plan = makePlan(problem.inputs.length, problem.derivs.map((d) => d.channel));
    const d = problem.inputs.length;
    // Point sets shared by several terms (the interior) are stored once.
    const unique: Float64Array[] = [];
    const blockOf = new Map<Float64Array, Block>();
    let total = 0;
    for (const t of problem.terms) {
      const p = points.get(t.name);
      if (!p) throw new Error(`internal: no points for term ${t.name}`);
      if (!blockOf.has(p)) {
        blockOf.set(p, { start: total, n: p.length / d });
        total += p.length / d;
        unique.push(p);
      }
    }
    const all = new Float32Array(total * d);
    let off = 0;
    for (const p of unique) {
      all.set(p, off);
      off += p.length;
    }
    this.X = tf.tensor2d(all, [total, d]);
    this.blocks = problem.terms.map((t) => blockOf.get(points.get(t.name)!)!);
    this.inputCols = this.blocks.map((b) =>
      problem.inputs.map((_, j) => tf.slice(this.X, [b.start, j], [b.n, 1]) as tf.Tensor2D));
    this.symbols = new Map(Object.entries(problem.constants).map(([k, v]) => [k, tf.scalar(v)]));
  }

  /** Number of collocation points in the one forward pass. */
  get pointCount(): number {
    return this.X.shape[0];
  }

  /** Loss parts at the current parameters (call inside tf.tidy or an optimizer closure). */
  compute(): LossParts {
    const jets = this.model.forwardJet(this.plan, this.X);
    const terms = this.problem.terms.map((term, k) => {
      const b = this.blocks[k]!;
      const cache = new Map<string, tf.Tensor>();
      const env: Env<tf.Tensor> = {
        input: (j) => this.inputCols[k]![j]!,
        symbol: (s) => {
          const v = this.symbols.get(s);
          if (!v) throw new Error(`internal: unknown symbol ${s}`);
          return v;
        },
        deriv: (ref: DerivRef) => {
          const key = `${ref.output}|${ref.channel.join(',')}`;
          let v = cache.get(key);
          if (!v) {
            const jet = jets[this.plan.index(ref.channel)]!;
            v = tf.slice(jet, [b.start, ref.output], [b.n, 1]);
            cache.set(key, v);
          }
          return v;
        },
      };
      const r = term.residual.evaluate(tensorOps, env);
      return tf.mean(tf.square(r)) as tf.Scalar;
    });
    let total = tf.scalar(0) as tf.Scalar;
    this.problem.terms.forEach((t, k) => {
      total = tf.add(total, tf.mul(t.weight, terms[k]!));
    });
    const slopeRecovery = this.slope.weight > 0 ? this.model.slopeRecovery(this.slope.form) : tf.scalar(0);
    if (this.slope.weight > 0) total = tf.add(total, tf.mul(this.slope.weight, slopeRecovery));
    return { total, terms, slopeRecovery };
  }

  dispose(): void {
    this.X.dispose();
    for (const cols of this.inputCols) for (const c of cols) c.dispose();
    for (const s of this.symbols.values()) s.dispose();
  }
}
