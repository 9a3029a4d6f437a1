/// <reference types="@webgpu/types" />
/**
 * The network's jets in WGSL: the same maths as the fused SIMD kernel
 * (assembly/kernel.ts, src/kernel/fused.ts) as ONE compute dispatch for the whole
 * forward pass. Each invocation is one point; it carries every channel of the plan
 * through every layer in private memory:
 *
 *   Z_ℓ,c = W_ℓᵀ H_ℓ−1,c (+ b_ℓ on the value channel c = 0)
 *   H_ℓ,0 = σ(Z_ℓ,0),  H_ℓ,c = Σ_terms coef · σ^(m)(Z_ℓ,0) · Π_f Z_ℓ,f   (Faà di Bruno)
 *
 * with the slopes s = n·a and the input normalisation folded into the weights on the
 * host, as fused.ts folds them (W'_k = W_k·diag(s_k), b'_k = b_k·s_k; layer 0 also
 * W'' = diag(g)·W', b'' = c·W' + b'), so the input layer seeds channel (i) with W''[i, :].
 *
 * The shader is generated per network and plan: the Faà di Bruno terms are unrolled
 * (they are fixed by the plan), the layer loops are not. Written against a GPUDevice
 * directly (Dawn, npm `webgpu`), not as a tfjs kernel: one pipeline with its own
 * buffers is what "few dispatches per step" needs, and tfjs-backend-webgpu's program
 * model (one output tensor per program, uniforms per call) would split it again.
 *
 * Covered: every base activation, every adaptive mode (folded), derivatives to order 4.
 * Not yet: Rowdy/Kronecker mixtures and the backward pass (see the branch note).
 */
import type { JetPlan } from '../jet/plan.js';
import type { BaseActivation } from '../nn/activations.js';
import { LEAKY_RELU_SLOPE } from '../nn/activations.js';

export const WGSL_ACTIVATIONS: readonly BaseActivation[] = [
  'tanh', 'sin', 'cos', 'sigmoid', 'softplus', 'silu', 'gelu', 'elu', 'relu', 'leaky_relu',
];
export const WGSL_MAX_ORDER = 4;
const WORKGROUP = 64;

/** A plain MLP with its slopes and input map folded into the weights (float32). */
export interface FoldedNet {
  inputs: number;
  /** sizes[0] = inputs, then the hidden widths, then the outputs */
  sizes: number[];
  activation: BaseActivation;
  /** per layer: weights [K×N] row-major, folded */
  W: Float32Array[];
  /** per layer: biases [N], folded */
  b: Float32Array[];
}

/** Fold slopes s_k (length 1 or width, per hidden layer; undefined = none) and the input map x' = g·x + c into W, b. */
export function foldNet(
  sizes: number[], activation: BaseActivation, W: Float64Array[] | Float32Array[], b: Float64Array[] | Float32Array[],
  slopes: (number[] | undefined)[], map: { g: number[]; c: number[] } | null,
): FoldedNet {
  const L = sizes.length - 2;
  const Wf: Float32Array[] = [];
  const bf: Float32Array[] = [];
  for (let k = 0; k <= L; k++) {
    const K = sizes[k]!;
    const N = sizes[k + 1]!;
    const s = k < L ? slopes[k] : undefined;
    const sj = (j: number) => (s === undefined ? 1 : s.length === 1 ? s[0]! : s[j]!);
    const w = new Float64Array(K * N);
    const bb = new Float64Array(N);
    for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) w[i * N + j] = W[k]![i * N + j]! * sj(j);
    for (let j = 0; j < N; j++) bb[j] = b[k]![j]! * sj(j);
    if (k === 0 && map) {
      for (let j = 0; j < N; j++) for (let i = 0; i < K; i++) bb[j] += map.c[i]! * w[i * N + j]!;
      for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) w[i * N + j] *= map.g[i]!;
    }
    Wf.push(Float32Array.from(w));
    bf.push(Float32Array.from(bb));
  }
  return { inputs: sizes[0]!, sizes, activation, W: Wf, b: bf };
}

/** Why the WGSL jets do not cover this network and plan, or null when they do. */
export function wgslUnsupported(activation: string, hidden: number, plan: JetPlan, mixture: boolean): string | null {
  if (mixture) return 'Rowdy/Kronecker activations (not yet in WGSL)';
  if (!WGSL_ACTIVATIONS.includes(activation as BaseActivation)) return `activation ${activation}`;
  if (hidden === 0) return 'no hidden layer';
  if (plan.maxOrder > WGSL_MAX_ORDER) return `derivative order ${plan.maxOrder} > ${WGSL_MAX_ORDER}`;
  return null;
}

const f = (x: number) => {
  const s = Math.fround(x).toPrecision(9);
  return /[.e]/.test(s) ? s : `${s}.0`;
};

/** WGSL: fn tower(u) -> array<f32, 5>, σ and its derivatives to order 4 (same closed forms as src/nn/activations.ts). */
function towerWgsl(act: BaseActivation): string {
  const sig = `
  let s = 1.0 / (1.0 + exp(-u));
  let c = 1.0 / (1.0 + exp(u));
  let q = s * c;
  let sg = array<f32, 5>(s, q, q * (c - s), q * (1.0 - 6.0 * q), q * (c - s) * (1.0 - 12.0 * q));`;
  switch (act) {
    case 'tanh':
      return `fn tower(u: f32) -> array<f32, 5> {
  let t = tanh(clamp(u, -15.0, 15.0));
  let t2 = t * t;
  let p = 1.0 - t2;
  let tp = t * p;
  return array<f32, 5>(t, p, -2.0 * tp, p * (6.0 * t2 - 2.0), tp * (16.0 - 24.0 * t2));
}`;
    case 'sin':
    case 'cos': {
      const s = 'sin(u)';
      const c = 'cos(u)';
      const cyc = [s, c, `-${s}`, `-${c}`];
      const sh = act === 'sin' ? 0 : 1;
      return `fn tower(u: f32) -> array<f32, 5> {
  return array<f32, 5>(${[0, 1, 2, 3, 4].map((k) => cyc[(k + sh) % 4]).join(', ')});
}`;
    }
    case 'sigmoid':
      return `fn tower(u: f32) -> array<f32, 5> {${sig}
  return sg;
}`;
    case 'softplus':
      return `fn tower(u: f32) -> array<f32, 5> {${sig}
  return array<f32, 5>(max(u, 0.0) + log(1.0 + exp(-abs(u))), sg[0], sg[1], sg[2], sg[3]);
}`;
    case 'silu':
      return `fn tower(u: f32) -> array<f32, 5> {${sig}
  return array<f32, 5>(u * sg[0], u * sg[1] + sg[0], u * sg[2] + 2.0 * sg[1], u * sg[3] + 3.0 * sg[2], u * sg[4] + 4.0 * sg[3]);
}`;
    case 'gelu':
      // gelu = u·Φ(u); gelu' = Φ + u φ; gelu^(k) = (−1)^k φ (He_{k−2} − He_k), k ≥ 2.
      // erf: Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7), as tfjs's erf kernel.
      return `fn erf1(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(-y, y, x >= 0.0);
}
fn tower(u: f32) -> array<f32, 5> {
  let Phi = 0.5 * (1.0 + erf1(u * ${f(Math.SQRT1_2)}));
  let u2 = u * u;
  let phi = exp(-0.5 * u2) * ${f(1 / Math.sqrt(2 * Math.PI))};
  return array<f32, 5>(u * Phi, Phi + u * phi, phi * (2.0 - u2), phi * u * (u2 - 4.0), phi * (7.0 * u2 - u2 * u2 - 4.0));
}`;
    case 'elu':
      return `fn tower(u: f32) -> array<f32, 5> {
  let e = exp(min(u, 0.0));
  if (u > 0.0) { return array<f32, 5>(u, 1.0, 0.0, 0.0, 0.0); }
  return array<f32, 5>(e - 1.0, e, e, e, e);
}`;
    case 'relu':
    case 'leaky_relu': {
      const a = act === 'leaky_relu' ? f(LEAKY_RELU_SLOPE) : '0.0';
      return `fn tower(u: f32) -> array<f32, 5> {
  if (u > 0.0) { return array<f32, 5>(u, 1.0, 0.0, 0.0, 0.0); }
  return array<f32, 5>(${a} * u, ${a}, 0.0, 0.0, 0.0);
}`;
    }
  }
}

/** Offsets of each layer's W and b in the one parameter buffer (floats). */
export function paramLayout(sizes: number[]): { W: number[]; b: number[]; total: number } {
  const W: number[] = [];
  const b: number[] = [];
  let off = 0;
  for (let k = 0; k + 1 < sizes.length; k++) {
    W.push(off);
    off += sizes[k]! * sizes[k + 1]!;
    b.push(off);
    off += sizes[k + 1]!;
  }
  return { W, b, total: off };
}

/**
 * The forward shader for this network shape and plan. Bindings: 0 params (read), 1 X
 * [N × d] (read), 2 out [C × N × outputs] channel-major (write), 3 uniforms { N }.
 */
export function forwardShader(sizes: number[], activation: BaseActivation, plan: JetPlan): string {
  const C = plan.channels.length;
  const L = sizes.length - 2;
  const d = sizes[0]!;
  const maxW = Math.max(...sizes.slice(1));
  const lay = paramLayout(sizes);
  const seeds = plan.channels.map((ch) => (ch.length === 1 ? ch[0]! : -1));
  const lines: string[] = [];
  const A = `array<f32, ${C * maxW}>`;
  lines.push(`struct U { n: u32 }
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
${towerWgsl(activation)}
const SIZES = array<u32, ${sizes.length}>(${sizes.map((s) => `${s}u`).join(', ')});
const WOFF = array<u32, ${L + 1}>(${lay.W.map((s) => `${s}u`).join(', ')});
const BOFF = array<u32, ${L + 1}>(${lay.b.map((s) => `${s}u`).join(', ')});
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= u.n) { return; }
  var z: ${A};
  var h: ${A};
  // input layer: value channel from the coordinates, channel (i) = W''[i, :], higher channels 0
  let N0 = SIZES[1];
  for (var j = 0u; j < N0; j++) {
    var acc = P[BOFF[0] + j];
    for (var i = 0u; i < ${d}u; i++) { acc += P[WOFF[0] + i * N0 + j] * X[p * ${d}u + i]; }
    z[j] = acc;`);
  for (let c = 1; c < C; c++) {
    lines.push(seeds[c]! >= 0 ? `    z[${c * maxW}u + j] = P[WOFF[0] + ${seeds[c]}u * N0 + j];` : `    z[${c * maxW}u + j] = 0.0;`);
  }
  lines.push(`  }
  for (var l = 0u; l < ${L}u; l++) {
    let K = SIZES[l + 1u];
    for (var j = 0u; j < K; j++) {
      let t = tower(z[j]);
      h[j] = t[0];`);
  for (let c = 1; c < C; c++) {
    const terms = plan.faa[c]!.map((term) => {
      const prod = term.factors.map((fc) => `z[${fc * maxW}u + j]`).join(' * ');
      return `${f(term.coef)} * t[${term.order}]${prod ? ` * ${prod}` : ''}`;
    });
    lines.push(`      h[${c * maxW}u + j] = ${terms.length ? terms.join(' + ') : '0.0'};`);
  }
  lines.push(`    }
    let N = SIZES[l + 2u];
    for (var j = 0u; j < N; j++) {
      let bj = P[BOFF[l + 1u] + j];`);
  for (let c = 0; c < C; c++) lines.push(`      var a${c} = ${c === 0 ? 'bj' : '0.0'};`);
  lines.push(`      for (var i = 0u; i < K; i++) {
        let w = P[WOFF[l + 1u] + i * N + j];`);
  for (let c = 0; c < C; c++) lines.push(`        a${c} += w * h[${c * maxW}u + i];`);
  lines.push('      }');
  for (let c = 0; c < C; c++) lines.push(`      z[${c * maxW}u + j] = a${c};`);
  const outs = sizes[L + 1]!;
  lines.push(`    }
  }
  for (var c = 0u; c < ${C}u; c++) {
    for (var o = 0u; o < ${outs}u; o++) { OUT[(c * u.n + p) * ${outs}u + o] = z[c * ${maxW}u + o]; }
  }
}`);
  return lines.join('\n');
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** One compiled pipeline per device and shader text (the shader depends on the shape, activation and plan only). */
function pipelineFor(device: GPUDevice, code: string): GPUComputePipeline {
  let m = pipelines.get(device);
  if (!m) pipelines.set(device, (m = new Map()));
  let p = m.get(code);
  if (!p) m.set(code, (p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } })));
  return p;
}

/** Counts of one forward call, for reports. */
export interface DispatchCount { dispatches: number; bytesRead: number }

/**
 * Run the forward jets on `device`: returns one Float32Array [N × outputs] per plan
 * channel. One dispatch; reads back the outputs only.
 */
export async function forwardJets(device: GPUDevice, net: FoldedNet, plan: JetPlan, X: Float32Array, counts?: DispatchCount): Promise<Float32Array[]> {
  const d = net.inputs;
  const n = X.length / d;
  const C = plan.channels.length;
  const outs = net.sizes[net.sizes.length - 1]!;
  const lay = paramLayout(net.sizes);
  const params = new Float32Array(lay.total);
  net.W.forEach((w, k) => params.set(w, lay.W[k]!));
  net.b.forEach((b, k) => params.set(b, lay.b[k]!));
  const pipeline = pipelineFor(device, forwardShader(net.sizes, net.activation, plan));
  const storage = (data: Float32Array) => {
    const buf = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>);
    return buf;
  };
  const pBuf = storage(params);
  const xBuf = storage(X);
  const outBytes = C * n * outs * 4;
  const outBuf = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const uBuf = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uBuf, 0, new Uint32Array([n, 0, 0, 0]));
  const readBuf = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [pBuf, xBuf, outBuf, uBuf].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
  pass.end();
  enc.copyBufferToBuffer(outBuf, 0, readBuf, 0, outBytes);
  device.queue.submit([enc.finish()]);
  await readBuf.mapAsync(GPUMapMode.READ);
  const all = new Float32Array(readBuf.getMappedRange().slice(0));
  readBuf.unmap();
  for (const b of [pBuf, xBuf, outBuf, uBuf, readBuf]) b.destroy();
  if (counts) {
    counts.dispatches += 1;
    counts.bytesRead += outBytes;
  }
  return Array.from({ length: C }, (_, c) => all.subarray(c * n * outs, (c + 1) * n * outs));
}
