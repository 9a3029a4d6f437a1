/**
 * The WGSL forward jets and their backward pass (src/gpu/jets.ts) against the fused
 * WebAssembly kernel (wasm backend) for every base activation, and Rowdy and Kronecker
 * mixtures, × adaptive mode × derivative order 1–4, on a 2-input network with two hidden
 * layers, input normalisation and slopes away from 1 (per neuron where the mode has them). Runs on whatever WebGPU adapter the machine has (Mesa's
 * lavapipe in CI); where there is none it says so in one line and skips.
 *
 * Tolerance: per channel, |wgsl − wasm| ≤ 2e-5 · max|wasm channel| + 1e-6 (both float32;
 * the shaders' tanh/exp/sin differ from the kernel's by a few ulp, and order-4 channels
 * sum many products).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { makePlan } from '../src/jet/plan.js';
import { Mlp, type MlpConfig } from '../src/nn/mlp.js';
import { Rng } from '../src/domain/rng.js';
import { fusedStats } from '../src/kernel/fused.js';
import { fusedJets } from '../src/step/fused-jets.js';
import { openTestDevice } from './helpers/gpu.js';
import type { BaseActivation } from '../src/nn/activations.js';
import { WGSL_ACTIVATIONS, backwardJets, foldNet, forwardJets, unfoldGradients, unfoldMixture, type DispatchCount, type FoldedNet } from '../src/gpu/jets.js';
import { perturbMixture } from './helpers/mixture.js';

const { device, skip } = await openTestDevice('WGSL jet tests');

const MODES = ['none', 'global', 'layer', 'neuron'] as const;
/** Requested channels of each maximum order (the plan closes them under sub-multisets). */
const ORDER: Record<number, number[][]> = {
  1: [[0], [1]],
  2: [[0, 0], [0, 1], [1, 1]],
  3: [[0, 0, 0], [0, 1, 1], [1, 1, 1]],
  4: [[0, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]],
};

test('WGSL forward jets match the wasm kernel: every activation × adaptive mode × order 1–4', { skip }, async () => {
  await selectBackend('wasm');
  const n = 96;
  const rng = new Rng(11);
  const X = Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? -1 + 2 * rng.uniform() : 3 * rng.uniform()));
  const Xt = tf.tensor2d(X, [n, 2]);
  let worst = { err: 0, where: '' };
  let cases = 0;
  const counts: DispatchCount = { dispatches: 0, bytesRead: 0 };
  for (const activation of WGSL_ACTIVATIONS) {
    for (const mode of MODES) {
      const mlp = new Mlp({
        inputs: 2, hidden: [8, 6], outputs: 2, activation, adaptive: { mode, n: 10 }, init: 'xavier',
        inputLo: [-1, 0], inputHi: [1, 3],
      }, new Rng(3).derive(`${activation}-${mode}`));
      // Slopes away from 1/n (so s = n·a ≠ 1), different per neuron where they can be.
      for (const v of mlp.slopes) v.assign(tf.add(tf.mul(tf.randomUniform(v.shape, 0, 0.1, 'float32', 5), 1), 0.06));
      const slopes = mlp.cfg.hidden.map((w, k) => {
        if (mode === 'none') return undefined;
        const a = mlp.slopes[mode === 'global' ? 0 : k]!.dataSync();
        return Array.from(a, (x) => 10 * x);
      });
      const lo = mlp.cfg.inputLo!;
      const hi = mlp.cfg.inputHi!;
      const g = lo.map((l, i) => 2 / (hi[i]! - l));
      const net = foldNet([2, ...mlp.cfg.hidden, 2], activation,
        mlp.weights.map((w) => w.dataSync() as Float32Array), mlp.biases.map((b) => b.dataSync() as Float32Array),
        slopes, { g, c: lo.map((l, i) => -1 - l * g[i]!) });
      for (const order of [1, 2, 3, 4]) {
        const plan = makePlan(2, ORDER[order]!);
        const before = fusedStats().forward;
        const ref = fusedJets.create(mlp).forwardJet(plan, Xt).map((t) => t.dataSync() as Float32Array);
        assert.ok(fusedStats().forward > before, 'the reference ran in the fused kernel');
        const got = await forwardJets(device!, net, plan, X, counts);
        assert.equal(got.length, plan.channels.length);
        for (let c = 0; c < ref.length; c++) {
          const scale = Math.max(...Array.from(ref[c]!, Math.abs));
          for (let i = 0; i < ref[c]!.length; i++) {
            const err = Math.abs(got[c]![i]! - ref[c]![i]!) / (2e-5 * scale + 1e-6);
            if (!(err <= worst.err) || Number.isNaN(err)) {
              worst = { err: Number.isNaN(err) ? Infinity : err, where: `${activation} ${mode} order ${order} channel [${plan.channels[c]}] point ${i >> 1}: wgsl ${got[c]![i]} vs wasm ${ref[c]![i]} (channel max ${scale.toPrecision(3)})` };
            }
          }
        }
        cases++;
      }
      mlp.dispose();
    }
  }
  Xt.dispose();
  console.log(`WGSL vs wasm kernel, ${cases} cases: worst error ${worst.err.toFixed(3)} of the tolerance (2e-5·max|channel| + 1e-6) at ${worst.where}`);
  console.log(`WGSL forward: ${counts.dispatches / cases} dispatch per call`);
  assert.ok(worst.err <= 1, worst.where);
});

/**
 * The backward pass of the networks `nets` (name, config) × every adaptive mode × order 1–4 on a 2-input network
 * with hidden layers `hidden`, against tfjs gradients through the wasm kernel. Returns the
 * worst error as a fraction of the tolerance 1e-4·scale + 1e-5 and where it is; scale is
 * max|gradient| of the variable, and for a slope summed over neurons (L-LAAF, GAAF) at least
 * Σ|summand| (Rowdy's slope gradients at order 4 are sums of large terms that cancel: seen
 * 7.32 from summands of total 16.8, with a difference of 7.9e-4).
 */
async function backwardCases(nets: readonly [string, Partial<MlpConfig>][], hidden: number[]): Promise<{ worst: { err: number; where: string }; cases: number; counts: DispatchCount }> {
  await selectBackend('wasm');
  const n = 64;
  const rng = new Rng(12);
  const X = Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? -1 + 2 * rng.uniform() : 3 * rng.uniform()));
  const Xt = tf.tensor2d(X, [n, 2]);
  let worst = { err: 0, where: '' };
  let cases = 0;
  const counts: DispatchCount = { dispatches: 0, bytesRead: 0 };
  for (const [name, extra] of nets) {
    for (const mode of MODES) {
      const mlp = new Mlp({
        inputs: 2, hidden, outputs: 2, activation: 'tanh', adaptive: { mode, n: 10 }, init: 'xavier',
        inputLo: [-1, 0], inputHi: [1, 3], ...extra,
      }, new Rng(4).derive(`${name}-${mode}`));
      for (const v of mlp.slopes) v.assign(tf.add(tf.mul(tf.randomUniform(v.shape, 0, 0.1, 'float32', 6), 1), 0.06));
      if (mlp.mixturePlan()) perturbMixture(mlp, 9);
      const { net, slopes, map } = foldMlp(mlp);
      const W = mlp.weights.map((w) => w.dataSync() as Float32Array);
      const b = mlp.biases.map((x) => x.dataSync() as Float32Array);
      for (const order of [1, 2, 3, 4]) {
        const plan = makePlan(2, ORDER[order]!);
        const C = plan.channels.length;
        const dOut = Float32Array.from({ length: C * n * 2 }, () => rng.uniform() - 0.5);
        const vars = [...mlp.weights, ...mlp.biases, ...mlp.slopes, ...mlp.alphas, ...mlp.freqs];
        const { grads, value } = tf.variableGrads(() => {
          const jets = fusedJets.create(mlp).forwardJet(plan, Xt);
          return tf.addN(jets.map((j, c) => tf.sum(tf.mul(j, tf.tensor2d(dOut.subarray(c * n * 2, (c + 1) * n * 2), [n, 2]))))) as tf.Scalar;
        }, vars);
        value.dispose();
        const gpuGrad = await backwardJets(device!, net, plan, X, dOut, counts);
        const un = unfoldGradients(net.sizes, gpuGrad, W, b, slopes, map);
        // `sumOf`: the summands of a sum over neurons (its float32 rounding scales with Σ|summand|, not with the sum)
        const compare = (what: string, got: ArrayLike<number>, ref: ArrayLike<number>, sumOf?: number[]) => {
          const scale = Math.max(...Array.from(ref, Math.abs), sumOf ? sumOf.reduce((p, q) => p + Math.abs(q), 0) : 0);
          for (let i = 0; i < ref.length; i++) {
            const err = Math.abs(got[i]! - ref[i]!) / (1e-4 * scale + 1e-5);
            if (!(err <= worst.err)) worst = { err: Number.isNaN(err) ? Infinity : err, where: `${name} ${mode} order ${order} ${what}[${i}]: wgsl ${got[i]} vs wasm ${ref[i]} (max ${scale.toPrecision(3)})` };
          }
        };
        mlp.weights.forEach((w, k) => compare(`dW${k}`, un.dW[k]!, grads[w.name]!.dataSync()));
        mlp.biases.forEach((x, k) => compare(`db${k}`, un.db[k]!, grads[x.name]!.dataSync()));
        let ds = un.ds;
        if (net.mixture) {
          const um = unfoldMixture(net.sizes, gpuGrad, net.mixture, mlp.rowdyScales, slopes, mlp.mixturePlan()!.mode === 'neuron');
          mlp.alphas.forEach((v, k) => compare(`dalpha${k}`, um.dAlpha[k]!, grads[v.name]!.dataSync()));
          mlp.freqs.forEach((v, k) => compare(`dfreq${k}`, um.dFreq[k]!, grads[v.name]!.dataSync()));
          ds = ds.map((s, k) => (s && um.ds[k] ? s.map((v, j) => v + um.ds[k]![j]!) : s));
        }
        if (mode !== 'none') {
          // da = n·ds, summed over a layer (L-LAAF) or over everything (GAAF)
          const da = ds.map((s) => Array.from(s!, (v) => 10 * v));
          const refs = mlp.slopes.map((v) => grads[v.name]!.dataSync());
          if (mode === 'neuron') da.forEach((a, k) => compare(`da${k}`, a, refs[k]!));
          else if (mode === 'layer') da.forEach((a, k) => compare(`da${k}`, [a.reduce((p, q) => p + q, 0)], refs[k]!, a));
          else compare('da', [da.flat().reduce((p, q) => p + q, 0)], refs[0]!, da.flat());
        }
        tf.dispose(Object.values(grads));
        cases++;
      }
      mlp.dispose();
    }
  }
  Xt.dispose();
  return { worst, cases, counts };
}

const PIECEWISE: readonly BaseActivation[] = ['elu', 'relu', 'leaky_relu'];

test('WGSL backward (2 dispatches) matches tfjs gradients through the wasm kernel: smooth activations × adaptive mode × order 1–4', { skip }, async () => {
  const { worst, cases, counts } = await backwardCases(WGSL_ACTIVATIONS.filter((a) => !PIECEWISE.includes(a)).map((a) => [a, { activation: a }]), [8, 6]);
  console.log(`WGSL backward vs wasm kernel gradients, ${cases} cases: worst error ${worst.err.toFixed(3)} of the tolerance (1e-4·scale + 1e-5) at ${worst.where}`);
  console.log(`WGSL backward: ${counts.dispatches / cases} dispatches and ${counts.bytesRead / cases} bytes read back per call`);
  assert.ok(worst.err <= 1, worst.where);
});

/**
 * The piecewise activations on a 4×4 net (their shaders are the slowest to JIT-compile on
 * lavapipe: ≈8 s each for backward A at order 4, against ≈4 s for tanh).
 */
test('WGSL backward matches tfjs gradients through the wasm kernel: elu, relu, leaky_relu × adaptive mode × order 1–4 (4×4 net)', { skip }, async () => {
  const { worst, cases } = await backwardCases(PIECEWISE.map((a) => [a, { activation: a }]), [4, 4]);
  console.log(`WGSL backward vs wasm kernel gradients, piecewise activations, ${cases} cases: worst error ${worst.err.toFixed(3)} of the tolerance (1e-4·scale + 1e-5) at ${worst.where}`);
  assert.ok(worst.err <= 1, worst.where);
});

/** Rowdy and Kronecker shapes of the mixture tests (4×4 nets; the α, F/ω moved off init by perturbMixture). */
const MIXTURES: [string, Partial<MlpConfig>][] = [
  ['rowdy tanh+sin/layer', { activation: 'tanh', rowdy: { K: 3, family: 'sin' } }],
  ['rowdy sigmoid+cos/neuron', { activation: 'sigmoid', rowdy: { K: 3, family: 'cos', mode: 'neuron', n: [10, 5] } }],
  ['kronecker tanh,sin,gelu/layer', { kronecker: { functions: ['tanh', 'sin', 'gelu'] } }],
  ['kronecker sin,sin,silu/neuron', { kronecker: { functions: ['sin', 'sin', 'silu'], mode: 'neuron' } }],
];

/** The folded network of `mlp` (slopes, input map, and its mixture's c, ω tiled per neuron), as gpu/jets.ts takes it. */
function foldMlp(mlp: Mlp): { net: FoldedNet; slopes: (number[] | undefined)[]; map: { g: number[]; c: number[] } } {
  const mode = mlp.cfg.adaptive.mode;
  const hidden = mlp.cfg.hidden;
  const slopes = hidden.map((_, k) => (mode === 'none' ? undefined : Array.from(mlp.slopes[mode === 'global' ? 0 : k]!.dataSync(), (x) => mlp.scales[k]! * x)));
  const lo = mlp.cfg.inputLo!;
  const hi = mlp.cfg.inputHi!;
  const g = lo.map((l, i) => 2 / (hi[i]! - l));
  const map = { g, c: lo.map((l, i) => -1 - l * g[i]!) };
  const sizes = [mlp.cfg.inputs, ...hidden, mlp.cfg.outputs];
  const net = foldNet(sizes, mlp.cfg.activation, mlp.weights.map((w) => w.dataSync() as Float32Array), mlp.biases.map((b) => b.dataSync() as Float32Array), slopes, map);
  const plan = mlp.mixturePlan();
  if (plan) {
    const fns = plan.groups.flatMap((gr) => new Array<BaseActivation>(gr.count).fill(gr.fn));
    const G = fns.length;
    const tile = (t: tf.Tensor, width: number) => {
      const v = t.dataSync();
      return Float32Array.from({ length: width * G }, (_, e) => (v.length === G ? v[e % G]! : v[e]!));
    };
    // (tidy: for Kronecker c and ω are the variables themselves)
    const coef = tf.tidy(() => hidden.map((width, k) => {
      const cw = mlp.mixtureCoefficients(k);
      return { c: tile(cw.c, width), w: tile(cw.w, width) };
    }));
    net.mixture = { kind: plan.kind, fns, c: coef.map((x) => x.c), w: coef.map((x) => x.w) };
  }
  return { net, slopes, map };
}

test('WGSL forward jets match the wasm kernel: Rowdy and Kronecker × adaptive mode × order 1–4 (4×4 nets)', { skip }, async () => {
  await selectBackend('wasm');
  const n = 48;
  const rng = new Rng(13);
  const X = Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? -1 + 2 * rng.uniform() : 3 * rng.uniform()));
  const Xt = tf.tensor2d(X, [n, 2]);
  let worst = { err: 0, where: '' };
  let cases = 0;
  for (const [name, extra] of MIXTURES) {
    for (const mode of MODES) {
      const mlp = new Mlp({
        inputs: 2, hidden: [4, 4], outputs: 2, activation: 'tanh', adaptive: { mode, n: 10 }, init: 'xavier',
        inputLo: [-1, 0], inputHi: [1, 3], ...extra,
      }, new Rng(5).derive(`${name}-${mode}`));
      for (const v of mlp.slopes) v.assign(tf.add(tf.mul(tf.randomUniform(v.shape, 0, 0.1, 'float32', 7), 1), 0.06));
      perturbMixture(mlp, 8);
      const { net } = foldMlp(mlp);
      for (const order of [1, 2, 3, 4]) {
        const plan = makePlan(2, ORDER[order]!);
        const before = fusedStats().forward;
        const ref = fusedJets.create(mlp).forwardJet(plan, Xt).map((t) => t.dataSync() as Float32Array);
        assert.ok(fusedStats().forward > before, 'the reference ran in the fused kernel');
        const got = await forwardJets(device!, net, plan, X);
        for (let c = 0; c < ref.length; c++) {
          const scale = Math.max(...Array.from(ref[c]!, Math.abs));
          for (let i = 0; i < ref[c]!.length; i++) {
            const err = Math.abs(got[c]![i]! - ref[c]![i]!) / (2e-5 * scale + 1e-6);
            if (!(err <= worst.err)) worst = { err: Number.isNaN(err) ? Infinity : err, where: `${name} ${mode} order ${order} channel [${plan.channels[c]}] point ${i >> 1}: wgsl ${got[c]![i]} vs wasm ${ref[c]![i]} (channel max ${scale.toPrecision(3)})` };
          }
        }
        cases++;
      }
      mlp.dispose();
    }
  }
  Xt.dispose();
  console.log(`WGSL vs wasm kernel, Rowdy/Kronecker forward, ${cases} cases: worst error ${worst.err.toFixed(3)} of the tolerance (2e-5·max|channel| + 1e-6) at ${worst.where}`);
  assert.ok(worst.err <= 1, worst.where);
});

test('WGSL backward matches tfjs gradients through the wasm kernel: Rowdy and Kronecker (α, F/ω and slopes) × adaptive mode × order 1–4 (4×4 nets)', { skip }, async () => {
  const { worst, cases, counts } = await backwardCases(MIXTURES, [4, 4]);
  console.log(`WGSL backward vs wasm kernel gradients, Rowdy/Kronecker, ${cases} cases: worst error ${worst.err.toFixed(3)} of the tolerance (1e-4·scale + 1e-5) at ${worst.where}`);
  console.log(`WGSL backward with a mixture: ${counts.dispatches / cases} dispatches and ${counts.bytesRead / cases} bytes read back per call`);
  assert.ok(worst.err <= 1, worst.where);
});
