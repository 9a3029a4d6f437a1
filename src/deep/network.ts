/**
 * Networks for data sets: a layer list (conv, pool, act, flatten, dense, dropout) in
 * tfjs ops, NHWC, with adaptive activations placed as in the authors' deep-learning
 * code: an `act` layer computes σ(n·a·x) on its input (after pooling in a LeNet), with
 *   global (GAAF)  one a shared by every act layer,
 *   layer (L-LAAF) one a per act layer,
 *   neuron (N-LAAF) one a per element of the act layer's input feature map (H×W×C for a
 *                   conv feature map, one per unit after a dense layer),
 * a = 1/n at start (or `init`), and slope recovery S = 1 / mean_k exp(mean(a_k)) over the
 * adaptive tensors (one term for GAAF). The output dense layer (classes or targets
 * units) is appended to the spec's layers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../spec/errors.js';
import type { LayerSpec, TrainSpec } from '../spec/train-schema.js';
import type { Rng } from '../domain/rng.js';
import { registerDeepKernels } from '../kernel/deep.js';

export type Layer =
  | { kind: 'conv'; filters: number; size: number; stride: number; padding: 'valid' | 'same'; w: tf.Variable; b: tf.Variable }
  | { kind: 'pool'; size: number; stride: number }
  | { kind: 'act'; activation: string; slope?: number /* index into slopes */ }
  | { kind: 'flatten' }
  | { kind: 'dense'; units: number; w: tf.Variable; b: tf.Variable }
  | { kind: 'dropout'; rate: number };

export interface NetworkConfig {
  sampleShape: number[];
  outputs: number;
  spec: TrainSpec['model'];
}

/** The spec's layers, or the MLP of `hidden:` (flatten, then dense + act per width). */
export function layerSpecs(m: TrainSpec['model']): { layers: LayerSpec[]; key: string } {
  if (m.layers && m.hidden) throw new SpecError('model: give layers: or hidden:, not both', ['model', 'hidden']);
  if (m.layers) return { layers: m.layers, key: 'layers' };
  const hidden = m.hidden ?? [100, 100];
  return { layers: [{ flatten: true }, ...hidden.flatMap((h) => [{ dense: h }, 'act' as const])], key: 'hidden' };
}

type Resolved = Exclude<LayerSpec, 'act' | 'flatten'>;

/**
 * The layers with the output layer appended and the feature shape entering each, checked
 * without tfjs (spec validation): SpecErrors at model.layers.K for layers that do not fit.
 */
export function planNetwork(cfg: NetworkConfig): { layers: { spec: Resolved; inShape: number[] }[]; outputShape: number[]; acts: number } {
  const m = cfg.spec;
  const { layers, key } = layerSpecs(m);
  let shape = [...cfg.sampleShape];
  const where = (i: number) => (key === 'layers' && i < layers.length ? ['model', 'layers', i] : key === 'layers' ? ['model', 'layers'] : ['model', 'hidden']);
  const all: LayerSpec[] = [...layers, { dense: cfg.outputs }];
  const out: { spec: Resolved; inShape: number[] }[] = [];
  let acts = 0;
  all.forEach((l, i) => {
    const spec: Resolved = typeof l === 'string' ? (l === 'act' ? { act: undefined } : { flatten: true as const }) : l;
    const inShape = [...shape];
    if ('conv' in spec) {
      if (shape.length !== 3) throw new SpecError(`layer ${i + 1} (conv) needs an image input [height, width, channels], it gets ${shape.join('×')}`, where(i), 'conv and pool come before flatten/dense, on image data (IDX images)');
      const [h, w] = shape as [number, number, number];
      const oh = spec.padding === 'same' ? Math.ceil(h / spec.stride) : Math.floor((h - spec.size) / spec.stride) + 1;
      const ow = spec.padding === 'same' ? Math.ceil(w / spec.stride) : Math.floor((w - spec.size) / spec.stride) + 1;
      if (oh < 1 || ow < 1) throw new SpecError(`layer ${i + 1}: a ${spec.size}×${spec.size} convolution does not fit the ${h}×${w} input`, where(i));
      shape = [oh, ow, spec.conv];
    } else if ('pool' in spec) {
      if (shape.length !== 3) throw new SpecError(`layer ${i + 1} (pool) needs an image input, it gets ${shape.join('×')}`, where(i));
      const stride = spec.stride ?? spec.pool;
      const oh = Math.floor((shape[0]! - spec.pool) / stride) + 1;
      const ow = Math.floor((shape[1]! - spec.pool) / stride) + 1;
      if (oh < 1 || ow < 1) throw new SpecError(`layer ${i + 1}: a ${spec.pool}×${spec.pool} pool does not fit the ${shape[0]}×${shape[1]} input`, where(i));
      shape = [oh, ow, shape[2]!];
    } else if ('flatten' in spec) {
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if ('dense' in spec) {
      if (shape.length !== 1) throw new SpecError(`layer ${i + 1} (dense) needs a flat input, it gets ${shape.join('×')}`, where(i), 'put flatten before the first dense layer');
      shape = [spec.dense];
    } else if (!('dropout' in spec)) {
      acts++;
    }
    out.push({ spec, inShape });
  });
  if (m.adaptive.mode !== 'none' && acts === 0) throw new SpecError(`model.adaptive.mode ${m.adaptive.mode} needs at least one act layer`, ['model', 'adaptive', 'mode']);
  return { layers: out, outputShape: shape, acts };
}

export class Network {
  readonly layers: Layer[] = [];
  /** trainable slopes a (empty in mode none) */
  readonly slopes: tf.Variable[] = [];
  /** per act layer: index into `slopes` (global: all 0) */
  readonly n: number;
  readonly mode: string;
  readonly outputShape: number[];

  constructor(readonly cfg: NetworkConfig, rng: Rng) {
    const m = cfg.spec;
    // On wasm, conv/dense/pool run on the project's SIMD kernels (kernel/deep.ts; threads by LAAF_THREADS).
    if (tf.getBackend() === 'wasm') registerDeepKernels();
    this.mode = m.adaptive.mode;
    this.n = m.adaptive.n;
    const a0 = m.adaptive.init ?? 1 / m.adaptive.n;
    const plan = planNetwork(cfg);
    for (const p of plan.layers) {
      const l = p.spec;
      if ('conv' in l) {
        const c = p.inShape[2]!;
        const fanIn = l.size * l.size * c;
        const w = this.init([l.size, l.size, c, l.conv], fanIn, l.size * l.size * l.conv, rng, m.init);
        const b = this.initBias(l.conv, fanIn, rng, m.init);
        this.layers.push({ kind: 'conv', filters: l.conv, size: l.size, stride: l.stride, padding: l.padding, w, b });
      } else if ('pool' in l) {
        this.layers.push({ kind: 'pool', size: l.pool, stride: l.stride ?? l.pool });
      } else if ('act' in l) {
        let slope: number | undefined;
        if (this.mode === 'global') {
          if (this.slopes.length === 0) this.slopes.push(tf.variable(tf.scalar(a0), true));
          slope = 0;
        } else if (this.mode === 'layer') {
          slope = this.slopes.length;
          this.slopes.push(tf.variable(tf.scalar(a0), true));
        } else if (this.mode === 'neuron') {
          slope = this.slopes.length;
          this.slopes.push(tf.variable(tf.fill(p.inShape, a0), true));
        }
        this.layers.push({ kind: 'act', activation: l.act ?? m.activation, ...(slope !== undefined ? { slope } : {}) });
      } else if ('flatten' in l) {
        this.layers.push({ kind: 'flatten' });
      } else if ('dense' in l) {
        const fanIn = p.inShape[0]!;
        const w = this.init([fanIn, l.dense], fanIn, l.dense, rng, m.init);
        const b = this.initBias(l.dense, fanIn, rng, m.init);
        this.layers.push({ kind: 'dense', units: l.dense, w, b });
      } else if ('dropout' in l) {
        this.layers.push({ kind: 'dropout', rate: l.dropout });
      }
    }
    this.outputShape = plan.outputShape;
  }

  private init(shape: number[], fanIn: number, fanOut: number, rng: Rng, kind: string): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(size);
    if (kind === 'xavier') {
      const std = Math.sqrt(2 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) v[i] = std * rng.normal();
    } else {
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < size; i++) v[i] = rng.range(-bound, bound);
    }
    return tf.variable(tf.tensor(v, shape), true);
  }

  private initBias(units: number, fanIn: number, rng: Rng, kind: string): tf.Variable {
    const v = new Float32Array(units);
    if (kind !== 'xavier') {
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < units; i++) v[i] = rng.range(-bound, bound);
    }
    return tf.variable(tf.tensor1d(v), true);
  }

  /** Every trainable variable, weights then slopes, in a fixed order (checkpoints, optimizers). */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const l of this.layers) if (l.kind === 'conv' || l.kind === 'dense') out.push(l.w, l.b);
    return [...out, ...this.slopes];
  }

  parameterCount(): { total: number; adaptive: number } {
    const adaptive = this.slopes.reduce((s, v) => s + v.size, 0);
    return { total: this.variables().reduce((s, v) => s + v.size, 0), adaptive };
  }

  /**
   * The network's outputs (logits) for a batch x [B, ...sampleShape]. `dropout` draws
   * the masks (inverted dropout: kept units scaled by 1/(1 − rate)) in training; without
   * it dropout is the identity (evaluation).
   */
  forward(x: tf.Tensor, dropout?: Rng): tf.Tensor2D {
    let h = x;
    for (const l of this.layers) {
      switch (l.kind) {
        case 'conv':
          h = tf.add(tf.conv2d(h as tf.Tensor4D, l.w as tf.Tensor4D, l.stride, l.padding), l.b);
          break;
        case 'pool':
          h = tf.maxPool(h as tf.Tensor4D, l.size, l.stride, 'valid');
          break;
        case 'act': {
          const z = l.slope === undefined ? h : tf.mul(h, tf.mul(this.slopes[l.slope]!, this.n));
          h = activate(l.activation, z);
          break;
        }
        case 'flatten':
          h = tf.reshape(h, [h.shape[0]!, -1]);
          break;
        case 'dense':
          h = tf.add(tf.matMul(h as tf.Tensor2D, l.w as tf.Tensor2D), l.b);
          break;
        case 'dropout':
          if (dropout && l.rate > 0) {
            const keep = 1 / (1 - l.rate);
            const mask = new Float32Array(h.size);
            for (let i = 0; i < mask.length; i++) mask[i] = dropout.uniform() < l.rate ? 0 : keep;
            h = tf.mul(h, tf.tensor(mask, h.shape));
          }
          break;
      }
    }
    return h as tf.Tensor2D;
  }

  /** S = 1 / mean_k exp(mean(a_k)) over the adaptive tensors (0 in mode none). */
  slopeRecovery(): tf.Scalar {
    if (this.slopes.length === 0) return tf.scalar(0);
    const terms = this.slopes.map((a) => tf.exp(tf.mean(a)));
    return tf.div(1, tf.div(tf.addN(terms), terms.length)) as tf.Scalar;
  }

  /** n·a per adaptive tensor: mean, min, max (history columns). */
  slopeStats(): { mean: number; min: number; max: number }[] {
    return this.slopes.map((a) => {
      const v = a.dataSync();
      let s = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of v) {
        s += x;
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      return { mean: (this.n * s) / v.length, min: this.n * lo, max: this.n * hi };
    });
  }

  /** Weights and slopes as exact float32 copies (checkpoints). */
  state(): Float32Array[] {
    return this.variables().map((v) => Float32Array.from(v.dataSync() as Float32Array));
  }

  load(values: Float32Array[]): void {
    const vars = this.variables();
    if (values.length !== vars.length) throw new Error(`checkpoint has ${values.length} arrays, the network ${vars.length}`);
    vars.forEach((v, i) => {
      if (values[i]!.length !== v.size) throw new Error(`checkpoint array ${i} has ${values[i]!.length} values, the network's ${v.size}`);
      tf.tidy(() => v.assign(tf.tensor(values[i]!, v.shape)));
    });
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}

export function activate(name: string, z: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'relu': return tf.relu(z);
    case 'tanh': return tf.tanh(z);
    case 'sigmoid': return tf.sigmoid(z);
    case 'elu': return tf.elu(z);
    case 'softplus': return tf.softplus(z);
    case 'sin': return tf.sin(z);
    case 'leaky_relu': return tf.leakyRelu(z, 0.01);
    case 'silu': return tf.mul(z, tf.sigmoid(z));
    default: throw new Error(`internal: unknown activation ${name}`);
  }
}

/**
 * The data loss of a batch: softmax cross-entropy (mean over the batch) with class
 * indices `y`, or the mean squared error against targets `y` [B, k].
 */
export function dataLoss(task: 'classification' | 'regression', out: tf.Tensor2D, y: tf.Tensor): tf.Scalar {
  if (task === 'regression') return tf.mean(tf.square(tf.sub(out, y))) as tf.Scalar;
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(out), y), 1))) as tf.Scalar;
}
