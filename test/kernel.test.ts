/**
 * The fused SIMD kernel (src/kernel/, assembly/kernel.ts) against the composite tfjs path.
 *
 * 1. The kernel's tanh (a [13/6] rational approximation in f32x4) vs Math.tanh on a dense
 *    grid of [−12, 12]: |error| ≤ 4e-7 absolute and ≤ 8 ulps of the float32 spacing at the
 *    exact value (observed: 3.3e-7 ≈ 5.5 ulps, at |u| ≈ 5.9 where tanh ≈ 0.99999; a few
 *    ulps relative where |tanh| is small) — the observed bound is printed.
 * 2. Every base activation's tower, orders 0..5 (backward needs maxOrder + 1), vs the
 *    float64 towerNumber: |err| ≤ 2e-5·(1 + |σ^(k)|), as the composite tower's test.
 * 3. Mlp.forwardJet fused vs composite (the same Mlp through either step path), for every base
 *    activation × adaptive mode (none, global, layer, neuron; slopes perturbed away from
 *    1/n, n = 10 and per-layer n), input normalisation on, plans with every channel up
 *    to order 4 in 2 inputs (x, y, xx, xy, yy, xxx, xxy, xyy, yyy, xxxx, xxyy, …) and
 *    mixed channels in 3 inputs: every channel value and every parameter gradient
 *    (weights, biases, slopes) of a loss Σ_c w_c Σ(jet_c · r_c) agree to
 *      ‖fused − composite‖₂ ≤ 1e-5 · ‖composite‖₂   per tensor
 *    (float32 reassociation; observed ≲ 2e-6).
 * 4. Threads: 1 thread vs 2 threads — values and gradients bit for bit (threads take
 *    chunks of points in turn, each chunk has its own partial sums, and the chunks are
 *    added in a fixed order); the same call twice is bit for bit identical; the backward pass from the forward pass's tape
 *    equals the one that recomputes the forward pass, bit for bit.
 * 5. Mlp.forward (fused) equals forwardJet(...)[0] (fused) bit for bit; fallbacks:
 *    kernels off (model.fused: false), LAAF_FUSED=0 and order > 4 use the composite path.
 * 6. Rowdy (sin, cos; α, F per layer and per neuron) and Kronecker ([tanh, sin, sin] per
 *    layer and neuron, [sin, tanh, cos, sigmoid] per layer) × every adaptive mode, at init
 *    and at random α, F/ω (at init the Rowdy amplitudes are 0 and would hide mistakes):
 *    every channel to order 4 and every gradient (weights, biases, slopes, α, F/ω) within
 *    1e-5 as in 3., except that the gradients which are sums over neurons (the slope in
 *    global/layer mode, α and F/ω per layer) are bounded relative to their summands'
 *    magnitudes (see compareMixture: for Rowdy the slope's two routes nearly cancel and
 *    both paths round in float32); the same gradients vs float64 finite differences of
 *    mlpForwardNumber within 1e-5; 1 vs 2 threads and tape vs recompute bit for bit; a
 *    Rowdy net at init gives the plain net's fused jets bit for bit.
 * Backend: cpu (tfjs-cpu is the exact float32 reference), or LAAF_TEST_BACKEND=wasm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../src/backend/gradients.js';
import { perturbMixture } from './helpers/mixture.js';
import { BASE_ACTIVATIONS, towerNumber, type BaseActivation } from '../src/nn/activations.js';
import { Mlp, mlpForwardNumber, type AdaptiveMode, type MlpConfig } from '../src/nn/mlp.js';
import { makePlan, type Channel, type JetPlan } from '../src/jet/plan.js';
import { Rng } from '../src/domain/rng.js';
import { fusedStats, fusedUnsupported, KERNEL_ACTIVATIONS } from '../src/kernel/fused.js';
import { stepFor } from '../src/step/paths.js';
import type { StepImpl } from '../src/step/registry.js';
import { ARENA, kernel, setKernelThreads } from '../src/kernel/runtime.js';

const BACKEND = process.env.LAAF_TEST_BACKEND ?? 'cpu';
if (BACKEND === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
assert.ok(await tf.setBackend(BACKEND), `backend ${BACKEND}`);
const rt = kernel();
assert.ok(rt, 'the kernel loads (npm run build builds dist/kernel/laaf-kernel.wasm)');

const MODES: AdaptiveMode[] = ['none', 'global', 'layer', 'neuron'];

/** σ^(m)(u) for m ≤ M1 at every u, by the kernel (`term`: as a Rowdy/Kronecker term). */
function kernelTower(act: BaseActivation, u: Float32Array, M1: number, term = false): Float32Array[] {
  const count = Math.ceil(u.length / 4) * 4;
  const U = ARENA + 4096;
  const T = U + count * 4;
  rt!.ensure(T + (M1 + 1) * count * 4);
  const f32 = new Float32Array(rt!.buffer);
  f32.fill(0, U >> 2, (U >> 2) + count);
  f32.set(u, U >> 2);
  (term ? rt!.exports.termTowerOnly : rt!.exports.towerOnly)(KERNEL_ACTIVATIONS.indexOf(act), U, T, count, M1);
  const out: Float32Array[] = [];
  for (let m = 0; m <= M1; m++) out.push(new Float32Array(rt!.buffer, T + m * count * 4, u.length).slice());
  return out;
}

test('kernel tanh: rational approximation vs Math.tanh, |error| ≤ 4e-7 and ≤ 8 ulps on [−12, 12]', () => {
  const n = 240001;
  const u = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
  const [t] = kernelTower('tanh', u, 0);
  let maxAbs = 0, maxUlp = 0, at = 0;
  for (let i = 0; i < n; i++) {
    const exact = Math.tanh(u[i]!);
    const err = Math.abs(t![i]! - exact);
    const ulp = 2 ** (Math.max(Math.floor(Math.log2(Math.abs(exact) || 2 ** -126)), -126) - 23);
    if (err > maxAbs) { maxAbs = err; at = u[i]!; }
    maxUlp = Math.max(maxUlp, err / ulp);
  }
  process.stdout.write(`# kernel tanh: max |error| ${maxAbs.toExponential(2)} at u = ${at.toFixed(4)}, max ${maxUlp.toFixed(1)} ulp (float32)\n`);
  assert.ok(maxAbs <= 4e-7, `max abs error ${maxAbs}`);
  assert.ok(maxUlp <= 8, `max ulp error ${maxUlp}`);
  // odd, exact at 0, saturates to ±1, NaN stays NaN
  const [s] = kernelTower('tanh', Float32Array.from([0, 1e-30, -3.5, 3.5, 40, -40, NaN, 2e-4]), 0);
  assert.equal(s![0], 0);
  assert.equal(s![1], Math.fround(1e-30));
  assert.equal(s![2], -s![3]!);
  assert.equal(s![4], 1);
  assert.equal(s![5], -1);
  assert.ok(Number.isNaN(s![6]));
  assert.equal(s![7], Math.fround(2e-4));
});

test('kernel towers: every activation, orders 0..5, vs float64 towerNumber', () => {
  const U = [-6.5, -4.2, -2.5, -1.3, -0.7, -0.31, -0.08, 0.05, 0.27, 0.66, 1.1, 1.9, 3.3, 4.6, 7.2];
  for (const act of BASE_ACTIVATIONS) {
    const got = kernelTower(act, Float32Array.from(U), 5);
    U.forEach((u, i) => {
      const ref = towerNumber(act, Math.fround(u), 5);
      for (let m = 0; m <= 5; m++) {
        const g = got[m]![i]!;
        assert.ok(Math.abs(g - ref[m]!) <= 2e-5 * (1 + Math.abs(ref[m]!)), `${act} order ${m} at ${u}: kernel ${g} vs ${ref[m]}`);
      }
    });
  }
});

test('kernel mixture sin/cos (SIMD sincos): vs Math.sin/cos, |error| ≤ 2e-7·max(1, |x|/100) up to |x| = 8192, scalar beyond', () => {
  const xs: number[] = [];
  for (let i = 0; i <= 200000; i++) xs.push(-30 + (60 * i) / 200000);
  for (let i = 0; i <= 100000; i++) xs.push(-8192 + (2 * 8192 * i) / 100000);
  xs.push(8192, -8192, 8193, 1e5, -3e6, Math.PI / 4, Math.PI / 2, Math.PI, 0, -0, 1e-30, NaN, Infinity);
  const u = Float32Array.from(xs);
  let worst = 0;
  for (const act of ['sin', 'cos'] as BaseActivation[]) {
    const got = kernelTower(act, u, 5, true);
    const ref = kernelTower(act, u, 5, false); // the scalar Mathf tower
    for (let i = 0; i < u.length; i++) {
      const x = u[i]!;
      for (let m = 0; m <= 5; m++) {
        const k = (m + (act === 'cos' ? 1 : 0)) & 3;
        const exact = k === 0 ? Math.sin(x) : k === 1 ? Math.cos(x) : k === 2 ? -Math.sin(x) : -Math.cos(x);
        const g = got[m]![i]!;
        if (!Number.isFinite(x)) {
          assert.ok(Number.isNaN(g), `${act}^(${m})(${x}) = ${g}`);
          continue;
        }
        if (Math.abs(x) > 8192) {
          assert.equal(g, ref[m]![i]!, `${act}^(${m})(${x}): the scalar path beyond 8192`);
          continue;
        }
        const err = Math.abs(g - exact) / Math.max(1, Math.abs(x) / 100);
        worst = Math.max(worst, err);
        assert.ok(err <= 2e-7, `${act}^(${m})(${x}): ${g} vs ${exact}`);
      }
    }
  }
  process.stdout.write(`# mixture sincos: max |error|/max(1, |x|/100) = ${worst.toExponential(2)}\n`);
});

// ---------------------------------------------------------------------------- fused vs composite

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0, d = 0;
  for (let i = 0; i < a.length; i++) {
    n += (a[i]! - b[i]!) ** 2;
    d += b[i]! ** 2;
  }
  if (d === 0) return n === 0 ? 0 : Infinity;
  return Math.sqrt(n / d);
}

function makeNet(act: BaseActivation, mode: AdaptiveMode, inputs: number, hidden: number[], seed: number, extra: Partial<MlpConfig> = {}): Mlp {
  const lo = [-1, 0, 0.5].slice(0, inputs);
  const hi = [1, 2, 3].slice(0, inputs);
  const m = new Mlp({
    inputs, hidden, outputs: 2, activation: act,
    adaptive: { mode, n: mode === 'layer' ? hidden.map((_, k) => [10, 5, 2][k % 3]!) : 10 },
    init: 'normal', inputLo: lo, inputHi: hi, ...extra,
  }, new Rng(seed));
  // Move the slopes away from 1/n so that the slope gradients are generic.
  const rng = new Rng(seed + 99);
  for (const a of m.slopes) a.assign(tf.tidy(() => tf.mul(a, tf.add(1, tf.mul(0.4, tf.sub(tf.mul(tf.tensor(Array.from({ length: a.size }, () => rng.uniform()), a.shape), 2), 1))))));
  return m;
}

function points(n: number, inputs: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  const lo = [-1, 0, 0.5];
  const hi = [1, 2, 3];
  const v = new Float32Array(n * inputs);
  for (let p = 0; p < n; p++) for (let i = 0; i < inputs; i++) v[p * inputs + i] = lo[i]! + (hi[i]! - lo[i]!) * rng.uniform();
  return tf.tensor2d(v, [n, inputs]);
}

interface Eval { jets: Float32Array[]; grads: Float32Array[] }

/** The network through the fused kernel (fused) or tfjs ops (composite), as the step-path registry gives them to a run. */
function via(m: Mlp, fused: boolean, order = 4): StepImpl {
  const c = stepFor(m, order, fused ? {} : { kernelsOff: 'composite wanted' });
  assert.equal(c.path.name, fused ? 'fused-jets' : 'tfjs-ops', c.declined.map((d) => `${d.path}: ${d.reason}`).join('; '));
  return c.impl;
}

/** Jets and the gradients of a loss that weighs every channel and output differently. */
function evaluate(m: Mlp, plan: JetPlan, X: tf.Tensor2D, fused: boolean, withGrads = true): Eval {
  const net = via(m, fused);
  const before = fusedStats().forward;
  const vars = m.trainableVariables();
  const jets = tf.tidy(() => net.forwardJet(plan, X));
  if (!withGrads) {
    const out = { jets: jets.map((j) => j.dataSync() as Float32Array), grads: [] };
    tf.dispose(jets);
    return out;
  }
  const r = tf.tidy(() => jets.map((j, c) => tf.sin(tf.add(tf.mul(tf.reshape(tf.range(0, j.size, 1, 'float32'), j.shape), 0.37), c))));
  const { value, grads } = tf.variableGrads(() => {
    const js = net.forwardJet(plan, X);
    let acc = tf.scalar(0);
    js.forEach((j, c) => {
      // jets of order k scale like n^k: weigh them back so that every channel counts
      const scale = 1 / (1 + tf.max(tf.abs(jets[c]!)).dataSync()[0]!);
      acc = tf.add(acc, tf.mul(tf.sum(tf.mul(j, r[c]!)), scale));
    });
    return acc as tf.Scalar;
  }, vars);
  const out = { jets: jets.map((j) => j.dataSync() as Float32Array), grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array) };
  assert.equal(fusedStats().forward > before, fused, `fused path ${fused ? 'not ' : ''}taken`);
  tf.dispose([...jets, ...r, value, ...Object.values(grads)]);
  return out;
}

/**
 * The composite path cannot differentiate elu jets (tfjs has no gradient for the Greater in
 * its tf.where), so for elu the fused gradient is checked by a directional central
 * difference of the fused loss instead (float32: ≤ 2e-2 relative, h = 1e-3).
 */
function fdCheck(m: Mlp, plan: JetPlan, X: tf.Tensor2D, g: Float32Array[], what: string): void {
  const net = via(m, true);
  const vars = m.trainableVariables();
  const rng = new Rng(5);
  const dirs = vars.map((v) => Float32Array.from({ length: v.size }, () => rng.uniform() - 0.5));
  const saved = vars.map((v) => v.dataSync().slice());
  const lossAt = (h: number): number => {
    vars.forEach((v, k) => v.assign(tf.tensor(saved[k]!.map((x, i) => x + h * dirs[k]![i]!), v.shape)));
    return tf.tidy(() => {
      const js = net.forwardJet(plan, X);
      let acc = 0;
      js.forEach((j, c) => (acc += tf.sum(tf.mul(j, tf.sin(tf.add(tf.mul(tf.reshape(tf.range(0, j.size, 1, 'float32'), j.shape), 0.37), c)))).dataSync()[0]! / 100));
      return acc;
    });
  };
  const h = 1e-3;
  const fd = (lossAt(h) - lossAt(-h)) / (2 * h);
  lossAt(0);
  vars.forEach((v, k) => v.assign(tf.tensor(saved[k]!, v.shape)));
  let an = 0;
  g.forEach((gk, k) => gk.forEach((x, i) => (an += x * dirs[k]![i]!)));
  assert.ok(Math.abs(fd - an) <= 2e-2 * Math.abs(fd) + 1e-4, `${what}: directional derivative ${an} vs finite difference ${fd}`);
}

function compare(m: Mlp, plan: JetPlan, X: tf.Tensor2D, what: string, tol = 1e-5): number {
  if (m.cfg.activation === 'elu' && plan.maxOrder > 0) {
    const b = evaluate(m, plan, X, true, false);
    const a = evaluate(m, plan, X, false, false);
    a.jets.forEach((j, c) => assert.ok(relDiff(b.jets[c]!, j) <= tol, `${what}: channel ${c}`));
    // the FD loss uses fixed weights 1/100 instead of evaluate's scales: recompute its gradient
    const net = via(m, true);
    const vars = m.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const js = net.forwardJet(plan, X);
      let acc = tf.scalar(0);
      js.forEach((j, c) => (acc = tf.add(acc, tf.div(tf.sum(tf.mul(j, tf.sin(tf.add(tf.mul(tf.reshape(tf.range(0, j.size, 1, 'float32'), j.shape), 0.37), c)))), 100))));
      return acc as tf.Scalar;
    }, vars);
    fdCheck(m, plan, X, vars.map((v) => grads[v.name]!.dataSync() as Float32Array), what);
    tf.dispose([value, ...Object.values(grads)]);
    return 0;
  }
  const a = evaluate(m, plan, X, false);
  const b = evaluate(m, plan, X, true);
  let worst = 0;
  a.jets.forEach((j, c) => {
    const e = relDiff(b.jets[c]!, j);
    worst = Math.max(worst, e);
    assert.ok(e <= tol, `${what}: channel [${plan.channels[c]!.join(',')}] rel diff ${e}`);
  });
  const names = m.trainableVariables().map((v) => v.name);
  a.grads.forEach((g, k) => {
    const e = relDiff(b.grads[k]!, g);
    worst = Math.max(worst, e);
    assert.ok(e <= tol, `${what}: gradient of ${names[k]} rel diff ${e}`);
  });
  return worst;
}

const ALL_ORDER4_2D: Channel[] = [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]];

test('fused vs composite: every activation × adaptive mode, every channel up to order 4 (2 inputs), values and all gradients', () => {
  const plan = makePlan(2, ALL_ORDER4_2D);
  assert.equal(plan.channels.length, 15);
  const X = points(45, 2, 3);
  let worst = 0;
  for (const act of BASE_ACTIVATIONS) {
    for (const mode of MODES) {
      const m = makeNet(act, mode, 2, [7, 6, 5], 11);
      worst = Math.max(worst, compare(m, plan, X, `${act}/${mode}`));
      m.dispose();
    }
  }
  process.stdout.write(`# order-4 2-input: worst relative difference ${worst.toExponential(2)}\n`);
  X.dispose();
});

test('fused vs composite: 3 inputs, mixed channels (xy, xz, yzz, xyz, t-only), order 1 and 2 plans, deeper net', () => {
  const X = points(70, 3, 5);
  for (const [act, mode, chans] of [
    ['tanh', 'neuron', [[0], [1], [2], [0, 0], [1, 1]]],
    ['sin', 'layer', [[0, 1], [0, 2], [1, 2, 2], [0, 1, 2]]],
    ['gelu', 'global', [[2]]],
    ['sigmoid', 'none', [[0, 0, 1, 2]]],
  ] as [BaseActivation, AdaptiveMode, Channel[]][]) {
    const m = makeNet(act, mode, 3, [9, 8, 8, 7], 21);
    compare(m, makePlan(3, chans), X, `${act}/${mode}/3d`);
    m.dispose();
  }
  X.dispose();
});

test('fused: Burgers-sized net (6×20 tanh N-LAAF, channels x, t, xx) on 2000 points, 1 vs 2 threads bit for bit, tape', () => {
  const m = makeNet('tanh', 'neuron', 2, [20, 20, 20, 20, 20, 20], 31);
  const plan = makePlan(2, [[0], [1], [0, 0]]);
  const X = points(2003, 2, 7); // not a multiple of the block size
  // 2000 points × 4 channels summed in float32 (tfjs-cpu sums sequentially): a looser bound
  compare(m, plan, X, 'burgers 6x20', 5e-5);
  setKernelThreads(1);
  const one = evaluate(m, plan, X, true);
  assert.equal(fusedStats().threads, 1);
  setKernelThreads(2);
  const two = evaluate(m, plan, X, true);
  const again = evaluate(m, plan, X, true);
  setKernelThreads(null);
  if (fusedStats().threads === 2) {
    one.jets.forEach((j, c) => assert.deepEqual(two.jets[c], j, `channel ${c}: 1 vs 2 threads, forward bit for bit`));
    one.grads.forEach((g, k) => assert.deepEqual(two.grads[k], g, `gradient ${k}: 1 vs 2 threads, bit for bit`));
  } else {
    process.stdout.write('# worker threads unavailable: 2-thread comparison skipped\n');
  }
  two.grads.forEach((g, k) => assert.deepEqual(again.grads[k], g, `gradient ${k}: repeatable bit for bit`));
  two.jets.forEach((j, c) => assert.deepEqual(again.jets[c], j, `channel ${c}: repeatable bit for bit`));
  // The backward pass reads the forward pass's tape; without it (LAAF_KERNEL_TAPE_MB=0) it recomputes: same numbers.
  const taped = fusedStats().fromTape;
  process.env.LAAF_KERNEL_TAPE_MB = '0';
  const recomputed = evaluate(m, plan, X, true);
  delete process.env.LAAF_KERNEL_TAPE_MB;
  assert.ok(taped > 0, 'backward passes used the tape');
  assert.equal(fusedStats().fromTape, taped, 'no tape when its budget is 0');
  again.grads.forEach((g, k) => assert.deepEqual(recomputed.grads[k], g, `gradient ${k}: tape vs recompute bit for bit`));
  m.dispose();
  X.dispose();
});

test('fused: forward() equals forwardJet()[0] bit for bit; tiny batches (1, 3, 8, 9 points)', () => {
  const m = makeNet('tanh', 'neuron', 2, [10, 10], 41);
  const plan = makePlan(2, [[0, 0], [1]]);
  for (const n of [1, 3, 8, 9, 100]) {
    const X = points(n, 2, n);
    const net = via(m, true);
    const v = tf.tidy(() => net.forward(X).dataSync());
    const j = tf.tidy(() => net.forwardJet(plan, X)[0]!.dataSync());
    assert.deepEqual(v, j, `n = ${n}`);
    compare(m, plan, X, `n = ${n}`);
    X.dispose();
  }
  m.dispose();
});

test('fused: falls back to the composite path when off or unsupported', () => {
  const plan = makePlan(2, [[0, 0]]);
  const m = makeNet('tanh', 'layer', 2, [5, 5], 51);
  const backend = tf.getBackend();
  assert.equal(fusedUnsupported(m.describe(), plan.maxOrder, backend), null);
  assert.match(fusedUnsupported(m.describe(), makePlan(2, [[0, 0, 0, 0, 1]]).maxOrder, backend)!, /order 5/);
  assert.deepEqual(stepFor(m, 5).declined, [{ path: 'fused-jets', reason: 'derivative order 5 > 4' }]);
  process.env.LAAF_FUSED = '0';
  assert.deepEqual(stepFor(m, plan.maxOrder).declined, [{ path: 'fused-jets', reason: 'LAAF_FUSED=0' }]);
  delete process.env.LAAF_FUSED;
  assert.equal(stepFor(m, plan.maxOrder).path.name, 'fused-jets');
  const X = points(10, 2, 1);
  const off = makeNet('tanh', 'layer', 2, [5, 5], 51);
  const offStep = stepFor(off, plan.maxOrder, { kernelsOff: 'turned off (--no-fused, model.fused: false)' });
  assert.equal(offStep.path.name, 'tfjs-ops');
  const before = fusedStats().forward;
  tf.tidy(() => offStep.impl.forwardJet(plan, X));
  assert.equal(fusedStats().forward, before, 'fused: false takes the composite path');
  const rowdy = makeNet('tanh', 'layer', 2, [5, 5], 51, { rowdy: { K: 3, family: 'sin' } });
  assert.equal(fusedUnsupported(rowdy.describe(), plan.maxOrder, backend), null, 'Rowdy nets are fused');
  tf.tidy(() => stepFor(rowdy, plan.maxOrder, { kernelsOff: 'off' }).impl.forwardJet(plan, X));
  assert.equal(fusedStats().forward, before, 'fused: false takes the composite path for Rowdy too');
  [m, off, rowdy].forEach((n) => n.dispose());
  X.dispose();
});

// ---------------------------------------------------------------------------- Rowdy / Kronecker

const MIXTURES: [string, Partial<MlpConfig>][] = [
  ['rowdy sin/layer', { rowdy: { K: 4, family: 'sin' } }],
  ['rowdy cos/layer', { rowdy: { K: 3, family: 'cos', n: [10, 5, 8] } }],
  ['rowdy sin/neuron', { rowdy: { K: 3, family: 'sin', mode: 'neuron' } }],
  ['rowdy cos/neuron', { rowdy: { K: 4, family: 'cos', mode: 'neuron' } }],
  ['kronecker tanh,sin,sin/layer', { kronecker: { functions: ['tanh', 'sin', 'sin'] } }],
  ['kronecker tanh,sin,sin/neuron', { kronecker: { functions: ['tanh', 'sin', 'sin'], mode: 'neuron' } }],
  ['kronecker sin,tanh,cos,sigmoid/layer', { kronecker: { functions: ['sin', 'tanh', 'cos', 'sigmoid'] } }],
];

/**
 * The same function as `m` with one slope and one α, F/ω per neuron: its (composite)
 * gradients are the per-neuron summands of m's per-layer and global gradients.
 */
function neuronTwin(m: Mlp): Mlp {
  const cfg = m.cfg;
  const none = cfg.adaptive.mode === 'none';
  const twin = new Mlp({
    ...cfg,
    adaptive: none ? cfg.adaptive : { mode: 'neuron', n: [...m.scales] },
    ...(cfg.rowdy ? { rowdy: { ...cfg.rowdy, n: [...m.rowdyScales], mode: 'neuron' } } : {}),
    ...(cfg.kronecker ? { kronecker: { ...cfg.kronecker, mode: 'neuron' } } : {}),
  }, new Rng(1));
  const p = m.toJSON();
  const tile = (v: number[], w: number, per: number) => (v.length === w * per ? v : Array.from({ length: w }, () => v).flat());
  const G = m.alphas[0]!.shape.at(-1)!;
  twin.load({
    ...p,
    slopes: none ? [] : cfg.hidden.map((w, k) => tile(p.slopes[cfg.adaptive.mode === 'global' ? 0 : k]!, w, 1)),
    alphas: p.alphas!.map((a, k) => tile(a, cfg.hidden[k]!, G)),
    freqs: p.freqs!.map((a, k) => tile(a, cfg.hidden[k]!, G)),
  });
  return twin;
}

/**
 * Fused vs composite for a Rowdy/Kronecker net. Every jet channel and every gradient
 * that is not a sum over neurons: ‖fused − composite‖₂ ≤ tol·‖composite‖₂, as compare().
 * The gradients that sum over neurons (the slope in global and layer modes, α and F/ω in
 * mixture mode layer) are sums with much cancellation (for Rowdy the slope's route
 * through u = s·z and its route through ω = n_R k F/s nearly cancel), and both paths
 * round them in float32, so for those the bound is relative to the summands' magnitudes:
 * ‖fused − composite‖₂ ≤ tol·‖S‖₂, S_k = Σ_j |∂L/∂θ_jk| from the neuron-wise twin net
 * (the float64 test below checks the fused sums against exact ones).
 * Returns [max plain relative difference, max bound-relative difference].
 */
function compareMixture(m: Mlp, plan: JetPlan, X: tf.Tensor2D, what: string, tol = 1e-5): [number, number] {
  const a = evaluate(m, plan, X, false);
  const b = evaluate(m, plan, X, true);
  let plain = 0, bounded = 0;
  a.jets.forEach((j, c) => {
    const e = relDiff(b.jets[c]!, j);
    plain = Math.max(plain, e);
    bounded = Math.max(bounded, e);
    assert.ok(e <= tol, `${what}: channel [${plan.channels[c]!.join(',')}] rel diff ${e}`);
  });
  const twin = neuronTwin(m);
  const parts = evaluate(twin, plan, X, false).grads;
  const L = m.cfg.hidden.length;
  const nW = 2 * (L + 1);
  const nS = m.slopes.length;
  const names = ['W', 'b'].flatMap((t) => Array.from({ length: L + 1 }, (_, k) => `${t}${k}`))
    .concat(m.slopes.map((_, k) => `slope${k}`), m.alphas.map((_, k) => `alpha${k}`), m.freqs.map((_, k) => `freq${k}`));
  a.grads.forEach((g, k) => {
    let S: Float64Array;
    if (k < nW) S = Float64Array.from(parts[k]!, Math.abs);
    else if (k < nW + nS) {
      const layers = m.cfg.adaptive.mode === 'global' ? [...Array(L).keys()] : [k - nW];
      S = new Float64Array(g.length);
      for (const l of layers) {
        const q = parts[nW + l]!;
        if (g.length === q.length) q.forEach((v, i) => (S[i] = S[i]! + (Math.abs(v))));
        else q.forEach((v) => (S[0] = S[0]! + (Math.abs(v))));
      }
    } else {
      const q = parts[k - nS + (twin.slopes.length)]!;
      S = new Float64Array(g.length);
      q.forEach((v, i) => (S[i % g.length] = S[i % g.length]! + (Math.abs(v))));
      // the twin is the same function: its per-neuron summands add up to m's gradient
      const sum = new Float64Array(g.length);
      q.forEach((v, i) => (sum[i % g.length] = sum[i % g.length]! + (v)));
      const d = Math.hypot(...Array.from(sum, (v, i) => v - g[i]!));
      assert.ok(d <= 1e-5 * Math.hypot(...S), `${what}: twin summands of ${names[k]} add up (${d})`);
    }
    const e = relDiff(b.grads[k]!, g);
    const eb = e * Math.hypot(...g) / Math.max(Math.hypot(...S), 1e-300);
    plain = Math.max(plain, e);
    bounded = Math.max(bounded, Math.min(e, eb));
    assert.ok(Number.isFinite(e) ? Math.min(e, eb) <= tol : eb <= tol, `${what}: gradient of ${names[k]} rel diff ${e} (relative to its summands ${eb})`);
  });
  twin.dispose();
  return [plain, bounded];
}

test('fused vs composite: Rowdy (sin, cos; layer, neuron) and Kronecker, × adaptive mode, at init and at random α, F/ω — every channel to order 4, every gradient', () => {
  const plan = makePlan(2, ALL_ORDER4_2D);
  const X = points(45, 2, 13);
  const worst: Record<string, [number, number]> = {};
  for (const [name, extra] of MIXTURES) {
    for (const mode of MODES) {
      for (const at of ['init', 'random']) {
        const m = makeNet('tanh', mode, 2, [7, 6, 5], 17, extra);
        assert.equal(fusedUnsupported(m.describe(), plan.maxOrder, tf.getBackend()), null, name);
        if (at === 'random') perturbMixture(m, 3);
        const key = `${name} ${at}`;
        const [p, q] = compareMixture(m, plan, X, `${name}/${mode}/${at}`);
        worst[key] = [Math.max(worst[key]?.[0] ?? 0, p), Math.max(worst[key]?.[1] ?? 0, q)];
        m.dispose();
      }
    }
  }
  for (const [k, [p, q]] of Object.entries(worst)) process.stdout.write(`# ${k}: max relative difference ${p.toExponential(2)}, bound-relative ${q.toExponential(2)}\n`);
  X.dispose();
});

test('fused vs composite: Rowdy and Kronecker, 3 inputs with mixed channels, values-only forward()', () => {
  const X = points(70, 3, 9);
  for (const [name, extra] of MIXTURES) {
    const m = makeNet('tanh', 'neuron', 3, [9, 8, 7], 23, extra);
    perturbMixture(m, 4);
    compareMixture(m, makePlan(3, [[0], [1, 2], [0, 0, 2]]), X, `${name}/3d`);
    compareMixture(m, makePlan(3, []), X, `${name}/values`);
    const net = via(m, true);
    const v = tf.tidy(() => net.forward(X).dataSync());
    const j = tf.tidy(() => net.forwardJet(makePlan(3, [[0, 1]]), X)[0]!.dataSync());
    assert.deepEqual(v, j, `${name}: forward() = forwardJet()[0]`);
    m.dispose();
  }
  X.dispose();
});

test('fused Rowdy/Kronecker: 1 vs 2 threads bit for bit, tape vs recompute, Rowdy at init equals the plain net', () => {
  const plan = makePlan(2, [[0], [1], [0, 0]]);
  const X = points(1500, 2, 8);
  for (const [name, extra] of [MIXTURES[0]!, MIXTURES[3]!, MIXTURES[5]!]) {
    const m = makeNet('tanh', 'layer', 2, [12, 12, 12], 33, extra);
    perturbMixture(m, 6);
    setKernelThreads(1);
    const one = evaluate(m, plan, X, true);
    assert.equal(fusedStats().threads, 1);
    setKernelThreads(2);
    const two = evaluate(m, plan, X, true);
    setKernelThreads(null);
    if (fusedStats().threads === 2) {
      one.jets.forEach((j, c) => assert.deepEqual(two.jets[c], j, `${name} channel ${c}: 1 vs 2 threads`));
      one.grads.forEach((g, k) => assert.deepEqual(two.grads[k], g, `${name} gradient ${k}: 1 vs 2 threads`));
    } else {
      process.stdout.write('# worker threads unavailable: 2-thread comparison skipped\n');
    }
    process.env.LAAF_KERNEL_TAPE_MB = '0';
    const recomputed = evaluate(m, plan, X, true);
    delete process.env.LAAF_KERNEL_TAPE_MB;
    two.grads.forEach((g, k) => assert.deepEqual(recomputed.grads[k], g, `${name} gradient ${k}: tape vs recompute`));
    m.dispose();
  }
  // Rowdy at init (α = 0): the fused jets equal the plain net's fused jets bit for bit.
  const rowdy = makeNet('tanh', 'neuron', 2, [12, 12], 35, { rowdy: { K: 5, family: 'sin' } });
  const plain = makeNet('tanh', 'neuron', 2, [12, 12], 35);
  const a = evaluate(rowdy, plan, X, true, false);
  const b = evaluate(plain, plan, X, true, false);
  b.jets.forEach((j, c) => assert.deepEqual(a.jets[c], j, `channel ${c}: Rowdy at init = plain`));
  [rowdy, plain].forEach((n) => n.dispose());
  X.dispose();
});

test('fused Rowdy/Kronecker gradients vs float64 finite differences of mlpForwardNumber (values, 400 points): slope, α, F/ω within 1e-5', () => {
  const N = 400;
  const rng = new Rng(77);
  const X = Float32Array.from({ length: N * 2 }, (_, i) => (i % 2 ? 2 * rng.uniform() : 2 * rng.uniform() - 1));
  const R = Float32Array.from({ length: N * 2 }, (_, i) => Math.sin(0.37 * i));
  const Xt = tf.tensor2d(X, [N, 2]);
  const Rt = tf.tensor2d(R, [N, 2]);
  const cases: [string, AdaptiveMode, Partial<MlpConfig>][] = [
    ['rowdy cos/neuron', 'global', MIXTURES[3]![1]],
    ['rowdy sin/layer', 'layer', MIXTURES[0]![1]],
    ['kronecker sin,tanh,cos,sigmoid/layer', 'global', MIXTURES[6]![1]],
    ['kronecker tanh,sin,sin/neuron', 'neuron', MIXTURES[5]![1]],
  ];
  let worstF = 0, worstC = 0;
  for (const [name, mode, extra] of cases) {
    const m = makeNet('tanh', mode, 2, [7, 6, 5], 17, extra);
    perturbMixture(m, 3);
    // the variables checked: slope of layer 1 (entry 0), α of layer 1 and F/ω of layer 2 (entry 0)
    const vars = [m.slopes[0]!, m.alphas[0]!, m.freqs[1]!];
    const grad = (fused: boolean) => {
      const net = via(m, fused);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(net.forwardJet(makePlan(2, []), Xt)[0]!, Rt)) as tf.Scalar, vars);
      const out = vars.map((v) => grads[v.name]!.dataSync()[0]!);
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const gf = grad(true);
    const gc = grad(false);
    const p = m.toJSON();
    const which = [['slopes', 0], ['alphas', 0], ['freqs', 1]] as const;
    which.forEach(([key, layer], v) => {
      const lossAt = (h: number): number => {
        const q = structuredClone(p);
        q[key]![layer]![0] = q[key]![layer]![0]! + (h);
        let L = 0;
        for (let i = 0; i < N; i++) {
          const y = mlpForwardNumber(m.cfg, q, m.scales, [X[2 * i]!, X[2 * i + 1]!]);
          L += y[0]! * R[2 * i]! + y[1]! * R[2 * i + 1]!;
        }
        return L;
      };
      const h = 1e-4;
      const truth = (8 * (lossAt(h) - lossAt(-h)) - (lossAt(2 * h) - lossAt(-2 * h))) / (12 * h);
      const ef = Math.abs(gf[v]! - truth) / Math.abs(truth);
      const ec = Math.abs(gc[v]! - truth) / Math.abs(truth);
      worstF = Math.max(worstF, ef);
      worstC = Math.max(worstC, ec);
      process.stdout.write(`# ${name}/${mode} ∂L/∂${key}[${layer}][0]: float64 ${truth.toPrecision(8)}, fused rel err ${ef.toExponential(2)}, composite ${ec.toExponential(2)}\n`);
      assert.ok(ef <= 1e-5, `${name}/${mode}: fused ∂L/∂${key}[${layer}] ${gf[v]} vs float64 ${truth}`);
    });
    m.dispose();
  }
  process.stdout.write(`# float64 check: worst relative error fused ${worstF.toExponential(2)}, composite ${worstC.toExponential(2)}\n`);
  tf.dispose([Xt, Rt]);
});
