/**
 * The wasm backend's Conv2DBackpropFilter (src/backend/conv-filter-grad.ts) against a
 * float64 sum written out from the definition and against the cpu backend's own kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { Rng } from '../src/domain/rng.js';

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

const cases = [
  { name: 'valid, stride 1', xs: [3, 9, 8, 2], k: [3, 2, 2, 4], stride: 1, pad: 'valid' as const },
  { name: 'same, stride 1', xs: [2, 7, 7, 3], k: [5, 5, 3, 2], stride: 1, pad: 'same' as const },
  { name: 'valid, stride 2', xs: [2, 9, 10, 1], k: [3, 3, 1, 3], stride: 2, pad: 'valid' as const },
  { name: 'same, stride 2', xs: [2, 8, 9, 2], k: [3, 4, 2, 2], stride: 2, pad: 'same' as const },
];

for (const backendName of ['wasm', 'cpu'] as const) {
  test(`Conv2DBackpropFilter on ${backendName} matches the float64 definition`, async () => {
    await selectBackend(backendName);
    const rng = new Rng(7);
    for (const c of cases) {
      const x = Float32Array.from({ length: c.xs.reduce((a, b) => a * b) }, () => rng.range(-1, 1));
      const filter = Float32Array.from({ length: c.k.reduce((a, b) => a * b) }, () => rng.range(-1, 1));
      const xt = tf.tensor4d(x, c.xs as [number, number, number, number]);
      const ft = tf.tensor4d(filter, c.k as [number, number, number, number]);
      const y = tf.conv2d(xt, ft, c.stride, c.pad);
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
      tf.dispose([xt, ft, y, dyt, g]);
    }
  });
}
