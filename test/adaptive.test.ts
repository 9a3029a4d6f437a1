/**
 * Adaptive slopes (ARCHITECTURE.md, "Numerics"): gradients through jets, Adam updates, slope
 * recovery values and gradients, parameter counts, initialisation.
 *
 * Tolerances:
 *  - slope recovery at init vs its formula: relative 1e-6 (float32);
 *  - slope recovery gradient vs float64 central FD of the formula: 1e-5 of max |grad|;
 *  - jet-loss gradient (tf.variableGrads, float32) vs float64 FD of the same loss built
 *    from FD derivatives of mlpForwardNumber: 1e-3 of max |grad| over the checked entries.
 * Backend: cpu, or LAAF_TEST_BACKEND=wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../src/backend/gradients.js'; // tfjs-core's Node build registers no gradients by itself
import { Mlp, mlpForwardNumber, type AdaptiveMode, type MlpConfig, type MlpParams } from '../src/nn/mlp.js';
import { makePlan } from '../src/jet/plan.js';
import { Rng } from '../src/domain/rng.js';
import { stepFor } from '../src/step/paths.js';

const BACKEND = process.env.LAAF_TEST_BACKEND ?? 'cpu';
if (BACKEND === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
assert.ok(await tf.setBackend(BACKEND), `backend ${BACKEND}`);

const ADAPTIVE: AdaptiveMode[] = ['global', 'layer', 'neuron'];
const LO = [-1, 0];
const HI = [1, 1];

function netCfg(mode: AdaptiveMode, n: number | number[], hidden = [8, 8, 8]): MlpConfig {
  return { inputs: 2, hidden, outputs: 1, activation: 'tanh', adaptive: { mode, n }, init: 'xavier', inputLo: LO, inputHi: HI };
}

function samplePoints(n: number, seed: number): number[][] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => [Math.fround(r.range(-1, 1)), Math.fround(r.range(0, 1))]);
}

/** Biases N(0, 0.3²) and slopes a·(1 ± 0.1…0.4), so that nothing sits at a symmetric point. */
function perturb(mlp: Mlp, rng: Rng): void {
  const p = mlp.toJSON();
  mlp.load({
    weights: p.weights,
    biases: p.biases.map((b) => b.map(() => 0.3 * rng.normal())),
    slopes: p.slopes.map((s) => s.map((a) => a * (1 + (rng.uniform() < 0.5 ? -1 : 1) * (0.1 + 0.3 * rng.uniform())))),
  });
}

/** Burgers-like residual loss from jets: mean((u_xx + u·u_x)²). */
function jetLoss(mlp: Mlp, X: tf.Tensor2D): tf.Scalar {
  const plan = makePlan(2, [[0], [1], [0, 0]]);
  const J = stepFor(mlp, plan.maxOrder).impl.forwardJet(plan, X);
  const u = J[0]!;
  const ux = J[plan.index([0])]!;
  const uxx = J[plan.index([0, 0])]!;
  return tf.mean(tf.square(tf.add(uxx, tf.mul(u, ux)))) as tf.Scalar;
}

test('every slope variable gets a nonzero gradient from a jet loss and moves under Adam', () => {
  for (const mode of ADAPTIVE) {
    const rng = new Rng(11);
    const mlp = new Mlp(netCfg(mode, 5), rng);
    perturb(mlp, rng);
    const X = tf.tensor2d(samplePoints(64, 3));
    const vars = mlp.trainableVariables();
    assert.equal(vars.length, 8 + mlp.slopes.length);
    assert.equal(mlp.slopes.length, mode === 'global' ? 1 : 3);
    const { value, grads } = tf.variableGrads(() => jetLoss(mlp, X), vars);
    assert.ok(Number.isFinite(value.dataSync()[0]!) && value.dataSync()[0]! > 0);
    for (const v of vars) {
      const g = grads[v.name];
      assert.ok(g, `${mode}: gradient for ${v.name}`);
      const gv = g.dataSync();
      assert.ok(gv.every(Number.isFinite), `${mode}: finite gradient`);
      assert.ok(gv.some((x) => x !== 0), `${mode}: nonzero gradient for ${v.name}`);
    }
    for (const a of mlp.slopes) {
      const gv = grads[a.name]!.dataSync();
      assert.ok(gv.every((x) => Math.abs(x) > 1e-9), `${mode}: every slope entry has a nonzero gradient (${Array.from(gv)})`);
    }
    tf.dispose([value, ...Object.values(grads)]);

    const before = mlp.slopes.map((a) => Array.from(a.dataSync()));
    const opt = tf.train.adam(1e-2);
    for (let step = 0; step < 3; step++) {
      const l = opt.minimize(() => jetLoss(mlp, X), true, vars);
      l?.dispose();
    }
    const after = mlp.slopes.map((a) => Array.from(a.dataSync()));
    after.forEach((row, k) => row.forEach((a, i) => assert.notEqual(a, before[k]![i], `${mode}: slope ${k}[${i}] changed after 3 Adam steps`)));
    opt.dispose();
    X.dispose();
    mlp.dispose();
  }
});

/** The jet loss in float64: derivatives by Richardson-extrapolated central differences of mlpForwardNumber. */
function lossNumber(cfg: MlpConfig, p: MlpParams, scales: number[], X: number[][]): number {
  const f = (x: number[]) => mlpForwardNumber(cfg, p, scales, x)[0]!;
  const dx = (x: number[], h: number) => {
    const fp = f([x[0]! + h, x[1]!]), fm = f([x[0]! - h, x[1]!]), f0 = f(x);
    return { u: f0, ux: (fp - fm) / (2 * h), uxx: (fp - 2 * f0 + fm) / (h * h) };
  };
  let s = 0;
  for (const x of X) {
    const a = dx(x, 1e-3), b = dx(x, 5e-4);
    const ux = (4 * b.ux - a.ux) / 3;
    const uxx = (4 * b.uxx - a.uxx) / 3;
    s += (uxx + a.u * ux) ** 2;
  }
  return s / X.length;
}

test('jet-loss gradient w.r.t. slopes and weights matches float64 finite differences', () => {
  for (const mode of ADAPTIVE) {
    const rng = new Rng(23);
    const cfg = netCfg(mode, 10, [6, 6]);
    const mlp = new Mlp(cfg, rng);
    perturb(mlp, rng);
    const pts = samplePoints(16, 9);
    const X = tf.tensor2d(pts);
    const { grads } = tf.variableGrads(() => jetLoss(mlp, X), mlp.trainableVariables());
    const p = mlp.toJSON();
    // Entries to check: every slope entry, a few weights and biases.
    type Entry = { get: (q: MlpParams) => number[]; i: number; grad: number };
    const entries: Entry[] = [];
    mlp.slopes.forEach((a, k) => {
      const g = grads[a.name]!.dataSync();
      for (let i = 0; i < a.size; i++) entries.push({ get: (q) => q.slopes[k]!, i, grad: g[i]! });
    });
    const gw = grads[mlp.weights[1]!.name]!.dataSync();
    for (const i of [0, 7, 20]) entries.push({ get: (q) => q.weights[1]![Math.floor(i / 6)]!, i: i % 6, grad: gw[i]! });
    const gb = grads[mlp.biases[0]!.name]!.dataSync();
    for (const i of [1, 4]) entries.push({ get: (q) => q.biases[0]!, i, grad: gb[i]! });

    const fdGrads = entries.map((e) => {
      const d = 1e-3;
      const at = (delta: number) => {
        const q: MlpParams = structuredClone(p);
        e.get(q)[e.i]! += delta;
        return lossNumber(cfg, q, mlp.scales, pts);
      };
      return (at(d) - at(-d)) / (2 * d);
    });
    const scale = Math.max(...fdGrads.map(Math.abs));
    assert.ok(scale > 1e-3, 'gradients are not trivially small');
    entries.forEach((e, j) => {
      assert.ok(Math.abs(e.grad - fdGrads[j]!) <= 1e-3 * scale, `${mode} entry ${j}: tfjs ${e.grad} vs fd ${fdGrads[j]}`);
    });
    tf.dispose(Object.values(grads));
    X.dispose();
    mlp.dispose();
  }
});

test('slope recovery at initialisation equals its formula', () => {
  const close = (got: number, want: number, what: string) =>
    assert.ok(Math.abs(got - want) <= 1e-6 * Math.abs(want), `${what}: ${got} vs ${want}`);
  const six = [20, 20, 20, 20, 20, 20];
  for (const mode of ADAPTIVE) {
    const mlp = new Mlp(netCfg(mode, 10, six), new Rng(1));
    close(mlp.slopeRecovery().dataSync()[0]!, 1 / Math.exp(0.1), `${mode} paper`);
    close(mlp.slopeRecovery('paper').dataSync()[0]!, 1 / Math.exp(0.1), `${mode} paper (explicit)`);
    close(mlp.slopeRecovery('script').dataSync()[0]!, 1 / (6 * Math.exp(0.1)), `${mode} script`);
    mlp.dispose();
  }
  const ns = [1, 2, 5, 10, 20, 5];
  const mlp = new Mlp(netCfg('layer', ns, six), new Rng(1));
  const sumExp = ns.reduce((s, n) => s + Math.exp(1 / n), 0);
  close(mlp.slopeRecovery().dataSync()[0]!, 1 / (sumExp / 6), 'layer, n per layer, paper');
  close(mlp.slopeRecovery('script').dataSync()[0]!, 1 / sumExp, 'layer, n per layer, script');
  mlp.dispose();
  const none = new Mlp(netCfg('none', 1, six), new Rng(1));
  const s = none.slopeRecovery();
  assert.deepEqual(s.shape, []);
  assert.equal(s.dataSync()[0], 0);
  none.dispose();
});

/** S(a) in float64 from the definition, on plain-JS slopes. */
function slopeRecoveryNumber(mode: AdaptiveMode, slopes: number[][], L: number, form: 'paper' | 'script'): number {
  const abar = mode === 'global'
    ? new Array<number>(L).fill(slopes[0]![0]!)
    : slopes.map((s) => s.reduce((p, q) => p + q, 0) / s.length);
  const sum = abar.reduce((p, a) => p + Math.exp(a), 0);
  return form === 'paper' ? 1 / (sum / L) : 1 / sum;
}

test('slope recovery value and gradient match the float64 formula and its finite differences', () => {
  for (const mode of ADAPTIVE) {
    for (const form of ['paper', 'script'] as const) {
      const rng = new Rng(31);
      const mlp = new Mlp(netCfg(mode, 5, [7, 9, 5, 6]), rng);
      perturb(mlp, rng);
      const p = mlp.toJSON();
      const { value, grads } = tf.variableGrads(() => mlp.slopeRecovery(form), mlp.slopes);
      const S = slopeRecoveryNumber(mode, p.slopes, 4, form);
      assert.ok(Math.abs(value.dataSync()[0]! - S) <= 1e-6 * S, `${mode} ${form} value ${value.dataSync()[0]} vs ${S}`);
      const got: number[] = [];
      const want: number[] = [];
      mlp.slopes.forEach((a, k) => {
        const g = grads[a.name]!.dataSync();
        for (let i = 0; i < a.size; i++) {
          const d = 1e-5;
          const at = (delta: number) => {
            const q = p.slopes.map((row) => [...row]);
            q[k]![i]! += delta;
            return slopeRecoveryNumber(mode, q, 4, form);
          };
          got.push(g[i]!);
          want.push((at(d) - at(-d)) / (2 * d));
        }
      });
      const scale = Math.max(...want.map(Math.abs));
      assert.ok(scale > 0);
      got.forEach((g, j) => assert.ok(Math.abs(g - want[j]!) <= 1e-5 * scale, `${mode} ${form} grad ${j}: ${g} vs ${want[j]}`));
      tf.dispose([value, ...Object.values(grads)]);
      mlp.dispose();
    }
  }
});

test('parameter counts (1-20-20-20-1)', () => {
  const expected: Record<AdaptiveMode, { total: number; adaptive: number }> = {
    none: { total: 901, adaptive: 0 },
    global: { total: 902, adaptive: 1 },
    layer: { total: 904, adaptive: 3 },
    neuron: { total: 961, adaptive: 60 },
  };
  for (const mode of ['none', ...ADAPTIVE] as AdaptiveMode[]) {
    const mlp = new Mlp({ inputs: 1, hidden: [20, 20, 20], outputs: 1, activation: 'tanh', adaptive: { mode, n: 10 }, init: 'xavier' }, new Rng(0));
    assert.deepEqual(mlp.parameterCount(), expected[mode], mode);
    assert.equal(mlp.slopes.length, { none: 0, global: 1, layer: 3, neuron: 3 }[mode]);
    if (mode === 'neuron') mlp.slopes.forEach((a) => assert.deepEqual(a.shape, [20]));
    if (mode === 'layer' || mode === 'global') mlp.slopes.forEach((a) => assert.deepEqual(a.shape, []));
    mlp.dispose();
  }
});

test('initial a = 1/n (one n, or one per layer, or an explicit init); n·a stats', () => {
  for (const mode of ADAPTIVE) {
    const mlp = new Mlp(netCfg(mode, 10), new Rng(2));
    for (const a of mlp.slopes) for (const v of a.dataSync()) assert.equal(v, Math.fround(1 / 10));
    const stats = mlp.slopeStats();
    assert.equal(stats.length, 3);
    for (const s of stats) for (const v of [s.mean, s.min, s.max]) assert.ok(Math.abs(v - 1) < 1e-6, `${mode}: n·a = 1 at init`);
    assert.deepEqual(mlp.scales, [10, 10, 10]);
    mlp.dispose();
  }
  const per = new Mlp(netCfg('layer', [1, 5, 10]), new Rng(2));
  assert.deepEqual(per.slopes.map((a) => a.dataSync()[0]), [1, 0.2, 0.1].map(Math.fround));
  per.dispose();
  const neu = new Mlp(netCfg('neuron', [2, 4, 8]), new Rng(2));
  assert.deepEqual(neu.slopes.map((a) => a.dataSync()[3]), [0.5, 0.25, 0.125]);
  neu.dispose();
  const explicit = new Mlp({ ...netCfg('global', 10), adaptive: { mode: 'global', n: 10, init: 0.3 } }, new Rng(2));
  assert.equal(explicit.slopes[0]!.dataSync()[0], Math.fround(0.3));
  explicit.dispose();
  assert.deepEqual(new Mlp(netCfg('none', 1), new Rng(2)).slopeStats(), []);
  assert.throws(() => new Mlp(netCfg('layer', [1, 2]), new Rng(2)), /adaptive.n has 2 entries/);
  assert.throws(() => new Mlp(netCfg('layer', 0), new Rng(2)), /positive/);

  // neuron stats after perturbation: mean/min/max of n·a per layer
  const rng = new Rng(4);
  const m = new Mlp(netCfg('neuron', [2, 4, 8]), rng);
  perturb(m, rng);
  const p = m.toJSON();
  m.slopeStats().forEach((s, k) => {
    const v = p.slopes[k]!.map((a) => m.scales[k]! * a);
    assert.ok(Math.abs(s.mean - v.reduce((x, y) => x + y, 0) / v.length) < 1e-12);
    assert.equal(s.min, Math.min(...v));
    assert.equal(s.max, Math.max(...v));
    assert.ok(s.min < s.max);
  });
  m.dispose();
});

test('initialisers: Glorot normal with zero biases, N(0, 0.1²) weights and biases; seeded and backend-free', () => {
  const big = (init: 'xavier' | 'normal', seed: number) =>
    new Mlp({ inputs: 200, hidden: [200], outputs: 1, activation: 'tanh', adaptive: { mode: 'none', n: 1 }, init }, new Rng(seed));
  const std = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  };
  const x = big('xavier', 1);
  const px = x.toJSON();
  assert.ok(Math.abs(std(px.weights[0]!.flat()) / Math.sqrt(2 / 400) - 1) < 0.02, 'xavier std sqrt(2/(fan_in+fan_out))');
  assert.ok(Math.abs(std(px.weights[1]!.flat()) / Math.sqrt(2 / 201) - 1) < 0.2, 'xavier std, output layer');
  assert.ok(px.biases.flat().every((b) => b === 0), 'xavier biases are zero');
  // The weights come from the seeded Rng, in row-major order, independent of the backend.
  const r = new Rng(1);
  const s0 = Math.sqrt(2 / 400);
  assert.equal(px.weights[0]![0]![0], Math.fround(s0 * r.normal()));
  assert.equal(px.weights[0]![0]![1], Math.fround(s0 * r.normal()));
  x.dispose();

  const nrm = big('normal', 1);
  const pn = nrm.toJSON();
  assert.ok(Math.abs(std(pn.weights[0]!.flat()) / 0.1 - 1) < 0.02, 'normal init: weight std 0.1');
  assert.ok(Math.abs(std(pn.biases[0]!) / 0.1 - 1) < 0.25, 'normal init: bias std 0.1');
  assert.ok(pn.biases[0]!.every((b) => b !== 0));
  nrm.dispose();

  const a = big('xavier', 7), b = big('xavier', 7), c = big('xavier', 8);
  assert.deepEqual(a.toJSON(), b.toJSON(), 'same seed, same parameters');
  assert.notDeepEqual(a.toJSON(), c.toJSON(), 'different seed, different parameters');
  [a, b, c].forEach((m) => m.dispose());
});

test('toJSON / load round trip, and load rejects mismatched shapes', () => {
  const rng = new Rng(5);
  const m = new Mlp(netCfg('neuron', 3), rng);
  perturb(m, rng);
  const p = m.toJSON();
  const m2 = new Mlp(netCfg('neuron', 3), new Rng(99));
  assert.notDeepEqual(m2.toJSON(), p);
  m2.load(p);
  assert.deepEqual(m2.toJSON(), p);
  tf.tidy(() => {
    const X = tf.tensor2d(samplePoints(5, 1));
    assert.deepEqual(stepFor(m, 0).impl.forward(X).arraySync(), stepFor(m2, 0).impl.forward(X).arraySync());
  });
  assert.throws(() => m2.load({ ...p, slopes: p.slopes.slice(1) }), /slope count/);
  assert.throws(() => m2.load({ ...p, biases: [p.biases[0]!.slice(1), ...p.biases.slice(1)] }), /biases\[0\]/);
  const nVars = tf.memory().numTensors;
  m.dispose();
  m2.dispose();
  assert.ok(tf.memory().numTensors < nVars, 'dispose frees the variables');
});
