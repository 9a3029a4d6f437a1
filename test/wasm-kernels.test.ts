/**
 * The wasm training kernels (src/backend/wasm-kernels.ts) — Conv2DBackpropFilter,
 * Conv2DBackpropInput, BatchMatMul with transposes — and the data-set kernels that
 * replace them in training (src/kernel/deep.ts, variant 'wasm+laaf': Conv2D too, Sum)
 * against float64 sums written out from the definitions; the cpu backend's own kernels
 * pass the same checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { Rng } from '../src/domain/rng.js';
import { deepKernels, registerDeepKernels, unregisterDeepKernels } from '../src/kernel/deep.js';

const BACKENDS = ['wasm', 'wasm+laaf', 'cpu'] as const;
type Variant = (typeof BACKENDS)[number];

/** Select the variant's backend; 'wasm+laaf' swaps in the data-set kernels (undone by the returned function). */
async function use(v: Variant): Promise<() => void> {
  await selectBackend(v === 'cpu' ? 'cpu' : 'wasm');
  if (v !== 'wasm+laaf') return () => {};
  assert.ok(registerDeepKernels(), 'the kernel module loads');
  return unregisterDeepKernels;
}

/** Forward convolution from the definition, float64. */
function convF64(x: Float32Array, xs: number[], w: Float32Array, k: number[], ys: number[], stride: number, padT: number, padL: number): Float64Array {
  const [b, h, wd, ci] = xs as [number, number, number, number];
  const [, oh, ow, co] = ys as [number, number, number, number];
  const [kh, kw] = k as [number, number];
  const out = new Float64Array(b * oh * ow * co);
  for (let n = 0; n < b; n++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let o = 0; o < co; o++) {
    let s = 0;
    for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) {
      const r = i * stride + p - padT;
      const t = j * stride + q - padL;
      if (r < 0 || r >= h || t < 0 || t >= wd) continue;
      for (let c = 0; c < ci; c++) s += x[((n * h + r) * wd + t) * ci + c]! * w[((p * kw + q) * ci + c) * co + o]!;
    }
    out[((n * oh + i) * ow + j) * co + o] = s;
  }
  return out;
}

function filterGradF64(x: Float32Array, xs: number[], dy: Float32Array, dys: number[], k: number[], stride: number, padT: number, padL: number): Float64Array {
  const [b, h, w, ci] = xs as [number, number, number, number];
  const [, oh, ow, co] = dys as [number, number, number, number];
  const [kh, kw] = k as [number, number];
  const out = new Float64Array(kh * kw * ci * co);
  for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) {
    let s = 0;
    for (let n = 0; n < b; n++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
      const r = i * stride + p - padT;
      const t = j * stride + q - padL;
      if (r < 0 || r >= h || t < 0 || t >= w) continue;
      s += x[((n * h + r) * w + t) * ci + c]! * dy[((n * oh + i) * ow + j) * co + o]!;
    }
    out[((p * kw + q) * ci + c) * co + o] = s;
  }
  return out;
}

function inputGradF64(w: Float32Array, k: number[], dy: Float32Array, dys: number[], xs: number[], stride: number, padT: number, padL: number): Float64Array {
  const [b, h, wd, ci] = xs as [number, number, number, number];
  const [, oh, ow, co] = dys as [number, number, number, number];
  const [kh, kw] = k as [number, number];
  const out = new Float64Array(b * h * wd * ci);
  for (let n = 0; n < b; n++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) {
    const r = i * stride + p - padT;
    const t = j * stride + q - padL;
    if (r < 0 || r >= h || t < 0 || t >= wd) continue;
    for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) {
      out[((n * h + r) * wd + t) * ci + c] = out[((n * h + r) * wd + t) * ci + c]! + (dy[((n * oh + i) * ow + j) * co + o]! * w[((p * kw + q) * ci + c) * co + o]!);
    }
  }
  return out;
}

const cases = [
  { name: 'valid, stride 1', xs: [3, 9, 8, 2], k: [3, 2, 2, 4], stride: 1, pad: 'valid' as const },
  { name: 'same, stride 1', xs: [2, 7, 7, 3], k: [5, 5, 3, 2], stride: 1, pad: 'same' as const },
  { name: 'valid, stride 2', xs: [2, 9, 10, 1], k: [3, 3, 1, 3], stride: 2, pad: 'valid' as const },
  { name: 'same, stride 2', xs: [2, 8, 9, 2], k: [3, 4, 2, 2], stride: 2, pad: 'same' as const },
  // 400 filter taps (more than one K slice of the laaf kernels), 9 and 13 output channels (SIMD tails)
  { name: 'valid, stride 1, wide', xs: [3, 9, 10, 16], k: [5, 5, 16, 9], stride: 1, pad: 'valid' as const },
  { name: 'same, stride 1, wide', xs: [2, 6, 7, 20], k: [5, 3, 20, 13], stride: 1, pad: 'same' as const },
];

for (const backendName of BACKENDS) {
  test(`Conv2D and its gradients on ${backendName} match the float64 definition`, async () => {
    const done = await use(backendName);
    const rng = new Rng(7);
    for (const c of cases) {
      const x = Float32Array.from({ length: c.xs.reduce((a, b) => a * b) }, () => rng.range(-1, 1));
      const filter = Float32Array.from({ length: c.k.reduce((a, b) => a * b) }, () => rng.range(-1, 1));
      const xt = tf.tensor4d(x, c.xs as [number, number, number, number]);
      const ft = tf.tensor4d(filter, c.k as [number, number, number, number]);
      const y = tf.conv2d(xt, ft, c.stride, c.pad);
      const info0 = tf.backend_util.computeConv2DInfo(c.xs as [number, number, number, number], c.k as [number, number, number, number], c.stride, 1, c.pad);
      const wantY = convF64(x, c.xs, filter, c.k, y.shape, c.stride, info0.padInfo.top, info0.padInfo.left);
      const gotY = y.dataSync();
      let worstY = 0;
      for (let i = 0; i < wantY.length; i++) worstY = Math.max(worstY, Math.abs(gotY[i]! - wantY[i]!) / (1 + Math.abs(wantY[i]!)));
      assert.ok(worstY < 1e-5, `${backendName} ${c.name}: forward, worst relative difference ${worstY}`);
      const dy = Float32Array.from({ length: y.size }, () => rng.range(-1, 1));
      const dyt = tf.tensor4d(dy, y.shape);
      // d/dW of Σ y·dy is the filter gradient for the upstream gradient dy.
      const g = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, f as tf.Tensor4D, c.stride, c.pad), dyt)))(ft);
      const info = tf.backend_util.computeConv2DInfo(c.xs as [number, number, number, number], c.k as [number, number, number, number], c.stride, 1, c.pad);
      const want = filterGradF64(x, c.xs, dy, y.shape, c.k, c.stride, info.padInfo.top, info.padInfo.left);
      const got = g.dataSync();
      assert.deepEqual(g.shape, c.k, c.name);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
      assert.ok(worst < 1e-5, `${backendName} ${c.name}: worst relative difference ${worst}`);
      // The input gradient: dx[b,r,t,ci] = Σ dy[b,i,j,co] W[r·… ] from the definition.
      const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ft, c.stride, c.pad), dyt)))(xt);
      const wantX = inputGradF64(filter, c.k, dy, y.shape, c.xs, c.stride, info.padInfo.top, info.padInfo.left);
      const gotX = gx.dataSync();
      let worstX = 0;
      for (let i = 0; i < wantX.length; i++) worstX = Math.max(worstX, Math.abs(gotX[i]! - wantX[i]!) / (1 + Math.abs(wantX[i]!)));
      assert.ok(worstX < 1e-5, `${backendName} ${c.name}: input gradient, worst relative difference ${worstX}`);
      tf.dispose([xt, ft, y, dyt, g, gx]);
    }
    done();
  });
}

for (const backendName of BACKENDS) {
  // 300 and 2500: more than one K slice of the laaf kernels (256 for Aᵀ·B, 2048 for A·B)
  for (const [m, k, n] of [[5, 7, 3], [37, 300, 21], [9, 2500, 13]] as const) test(`matMul ${m}×${k}·${k}×${n} with transposed operands on ${backendName} matches the float64 product`, async () => {
    const done = await use(backendName);
    const rng = new Rng(11);
    const a = Float32Array.from({ length: m * k }, () => rng.range(-1, 1));
    const b = Float32Array.from({ length: k * n }, () => rng.range(-1, 1));
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let l = 0; l < k; l++) want[i * n + j] = want[i * n + j]! + (a[i * k + l]! * b[l * n + j]!);
    // The same product with each operand stored transposed.
    const aT = new Float32Array(k * m);
    const bT = new Float32Array(n * k);
    for (let i = 0; i < m; i++) for (let l = 0; l < k; l++) aT[l * m + i] = a[i * k + l]!;
    for (let l = 0; l < k; l++) for (let j = 0; j < n; j++) bT[j * k + l] = b[l * n + j]!;
    const forms: [string, () => tf.Tensor][] = [
      ['plain', () => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n]))],
      ['transposeA', () => tf.matMul(tf.tensor2d(aT, [k, m]), tf.tensor2d(b, [k, n]), true, false)],
      ['transposeB', () => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(bT, [n, k]), false, true)],
      ['both', () => tf.matMul(tf.tensor2d(aT, [k, m]), tf.tensor2d(bT, [n, k]), true, true)],
      ['batched transposeA', () => tf.matMul(tf.tensor3d([...aT, ...aT], [2, k, m]), tf.tensor3d([...b, ...b], [2, k, n]), true, false)],
    ];
    for (const [name, f] of forms) {
      const got = tf.tidy(() => f().dataSync());
      // float32 sums of k products: rounding grows with k (a wrong slice or tile would be off by O(1))
      const tol = Math.max(1e-5, 1e-7 * k);
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want[i % want.length]!) < tol * (1 + Math.abs(want[i % want.length]!)), `${backendName} ${name}: entry ${i} ${got[i]} vs ${want[i % want.length]}`);
    }
    done();
  });
}

for (const backendName of BACKENDS) {
  test(`max-pool gradient on ${backendName} goes to each window's maximum, negative maxima too`, async () => {
    const done = await use(backendName);
    const rng = new Rng(5);
    const shapes = [[[2, 7, 6, 3], 2, 2, 'valid'], [[1, 4, 4, 1], 2, 2, 'valid'], [[2, 5, 5, 2], 3, 2, 'same'], [[1, 6, 6, 2], 3, 1, 'valid'],
      [[2, 6, 9, 6], 2, 2, 'valid'], [[1, 7, 6, 8], 3, 3, 'valid']] as const;
    for (const [shape, size, stride, pad] of shapes) {
      const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
      // Mostly negative inputs: windows whose maximum is below zero are the common case after a conv.
      const x = Float32Array.from({ length: n }, () => rng.range(-2, 0.3));
      const xt = tf.tensor4d(x, [...shape]);
      const y = tf.maxPool(xt, size, stride, pad);
      const dy = Float32Array.from({ length: y.size }, () => rng.range(-1, 1));
      const dyt = tf.tensor(dy, y.shape);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, size, stride, pad), dyt)))(xt).dataSync();
      const info = tf.backend_util.computePool2DInfo([...shape], size, stride, 1, pad);
      const want = new Float64Array(n);
      const [B, Hh, Ww, Cc] = shape;
      for (let b = 0; b < B; b++) for (let i = 0; i < info.outHeight; i++) for (let j = 0; j < info.outWidth; j++) for (let c = 0; c < Cc; c++) {
        let best = -Infinity;
        let at = -1;
        for (let p = 0; p < size; p++) for (let q = 0; q < size; q++) {
          const r = i * stride + p - info.padInfo.top;
          const t = j * stride + q - info.padInfo.left;
          if (r < 0 || r >= Hh || t < 0 || t >= Ww) continue;
          const k = ((b * Hh + r) * Ww + t) * Cc + c;
          if (x[k]! > best) {
            best = x[k]!;
            at = k;
          }
        }
        want[at] = want[at]! + (dy[((b * info.outHeight + i) * info.outWidth + j) * Cc + c]!);
      }
      for (let k = 0; k < n; k++) assert.ok(Math.abs(g[k]! - want[k]!) < 1e-6, `${backendName} ${shape.join('×')} pool ${size}/${stride} ${pad}: entry ${k} ${g[k]} vs ${want[k]}`);
      tf.dispose([xt, y, dyt]);
    }
    done();
  });
}

for (const backendName of BACKENDS) {
  test(`sum over leading axes (bias and slope gradients) and over other axes on ${backendName} match float64 sums`, async () => {
    const done = await use(backendName);
    const rng = new Rng(3);
    const shape = [3, 5, 4, 7];
    const x = Float32Array.from({ length: 3 * 5 * 4 * 7 }, () => rng.range(-1, 1));
    const xt = tf.tensor4d(x, shape as [number, number, number, number]);
    const lead = new Float64Array(7);
    const last = new Float64Array(60);
    for (let i = 0; i < x.length; i++) {
      lead[i % 7] = lead[i % 7]! + x[i]!;
      last[Math.floor(i / 7)] = last[Math.floor(i / 7)]! + x[i]!;
    }
    const got = tf.sum(xt, [0, 1, 2]);
    assert.deepEqual(got.shape, [7]);
    got.dataSync().forEach((v, i) => assert.ok(Math.abs(v - lead[i]!) < 1e-5, `${backendName} leading: ${v} vs ${lead[i]}`));
    assert.deepEqual(tf.sum(xt, [2, 0, 1], true).shape, [1, 1, 1, 7]);
    // Over the batch axis alone (an N-LAAF slope's gradient): [5, 4, 7].
    const batch = tf.sum(xt, 0);
    assert.deepEqual(batch.shape, [5, 4, 7]);
    batch.dataSync().forEach((v, i) => {
      const want = x[i]! + x[140 + i]! + x[280 + i]!;
      assert.ok(Math.abs(v - want) < 1e-5, `${backendName} batch axis: ${v} vs ${want}`);
    });
    assert.deepEqual(tf.sum(xt, [0, 1], true).shape, [1, 1, 4, 7]);
    tf.sum(xt, 3).dataSync().forEach((v, i) => assert.ok(Math.abs(v - last[i]!) < 1e-5, `${backendName} last axis: ${v} vs ${last[i]}`));
    tf.dispose([xt, got]);
    done();
  });
}

test('the data-set kernels give the same bits on 1 and 2 threads (conv, its gradients, products, pool gradient)', async () => {
  const done = await use('wasm+laaf');
  const k = deepKernels()!;
  const rng = new Rng(13);
  const r = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.range(-1, 1)), shape);
  const x = r([8, 12, 12, 16]) as tf.Tensor4D;
  const w = r([5, 5, 16, 16]) as tf.Tensor4D;
  const a = r([64, 300]) as tf.Tensor2D;
  const b = r([300, 96]) as tf.Tensor2D;
  const all = () => tf.tidy(() => {
    const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.maxPool(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'valid'), 2, 2, 'valid'))))([x, w]);
    const [ga, gb] = tf.grads((aa: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.matMul(aa as tf.Tensor2D, bb as tf.Tensor2D))))([a, b]);
    return [gx!, gw!, ga!, gb!].map((t) => Array.from(t.dataSync()));
  });
  const before = k.rt.maxThreads;
  try {
    k.rt.maxThreads = 1;
    const one = all();
    k.rt.maxThreads = 2;
    const two = all();
    one.forEach((v, i) => assert.deepEqual(two[i], v, `result ${i}`));
  } finally {
    k.rt.maxThreads = before;
    tf.dispose([x, w, a, b]);
    done();
  }
});
