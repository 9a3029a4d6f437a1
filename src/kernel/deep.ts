/**
 * The data-set network kernels (assembly/deep.ts) as tfjs-wasm kernels: Conv2D,
 * Conv2DBackpropFilter and Conv2DBackpropInput (NHWC) as im2col + matrix products,
 * BatchMatMul (one batch: A·B, Aᵀ·B, A·Bᵀ), MaxPoolGrad for non-overlapping windows, and
 * Sum over leading axes (bias gradients, N-LAAF slope gradients). They run in
 * the kernel module on a memory and worker pool of their own (a second KernelRuntime:
 * the PINN kernels' memory and tape are never touched), threads cut each op by rows, so
 * results are the same for any thread count (LAAF_THREADS).
 *
 * Each call copies its operands from the tfjs-wasm heap into the kernel's memory and
 * the result back (a few MB per LeNet layer; small next to the products).
 *
 * `registerDeepKernels()` (src/deep/, when a data-set network trains on the wasm
 * backend) swaps them in for the wasm backend's kernels of the same name, keeping the
 * previous kernel as the fallback for what these do not cover (NCHW, dilations, batched
 * products, overlapping pools, other reductions).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { ARENA, KernelRuntime, MIN_POINTS_PER_THREAD, RUN_DEEP, configuredThreads, kernelPath } from './runtime.js';
import { DEEP, DEEP_CMD } from './layout.js';

type Info = tf.TensorInfo;
type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };
interface WasmHeap { typedArrayFromHeap(t: Info): Float32Array; makeOutput(shape: number[], dtype: string): Info }

const DESC = ARENA + 512; // after the runtime's control block
const WORKS = DESC + 4 * DEEP.SLOTS;
const MAX_THREADS = 64;
const HEAP = WORKS + 8 * MAX_THREADS;
/** multiply-adds per thread below which an op runs on fewer threads */
const MIN_WORK_PER_THREAD = 1 << 18;
/**
 * The reduction (K) is cut into slices of this many (later slices accumulate into C):
 * measured on the LeNet's second layer (one thread), A·B runs fastest unsliced up to
 * K = 1600 (29 vs 24 GFLOP/s at 256), Aᵀ·B fastest at 256.
 */
const K_SLICE = 2048;
const K_SLICE_TN = 256;

/** The most one op may lay out in the kernel memory (2 GiB): a larger op runs on the wasm backend's kernel. */
const ARENA_LIMIT = 1.5 * 2 ** 30;

/** Floats of gemm's packed B for a K×N operand. */
const packFloats = (K: number, N: number): number => Math.min(K, K_SLICE) * (N - (N % 8));

/** One op's operands in the kernel memory: addresses handed out upward from HEAP, reset per op. */
class Arena {
  at = HEAP;
  take(floats: number): number {
    const p = this.at;
    this.at = Math.ceil((this.at + 4 * floats) / 64) * 64;
    return p;
  }

  /** Grow the kernel memory to hold every area taken; false (nothing grown) past ARENA_LIMIT: the caller falls back. */
  ready(k: DeepKernels): boolean {
    if (this.at > ARENA_LIMIT) return false;
    k.rt.ensure(this.at);
    return true;
  }
}

export class DeepKernels {
  constructor(readonly rt: KernelRuntime) {}

  f32(addr: number, n: number): Float32Array {
    return new Float32Array(this.rt.buffer, addr, n);
  }

  /** Run cmd over rows [0, rows) on as many threads as `work` (multiply-adds) warrants; rows cut at multiples of `align`. */
  exec(cmd: number, slots: Partial<Record<keyof typeof DEEP, number>>, rows: number, work: number, align = 4): void {
    const d = new Int32Array(this.rt.buffer, DESC, DEEP.SLOTS);
    d.fill(0);
    for (const [k, v] of Object.entries(slots)) d[DEEP[k as keyof typeof DEEP]] = v;
    const want = Math.max(1, Math.min(MAX_THREADS, Math.floor(work / MIN_WORK_PER_THREAD), Math.ceil(rows / align)));
    const T = want > 1 ? this.rt.threadsFor(want * MIN_POINTS_PER_THREAD) : 1;
    const per = Math.ceil(rows / T / align) * align;
    const w = new Int32Array(this.rt.buffer, WORKS, 2 * T);
    const works: number[] = [];
    for (let t = 0; t < T; t++) {
      w[2 * t] = Math.min(rows, t * per);
      w[2 * t + 1] = Math.min(rows, (t + 1) * per);
      works.push(WORKS + 8 * t);
    }
    this.rt.run(cmd + RUN_DEEP, DESC, works);
  }

  /**
   * C [M×N] = A [M×K] · B [K×N] (+ bias [N] when given), all row-major at the given
   * addresses; K in slices of K_SLICE (later slices accumulate into C); each slice of B
   * packed first into Bp (packFloats(K, N) floats) as panels of 8 columns.
   */
  gemm(A: number, B: number, C: number, M: number, N: number, K: number, Bp: number, bias = 0): void {
    const blocks = N >> 3;
    for (let k0 = 0; k0 < K || k0 === 0; k0 += K_SLICE) {
      const k = Math.min(K_SLICE, K - k0);
      const slots = { A: A + 4 * k0, LDA: K, B: B + 4 * k0 * N, LDB: N, C, LDC: N, N, K: k, BIAS: k0 === 0 ? bias : 0, ACC: k0 === 0 ? 0 : 1, BP: Bp };
      if (blocks > 0) this.exec(DEEP_CMD.PACK, slots, blocks, blocks * k * 8, 1);
      this.exec(DEEP_CMD.GEMM, slots, M, M * N * k);
    }
  }

  /** C [M×N] = Aᵀ · B for A [K×M], B [K×N]; K in slices (later slices accumulate). */
  gemmTN(A: number, B: number, C: number, M: number, N: number, K: number): void {
    for (let k0 = 0; k0 < K || k0 === 0; k0 += K_SLICE_TN) {
      const k = Math.min(K_SLICE_TN, K - k0);
      this.exec(DEEP_CMD.GEMM_TN, { A: A + 4 * k0 * M, LDA: M, B: B + 4 * k0 * N, LDB: N, C, LDC: N, N, K: k, ACC: k0 === 0 ? 0 : 1 }, M, M * N * k);
    }
  }

  /** C [N×M] = Aᵀ for A [M×N]. */
  transpose(A: number, C: number, M: number, N: number): void {
    this.exec(DEEP_CMD.TRANSPOSE, { A, C, M, N }, M, (M * N) / 8, 32);
  }
}

let deep: DeepKernels | null | undefined;

/** The data-set kernels on their own runtime (memory and workers), or null when the module cannot load. */
export function deepKernels(): DeepKernels | null {
  if (deep !== undefined) return deep;
  try {
    const path = kernelPath();
    if (!existsSync(path)) throw new Error(`${path} is missing`);
    deep = new DeepKernels(new KernelRuntime(new Uint8Array(readFileSync(path)), configuredThreads()));
  } catch {
    deep = null;
  }
  return deep;
}

// ------------------------------------------------------------------ tfjs kernels

interface ConvGeom { B: number; H: number; W: number; CI: number; KH: number; KW: number; CO: number; S: number; PT: number; PL: number; OH: number; OW: number }

/** The convolution's geometry when these kernels cover it (NHWC, no dilation, equal strides), else null. */
function convGeom(xShape: number[], filterShape: number[], attrs: { strides: unknown; pad: unknown; dataFormat?: string; dilations?: unknown; dimRoundingMode?: unknown }): ConvGeom | null {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as [number, number], (attrs.dilations ?? 1) as [number, number], attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor' | undefined, false, 'channelsLast');
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.strideHeight !== info.strideWidth) return null;
  return {
    B: info.batchSize, H: info.inHeight, W: info.inWidth, CI: info.inChannels, KH: info.filterHeight, KW: info.filterWidth,
    CO: info.outChannels, S: info.strideHeight, PT: info.padInfo.top, PL: info.padInfo.left, OH: info.outHeight, OW: info.outWidth,
  };
}

function geomSlots(g: ConvGeom) {
  return { H: g.H, W: g.W, CH: g.CI, KH: g.KH, KW: g.KW, S: g.S, PT: g.PT, PL: g.PL, OH: g.OH, OW: g.OW };
}

/** Copy a tfjs-wasm tensor into the kernel memory at addr. */
function put(k: DeepKernels, heap: WasmHeap, t: Info, addr: number): void {
  k.f32(addr, tf.util.sizeFromShape(t.shape)).set(heap.typedArrayFromHeap(t));
}

/** A tfjs-wasm output of `shape` holding the kernel memory's floats at addr. */
function output(k: DeepKernels, heap: WasmHeap, shape: number[], addr: number): Info {
  const out = heap.makeOutput(shape, 'float32');
  heap.typedArrayFromHeap(out).set(k.f32(addr, tf.util.sizeFromShape(shape)));
  return out;
}

/** im2col of x (at xa) into col [B·OH·OW, KH·KW·CI]. */
function im2col(k: DeepKernels, g: ConvGeom, xa: number, col: number): void {
  const P = g.B * g.OH * g.OW;
  const Kc = g.KH * g.KW * g.CI;
  k.exec(DEEP_CMD.IM2COL, { A: xa, C: col, ...geomSlots(g) }, P, P * Kc / 4, 1);
}

function conv2d(k: DeepKernels, fallback: tf.KernelFunc) {
  return (args: Args): Info => {
    const { x, filter } = args.inputs as { x: Info; filter: Info };
    const g = convGeom(x.shape, filter.shape, args.attrs as never);
    if (!g || x.dtype !== 'float32') return fallback(args as never) as Info;
    const heap = args.backend as unknown as WasmHeap;
    const a = new Arena();
    const P = g.B * g.OH * g.OW;
    const Kc = g.KH * g.KW * g.CI;
    const xa = a.take(tf.util.sizeFromShape(x.shape));
    const wa = a.take(Kc * g.CO);
    const out = a.take(P * g.CO);
    const bp = a.take(packFloats(Kc, g.CO));
    const col = a.take(P * Kc);
    if (!a.ready(k)) return fallback(args as never) as Info;
    put(k, heap, x, xa);
    put(k, heap, filter, wa);
    im2col(k, g, xa, col);
    k.gemm(col, wa, out, P, g.CO, Kc, bp);
    return output(k, heap, [g.B, g.OH, g.OW, g.CO], out);
  };
}

/** dW [KH,KW,CI,CO] = im2col(x)ᵀ · dy. */
function conv2dBackpropFilter(k: DeepKernels, fallback: tf.KernelFunc | undefined) {
  return (args: Args): Info => {
    const { x, dy } = args.inputs as { x: Info; dy: Info };
    const attrs = args.attrs as { filterShape: number[] };
    const g = convGeom(x.shape, attrs.filterShape, args.attrs as never);
    const other = (): Info => {
      if (!fallback) throw new Error('Conv2DBackpropFilter on wasm: only NHWC without dilation is supported');
      return fallback(args as never) as Info;
    };
    if (!g || x.dtype !== 'float32') return other();
    const heap = args.backend as unknown as WasmHeap;
    const a = new Arena();
    const P = g.B * g.OH * g.OW;
    const Kc = g.KH * g.KW * g.CI;
    const xa = a.take(tf.util.sizeFromShape(x.shape));
    const dya = a.take(P * g.CO);
    const dw = a.take(Kc * g.CO);
    const col = a.take(P * Kc);
    if (!a.ready(k)) return other();
    put(k, heap, x, xa);
    put(k, heap, dy, dya);
    im2col(k, g, xa, col);
    k.gemmTN(col, dya, dw, Kc, g.CO, P);
    return output(k, heap, attrs.filterShape, dw);
  };
}

/** dx = col2im(dy · Wᵀ), W viewed [KH·KW·CI, CO]. */
function conv2dBackpropInput(k: DeepKernels, fallback: tf.KernelFunc) {
  return (args: Args): Info => {
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const attrs = args.attrs as { inputShape: number[] };
    const g = convGeom(attrs.inputShape, filter.shape, args.attrs as never);
    if (!g || dy.dtype !== 'float32') return fallback(args as never) as Info;
    const heap = args.backend as unknown as WasmHeap;
    const a = new Arena();
    const P = g.B * g.OH * g.OW;
    const Kc = g.KH * g.KW * g.CI;
    const dya = a.take(P * g.CO);
    const wa = a.take(Kc * g.CO);
    const wt = a.take(Kc * g.CO);
    const dcol = a.take(P * Kc);
    const dx = a.take(g.B * g.H * g.W * g.CI);
    const bp = a.take(packFloats(g.CO, Kc));
    if (!a.ready(k)) return fallback(args as never) as Info;
    put(k, heap, dy, dya);
    put(k, heap, filter, wa);
    k.transpose(wa, wt, Kc, g.CO);
    k.gemm(dya, wt, dcol, P, Kc, g.CO, bp);
    k.exec(DEEP_CMD.COL2IM, { A: dx, C: dcol, ...geomSlots(g) }, g.B, P * Kc / 4, 1);
    return output(k, heap, attrs.inputShape, dx);
  };
}

/** BatchMatMul with one batch: A·B, Aᵀ·B, A·Bᵀ (B transposed first), Aᵀ·Bᵀ (fallback). */
function batchMatMul(k: DeepKernels, fallback: tf.KernelFunc) {
  return (args: Args): Info => {
    const { a: ai, b: bi } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = ai.shape.length;
    const rb = bi.shape.length;
    const batchA = tf.util.sizeFromShape(ai.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(bi.shape.slice(0, -2));
    if ((transposeA && transposeB) || batchA !== 1 || batchB !== 1 || ai.dtype !== 'float32' || bi.dtype !== 'float32') return fallback(args as never) as Info;
    const [ar, ac] = [ai.shape[ra - 2]!, ai.shape[ra - 1]!];
    const [br, bc] = [bi.shape[rb - 2]!, bi.shape[rb - 1]!];
    const M = transposeA ? ac : ar;
    const K = transposeA ? ar : ac;
    const N = transposeB ? br : bc;
    const heap = args.backend as unknown as WasmHeap;
    const a = new Arena();
    const aa = a.take(ar * ac);
    const ba = a.take(br * bc);
    const bt = transposeB ? a.take(br * bc) : ba;
    const c = a.take(M * N);
    const bp = a.take(packFloats(K, N));
    if (!a.ready(k)) return fallback(args as never) as Info;
    put(k, heap, ai, aa);
    put(k, heap, bi, ba);
    if (transposeB) k.transpose(ba, bt, br, bc);
    if (transposeA) k.gemmTN(aa, bt, c, M, N, K);
    else k.gemm(aa, bt, c, M, N, K, bp);
    const outShape = [...(ra >= rb ? ai.shape : bi.shape).slice(0, -2), M, N];
    return output(k, heap, outShape, c);
  };
}

interface PoolAttrs { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' }

/** MaxPoolGrad for windows that do not overlap and need no padding (stride ≥ window); dy to each window's first maximum. */
function maxPoolGrad(k: DeepKernels, fallback: tf.KernelFunc) {
  return (args: Args): Info => {
    const { dy, input } = args.inputs as { dy: Info; input: Info };
    const attrs = args.attrs as unknown as PoolAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const p = info.padInfo;
    if (p.top || p.left || p.bottom || p.right || info.strideHeight < info.filterHeight || info.strideWidth < info.filterWidth || info.strideHeight !== info.strideWidth) {
      return fallback(args as never) as Info;
    }
    const heap = args.backend as unknown as WasmHeap;
    const a = new Arena();
    const n = tf.util.sizeFromShape(input.shape);
    const xa = a.take(n);
    const dya = a.take(tf.util.sizeFromShape(dy.shape));
    const dx = a.take(n);
    if (!a.ready(k)) return fallback(args as never) as Info;
    put(k, heap, input, xa);
    put(k, heap, dy, dya);
    k.exec(DEEP_CMD.POOL_GRAD, {
      A: xa, B: dya, C: dx, H: info.inHeight, W: info.inWidth, CH: info.inChannels, KH: info.filterHeight, KW: info.filterWidth,
      S: info.strideHeight, OH: info.outHeight, OW: info.outWidth,
    }, info.batchSize, n, 1);
    return output(k, heap, input.shape, dx);
  };
}

/**
 * Sum over leading axes 0..j−1 (j < rank): column sums of x viewed [M, N] — a conv or
 * dense layer's bias gradient, an N-LAAF slope's gradient over the batch; other
 * reductions fall back.
 */
function sum(k: DeepKernels, fallback: tf.KernelFunc) {
  return (args: Args): Info => {
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const r = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length >= 1 && axes.length < r && axes.every((v, i) => v === i);
    if (!leading || x.dtype !== 'float32') return fallback(args as never) as Info;
    const heap = args.backend as unknown as WasmHeap;
    const rest = x.shape.slice(axes.length);
    const N = tf.util.sizeFromShape(rest);
    const M = tf.util.sizeFromShape(x.shape) / N;
    const a = new Arena();
    const xa = a.take(M * N);
    const c = a.take(N);
    if (!a.ready(k)) return fallback(args as never) as Info;
    put(k, heap, x, xa);
    k.exec(DEEP_CMD.COLSUM, { A: xa, C: c, M, N }, 1, 0, 1);
    return output(k, heap, keepDims ? [...axes.map(() => 1), ...rest] : rest, c);
  };
}

let swapped: { name: string; prev: tf.KernelConfig | undefined }[] | null = null;

/**
 * Swap the data-set kernels in for the wasm backend's (once per process; the previous
 * kernel stays as the fallback). False when the kernel module cannot load (the wasm
 * backend's own kernels then run).
 */
export function registerDeepKernels(): boolean {
  if (swapped) return true;
  const k = deepKernels();
  if (!k) return false;
  swapped = [];
  const swap = (name: string, make: (prev: tf.KernelFunc | undefined) => (args: Args) => Info) => {
    const prev = tf.getKernel(name, 'wasm');
    if (prev) tf.unregisterKernel(name, 'wasm');
    swapped!.push({ name, prev });
    tf.registerKernel({ ...(prev ?? {}), kernelName: name, backendName: 'wasm', kernelFunc: make(prev?.kernelFunc) as unknown as tf.KernelFunc });
  };
  const need = (f: tf.KernelFunc | undefined, name: string): tf.KernelFunc => {
    if (!f) throw new Error(`internal: wasm kernel ${name} is missing`);
    return f;
  };
  swap('Conv2D', (f) => conv2d(k, need(f, 'Conv2D')));
  swap('Conv2DBackpropFilter', (f) => conv2dBackpropFilter(k, f));
  swap('Conv2DBackpropInput', (f) => conv2dBackpropInput(k, need(f, 'Conv2DBackpropInput')));
  swap('BatchMatMul', (f) => batchMatMul(k, need(f, 'BatchMatMul')));
  swap('MaxPoolGrad', (f) => maxPoolGrad(k, need(f, 'MaxPoolGrad')));
  swap('Sum', (f) => sum(k, need(f, 'Sum')));
  return true;
}

/** Put the wasm backend's previous kernels back (tests and benchmarks compare both). */
export function unregisterDeepKernels(): void {
  if (!swapped) return;
  for (const { name, prev } of swapped.reverse()) {
    tf.unregisterKernel(name, 'wasm');
    if (prev) tf.registerKernel(prev);
  }
  swapped = null;
}
