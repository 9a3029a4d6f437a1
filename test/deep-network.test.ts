/**
 * Data-set networks (src/deep/network.ts): the loss and every parameter's gradient —
 * conv weights, biases, dense layers, and the slopes a of GAAF / L-LAAF / N-LAAF (one
 * per element of the post-pool feature map), with slope recovery in the objective —
 * against central finite differences of a float64 forward pass written out here from
 * the definitions (NHWC conv, max-pool, n·a·x then tanh, dense, softmax cross-entropy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { Network, dataLoss, planNetwork } from '../src/deep/network.js';
import { trainSpecSchema, type TrainSpec } from '../src/spec/train-schema.js';
import { Rng } from '../src/domain/rng.js';

const B = 3;
const H = 7;
const W = 6;
const C = 2;
const K = 3; // classes

function modelSpec(mode: string, layers: unknown[]): TrainSpec['model'] {
  return trainSpecSchema.parse({ name: 't', dataset: { train: { csv: 'x' } }, model: { layers, activation: 'tanh', adaptive: { mode, n: 2 }, slope_recovery: 1 } }).model;
}

// conv 3×3 same stride 1 → pool 2 → act → conv 2×2 valid stride 2 wait: keep shapes small and cover both paddings.
const LAYERS = [{ conv: 3, size: 3, padding: 'same' }, { pool: 2 }, 'act', { conv: 2, size: 2, stride: 1 }, 'act', 'flatten', { dense: 4 }, 'act'];

/** The float64 reference: loss = mean CE + S, S = 1 / mean_k exp(mean a_k). */
function reference(params: Float64Array[], x: Float64Array, labels: number[], mode: string, n: number): number {
  let [h, hs] = [x, [H, W, C]] as [Float64Array, number[]];
  let p = 0;
  const slopes = params.slice(8);
  let act = 0;
  const conv = (w: Float64Array, b: Float64Array, k: number, f: number, pad: number) => {
    const [ih, iw, ic] = hs as [number, number, number];
    const oh = ih + 2 * pad - k + 1;
    const ow = iw + 2 * pad - k + 1;
    const out = new Float64Array(B * oh * ow * f);
    for (let s = 0; s < B; s++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let o = 0; o < f; o++) {
      let v = b[o]!;
      for (let a = 0; a < k; a++) for (let q = 0; q < k; q++) {
        const r = i + a - pad;
        const t = j + q - pad;
        if (r < 0 || r >= ih || t < 0 || t >= iw) continue;
        for (let c = 0; c < ic; c++) v += h[((s * ih + r) * iw + t) * ic + c]! * w[((a * k + q) * ic + c) * f + o]!;
      }
      out[((s * oh + i) * ow + j) * f + o] = v;
    }
    h = out;
    hs = [oh, ow, f];
  };
  const pool = () => {
    const [ih, iw, ic] = hs as [number, number, number];
    const oh = Math.floor(ih / 2);
    const ow = Math.floor(iw / 2);
    const out = new Float64Array(B * oh * ow * ic);
    for (let s = 0; s < B; s++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let c = 0; c < ic; c++) {
      let m = -Infinity;
      for (let a = 0; a < 2; a++) for (let q = 0; q < 2; q++) m = Math.max(m, h[((s * ih + 2 * i + a) * iw + 2 * j + q) * ic + c]!);
      out[((s * oh + i) * ow + j) * ic + c] = m;
    }
    h = out;
    hs = [oh, ow, ic];
  };
  const activate = () => {
    const per = hs.reduce((a, b) => a * b, 1);
    const a = mode === 'none' ? undefined : mode === 'global' ? slopes[0]! : slopes[act]!;
    act++;
    h = h.map((v, i) => Math.tanh(a === undefined ? v : n * (a.length === 1 ? a[0]! : a[i % per]!) * v));
  };
  const dense = (w: Float64Array, b: Float64Array, out: number) => {
    const inn = hs.reduce((a, c) => a * c, 1);
    const y = new Float64Array(B * out);
    for (let s = 0; s < B; s++) for (let o = 0; o < out; o++) {
      let v = b[o]!;
      for (let i = 0; i < inn; i++) v += h[s * inn + i]! * w[i * out + o]!;
      y[s * out + o] = v;
    }
    h = y;
    hs = [out];
  };
  conv(params[p++]!, params[p++]!, 3, 3, 1);
  pool();
  activate();
  conv(params[p++]!, params[p++]!, 2, 2, 0);
  activate();
  // flatten is the identity on the row-major NHWC array
  dense(params[p]!, params[p + 1]!, 4);
  activate();
  // the output layer (appended by Network): its weights follow the dense layer's
  dense(params[p + 2]!, params[p + 3]!, K);
  let ce = 0;
  for (let s = 0; s < B; s++) {
    const row = Array.from(h.subarray(s * K, (s + 1) * K));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    ce += lse - row[labels[s]!]!;
  }
  let S = 0;
  if (mode !== 'none') {
    const terms = slopes.map((a) => Math.exp(a.reduce((x, y) => x + y, 0) / a.length));
    S = 1 / (terms.reduce((x, y) => x + y, 0) / terms.length);
  }
  return ce / B + S;
}

for (const backend of (process.env.ONLY ? [process.env.ONLY] : ['cpu', 'wasm']) as ('cpu' | 'wasm')[]) {
  for (const mode of ['none', 'global', 'layer', 'neuron']) {
    test(`${backend}: loss and gradients of a conv net (${mode}) match float64 finite differences`, async () => {
      await selectBackend(backend);
      const rng = new Rng(3);
      const spec = modelSpec(mode, LAYERS);
      // The output dense layer's weights come after the spec's dense layer: reorder the variables to match `reference`.
      const net = new Network({ sampleShape: [H, W, C], outputs: K, spec }, rng.derive('m'));
      const vars = net.variables();
      const counts = net.slopes.map((s) => s.size);
      if (mode === 'global') assert.deepEqual(counts, [1]);
      if (mode === 'layer') assert.deepEqual(counts, [1, 1, 1]);
      // N-LAAF: one slope per element of each act layer's input: 3×3×3 after the pool, 2×2×2 after the second conv, 4 units.
      if (mode === 'neuron') assert.deepEqual(counts, [27, 8, 4]);
      // Distinct slopes, so that a per-element gradient mix-up shows.
      const state = net.state();
      for (let k = vars.length - net.slopes.length; k < vars.length; k++) state[k] = state[k]!.map(() => rng.range(0.3, 0.8));
      net.load(state);
      const x = Float32Array.from({ length: B * H * W * C }, () => rng.range(-1, 1));
      const labels = [0, 2, 1];
      const yOne = new Float32Array(B * K);
      labels.forEach((l, s) => (yOne[s * K + l] = 1));
      const xt = tf.tensor4d(x, [B, H, W, C]);
      const yt = tf.tensor2d(yOne, [B, K]);
      const { value, grads } = tf.variableGrads(() => tf.add(dataLoss('classification', net.forward(xt), yt), tf.mul(net.slopeRecovery(), 1)) as tf.Scalar, vars);
      const params = net.state().map((a) => Float64Array.from(a));
      const x64 = Float64Array.from(x);
      const f = () => reference(params, x64, labels, mode, 2);
      const loss = f();
      assert.ok(Math.abs(value.dataSync()[0]! - loss) < 1e-5 * (1 + Math.abs(loss)), `loss ${value.dataSync()[0]} vs float64 ${loss}`);
      let worst = 0;
      let where = '';
      vars.forEach((v, k) => {
        const g = grads[v.name]!.dataSync();
        for (let i = 0; i < params[k]!.length; i++) {
          const keep = params[k]![i]!;
          const h = 1e-6;
          params[k]![i] = keep + h;
          const up = f();
          params[k]![i] = keep - h;
          const down = f();
          params[k]![i] = keep;
          const fd = (up - down) / (2 * h);
          const err = Math.abs(g[i]! - fd) / (1e-3 + Math.abs(fd));
          if (err > worst) {
            worst = err;
            where = `variable ${k} entry ${i}: ${g[i]} vs ${fd}`;
          }
        }
      });
      assert.ok(worst < 2e-3, `worst relative gradient error ${worst} at ${where}`);
      tf.dispose([xt, yt, value, ...Object.values(grads)]);
      net.dispose();
    });
  }
}

test('the LeNet of the papers has 1, 3 and 12·12·64 + 4·4·64 + 1024 slopes in GAAF, L-LAAF and N-LAAF', () => {
  const lenet = [{ conv: 64, size: 5 }, { pool: 2 }, 'act', { conv: 64, size: 5 }, { pool: 2 }, 'act', 'flatten', { dense: 1024 }, 'act', { dropout: 0.5 }];
  const plan = planNetwork({ sampleShape: [28, 28, 1], outputs: 10, spec: modelSpec('neuron', lenet) });
  const actInputs = plan.layers.filter((l) => 'act' in l.spec).map((l) => l.inShape);
  assert.deepEqual(actInputs, [[12, 12, 64], [4, 4, 64], [1024]]);
  assert.equal(plan.acts, 3);
  assert.deepEqual(plan.outputShape, [10]);
});

test('dropout zeroes about the given fraction in training and scales the rest by 1/(1 − rate); evaluation is the identity', async () => {
  await selectBackend('cpu');
  const spec = modelSpec('none', ['flatten', { dropout: 0.25 }]);
  const net = new Network({ sampleShape: [10, 10, 1], outputs: 2, spec }, new Rng(1));
  const dense = net.layers.find((l) => l.kind === 'dense')!;
  if (dense.kind !== 'dense') throw new Error('no dense');
  // Output = dropout(x)·W with W picking input 0 into output 0 only: read the mask through many samples.
  const wv = new Float32Array(100 * 2);
  wv[0] = 1;
  dense.w.assign(tf.tensor2d(wv, [100, 2]));
  dense.b.assign(tf.zeros([2]));
  const x = tf.ones([4000, 10, 10, 1]);
  const out = net.forward(x, new Rng(9)).dataSync();
  let zeros = 0;
  for (let s = 0; s < 4000; s++) {
    const v = out[s * 2]!;
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - 1 / 0.75) < 1e-6, `kept value ${v}`);
  }
  assert.ok(Math.abs(zeros / 4000 - 0.25) < 0.03, `dropped fraction ${zeros / 4000}`);
  const evalOut = net.forward(x).dataSync();
  for (let s = 0; s < 4000; s++) assert.equal(evalOut[s * 2], 1);
  net.dispose();
});
