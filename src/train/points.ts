/**
 * The training points as they change during a run: the interior set the equations
 * share (resampled every K steps if asked), points added by residual-based refinement
 * (kept across resamples), and the condition sets. A seeded RNG drives every change;
 * its state and the current sets go into checkpoints, so a resumed run sees the same
 * points as an uninterrupted one.
 */
import { Rng, type RngState } from '../domain/rng.js';
import { sampleBox } from '../domain/sampling.js';
import { samplePoints, type Problem } from '../problem/build.js';
import type { PinnLoss } from './loss.js';

export interface ResampleOptions {
  /** resample every this many Adam steps */
  every: number;
  /** also resample the condition points on faces (default: only the interior) */
  conditions: boolean;
}

export interface RefineOptions {
  /** refine every this many Adam steps */
  every: number;
  /** candidate points drawn uniformly in the box each time */
  candidates: number;
  /** the candidates with the largest equation residual that are added */
  add: number;
}

export interface PointState {
  rng: RngState;
  interior: Float64Array;
  added: Float64Array;
  /** sampled condition sets (face and periodic conditions), by term name */
  conditions: Record<string, Float64Array>;
}

export class PointSets {
  private interior: Float64Array;
  private added: Float64Array;
  private conditions: Map<string, Float64Array>;
  private cached?: Map<string, Float64Array>;

  private constructor(readonly problem: Problem, private rng: Rng, interior: Float64Array, added: Float64Array, conditions: Map<string, Float64Array>) {
    this.interior = interior;
    this.added = added;
    this.conditions = conditions;
  }

  /** The run's first points (problem/'s samplePoints) and the RNG for later changes. */
  static initial(problem: Problem, points: Map<string, Float64Array>, rng: Rng): PointSets {
    const eq = problem.terms.find((t) => t.kind === 'equation');
    const interior = eq ? points.get(eq.name)! : new Float64Array(0);
    return new PointSets(problem, rng, interior, new Float64Array(0), sampledConditions(problem, points));
  }

  static fromState(problem: Problem, s: PointState): PointSets {
    const d = problem.inputs.length;
    const conditions = new Map<string, Float64Array>();
    for (const t of problem.terms) {
      if (t.kind !== 'condition' && t.kind !== 'periodic') continue;
      const p = s.conditions[t.name];
      if (!p || p.length % d !== 0) throw new Error(`checkpoint has no points for condition '${t.name}'`);
      conditions.set(t.name, p);
    }
    if (s.interior.length % d !== 0 || s.added.length % d !== 0) throw new Error('checkpoint points do not match the number of inputs');
    return new PointSets(problem, Rng.fromState(s.rng), s.interior, s.added, conditions);
  }

  state(): PointState {
    return { rng: this.rng.state(), interior: this.interior, added: this.added, conditions: Object.fromEntries(this.conditions) };
  }

  /** Points per term, for PinnLoss (the equations share one array: interior then added points). */
  map(): Map<string, Float64Array> {
    if (this.cached) return this.cached;
    const eqPoints = this.added.length === 0 ? this.interior : concat(this.interior, this.added);
    const out = new Map<string, Float64Array>();
    for (const t of this.problem.terms) {
      if (t.kind === 'equation') out.set(t.name, eqPoints);
      else if (t.kind === 'condition' || t.kind === 'periodic') out.set(t.name, this.conditions.get(t.name)!);
      else out.set(t.name, t.X);
    }
    this.cached = out;
    return out;
  }

  /** Number of refinement points added so far. */
  get addedCount(): number {
    return this.added.length / this.problem.inputs.length;
  }

  /** Draw new interior points (and condition points when asked); refinement points stay. */
  resample(opts: ResampleOptions): void {
    const fresh = samplePoints(this.problem, this.next());
    const eq = this.problem.terms.find((t) => t.kind === 'equation');
    if (eq) this.interior = fresh.get(eq.name)!;
    if (opts.conditions) this.conditions = sampledConditions(this.problem, fresh);
    this.cached = undefined;
  }

  /**
   * Residual-based refinement: draw `candidates` uniform points, evaluate the equations'
   * squared residual there with the current network, add the `add` worst. Leaves `loss`
   * on the new point sets.
   */
  refine(loss: PinnLoss, opts: RefineOptions): void {
    if (!this.problem.terms.some((t) => t.kind === 'equation')) return;
    const d = this.problem.inputs.length;
    const cand = sampleBox(this.problem.box, opts.candidates, 'uniform', this.next());
    const trial = new Map(this.map());
    for (const t of this.problem.terms) if (t.kind === 'equation') trial.set(t.name, cand);
    loss.setPoints(trial);
    const r = loss.equationResiduals();
    const order = Array.from(r.keys()).sort((a, b) => (r[b]! - r[a]!) || (a - b));
    const pick = order.slice(0, Math.min(opts.add, order.length));
    const extra = new Float64Array(pick.length * d);
    pick.forEach((i, j) => extra.set(cand.subarray(i * d, (i + 1) * d), j * d));
    this.added = concat(this.added, extra);
    this.cached = undefined;
    loss.setPoints(this.map());
  }

  /** A fresh generator for one change, seeded from (and advancing) the run's RNG. */
  private next(): Rng {
    return new Rng(Math.floor(this.rng.uniform() * 2 ** 31));
  }
}

function sampledConditions(problem: Problem, points: Map<string, Float64Array>): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const t of problem.terms) if (t.kind === 'condition' || t.kind === 'periodic') out.set(t.name, points.get(t.name)!);
  return out;
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const r = new Float64Array(a.length + b.length);
  r.set(a, 0);
  r.set(b, a.length);
  return r;
}
