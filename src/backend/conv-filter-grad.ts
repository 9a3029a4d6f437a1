/**
 * The filter gradient of a 2-D convolution (tfjs kernel Conv2DBackpropFilter) for the
 * wasm backend, which does not register one (tfjs-backend-wasm 4.22): without it no
 * conv layer can be trained there.
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

/** Register the kernel for the wasm backend (once; a later tfjs that has its own keeps it). */
export function registerConvFilterGrad(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterViaConv as unknown as tf.KernelFunc });
}

registerConvFilterGrad();
