/**
 * The PINN loss: every term's residual evaluated on its points from ONE jet forward
 * pass over all points, J = Σ W_term · mean(residual²) + W_a · S(a).
 * Periodic terms compare the two halves of their point block; data terms compare the
 * output values with fixed targets.
 * Residual expressions run on tfjs tensors through expr/'s tensorOps, so tfjs reverse
 * mode differentiates the whole loss once with respect to the parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Problem } from '../problem/build.js';
import { layoutPoints, type PointBlock } from '../problem/layout.js';
import type { DerivRef, Env } from '../expr/index.js';
import { tensorOps } from '../expr/tensor-ops.js';
import { makePlan, type JetPlan } from '../jet/plan.js';
import type { Mlp } from '../nn/mlp.js';
import { stepFor, type StepOptions } from '../step/paths.js';
import type { StepChoice } from '../step/registry.js';
import { TrainableParameters } from './parameters.js';
import { transformJets } from './transform.js';

export interface LossParts {
  total: tf.Scalar;
  /** weighted? no: the plain mean(residual²) of each term, in problem.terms order */
  terms: tf.Scalar[];
  /** S(a), unweighted (0 when off) */
  slopeRecovery: tf.Scalar;
}

export interface SlopeRecoveryOptions { weight: number; form: 'paper' | 'script' }

export class PinnLoss {
  readonly plan: JetPlan;
  private X!: tf.Tensor2D;
  private blocks!: PointBlock[];
  private inputCols!: tf.Tensor2D[][];
  private readonly symbols: Map<string, tf.Scalar>;
  /** data terms: one [n, 1] target tensor per observed output */
  private readonly targets: tf.Tensor2D[][];
  /** unknown constants of inverse problems */
  readonly parameters: TrainableParameters;
  /** the step path that computes the network's jets for this loss, and why the preferred ones did not (src/step/) */
  readonly path: StepChoice;

  constructor(
    readonly problem: Problem,
    readonly model: Mlp,
    points: Map<string, Float64Array>,
    readonly slope: SlopeRecoveryOptions,
    step: StepOptions = {},
  ) {
    this.plan = makePlan(problem.inputs.length, problem.derivs.map((d) => d.channel));
    this.path = stepFor(model, this.plan.maxOrder, step);
    this.layout(points);
    this.symbols = new Map(Object.entries(problem.constants).map(([k, v]) => [k, tf.scalar(v)]));
    this.targets = problem.terms.map((t, k) =>
      t.kind === 'data' ? t.targets.map((v) => tf.tensor2d(Float32Array.from(v), [this.blocks[k]!.n, 1])) : []);
    this.parameters = new TrainableParameters(problem.parameters);
  }

  /** Lay the point sets out as one [N, d] tensor; sets shared by several terms (the interior) are stored once. */
  private layout(points: Map<string, Float64Array>): void {
    const problem = this.problem;
    const d = problem.inputs.length;
    const { X, N, blocks } = layoutPoints(problem, points);
    this.X = tf.tensor2d(Float32Array.from(X), [N, d]);
    this.blocks = blocks;
    this.inputCols = this.blocks.map((b) =>
      problem.inputs.map((_, j) => tf.slice(this.X, [b.start, j], [b.n, 1]) as tf.Tensor2D));
  }

  /**
   * Replace the point sets (resampling, adaptive refinement) without rebuilding the loss.
   * Data terms keep their targets, so their point counts must not change.
   */
  setPoints(points: Map<string, Float64Array>): void {
    const d = this.problem.inputs.length;
    this.problem.terms.forEach((t, k) => {
      if (t.kind === 'data' && points.get(t.name)?.length !== this.blocks[k]!.n * d) throw new Error(`internal: data term ${t.name} changed its point count`);
    });
    const old = { X: this.X, cols: this.inputCols };
    this.layout(points);
    old.X.dispose();
    for (const cols of old.cols) for (const c of cols) c.dispose();
  }

  /**
   * Σ over the equation terms of the squared residual at each interior point (the
   * points given to the equations), for residual-based refinement. Empty without equations.
   */
  equationResiduals(): Float64Array {
    const k0 = this.problem.terms.findIndex((t) => t.kind === 'equation');
    if (k0 < 0) return new Float64Array(0);
    const values = tf.tidy(() => {
      const sq = this.squares();
      let sum: tf.Tensor | undefined;
      this.problem.terms.forEach((t, k) => {
        if (t.kind === 'equation') sum = sum ? tf.add(sum, sq[k]!) : sq[k]!;
      });
      return tf.reshape(sum!, [-1]).dataSync();
    });
    return Float64Array.from(values);
  }

  /** Number of collocation points in the one forward pass. */
  get pointCount(): number {
    return this.X.shape[0];
  }

  /** Every trainable variable: the network's and the unknown parameters'. */
  variables(): tf.Variable[] {
    return [...this.model.trainableVariables(), ...this.parameters.raw];
  }

  /**
   * Loss parts at the current parameters (call inside tf.tidy or an optimizer closure).
   * `slopeWeight` replaces W_a in the total (an L-BFGS phase's own weight). The total is
   * summed from its parts, never as J − ΔW·S: with S(a) near 1 and residuals near 1e-4,
   * that difference would round J to steps of ~6e-8 in float32 and blind a line search.
   */
  compute(slopeWeight = this.slope.weight): LossParts {
    const terms = this.squares().map((sq) => tf.mean(sq) as tf.Scalar);
    let total = tf.scalar(0) as tf.Scalar;
    this.problem.terms.forEach((t, k) => {
      total = tf.add(total, tf.mul(t.weight, terms[k]!));
    });
    const slopeRecovery = this.slope.weight > 0 || slopeWeight > 0 ? this.model.slopeRecovery(this.slope.form) : tf.scalar(0);
    if (slopeWeight > 0) total = tf.add(total, tf.mul(slopeWeight, slopeRecovery));
    return { total, terms, slopeRecovery };
  }

  /** Per term, its squared residuals (one per point, or per point and matched quantity). */
  private squares(): tf.Tensor[] {
    const jets = transformJets(this.problem, this.plan, this.X, this.path.impl.forwardJet(this.plan, this.X));
    const paramValues = new Map<string, tf.Tensor>();
    const symbol = (s: string): tf.Tensor => {
      const c = this.symbols.get(s);
      if (c) return c;
      let v = paramValues.get(s);
      if (!v) {
        const k = this.parameters.names.indexOf(s);
        if (k < 0) throw new Error(`internal: unknown symbol ${s}`);
        v = this.parameters.value(k);
        paramValues.set(s, v);
      }
      return v;
    };
    return this.problem.terms.map((term, k) => {
      const b = this.blocks[k]!;
      const column = (output: number, channel: readonly number[]) =>
        tf.slice(jets[this.plan.index(channel)]!, [b.start, output], [b.n, 1]);
      if (term.kind === 'data') {
        const diffs = term.outputs.map((o, j) => tf.sub(column(o, []), this.targets[k]![j]!));
        return tf.square(diffs.length === 1 ? diffs[0]! : tf.concat(diffs, 0));
      }
      const cache = new Map<string, tf.Tensor>();
      const env: Env<tf.Tensor> = {
        input: (j) => this.inputCols[k]![j]!,
        symbol,
        deriv: (ref: DerivRef) => {
          const key = `${ref.output}|${ref.channel.join(',')}`;
          let v = cache.get(key);
          if (!v) {
            v = column(ref.output, ref.channel);
            cache.set(key, v);
          }
          return v;
        },
      };
      if (term.kind === 'periodic') {
        // The block is [lo-face points; the same points on the hi face].
        const half = b.n / 2;
        const diffs = term.match.map((m) => {
          const v = tf.broadcastTo(m.evaluate(tensorOps, env), [b.n, 1]);
          return tf.sub(tf.slice(v, [half, 0], [half, 1]), tf.slice(v, [0, 0], [half, 1]));
        });
        return tf.square(diffs.length === 1 ? diffs[0]! : tf.concat(diffs, 0));
      }
      // A residual that does not depend on the points (a constant) is broadcast to them.
      const r = term.residual.evaluate(tensorOps, env);
      return tf.square(r.shape[0] === b.n ? r : tf.broadcastTo(r, [b.n, 1]));
    });
  }

  dispose(): void {
    this.X.dispose();
    for (const cols of this.inputCols) for (const c of cols) c.dispose();
    for (const s of this.symbols.values()) s.dispose();
    for (const ts of this.targets) for (const t of ts) t.dispose();
    this.parameters.dispose();
  }
}
