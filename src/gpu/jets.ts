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
 * Backward: backwardJets, two dispatches (per point, then per parameter), tested for every
 * base activation (test/gpu-jets.test.ts). The training step built on these shaders is
 * gpu/step.ts.
 *
 * Rowdy and Kronecker mixtures (FoldedNet.mixture): the hidden activation's tower is
 * generated as `mtower(l, j, u)` = base tower + Σ_g c ω^m f_g^(m)(ω u), reading c, ω from
 * one more storage buffer (MIX); backward A also writes ∂/∂c, ∂/∂ω per point, neuron and
 * term (DMIX) and a third dispatch sums them; unfoldMixture chains them to α, F/ω and the
 * slopes as kernel/fused.ts rawMixture does. Forward and backward are tested against the
 * kernel; the GPU training step (gpu/step.ts) does not use them yet (no fold of α, F into
 * c, ω on the device, no mixture variables in its flat layout).
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
  /** Rowdy/Kronecker terms of the hidden layers; absent for a plain activation */
  mixture?: FoldedMixture;
}

/**
 * A hidden layer's activation as a mixture (src/nn/rowdy.ts): σ(u) = base(u) + Σ_g c_g f_g(ω_g u)
 * per neuron, base = the network's activation (Rowdy) or none (Kronecker), with the
 * coefficients c, ω in units of u (Mlp.mixtureCoefficients, tiled per neuron), float32.
 */
export interface FoldedMixture {
  kind: 'rowdy' | 'kronecker';
  /** each term's function (length G) */
  fns: BaseActivation[];
  /** per hidden layer: c [width × G] row-major */
  c: Float32Array[];
  /** per hidden layer: ω [width × G] */
  w: Float32Array[];
}

/** Offsets of each hidden layer's c and ω in the mixture buffer (floats): c at c[l], ω at w[l] = c[l] + width·G. */
export function mixtureLayout(sizes: number[], G: number): { c: number[]; w: number[]; total: number } {
  const c: number[] = [];
  const w: number[] = [];
  let off = 0;
  for (let l = 1; l + 1 < sizes.length; l++) {
    c.push(off);
    off += sizes[l]! * G;
    w.push(off);
    off += sizes[l]! * G;
  }
  return { c, w, total: off };
}

/** The mixture buffer's contents: c then ω per hidden layer (mixtureLayout). */
export function mixtureData(sizes: number[], mix: FoldedMixture): Float32Array {
  const lay = mixtureLayout(sizes, mix.fns.length);
  const out = new Float32Array(Math.max(lay.total, 4));
  mix.c.forEach((c, l) => out.set(c, lay.c[l]!));
  mix.w.forEach((w, l) => out.set(w, lay.w[l]!));
  return out;
}

/** The shape of a mixture, what the shaders are generated from (the coefficients are data). */
export interface MixtureShape { kind: 'rowdy' | 'kronecker'; fns: BaseActivation[] }

/**
 * WGSL of the activation's tower: fn tower(u) for a plain σ; for a mixture also
 * fn mtower(l, j, u) = base tower + Σ_g c ω^m f_g^(m)(ω u) (m = 0…5) of hidden layer l, neuron
 * j, reading c and ω from the storage buffer MIX (binding `binding`), and the call to use.
 */
function activationWgsl(sizes: number[], activation: BaseActivation, mix: MixtureShape | undefined, binding: number): { decl: string; call: (l: string, j: string, u: string) => string } {
  if (!mix) return { decl: towerWgsl(activation), call: (_l, _j, u) => `tower(${u})` };
  const G = mix.fns.length;
  const lay = mixtureLayout(sizes, G);
  const fns = [...new Set(mix.fns)];
  const decl: string[] = [
    `@group(0) @binding(${binding}) var<storage, read> MIX: array<f32>;`,
    `const MCOFF = array<u32, ${lay.c.length}>(${lay.c.map((v) => `${v}u`).join(', ')});`,
    `const MWOFF = array<u32, ${lay.w.length}>(${lay.w.map((v) => `${v}u`).join(', ')});`,
  ];
  if (mix.kind === 'rowdy') decl.push(towerWgsl(activation, 'tower'));
  for (const fn of fns) if (!(mix.kind === 'rowdy' && fn === activation)) decl.push(towerWgsl(fn, `tower_${fn}`));
  const term = (fn: BaseActivation) => (mix.kind === 'rowdy' && fn === activation ? 'tower' : `tower_${fn}`);
  decl.push(`fn mtower(l: u32, j: u32, u: f32) -> array<f32, 6> {
  var t = ${mix.kind === 'rowdy' ? 'tower(u)' : 'array<f32, 6>()'};
  let oc = MCOFF[l] + j * ${G}u;
  let ow = MWOFF[l] + j * ${G}u;`);
  mix.fns.forEach((fn, g) => decl.push(`  {
    let c = MIX[oc + ${g}u];
    let w = MIX[ow + ${g}u];
    let f = ${term(fn)}(w * u);
    var cw = c;
    for (var m = 0u; m < 6u; m++) { t[m] += cw * f[m]; cw *= w; }
  }`));
  decl.push('  return t;\n}');
  return { decl: decl.join('\n'), call: (l, j, u) => `mtower(${l}, ${j}, ${u})` };
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
      for (let j = 0; j < N; j++) for (let i = 0; i < K; i++) bb[j] = bb[j]! + (map.c[i]! * w[i * N + j]!);
      for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) w[i * N + j] = w[i * N + j]! * (map.g[i]!);
    }
    Wf.push(Float32Array.from(w));
    bf.push(Float32Array.from(bb));
  }
  return { inputs: sizes[0]!, sizes, activation, W: Wf, b: bf };
}

/** A float32 literal in WGSL that parses back to Math.fround(x) (WGSL has no literal for a non-finite value). */
export function wgslFloat(x: number): string {
  const v = Math.fround(x);
  if (!Number.isFinite(v)) throw new Error(`internal: ${x} has no WGSL float32 literal`);
  const s = v.toPrecision(9);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
const f = wgslFloat;

/**
 * WGSL: fn tower(u) -> array<f32, 6>, σ and its derivatives to order 5 (the same closed
 * forms as src/nn/activations.ts to order 4; order 5 is what the backward pass of an
 * order-4 jet needs: tanh^(5) = p (16 − 120t² + 120t⁴), sigmoid^(5) = q (1 − 30q + 120q²),
 * gelu^(5) = φ (u⁵ − 11u³ + 18u)).
 */
function towerWgsl(act: BaseActivation, name = 'tower'): string {
  return towerBody(act).replace('fn tower(', `fn ${name}(`);
}

function towerBody(act: BaseActivation): string {
  const sig = `
  let s = 1.0 / (1.0 + exp(-u));
  let c = 1.0 / (1.0 + exp(u));
  let q = s * c;
  let sg = array<f32, 6>(s, q, q * (c - s), q * (1.0 - 6.0 * q), q * (c - s) * (1.0 - 12.0 * q), q * (1.0 - 30.0 * q + 120.0 * q * q));`;
  switch (act) {
    case 'tanh':
      return `fn tower(u: f32) -> array<f32, 6> {
  let t = tanh(clamp(u, -15.0, 15.0));
  let t2 = t * t;
  let p = 1.0 - t2;
  let tp = t * p;
  return array<f32, 6>(t, p, -2.0 * tp, p * (6.0 * t2 - 2.0), tp * (16.0 - 24.0 * t2), p * (16.0 - 120.0 * t2 + 120.0 * t2 * t2));
}`;
    case 'sin':
    case 'cos': {
      const s = 'sin(u)';
      const c = 'cos(u)';
      const cyc = [s, c, `-${s}`, `-${c}`];
      const sh = act === 'sin' ? 0 : 1;
      return `fn tower(u: f32) -> array<f32, 6> {
  return array<f32, 6>(${[0, 1, 2, 3, 4, 5].map((k) => cyc[(k + sh) % 4]).join(', ')});
}`;
    }
    case 'sigmoid':
      return `fn tower(u: f32) -> array<f32, 6> {${sig}
  return sg;
}`;
    case 'softplus':
      return `fn tower(u: f32) -> array<f32, 6> {${sig}
  return array<f32, 6>(max(u, 0.0) + log(1.0 + exp(-abs(u))), sg[0], sg[1], sg[2], sg[3], sg[4]);
}`;
    case 'silu':
      return `fn tower(u: f32) -> array<f32, 6> {${sig}
  return array<f32, 6>(u * sg[0], u * sg[1] + sg[0], u * sg[2] + 2.0 * sg[1], u * sg[3] + 3.0 * sg[2], u * sg[4] + 4.0 * sg[3], u * sg[5] + 5.0 * sg[4]);
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
fn tower(u: f32) -> array<f32, 6> {
  let Phi = 0.5 * (1.0 + erf1(u * ${f(Math.SQRT1_2)}));
  let u2 = u * u;
  let phi = exp(-0.5 * u2) * ${f(1 / Math.sqrt(2 * Math.PI))};
  return array<f32, 6>(u * Phi, Phi + u * phi, phi * (2.0 - u2), phi * u * (u2 - 4.0), phi * (7.0 * u2 - u2 * u2 - 4.0), phi * u * (u2 * u2 - 11.0 * u2 + 18.0));
}`;
    case 'elu':
      // branch-free (select, no early return), as relu's: with an early return lavapipe's
      // compiler took minutes on the unrolled backward shader; branch-free, backward A of a
      // 4×4 net at order 4 JIT-compiles in ≈8 s at its first dispatch (pipeline creation 0.3 s)
      return `fn tower(u: f32) -> array<f32, 6> {
  let e = exp(min(u, 0.0));
  let pos = u > 0.0;
  let d2 = select(e, 0.0, pos);
  return array<f32, 6>(select(e - 1.0, u, pos), select(e, 1.0, pos), d2, d2, d2, d2);
}`;
    case 'relu':
    case 'leaky_relu': {
      const a = act === 'leaky_relu' ? f(LEAKY_RELU_SLOPE) : '0.0';
      return `fn tower(u: f32) -> array<f32, 6> {
  let pos = u > 0.0;
  return array<f32, 6>(select(${a} * u, u, pos), select(${a}, 1.0, pos), 0.0, 0.0, 0.0, 0.0);
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
export function forwardShader(sizes: number[], activation: BaseActivation, plan: JetPlan, mix?: MixtureShape): string {
  const C = plan.channels.length;
  const act = activationWgsl(sizes, activation, mix, 4);
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
${act.decl}
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
      let t = ${act.call('l', 'j', 'z[j]')};
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
  const mix = net.mixture;
  const pipeline = pipelineFor(device, forwardShader(net.sizes, net.activation, plan, mix && { kind: mix.kind, fns: mix.fns }));
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
  const bufs = [pBuf, xBuf, outBuf, uBuf];
  if (mix) bufs.push(storage(mixtureData(net.sizes, mix)));
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })),
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
  for (const b of [...bufs, readBuf]) b.destroy();
  if (counts) {
    counts.dispatches += 1;
    counts.bytesRead += outBytes;
  }
  return Array.from({ length: C }, (_, c) => all.subarray(c * n * outs, (c + 1) * n * outs));
}

// ------------------------------------------------------------------------- backward

/** Per-point storage of the backward pass: dZ of every layer and the inputs of layers ≥ 1, floats. */
function backwardLayout(sizes: number[], C: number, n: number): { dz: number[]; ha: number[]; dzTotal: number; haTotal: number } {
  const L = sizes.length - 2;
  const dz: number[] = [];
  const ha: number[] = [];
  let a = 0;
  let b = 0;
  for (let l = 0; l <= L; l++) {
    dz.push(a);
    a += n * C * sizes[l + 1]!;
    ha.push(b);
    if (l >= 1) b += n * C * sizes[l]!;
  }
  return { dz, ha, dzTotal: a, haTotal: Math.max(b, 1) };
}

/**
 * Dispatch A of the backward pass, one invocation per point: the forward pass again
 * (every layer's Z kept in private memory), then the reverse walk. Given ∂L/∂out_c
 * (binding 2, laid out as the forward output), it stores each layer's dZ_ℓ,c and the
 * layer inputs H_ℓ−1,c (bindings 4, 5) for dispatch B, which sums the weight gradients
 * over the points. Faà di Bruno backward, per hidden neuron and channel term
 * coef·σ^(m)(Z_0)·Π_f Z_f: ∂/∂Z_0 += coef·σ^(m+1)·Π_f Z_f, ∂/∂Z_f += coef·σ^(m)·Π_{f'≠f} Z_f'.
 */
export function backwardShaderA(sizes: number[], activation: BaseActivation, plan: JetPlan, mix?: MixtureShape): string {
  const C = plan.channels.length;
  const act = activationWgsl(sizes, activation, mix, 6);
  const L = sizes.length - 2;
  const d = sizes[0]!;
  const maxW = Math.max(...sizes.slice(1));
  const lay = paramLayout(sizes);
  const seeds = plan.channels.map((ch) => (ch.length === 1 ? ch[0]! : -1));
  const CW = C * maxW;
  const out: string[] = [];
  out.push(`struct U { n: u32 }
@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DOUT: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
@group(0) @binding(4) var<storage, read_write> DZ: array<f32>;
@group(0) @binding(5) var<storage, read_write> HA: array<f32>;
${act.decl}${mix ? `\n@group(0) @binding(7) var<storage, read_write> DMIX: array<f32>;` : ''}
const SIZES = array<u32, ${sizes.length}>(${sizes.map((s) => `${s}u`).join(', ')});
const WOFF = array<u32, ${L + 1}>(${lay.W.map((s) => `${s}u`).join(', ')});
const BOFF = array<u32, ${L + 1}>(${lay.b.map((s) => `${s}u`).join(', ')});
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  let n = u.n;
  if (p >= n) { return; }
  var zs: array<f32, ${(L + 1) * CW}>;
  var h: array<f32, ${CW}>;
  var g: array<f32, ${CW}>;
  var dh: array<f32, ${CW}>;
  let N0 = SIZES[1];
  for (var j = 0u; j < N0; j++) {
    var acc = P[BOFF[0] + j];
    for (var i = 0u; i < ${d}u; i++) { acc += P[WOFF[0] + i * N0 + j] * X[p * ${d}u + i]; }
    zs[j] = acc;`);
  for (let c = 1; c < C; c++) out.push(seeds[c]! >= 0 ? `    zs[${c * maxW}u + j] = P[WOFF[0] + ${seeds[c]}u * N0 + j];` : `    zs[${c * maxW}u + j] = 0.0;`);
  out.push(`  }`);
  // forward: H from zs[l], then zs[l + 1]
  const hidden = (zBase: string, target: 'h', layer: string) => {
    const lines = [`      let t = ${act.call(layer, 'j', `zs[${zBase} + j]`)};`, `      ${target}[j] = t[0];`];
    for (let c = 1; c < C; c++) {
      const terms = plan.faa[c]!.map((term) => {
        const prod = term.factors.map((fc) => `zs[${zBase} + ${fc * maxW}u + j]`).join(' * ');
        return `${f(term.coef)} * t[${term.order}]${prod ? ` * ${prod}` : ''}`;
      });
      lines.push(`      ${target}[${c * maxW}u + j] = ${terms.length ? terms.join(' + ') : '0.0'};`);
    }
    return lines.join('\n');
  };
  out.push(`  for (var l = 0u; l < ${L}u; l++) {
    let K = SIZES[l + 1u];
    let zb = l * ${CW}u;
    for (var j = 0u; j < K; j++) {
${hidden('zb', 'h', 'l')}
    }
    let N = SIZES[l + 2u];
    let zn = (l + 1u) * ${CW}u;
    for (var j = 0u; j < N; j++) {
      for (var c = 0u; c < ${C}u; c++) {
        var a = select(0.0, P[BOFF[l + 1u] + j], c == 0u);
        for (var i = 0u; i < K; i++) { a += P[WOFF[l + 1u] + i * N + j] * h[c * ${maxW}u + i]; }
        zs[zn + c * ${maxW}u + j] = a;
      }
    }
  }
  // reverse: g = dZ of layer l, from the output layer down
  let NO = SIZES[${L + 1}];
  for (var c = 0u; c < ${C}u; c++) {
    for (var o = 0u; o < NO; o++) { g[c * ${maxW}u + o] = DOUT[(c * n + p) * NO + o]; }
  }
  for (var l = ${L}u; l >= 1u; l--) {
    let K = SIZES[l];
    let N = SIZES[l + 1u];
    // store dZ_l and the layer input H_{l-1} (recomputed from zs[l-1])
    for (var c = 0u; c < ${C}u; c++) {
      for (var j = 0u; j < N; j++) { DZ[DZOFF(l) + (p * ${C}u + c) * N + j] = g[c * ${maxW}u + j]; }
    }
    let zb = (l - 1u) * ${CW}u;
    for (var j = 0u; j < K; j++) {
${hidden('zb', 'h', 'l - 1u')}
    }
    for (var c = 0u; c < ${C}u; c++) {
      for (var i = 0u; i < K; i++) { HA[HAOFF(l) + (p * ${C}u + c) * K + i] = h[c * ${maxW}u + i]; }
    }
    // dH = W_l dZ_l
    for (var i = 0u; i < K; i++) {
      for (var c = 0u; c < ${C}u; c++) {
        var a = 0.0;
        for (var j = 0u; j < N; j++) { a += P[WOFF[l] + i * N + j] * g[c * ${maxW}u + j]; }
        dh[c * ${maxW}u + i] = a;
      }
    }
    // Faà di Bruno backward through layer l-1's activation: g = dZ_{l-1}
    for (var j = 0u; j < K; j++) {
      let t = ${act.call('l - 1u', 'j', 'zs[zb + j]')};
      var g0 = t[1] * dh[j];`);
  // a mixture's coefficients: S[m] = ∂L/∂σ^(m) at this point and neuron (the Faà di Bruno terms' weights)
  if (mix) out.push('      var S = array<f32, 5>();\n      S[0] = dh[j];');
  for (let c = 1; c < C; c++) out.push(`      var g${c} = 0.0;`);
  for (let c = 1; c < C; c++) {
    for (const term of plan.faa[c]!) {
      const zf = (fc: number) => `zs[zb + ${fc * maxW}u + j]`;
      const prodAll = term.factors.map(zf).join(' * ');
      out.push(`      g0 += dh[${c * maxW}u + j] * ${f(term.coef)} * t[${term.order + 1}]${prodAll ? ` * ${prodAll}` : ''};`);
      if (mix) out.push(`      S[${term.order}] += dh[${c * maxW}u + j] * ${f(term.coef)}${prodAll ? ` * ${prodAll}` : ''};`);
      term.factors.forEach((fc, q) => {
        const others = term.factors.filter((_, r) => r !== q).map(zf).join(' * ');
        out.push(`      g${fc} += dh[${c * maxW}u + j] * ${f(term.coef)} * t[${term.order}]${others ? ` * ${others}` : ''};`);
      });
    }
  }
  for (let c = 0; c < C; c++) out.push(`      g[${c * maxW}u + j] = g${c};`);
  if (mix) {
    // term c·f(ω u) of σ^(m): ∂/∂c = ω^m f^(m)(ω u), ∂/∂ω = c (m ω^(m−1) f^(m)(ω u) + ω^m u f^(m+1)(ω u))
    const G = mix.fns.length;
    const MT = mixtureLayout(sizes, G).total;
    out.push(`      let u0 = zs[zb + j];
      let oc = MCOFF[l - 1u] + j * ${G}u;
      let ow = MWOFF[l - 1u] + j * ${G}u;`);
    mix.fns.forEach((fn, g) => out.push(`      {
        let c = MIX[oc + ${g}u];
        let w = MIX[ow + ${g}u];
        let fw = ${mix.kind === 'rowdy' && fn === activation ? 'tower' : `tower_${fn}`}(w * u0);
        var dc = 0.0;
        var dw = 0.0;
        var wm = 1.0;
        var dwm = 0.0;
        for (var m = 0u; m < 5u; m++) {
          dc += S[m] * wm * fw[m];
          dw += S[m] * c * (dwm * fw[m] + wm * u0 * fw[m + 1u]);
          dwm = f32(m + 1u) * wm;
          wm *= w;
        }
        DMIX[p * ${MT}u + oc + ${g}u] = dc;
        DMIX[p * ${MT}u + ow + ${g}u] = dw;
      }`));
  }
  out.push(`    }
  }
  let N = SIZES[1];
  for (var c = 0u; c < ${C}u; c++) {
    for (var j = 0u; j < N; j++) { DZ[(p * ${C}u + c) * N + j] = g[c * ${maxW}u + j]; }
  }
}`);
  const blay = backwardLayout(sizes, C, 1);
  // per-layer offsets scale with n: DZOFF(l) = n · (per-point offset of layer l)
  out.push(`fn DZOFF(l: u32) -> u32 { return u.n * DZP[l]; }
fn HAOFF(l: u32) -> u32 { return u.n * HAP[l]; }
const DZP = array<u32, ${L + 1}>(${blay.dz.map((v) => `${v}u`).join(', ')});
const HAP = array<u32, ${L + 1}>(${blay.ha.map((v) => `${v}u`).join(', ')});`);
  return out.join('\n');
}

/**
 * Dispatch B, one invocation per network parameter (the flat parameter layout):
 * dW_ℓ[i][j] = Σ_p Σ_c H_ℓ−1,c[p][i] · dZ_ℓ,c[p][j], db_ℓ[j] = Σ_p dZ_ℓ,0[p][j]; the
 * input layer's H is the coordinates on the value channel and e_i on channel (i).
 * With `chunk` > 0 the points are split into chunks of that many: a 2-D dispatch
 * (x: parameters, y: chunks) writes one partial sum per chunk and parameter to
 * G[chunk · total + q], and chunkSumShader adds them up (parallel over the points, which a
 * GPU needs when there are far fewer parameters than threads).
 */
export function backwardShaderB(sizes: number[], plan: JetPlan, chunk = 0): string {
  const C = plan.channels.length;
  const L = sizes.length - 2;
  const d = sizes[0]!;
  const lay = paramLayout(sizes);
  const seeds = plan.channels.map((ch) => (ch.length === 1 ? ch[0]! : -1));
  const blay = backwardLayout(sizes, C, 1);
  return `struct U { n: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> DZ: array<f32>;
@group(0) @binding(2) var<storage, read> HA: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
@group(0) @binding(4) var<storage, read_write> G: array<f32>;
const SIZES = array<u32, ${sizes.length}>(${sizes.map((s) => `${s}u`).join(', ')});
const WOFF = array<u32, ${L + 1}>(${lay.W.map((s) => `${s}u`).join(', ')});
const BOFF = array<u32, ${L + 1}>(${lay.b.map((s) => `${s}u`).join(', ')});
const DZP = array<u32, ${L + 1}>(${blay.dz.map((v) => `${v}u`).join(', ')});
const HAP = array<u32, ${L + 1}>(${blay.ha.map((v) => `${v}u`).join(', ')});
const SEED = array<i32, ${C}>(${seeds.map((s) => `${s}`).join(', ')});
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q >= ${lay.total}u) { return; }
  let n = u.n;
  let p0 = ${chunk > 0 ? `gid.y * ${chunk}u` : '0u'};
  let p1 = ${chunk > 0 ? `min(n, p0 + ${chunk}u)` : 'n'};
  if (p0 >= p1 && p0 > 0u) { return; }
  var l = 0u;
  for (var k = 1u; k <= ${L}u; k++) { if (q >= WOFF[k]) { l = k; } }
  let K = SIZES[l];
  let N = SIZES[l + 1u];
  var acc = 0.0;
  if (q >= BOFF[l]) {
    let j = q - BOFF[l];
    for (var p = p0; p < p1; p++) { acc += DZ[n * DZP[l] + (p * ${C}u) * N + j]; }
  } else {
    let i = (q - WOFF[l]) / N;
    let j = (q - WOFF[l]) % N;
    for (var p = p0; p < p1; p++) {
      for (var c = 0u; c < ${C}u; c++) {
        var a = 0.0;
        if (l == 0u) {
          if (c == 0u) { a = X[p * ${d}u + i]; } else if (SEED[c] == i32(i)) { a = 1.0; }
        } else {
          a = HA[n * HAP[l] + (p * ${C}u + c) * K + i];
        }
        acc += a * DZ[n * DZP[l] + (p * ${C}u + c) * N + j];
      }
    }
  }
  G[${chunk > 0 ? `gid.y * ${lay.total}u + q` : 'q'}] = acc;
}`;
}

/** G[q] = Σ_k PART[k · total + q] over the ceil(n / chunk) chunks of backwardShaderB. Bindings 0 PART (read), 1 U (uniform n), 2 G. */
export function chunkSumShader(total: number, chunk: number): string {
  return `struct U { n: u32 }
@group(0) @binding(0) var<storage, read> PART: array<f32>;
@group(0) @binding(1) var<uniform> u: U;
@group(0) @binding(2) var<storage, read_write> G: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q >= ${total}u) { return; }
  let chunks = (u.n + ${chunk - 1}u) / ${chunk}u;
  var acc = 0.0;
  for (var k = 0u; k < chunks; k++) { acc += PART[k * ${total}u + q]; }
  G[q] = acc;
}`;
}

/** M[q] = Σ_p DMIX[p · total + q]: a mixture's coefficient gradients summed over the points. Bindings 0 DMIX (read), 1 U (uniform n), 2 M. */
export function mixtureSumShader(total: number): string {
  return `struct U { n: u32 }
@group(0) @binding(0) var<storage, read> DMIX: array<f32>;
@group(0) @binding(1) var<uniform> u: U;
@group(0) @binding(2) var<storage, read_write> M: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q >= ${total}u) { return; }
  var acc = 0.0;
  for (var p = 0u; p < u.n; p++) { acc += DMIX[p * ${total}u + q]; }
  M[q] = acc;
}`;
}

/**
 * The gradient of Σ_c ⟨dOut_c, jet_c⟩ with respect to the folded parameters (the flat
 * layout of paramLayout), in two dispatches; reads back only the gradient. With a mixture,
 * a third dispatch sums ∂/∂c, ∂/∂ω per neuron and term over the points: they follow the
 * parameters' gradient in the result, laid out as mixtureLayout.
 */
export async function backwardJets(device: GPUDevice, net: FoldedNet, plan: JetPlan, X: Float32Array, dOut: Float32Array, counts?: DispatchCount): Promise<Float32Array> {
  const d = net.inputs;
  const n = X.length / d;
  const C = plan.channels.length;
  const lay = paramLayout(net.sizes);
  const params = new Float32Array(lay.total);
  net.W.forEach((w, k) => params.set(w, lay.W[k]!));
  net.b.forEach((b, k) => params.set(b, lay.b[k]!));
  const blay = backwardLayout(net.sizes, C, n);
  const mix = net.mixture;
  const MT = mix ? mixtureLayout(net.sizes, mix.fns.length).total : 0;
  const pa = pipelineFor(device, backwardShaderA(net.sizes, net.activation, plan, mix && { kind: mix.kind, fns: mix.fns }));
  const pb = pipelineFor(device, backwardShaderB(net.sizes, plan));
  const created: GPUBuffer[] = [];
  const buffer = (size: number, usage: number, data?: Float32Array | Uint32Array) => {
    const b = device.createBuffer({ size: Math.max(16, size), usage });
    if (data) device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
    created.push(b);
    return b;
  };
  const S = GPUBufferUsage.STORAGE;
  const D = GPUBufferUsage.COPY_DST;
  const pBuf = buffer(params.byteLength, S | D, params);
  const xBuf = buffer(X.byteLength, S | D, X);
  const oBuf = buffer(dOut.byteLength, S | D, dOut);
  const uBuf = buffer(16, GPUBufferUsage.UNIFORM | D, new Uint32Array([n, 0, 0, 0]));
  const dzBuf = buffer(blay.dzTotal * 4, S);
  const haBuf = buffer(blay.haTotal * 4, S);
  const gBuf = buffer(lay.total * 4, S | GPUBufferUsage.COPY_SRC);
  const rBuf = buffer((lay.total + MT) * 4, GPUBufferUsage.MAP_READ | D);
  const mixBufs = mix ? [buffer(MT * 4, S | D, mixtureData(net.sizes, mix)), buffer(n * MT * 4, S), buffer(MT * 4, S | GPUBufferUsage.COPY_SRC)] : [];
  const bind = (p: GPUComputePipeline, bufs: GPUBuffer[]) => device.createBindGroup({
    layout: p.getBindGroupLayout(0), entries: bufs.map((b, binding) => ({ binding, resource: { buffer: b } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pa);
  pass.setBindGroup(0, bind(pa, [pBuf, xBuf, oBuf, uBuf, dzBuf, haBuf, ...mixBufs.slice(0, 2)]));
  pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
  pass.setPipeline(pb);
  pass.setBindGroup(0, bind(pb, [xBuf, dzBuf, haBuf, uBuf, gBuf]));
  pass.dispatchWorkgroups(Math.ceil(lay.total / WORKGROUP));
  if (mix) {
    const pm = pipelineFor(device, mixtureSumShader(MT));
    pass.setPipeline(pm);
    pass.setBindGroup(0, bind(pm, [mixBufs[1]!, uBuf, mixBufs[2]!]));
    pass.dispatchWorkgroups(Math.ceil(MT / WORKGROUP));
  }
  pass.end();
  enc.copyBufferToBuffer(gBuf, 0, rBuf, 0, lay.total * 4);
  if (mix) enc.copyBufferToBuffer(mixBufs[2]!, 0, rBuf, lay.total * 4, MT * 4);
  device.queue.submit([enc.finish()]);
  await rBuf.mapAsync(GPUMapMode.READ);
  const grad = new Float32Array(rBuf.getMappedRange().slice(0));
  rBuf.unmap();
  for (const b of created) b.destroy();
  if (counts) {
    counts.dispatches += mix ? 3 : 2;
    counts.bytesRead += (lay.total + MT) * 4;
  }
  return grad;
}

/**
 * Gradients of the raw parameters from the folded ones (fused.ts's unfolding):
 * layer 0 first dW'_ij = g_i dW''_ij + c_i db''_j; then dW = dW' ⊙ s (per column),
 * db = db' ⊙ s, ds_j = Σ_i W_ij dW'_ij + b_j db'_j. Returns raw dW, db per layer and ds
 * per hidden layer (per neuron; the caller sums per layer or overall and multiplies by n).
 */
export function unfoldGradients(
  sizes: number[], grad: Float32Array, W: ArrayLike<number>[], b: ArrayLike<number>[],
  slopes: (number[] | undefined)[], map: { g: number[]; c: number[] } | null,
): { dW: Float64Array[]; db: Float64Array[]; ds: (Float64Array | undefined)[] } {
  const L = sizes.length - 2;
  const lay = paramLayout(sizes);
  const dW: Float64Array[] = [];
  const db: Float64Array[] = [];
  const ds: (Float64Array | undefined)[] = [];
  for (let k = 0; k <= L; k++) {
    const K = sizes[k]!;
    const N = sizes[k + 1]!;
    const gw = Float64Array.from(grad.subarray(lay.W[k]!, lay.W[k]! + K * N));
    const gb = Float64Array.from(grad.subarray(lay.b[k]!, lay.b[k]! + N));
    if (k === 0 && map) {
      for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) gw[i * N + j] = map.g[i]! * gw[i * N + j]! + map.c[i]! * gb[j]!;
    }
    const s = k < L ? slopes[k] : undefined;
    if (s !== undefined) {
      const sj = (j: number) => (s.length === 1 ? s[0]! : s[j]!);
      const dsk = new Float64Array(N);
      for (let j = 0; j < N; j++) {
        let a = b[k]![j]! * gb[j]!;
        for (let i = 0; i < K; i++) a += W[k]![i * N + j]! * gw[i * N + j]!;
        dsk[j] = a;
      }
      for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) gw[i * N + j] = gw[i * N + j]! * (sj(j));
      for (let j = 0; j < N; j++) gb[j] = gb[j]! * (sj(j));
      ds.push(dsk);
    } else if (k < L) {
      ds.push(undefined);
    }
    dW.push(gw);
    db.push(gb);
  }
  return { dW, db, ds };
}

/**
 * Gradients of a mixture's variables from ∂/∂c, ∂/∂ω per neuron and term (backwardJets,
 * laid out as mixtureLayout), by the chain of fused.ts's rawMixture: Kronecker c = α,
 * ω = ω; Rowdy c = n_R α, ω = n_R k F / s (s = the folded slope, 1 without), so
 * dα = n_R dc, dF = dω n_R k / s and ds_j −= Σ_g dω ω / s. Per layer mode (`perNeuron`
 * false) the neurons are summed. Returns dα, dF/dω per hidden layer ([G] or [width × G])
 * and the slopes' share ds per neuron (Rowdy with slopes; added to unfoldGradients's ds).
 */
export function unfoldMixture(
  sizes: number[], grad: Float32Array, mix: FoldedMixture, rowdyScales: number[], slopes: (number[] | undefined)[], perNeuron: boolean,
): { dAlpha: Float64Array[]; dFreq: Float64Array[]; ds: (Float64Array | undefined)[] } {
  const G = mix.fns.length;
  const lay = mixtureLayout(sizes, G);
  const base = paramLayout(sizes).total;
  const dAlpha: Float64Array[] = [];
  const dFreq: Float64Array[] = [];
  const ds: (Float64Array | undefined)[] = [];
  for (let l = 0; l + 2 < sizes.length; l++) {
    const width = sizes[l + 1]!;
    const nR = rowdyScales[l]!;
    const s = slopes[l];
    const sj = (j: number) => (s === undefined ? 1 : s.length === 1 ? s[0]! : s[j]!);
    const da = new Float64Array(perNeuron ? width * G : G);
    const dF = new Float64Array(da.length);
    const dsl = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      for (let g = 0; g < G; g++) {
        const e = j * G + g;
        const dc = grad[base + lay.c[l]! + e]!;
        const dw = grad[base + lay.w[l]! + e]!;
        const dst = perNeuron ? e : g;
        if (mix.kind === 'rowdy') {
          da[dst] = da[dst]! + nR * dc;
          dF[dst] = dF[dst]! + dw * Math.fround(nR * (g + 1)) / sj(j);
          dsl[j] = dsl[j]! - dw * mix.w[l]![e]! / sj(j);
        } else {
          da[dst] = da[dst]! + dc;
          dF[dst] = dF[dst]! + dw;
        }
      }
    }
    dAlpha.push(da);
    dFreq.push(dF);
    ds.push(mix.kind === 'rowdy' && s !== undefined ? dsl : undefined);
  }
  return { dAlpha, dFreq, ds };
}
