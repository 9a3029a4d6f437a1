/**
 * L-BFGS and its strong-Wolfe line search: Rosenbrock functions in float64, exact
 * continuation from a saved state, overflow in the line search, and a tiny PINN where
 * L-BFGS reaches a much lower loss than the same number of Adam steps.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { Lbfgs, cubicInterpolate, strongWolfe, type LbfgsOptions } from '../src/train/lbfgs.js';
import { train, type HistoryRow, type TrainConfig } from '../src/train/trainer.js';
import { parseSpec } from '../src/spec/load.js';
import { buildProblem, samplePoints } from '../src/problem/build.js';
import { selectBackend } from '../src/backend/select.js';
import { Rng } from '../src/domain/rng.js';
import { Mlp } from '../src/nn/mlp.js';
import { PinnLoss } from '../src/train/loss.js';
import { mlpConfig } from '../src/run/solve.js';
import { POISSON_1D } from './helpers.js';

const OPTS: LbfgsOptions = { history: 10, lr: 1, toleranceGrad: 1e-10, toleranceChange: 1e-14, lineSearch: 'strong_wolfe' };

/** Extended Rosenbrock: Σ 100 (x_{2i} − x_{2i−1}²)² + (1 − x_{2i−1})², minimum 0 at (1, …, 1). */
function rosenbrock(x: Float64Array): { f: number; g: Float64Array } {
  let f = 0;
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i += 2) {
    const a = x[i]!;
    const b = x[i + 1]!;
    const t = b - a * a;
    f += 100 * t * t + (1 - a) ** 2;
    g[i] = -400 * a * t - 2 * (1 - a);
    g[i + 1] = 200 * t;
  }
  return { f, g };
}

function run(lb: Lbfgs, maxIter: number): string | undefined {
  for (let k = 0; k < maxIter; k++) {
    const r = lb.iterate();
    if (r.stop) return r.stop;
  }
  return undefined;
}

test('L-BFGS minimises the 2-D Rosenbrock function from (-1.2, 1)', () => {
  let evals = 0;
  const fg = (x: Float64Array) => {
    evals++;
    return rosenbrock(x);
  };
  const lb = Lbfgs.start(fg, Float64Array.from([-1.2, 1]), OPTS);
  const stop = run(lb, 200);
  assert.ok(stop === 'tolerance_grad' || stop === 'tolerance_change', `stopped by ${stop}`);
  assert.ok(Math.abs(lb.state.x[0]! - 1) < 1e-6 && Math.abs(lb.state.x[1]! - 1) < 1e-6, `x = ${lb.state.x}`);
  assert.ok(lb.state.f < 1e-12, `f = ${lb.state.f}`);
  assert.ok(lb.state.k < 60, `${lb.state.k} iterations`);
  assert.equal(lb.state.evals, evals, 'every evaluation is counted');
});

test('L-BFGS minimises a 20-D extended Rosenbrock function; the loss never increases', () => {
  const x0 = new Float64Array(20).map((_, i) => (i % 2 === 0 ? -1.2 : 1));
  const lb = Lbfgs.start(rosenbrock, x0, OPTS);
  let prev = lb.state.f;
  for (let k = 0; k < 500; k++) {
    const r = lb.iterate();
    assert.ok(lb.state.f <= prev, `iteration ${k}: ${prev} -> ${lb.state.f}`);
    prev = lb.state.f;
    if (r.stop) break;
  }
  for (const v of lb.state.x) assert.ok(Math.abs(v - 1) < 1e-5, `x = ${lb.state.x}`);
  assert.ok(lb.state.s.length <= OPTS.history, 'memory bounded by history');
});

test('a saved L-BFGS state continues bit for bit', () => {
  const x0 = new Float64Array(6).map((_, i) => (i % 2 === 0 ? -1.2 : 1));
  const a = Lbfgs.start(rosenbrock, x0, OPTS);
  run(a, 8);
  // A deep copy through JSON-like plain data, as a checkpoint would hold it.
  const saved = structuredClone(a.state);
  run(a, 10);
  const b = Lbfgs.fromState(rosenbrock, saved, OPTS);
  run(b, 10);
  assert.deepEqual(Array.from(b.state.x), Array.from(a.state.x));
  assert.equal(b.state.k, a.state.k);
  assert.equal(b.state.evals, a.state.evals);
});

test('strong Wolfe: the accepted step satisfies both conditions; overflow makes it back off', () => {
  // Along d = -g from (-1.2, 1) on Rosenbrock.
  const x = Float64Array.from([-1.2, 1]);
  const { f, g } = rosenbrock(x);
  const d = Float64Array.from(g, (v) => -v);
  const gtd = -(g[0]! ** 2 + g[1]! ** 2);
  const r = strongWolfe(rosenbrock, x, 1e-3, d, f, g, gtd);
  const at = rosenbrock(Float64Array.from([x[0]! + r.t * d[0]!, x[1]! + r.t * d[1]!]));
  assert.equal(r.f, at.f);
  assert.ok(r.f <= f + 1e-4 * r.t * gtd, 'sufficient decrease');
  assert.ok(Math.abs(at.g[0]! * d[0]! + at.g[1]! * d[1]!) <= 0.9 * Math.abs(gtd), 'curvature condition');

  // f = (x - 3)² but non-finite beyond x = 4: a first trial at 10 must shrink, not fail.
  const cliff = (v: Float64Array) => (v[0]! > 4 ? { f: NaN, g: Float64Array.from([NaN]) } : { f: (v[0]! - 3) ** 2, g: Float64Array.from([2 * (v[0]! - 3)]) });
  const c = strongWolfe(cliff, Float64Array.from([0]), 10, Float64Array.from([1]), 9, Float64Array.from([-6]), -6);
  assert.ok(Number.isFinite(c.f) && c.f < 9 && c.t > 0 && c.t <= 4, `t = ${c.t}, f = ${c.f}`);
});

test('cubic interpolation finds the minimiser of a cubic and stays in bounds', () => {
  // p(t) = (t - 1)^2 (t + 2) has a local minimum at t = 1.
  const p = (t: number) => (t - 1) ** 2 * (t + 2);
  const dp = (t: number) => 2 * (t - 1) * (t + 2) + (t - 1) ** 2;
  assert.ok(Math.abs(cubicInterpolate(0, p(0), dp(0), 2, p(2), dp(2)) - 1) < 1e-12);
  assert.equal(cubicInterpolate(0, p(0), dp(0), 2, p(2), dp(2), [1.5, 3]), 1.5);
  // No minimiser inside: the middle of the bounds.
  assert.equal(cubicInterpolate(0, 0, 1, 1, 1, 1, [0, 1]), 0.5);
});

test('a tiny PINN: L-BFGS after a few Adam steps reaches a far lower loss than Adam alone', async () => {
  await selectBackend('wasm');
  const { spec } = parseSpec(`name: p
${POISSON_1D}reference: { exact: sin(pi*x) }
model: { hidden: [10, 10] }
sampling: { interior: 40 }
`, 'p.yaml');
  const problem = buildProblem(spec);
  const runWith = async (cfg: TrainConfig) => {
    const rng = new Rng(3);
    const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
    const loss = new PinnLoss(problem, model, samplePoints(problem, rng.derive('points')), { weight: 0, form: 'paper' });
    const rows: HistoryRow[] = [];
    const r = await train(loss, cfg, { evaluateErrors: () => [], onLog: (row) => rows.push(row) });
    loss.dispose();
    model.dispose();
    return { r, rows };
  };
  const lbfgs = { maxIterations: 150, maxEvaluations: 400, history: 20, lr: 1, toleranceGrad: 1e-9, toleranceChange: 1e-12, lineSearch: 'strong_wolfe' as const };
  const both = await runWith({ adam: { steps: 50, lr: 0.01, schedule: { kind: 'constant' } }, lbfgs, logEvery: 25, checkpointEvery: 0 });
  const adamOnly = await runWith({ adam: { steps: 200, lr: 0.01, schedule: { kind: 'constant' } }, logEvery: 25, checkpointEvery: 0 });
  assert.equal(both.r.status, 'completed');
  assert.deepEqual(both.r.phases.map((p) => p.phase), ['adam', 'lbfgs']);
  const lb = both.r.phases[1]!;
  assert.ok(lb.steps > 0 && lb.evaluations! >= lb.steps, JSON.stringify(lb));
  assert.ok(['max_iterations', 'max_evaluations', 'tolerance_grad', 'tolerance_change', 'line_search_failed'].includes(lb.stop));
  // Rows: Adam steps 0, 25, 50; then L-BFGS rows with the phase column, steps continuing from 50.
  assert.deepEqual(both.rows.slice(0, 3).map((r) => [r.step, r.phase]), [[0, 'adam'], [25, 'adam'], [50, 'adam']]);
  assert.ok(both.rows.slice(3).every((r) => r.phase === 'lbfgs' && r.step > 50));
  assert.equal(both.rows.at(-1)!.step, 50 + lb.steps);
  const lossBoth = both.rows.at(-1)!.loss;
  const lossAdam = adamOnly.rows.at(-1)!.loss;
  assert.ok(lossBoth < 0.01 * lossAdam, `L-BFGS ${lossBoth} vs Adam ${lossAdam}`);
});

test('the L-BFGS phase can use its own slope-recovery weight (its rows log that J)', async () => {
  await selectBackend('wasm');
  const { spec } = parseSpec(`name: p
${POISSON_1D}model: { hidden: [8, 8], adaptive: { mode: layer, n: 5 }, slope_recovery: 1 }
sampling: { interior: 30 }
`, 'p.yaml');
  const problem = buildProblem(spec);
  const rng = new Rng(4);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const loss = new PinnLoss(problem, model, samplePoints(problem, rng.derive('points')), { weight: 1, form: 'paper' });
  const rows: HistoryRow[] = [];
  const lbfgs = { maxIterations: 20, maxEvaluations: 100, history: 10, lr: 1, toleranceGrad: 0, toleranceChange: 0, lineSearch: 'strong_wolfe' as const, slopeRecovery: 0 };
  await train(loss, { adam: { steps: 20, lr: 0.01, schedule: { kind: 'constant' } }, lbfgs, logEvery: 10, checkpointEvery: 0 }, { evaluateErrors: () => [], onLog: (r) => rows.push(r) });
  const sum = (r: HistoryRow) => r.terms[0]! + r.terms[1]!;
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.abs(b);
  for (const r of rows.filter((x) => x.phase === 'adam')) assert.ok(near(r.loss, sum(r) + r.slopeRecovery), `adam row ${r.step}`);
  const lb = rows.filter((x) => x.phase === 'lbfgs');
  assert.ok(lb.length >= 2);
  for (const r of lb) assert.ok(near(r.loss, sum(r)) && r.slopeRecovery > 0, `lbfgs row ${r.step}: ${r.loss} vs ${sum(r)}`);
  // The phase's J is summed from its parts, not J − W_a·S: with W_a·S large against the
  // residuals, that difference loses the residuals' digits in float32.
  const heavy = new PinnLoss(problem, model, samplePoints(problem, rng.derive('points')), { weight: 1e4, form: 'paper' });
  const [own, terms, diff] = tf.tidy(() => {
    const p0 = heavy.compute(0);
    const p = heavy.compute();
    return [p0.total.dataSync()[0]!, p0.terms.reduce((acc, t) => acc + t.dataSync()[0]!, 0), tf.sub(p.total, tf.mul(1e4, p.slopeRecovery)).dataSync()[0]!];
  });
  assert.ok(Math.abs(own - terms) <= 1e-6 * terms, `J with W_a' = 0: ${own} vs the terms' sum ${terms}`);
  assert.ok(Math.abs(diff - terms) > 1e-4 * terms, `J - W_a S loses digits (${diff} vs ${terms}): the check above can fail`);
  heavy.dispose();
  loss.dispose();
  model.dispose();
});

test('a failed line search along stale curvature pairs restarts from steepest descent instead of stopping', () => {
  // f = |x1| + |x2| (a kink the line search's cubic model cannot see); a planted pair with
  // s·y/y·y = 1000 makes the first direction 1000× too long, and two line-search
  // evaluations cannot recover from that (three, with the first try).
  const vee = (x: Float64Array) => ({ f: Math.abs(x[0]!) + Math.abs(x[1]!), g: Float64Array.from(x, Math.sign) });
  const opts: LbfgsOptions = { ...OPTS, maxLineSearch: 2, maxRestarts: 1 };
  // Not allowed by default (maxRestarts 0): the first failure stops.
  const s0 = { k: 0, evals: 1, x: Float64Array.from([1, 1]), f: 2, g: Float64Array.from([1, 1]), s: [Float64Array.from([1, 0])], y: [Float64Array.from([1e-3, 0])], t: 0 };
  assert.equal(Lbfgs.fromState(vee, s0, { ...opts, maxRestarts: 0 }).iterate().stop, 'line_search_failed');
  const x = Float64Array.from([1, 1]);
  const state = { k: 0, evals: 1, x, f: 2, g: Float64Array.from([1, 1]), s: [Float64Array.from([1, 0])], y: [Float64Array.from([1e-3, 0])], t: 0 };
  const lb = Lbfgs.fromState(vee, state, opts);
  const r1 = lb.iterate();
  assert.equal(r1.stop, undefined, 'no stop: the memory is dropped');
  assert.equal(lb.state.restarts, 1);
  assert.equal(lb.state.s.length, 0);
  assert.equal(lb.state.k, 0, 'no step was taken');
  assert.equal(lb.state.f, 2);
  const r2 = lb.iterate();
  assert.equal(r2.stop, undefined);
  assert.equal(lb.state.k, 1);
  assert.ok(lb.state.f < 1.5, `steepest descent lowered the loss: ${lb.state.f}`);
  // With no memory to drop, a failed line search stops the method.
  const flat = Lbfgs.fromState(() => ({ f: 3, g: Float64Array.from([1, 1]) }), { ...state, s: [], y: [] }, opts);
  assert.equal(flat.iterate().stop, 'line_search_failed');
});
