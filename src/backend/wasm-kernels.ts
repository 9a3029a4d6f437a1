/**
 * Kernels for training conv, pool and dense layers on the wasm backend (tfjs-backend-wasm 4.22):
 *
 * 1. Conv2DBackpropFilter, which wasm does not register at all (no conv layer could be
 *    trained there without it).
 * 2. Conv2DBackpropInput at stride 1, as a convolution of the zero-padded dy with the
 *    flipped, transposed filter (wasm's own kernel is a plain loop, ~5× slower than this
 *    on the LeNet's second layer); other strides keep wasm's kernel.
 * 3. BatchMatMul with a transposed operand: the operand is transposed first and the
 *    plain product taken (wasm's transposed paths are 10–40× slower than a transpose
 *    plus the plain product at 64×1024×1024) — every dense layer's gradient uses them.
 * 4. MaxPoolGrad: wasm's own drops the gradient of a window whose maximum is negative
 *    (tfjs-backend-wasm 4.22: on [1,4,4,1] with window maxima 0.91, −0.36, 0.97, 0.62 it
 *    returns 1 at three positions, not four); this one routes dy to the first maximum
 *    of each window, as the cpu backend does.
 *
 * Conv2DBackpropFilter:
 *
 * For a convolution y[b,i,j,co] = Σ x[b, i·s + kh − pt, j·s + kw − pl, ci] · W[kh,kw,ci,co],
 *   dW[kh,kw,ci,co] = Σ_{b,i,j} xp[b, i·s + kh, j·s + kw, ci] · dy[b,i,j,co]
 * (xp: x zero-padded). That is itself a convolution: xp viewed as [ci, Hp, Wp, b] (ci as
 * the batch, b as the channels) with dy viewed as a [oh, ow, b, co] filter, dilated by
 * the stride s; its output [ci, ≥kh, ≥kw, co] is cut to [ci, kh, kw, co] and transposed
 * to [kh, kw, ci, co]. Every step is a kernel the wasm backend has (PadV2, Transpose,
 * Conv2D, Slice), so the work runs in XNNPACK.
 */
import * as tf from '@tensorflow/tfjs-core';

type Info = tf.TensorInfo;

interface FilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function run(name: string, backend: tf.KernelBackend, inputs: Record<string, Info>, attrs: object): Info {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`internal: wasm kernel ${name} is missing`);
  return k.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap }) as Info;
}

export function conv2dBackpropFilterViaConv(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const attrs = args.attrs as unknown as FilterAttrs;
  const backend = args.backend;
  if (attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm: only NHWC is supported, got ${attrs.dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const [kh, kw, ci, co] = attrs.filterShape;
  const { top, bottom, left, right } = info.padInfo;
  const temps: Info[] = [];
  const keep = (t: Info): Info => {
    temps.push(t);
    return t;
  };
  try {
    const xp = top || bottom || left || right
      ? keep(run('PadV2', backend, { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }))
      : x;
    const xt = keep(run('Transpose', backend, { x: xp }, { perm: [3, 1, 2, 0] })); // [ci, Hp, Wp, b]
    const f = keep(run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] })); // [oh, ow, b, co]
    const full = keep(run('Conv2D', backend, { x: xt, filter: f }, {
      strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth], dimRoundingMode: undefined,
    })); // [ci, >= kh, >= kw, co]
    const cut = full.shape[1] === kh && full.shape[2] === kw
      ? full
      : keep(run('Slice', backend, { x: full }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] }));
    return run('Transpose', backend, { x: cut }, { perm: [1, 2, 0, 3] }); // [kh, kw, ci, co]
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

interface InputAttrs extends Omit<FilterAttrs, 'filterShape'> { inputShape: [number, number, number, number] }

/**
 * dx[b,r,t,ci] = Σ_{kh,kw,co} dy[b, r + top − kh, t + left − kw, co] · W[kh,kw,ci,co] at stride 1:
 * the valid convolution of dy padded by (k − 1 − pad) with Wf[p,q,co,ci] = W[k−1−p, k−1−q, ci, co].
 */
function conv2dBackpropInputViaConv(fallback: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info => {
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const attrs = args.attrs as unknown as InputAttrs;
    const backend = args.backend;
    const [kh, kw] = filter.shape as [number, number, number, number];
    const info = attrs.dataFormat === 'NHWC'
      ? tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast')
      : undefined;
    const p = info?.padInfo;
    if (!info || !p || info.strideHeight !== 1 || info.strideWidth !== 1 || p.top > kh - 1 || p.bottom > kh - 1 || p.left > kw - 1 || p.right > kw - 1) {
      return fallback(args as unknown as Parameters<tf.KernelFunc>[0]) as Info;
    }
    const temps: Info[] = [];
    const keep = (t: Info): Info => {
      temps.push(t);
      return t;
    };
    try {
      const dyp = keep(run('PadV2', backend, { x: dy }, { paddings: [[0, 0], [kh - 1 - p.top, kh - 1 - p.bottom], [kw - 1 - p.left, kw - 1 - p.right], [0, 0]], constantValue: 0 }));
      const flipped = keep(run('Reverse', backend, { x: filter }, { dims: [0, 1] }));
      const wf = keep(run('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] })); // [kh, kw, co, ci]
      return run('Conv2D', backend, { x: dyp, filter: wf }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

/** BatchMatMul with transposeA/transposeB: transpose the operand, then the plain product. */
function batchMatMulTransposeFirst(plain: tf.KernelFunc) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return plain(args as unknown as Parameters<tf.KernelFunc>[0]) as Info;
    const backend = args.backend;
    const swap = (t: Info) => {
      const perm = t.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
      return run('Transpose', backend, { x: t }, { perm });
    };
    const at = transposeA ? swap(a) : a;
    const bt = transposeB ? swap(b) : b;
    try {
      return plain({ inputs: { a: at, b: bt }, backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } } as unknown as Parameters<tf.KernelFunc>[0]) as Info;
    } finally {
      if (at !== a) backend.disposeData(at.dataId);
      if (bt !== b) backend.disposeData(bt.dataId);
    }
  };
}

interface PoolAttrs { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' }

interface WasmHeap { typedArrayFromHeap(t: Info): Float32Array; makeOutput(shape: number[], dtype: string): Info }

/** dx[b,r,t,c] = Σ over windows whose first maximum is at (r, t) of dy[b,i,j,c] (NHWC). */
function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): Info {
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const attrs = args.attrs as unknown as PoolAttrs;
  const backend = args.backend as unknown as WasmHeap;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const out = backend.makeOutput(input.shape, 'float32'); // may grow the heap: take the views after it
  const x = backend.typedArrayFromHeap(input);
  const g = backend.typedArrayFromHeap(dy);
  const dx = backend.typedArrayFromHeap(out);
  dx.fill(0);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < outHeight; i++) {
      const r0 = i * strideHeight - top;
      for (let j = 0; j < outWidth; j++) {
        const t0 = j * strideWidth - left;
        const dyBase = ((b * outHeight + i) * outWidth + j) * C;
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let at = -1;
          for (let p = 0; p < filterHeight; p++) {
            const r = r0 + p;
            if (r < 0 || r >= inHeight) continue;
            for (let q = 0; q < filterWidth; q++) {
              const t = t0 + q;
              if (t < 0 || t >= inWidth) continue;
              const k = ((b * inHeight + r) * inWidth + t) * C + c;
              if (x[k]! > best || at < 0) {
                best = x[k]!;
                at = k;
              }
            }
          }
          if (at >= 0) dx[at] = dx[at]! + (g[dyBase + c]!);
        }
      }
    }
  }
  return out;
}

function replace(name: string, make: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc) });
}

let registered = false;

/**
 * Register the three kernels with the wasm backend (once). Call after
 * @tensorflow/tfjs-backend-wasm is imported (its kernels are wrapped); a later tfjs that
 * registers its own Conv2DBackpropFilter keeps it.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterViaConv as unknown as tf.KernelFunc });
  }
  replace('Conv2DBackpropInput', (f) => conv2dBackpropInputViaConv(f) as unknown as tf.KernelFunc);
  replace('BatchMatMul', (f) => batchMatMulTransposeFirst(f) as unknown as tf.KernelFunc);
  replace('MaxPoolGrad', () => maxPoolGrad as unknown as tf.KernelFunc);
}
