/**
 * The webgpu backend (a proxy on the main thread, tfjs-backend-webgpu in a worker) against
 * tfjs's cpu backend: ops, reverse-mode gradients of a small tanh network with a second
 * derivative (what PINN losses are made of), reads of large tensors, and tensor
 * bookkeeping (nothing leaks). Runs on whatever adapter this machine has (Mesa's lavapipe
 * in CI); where there is none it says so in one line and skips.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { closeBackend, selectBackend } from '../src/backend/select.js';
import { probeAdapter, webgpuCounters } from '../src/backend/webgpu.js';

const adapter = await probeAdapter();
const skip = adapter ? false : 'no WebGPU adapter on this machine (install a Vulkan driver, or Mesa lavapipe for testing)';
if (adapter) console.log(`webgpu tests run on: ${adapter.vendor} ${adapter.architecture} ${adapter.device} (${adapter.description})`);
else console.log(`webgpu tests skipped: ${skip}`);
after(() => closeBackend());

/** f(W1, b1, W2; x) = Σ (u_xx + u)² with u = tanh(x W1 + b1) W2, its value and gradient, on `backend`. */
async function lossAndGrad(backend: 'cpu' | 'webgpu', seed: Float32Array[]): Promise<{ f: number; g: Float32Array[] }> {
  if (backend === 'cpu') await tf.setBackend('cpu');
  else await selectBackend('webgpu');
  const [w1, b1, w2, xs] = [tf.tensor2d(seed[0]!, [1, 16]), tf.tensor1d(seed[1]!), tf.tensor2d(seed[2]!, [16, 1]), tf.tensor2d(seed[3]!, [seed[3]!.length, 1])];
  const vars = [tf.variable(w1), tf.variable(b1), tf.variable(w2)];
  const { value, grads } = tf.variableGrads(() => {
    // u and u_xx by the chain rule written out: h = tanh(z), h' = 1 - h², h'' = -2 h h'.
    const z = tf.add(tf.matMul(xs, vars[0]!), vars[1]!);
    const h = tf.tanh(z);
    const dh = tf.sub(1, tf.square(h));
    const d2h = tf.mul(-2, tf.mul(h, dh));
    const u = tf.matMul(h, vars[2]!);
    const uxx = tf.matMul(tf.mul(d2h, tf.square(vars[0]!)), vars[2]!);
    return tf.sum(tf.square(tf.add(uxx, u))) as tf.Scalar;
  }, vars);
  const out = { f: value.dataSync()[0]!, g: vars.map((v) => grads[v.name]!.dataSync() as Float32Array) };
  tf.dispose([value, ...Object.values(grads), w1, b1, w2, xs, ...vars]);
  return out;
}

test('webgpu: loss and gradient of a tanh network with u_xx match the cpu backend', { skip }, async () => {
  let s = 7;
  const rand = (n: number) => Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
  const seed = [rand(16), rand(16), rand(16), rand(300)];
  const cpu = await lossAndGrad('cpu', seed);
  const gpu = await lossAndGrad('webgpu', seed);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-3, Math.abs(b));
  let worst = rel(gpu.f, cpu.f);
  for (let k = 0; k < cpu.g.length; k++) for (let i = 0; i < cpu.g[k]!.length; i++) worst = Math.max(worst, rel(gpu.g[k]![i]!, cpu.g[k]![i]!));
  console.log(`webgpu vs cpu, loss and 48 gradient entries: worst relative difference ${worst.toExponential(2)} (tolerance 1e-4)`);
  assert.ok(worst < 1e-4, `worst relative difference ${worst}`);
});

test('webgpu: a large read comes back whole, and disposed tensors are freed on both threads', { skip }, async () => {
  await selectBackend('webgpu');
  const before = tf.memory().numTensors;
  const n = 3_000_000; // 12 MB: larger than the first shared buffer (4 MiB), so it grows
  const x = tf.range(0, n, 1, 'float32');
  const y = tf.tidy(() => tf.add(tf.mul(x, 2), 1));
  const v = y.dataSync();
  assert.equal(v.length, n);
  assert.equal(v[0], 1);
  assert.equal(v[n - 1], 2 * (n - 1) + 1);
  const r = tf.reshape(y, [1000, 3000]); // shares y's data: one disposal must not free it
  y.dispose();
  assert.equal(r.dataSync()[5], 11);
  tf.dispose([x, r]);
  assert.equal(tf.memory().numTensors, before);
  const c = webgpuCounters()!;
  assert.ok(c.kernels > 0 && c.bytesRead >= 2 * 4 * n, JSON.stringify(c));
});
