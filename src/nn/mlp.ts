/**
 * The adaptive multilayer perceptron, evaluated as Taylor jets (ARCHITECTURE.md, "Numerics").
 *
 * Hidden layer k (k = 0..D−2): z = h W_k + b_k, then σ(s_k ⊙ z) with s_k = n_k·a_k:
 *   none:   s = 1 (no slope variables)
 *   global: one scalar a shared by every hidden layer           (GAAF)
 *   layer:  one scalar a_k per hidden layer                     (L-LAAF)
 *   neuron: one vector a_k (one entry per neuron) per layer     (N-LAAF)
 * a multiplies the whole pre-activation, bias included; the output layer is linear.
 * The raw a are the trainable variables (`slopes`); n_k (`scales`) is fixed.
 *
 * Layout: row-vector convention, weights[k] is [fan_in, fan_out], biases[k] is [fan_out].
 *
 * `forwardJet` carries every channel of a `JetPlan` through the network: the input
 * layer seeds the value with the (normalised) coordinates and channel (i) with the
 * constant 2/(hi_i − lo_i)·e_i (higher channels are structurally zero and skipped); a
 * linear layer multiplies every channel by W (the slope s_k folded into W and b as
 * column scaling), the bias goes to the value channel only, and the activation is
 * applied by Faà di Bruno with the activation's derivative tower at the value channel.
 * Only first-order-differentiable tfjs ops are used, so `tf.variableGrads` of a loss
 * built from the jets gives gradients for weights, biases and slopes. This is the
 * `tfjs-ops` step path; which path computes a run's jets is chosen in src/step/.
 *
 * Rowdy and Kronecker activations (rowdy.ts) replace σ by a sum of terms with their own
 * trainable amplitudes and frequencies (`alphas`, `freqs`, one variable each per hidden
 * layer); the slope s stays folded into W and b, and the layer's tower is the sum of
 * the terms' towers, so jets, forward() and slope recovery (on a only) work unchanged.
 *
 * `mlpForwardNumber` is the same network in float64 plain JS, for references and tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../domain/rng.js';
import { jetComposeSparse, type SparseJet } from '../jet/jet.js';
import type { JetPlan } from '../jet/plan.js';
import { tower, towerNumber, type BaseActivation } from './activations.js';
import { matMulT } from './matmul.js';
import {
  mixtureCoefficients, mixtureNumber, mixturePlan, mixtureTower, resolveRowdyScales,
  type ActivationKind, type KroneckerConfig, type MixturePlan, type RowdyConfig, type RowdyStat,
} from './rowdy.js';

export type { ActivationKind, KroneckerConfig, MixturePlan, RowdyConfig, RowdyStat } from './rowdy.js';

export type AdaptiveMode = 'none' | 'global' | 'layer' | 'neuron';

export interface MlpConfig {
  inputs: number;
  hidden: number[];
  outputs: number;
  activation: BaseActivation;
  /** n: one for the net, or one per hidden layer; init: initial raw a (default 1/n). */
  adaptive: { mode: AdaptiveMode; n: number | number[]; init?: number };
  /** xavier: Glorot normal std sqrt(2/(fan_in+fan_out)), zero biases; normal: N(0, 0.1²) weights and biases. */
  init: 'xavier' | 'normal';
  /** When given (both), inputs are mapped affinely from [lo, hi] to [−1, 1] first. */
  inputLo?: number[];
  inputHi?: number[];
  /** Rowdy activation: base `activation` plus K − 1 trainable sinusoids (rowdy.ts). */
  rowdy?: RowdyConfig;
  /** Kronecker activation Σ_k α_k φ_k(ω_k u); replaces `activation` (rowdy.ts). */
  kronecker?: KroneckerConfig;
}

/**
 * The network as plain numbers and names (no tensors): what another implementation of
 * the same network needs besides its variables (a step path's kernel, ARCHITECTURE.md).
 */
export interface NetworkDescription {
  inputs: number;
  hidden: number[];
  outputs: number;
  activation: BaseActivation;
  adaptive: AdaptiveMode;
  /** n per hidden layer */
  scales: number[];
  /** inputs are mapped x' = g·x + c (from [lo, hi] to [−1, 1]) before the first layer; null: not mapped */
  inputScaling: { g: number[]; c: number[] } | null;
  /** Rowdy/Kronecker hidden activations: kind, terms per neuron and each term's function; null for a plain σ */
  mixture: { kind: 'rowdy' | 'kronecker'; terms: number; fns: BaseActivation[] } | null;
}

export interface MlpParams {
  weights: number[][][];
  biases: number[][];
  slopes: number[][];
  /** Rowdy/Kronecker α per hidden layer, flattened ([K'] or [width, K'] row-major); absent for plain nets. */
  alphas?: number[][];
  /** Rowdy F_k / Kronecker ω_k per hidden layer, same layout as `alphas`. */
  freqs?: number[][];
}

/** n per hidden layer, validated. */
export function resolveScales(cfg: MlpConfig): number[] {
  const L = cfg.hidden.length;
  const n = cfg.adaptive.n;
  const scales = Array.isArray(n) ? [...n] : new Array<number>(L).fill(n);
  if (scales.length !== L) throw new Error(`adaptive.n has ${scales.length} entries for ${L} hidden layers`);
  for (const s of scales) if (!(Number.isFinite(s) && s > 0)) throw new Error(`adaptive.n must be a positive number, got ${s}`);
  return scales;
}

/** Affine map to [−1, 1]: x' = g·x + c per input, or null when no bounds are configured. */
function inputMap(cfg: MlpConfig): { g: number[]; c: number[] } | null {
  const { inputLo: lo, inputHi: hi } = cfg;
  if (lo === undefined && hi === undefined) return null;
  if (lo === undefined || hi === undefined) throw new Error('inputLo and inputHi must be given together');
  if (lo.length !== cfg.inputs || hi.length !== cfg.inputs) {
    throw new Error(`inputLo/inputHi must have ${cfg.inputs} entries`);
  }
  const g = lo.map((l, i) => {
    const w = hi[i]! - l;
    if (!(Number.isFinite(w) && w > 0)) throw new Error(`input ${i}: need inputLo < inputHi, got [${l}, ${hi[i]}]`);
    return 2 / w;
  });
  return { g, c: lo.map((l, i) => -1 - l * g[i]!) };
}

function validate(cfg: MlpConfig): void {
  const posInt = (v: number, what: string) => {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${what} must be a positive integer, got ${v}`);
  };
  posInt(cfg.inputs, 'inputs');
  posInt(cfg.outputs, 'outputs');
  cfg.hidden.forEach((w, k) => posInt(w, `hidden[${k}]`));
  if (cfg.adaptive.mode !== 'none' && cfg.hidden.length === 0) {
    throw new Error(`adaptive mode '${cfg.adaptive.mode}' needs at least one hidden layer`);
  }
  if ((cfg.rowdy || cfg.kronecker) && cfg.hidden.length === 0) {
    throw new Error(`${cfg.rowdy ? 'rowdy' : 'kronecker'} activations need at least one hidden layer`);
  }
}

export class Mlp {
  readonly cfg: MlpConfig;
  weights: tf.Variable[] = [];
  biases: tf.Variable[] = [];
  slopes: tf.Variable[] = [];
  /** Rowdy α_k / Kronecker α_k, one variable per hidden layer ([K'] or [width, K']); empty for a plain net. */
  alphas: tf.Variable[] = [];
  /** Rowdy F_k / Kronecker ω_k, same shapes as `alphas`. */
  freqs: tf.Variable[] = [];
  scales: number[];
  /** n_R per hidden layer (Rowdy), else equal to `scales`. */
  readonly rowdyScales: number[];
  /** plain σ, or a Rowdy / Kronecker sum. */
  readonly activationKind: ActivationKind;
  private readonly mixture: MixturePlan | null;
  private readonly map: { g: number[]; c: number[] } | null;

  constructor(cfg: MlpConfig, rng: Rng) {
    validate(cfg);
    this.cfg = cfg;
    this.scales = resolveScales(cfg);
    this.mixture = mixturePlan(cfg.rowdy, cfg.kronecker);
    this.activationKind = this.mixture?.kind ?? 'plain';
    this.rowdyScales = resolveRowdyScales(cfg.rowdy, this.scales);
    this.map = inputMap(cfg);
    const sizes = [cfg.inputs, ...cfg.hidden, cfg.outputs];
    for (let k = 0; k + 1 < sizes.length; k++) {
      const fanIn = sizes[k]!;
      const fanOut = sizes[k + 1]!;
      const std = cfg.init === 'xavier' ? Math.sqrt(2 / (fanIn + fanOut)) : 0.1;
      const w = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < w.length; i++) w[i] = std * rng.normal();
      const b = new Float32Array(fanOut);
      if (cfg.init === 'normal') for (let i = 0; i < fanOut; i++) b[i] = 0.1 * rng.normal();
      this.weights.push(makeVar(tf.tensor2d(w, [fanIn, fanOut])));
      this.biases.push(makeVar(tf.tensor1d(b)));
    }
    const mode = cfg.adaptive.mode;
    const a0 = (k: number) => cfg.adaptive.init ?? 1 / this.scales[k]!;
    if (mode === 'global') this.slopes.push(makeVar(tf.scalar(a0(0))));
    else if (mode === 'layer') cfg.hidden.forEach((_, k) => this.slopes.push(makeVar(tf.scalar(a0(k)))));
    else if (mode === 'neuron') cfg.hidden.forEach((w, k) => this.slopes.push(makeVar(tf.fill([w], a0(k)))));
    // Rowdy/Kronecker variables are deterministic: the weights equal the plain net's for the same seed.
    const mix = this.mixture;
    if (mix) {
      cfg.hidden.forEach((w, k) => {
        const G = mix.terms;
        const f0 = mix.freq0(this.rowdyScales[k]!);
        const shape = mix.mode === 'neuron' ? [w, G] : [G];
        const rows = mix.mode === 'neuron' ? w : 1;
        const tile = (v: number[]) => tf.tensor(Array.from({ length: rows }, () => v).flat(), shape);
        this.alphas.push(makeVar(tile(mix.alpha0)));
        this.freqs.push(makeVar(tile(f0)));
      });
    }
  }

  /** Raw slope variable used by hidden layer k (null in mode none). */
  private slopeOf(k: number): tf.Variable | null {
    switch (this.cfg.adaptive.mode) {
      case 'none': return null;
      case 'global': return this.slopes[0]!;
      default: return this.slopes[k]!;
    }
  }

  /** s_k = n_k·a_k (scalar or [width]); null in mode none. */
  private slopeScale(k: number): tf.Tensor | null {
    const a = this.slopeOf(k);
    return a === null ? null : tf.mul(a, this.scales[k]!);
  }

  /** The Rowdy/Kronecker plan of the hidden activations, or null for a plain σ. */
  mixturePlan(): MixturePlan | null {
    return this.mixture;
  }

  /** This network as plain numbers and names (see NetworkDescription). */
  describe(): NetworkDescription {
    const mix = this.mixture;
    return {
      inputs: this.cfg.inputs,
      hidden: [...this.cfg.hidden],
      outputs: this.cfg.outputs,
      activation: this.cfg.activation,
      adaptive: this.cfg.adaptive.mode,
      scales: [...this.scales],
      inputScaling: this.map ? { g: [...this.map.g], c: [...this.map.c] } : null,
      mixture: mix ? { kind: mix.kind, terms: mix.terms, fns: mix.groups.flatMap((g) => new Array<BaseActivation>(g.count).fill(g.fn)) } : null,
    };
  }

  /**
   * Hidden layer k's mixture amplitudes c and frequencies ω in units of u (tfjs ops on
   * α, F/ω and the slope, so gradients flow back to them), as the composite tower uses them.
   */
  mixtureCoefficients(k: number): { c: tf.Tensor; w: tf.Tensor } {
    const mix = this.mixture;
    if (mix === null) throw new Error('Mlp.mixtureCoefficients: not a Rowdy/Kronecker network');
    return mixtureCoefficients(mix, this.alphas[k]!, this.freqs[k]!, this.rowdyScales[k]!, this.slopeScale(k));
  }

  /**
   * Derivative tower (orders 0..order) of hidden layer k's activation at u = s·z, the
   * layer output with the slope folded in: the base σ, or the Rowdy/Kronecker sum.
   */
  private activationTower(k: number, u: tf.Tensor, order: number): tf.Tensor[] {
    const mix = this.mixture;
    if (mix === null) return tower(this.cfg.activation, u, order);
    return mixtureTower(mix, this.cfg.activation, u, this.mixtureCoefficients(k), order);
  }

  private normalise(X: tf.Tensor2D): tf.Tensor2D {
    if (X.shape[1] !== this.cfg.inputs) throw new Error(`Mlp: input has ${X.shape[1]} columns, network expects ${this.cfg.inputs}`);
    if (this.map === null) return X;
    return tf.add(tf.mul(X, tf.tensor2d(this.map.g, [1, this.cfg.inputs])), tf.tensor2d(this.map.c, [1, this.cfg.inputs]));
  }

  /**
   * Effective weights and bias of layer k: (W·s, b·s) for a hidden layer with slope
   * scale s = n·a (column scaling: s(hW + b) = h(Ws) + bs), (W, b) otherwise.
   * Folding s into the small weight matrix saves one [N, width] multiply per channel.
   */
  private layer(k: number): { W: tf.Tensor2D; b: tf.Tensor } {
    const W = this.weights[k]! as tf.Tensor2D;
    const b = this.biases[k]!;
    const s = k < this.cfg.hidden.length ? this.slopeScale(k) : null;
    return s === null ? { W, b } : { W: tf.mul(W, s), b: tf.mul(b, s) };
  }

  /**
   * Jets of the outputs: one [N, outputs] tensor per plan channel (plan.channels order).
   * Input normalisation, if configured, is part of the network, so channels are
   * derivatives with respect to the original (unnormalised) inputs.
   *
   * Each channel gets its own matMul with the layer's weights (a custom-gradient
   * matMul, see `matMulT`). Stacking the channels along the batch axis into one
   * matMul was measured 2× slower on wasm: the concat/slice (or split) around it cost
   * more than the matMul itself, forward and backward (Slice's gradient pads to the
   * full stacked size).
   */
  forwardJet(plan: JetPlan, X: tf.Tensor2D): tf.Tensor2D[] {
    if (plan.nInputs !== this.cfg.inputs) throw new Error(`Mlp.forwardJet: plan has ${plan.nInputs} inputs, network ${this.cfg.inputs}`);
    const N = X.shape[0];
    const L = this.cfg.hidden.length;
    const g = this.map?.g;

    // Input layer, sparse: value = X'W + b, channel (i) = g_i·W[i, :] (a broadcast row), higher = 0.
    const first = this.layer(0);
    const width0 = first.W.shape[1];
    let z: SparseJet = plan.channels.map((ch, c) => {
      if (c === 0) return tf.add(matMulT(this.normalise(X), first.W), first.b);
      if (ch.length !== 1) return null;
      const i = ch[0]!;
      const row = tf.slice(first.W, [i, 0], [1, width0]);
      return g ? tf.mul(row, g[i]!) : row;
    });

    for (let k = 0; k < L; k++) {
      const width = this.cfg.hidden[k]!;
      const h = jetComposeSparse(plan, z, this.activationTower(k, z[0]!, plan.maxOrder));
      const { W, b } = this.layer(k + 1);
      z = h.map((t, c) => {
        if (t === null) return null;
        const full = t.shape[0] === N ? t : tf.broadcastTo(t, [N, width]);
        const zc = matMulT(full, W);
        return c === 0 ? tf.add(zc, b) : zc;
      });
    }

    const out = this.cfg.outputs;
    return z.map((t) => {
      if (t === null) return tf.zeros([N, out]) as tf.Tensor2D;
      return (t.shape[0] === N ? t : tf.broadcastTo(t, [N, out])) as tf.Tensor2D;
    });
  }

  /** Values only (fast path); equals forwardJet(plan, X)[0] (same operations, bit for bit). */
  forward(X: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor = this.normalise(X);
    const L = this.cfg.hidden.length;
    for (let k = 0; k <= L; k++) {
      const { W, b } = this.layer(k);
      const z = tf.add(matMulT(h, W), b);
      if (k === L) return z as tf.Tensor2D;
      h = this.activationTower(k, z, 0)[0]!;
    }
    throw new Error('unreachable');
  }

  /** ā_k per hidden layer: the layer's a (global: the single a), or the layer mean (neuron). */
  private layerSlopes(): tf.Tensor1D {
    const L = this.cfg.hidden.length;
    switch (this.cfg.adaptive.mode) {
      case 'global': return tf.broadcastTo(this.slopes[0]!, [L]) as tf.Tensor1D;
      case 'layer': return tf.stack(this.slopes) as tf.Tensor1D;
      case 'neuron': return tf.stack(this.slopes.map((a) => tf.mean(a))) as tf.Tensor1D;
      default: throw new Error('no slopes in mode none');
    }
  }

  /**
   * Slope recovery S(a) on the raw a. 'paper': 1 / ((1/(D−1)) Σ_k exp(ā_k)) (global: 1/exp(a));
   * 'script': 1 / Σ_k exp(ā_k) (the authors' TF regression script). 0 in mode none.
   */
  slopeRecovery(form: 'paper' | 'script' = 'paper'): tf.Scalar {
    const mode = this.cfg.adaptive.mode;
    if (mode === 'none') return tf.scalar(0);
    const L = this.cfg.hidden.length;
    if (mode === 'global') {
      const e = tf.exp(this.slopes[0]!);
      return tf.div(1, form === 'paper' ? e : tf.mul(e, L)) as tf.Scalar;
    }
    const e = tf.exp(this.layerSlopes());
    return tf.div(1, form === 'paper' ? tf.mean(e) : tf.sum(e)) as tf.Scalar;
  }

  /** n·a per hidden layer: mean, min, max (equal for global/layer); [] in mode none. */
  slopeStats(): { mean: number; min: number; max: number }[] {
    if (this.cfg.adaptive.mode === 'none') return [];
    return this.cfg.hidden.map((_, k) => {
      const n = this.scales[k]!;
      const v = Array.from(this.slopeOf(k)!.dataSync(), (a) => n * a);
      const mean = v.reduce((p, q) => p + q, 0) / v.length;
      return { mean, min: Math.min(...v), max: Math.max(...v) };
    });
  }

  /**
   * Rowdy/Kronecker amplitudes and frequencies per hidden layer ([] for a plain net):
   * the added terms (Rowdy: all K − 1 sinusoids; Kronecker: k ≥ 2), see `RowdyStat`.
   */
  rowdyStats(): RowdyStat[] {
    const mix = this.mixture;
    if (mix === null) return [];
    const G = mix.terms;
    const from = mix.kind === 'rowdy' ? 0 : 1;
    return this.cfg.hidden.map((_, k) => {
      const al = this.alphas[k]!.dataSync();
      const fr = this.freqs[k]!.dataSync();
      const n = this.rowdyScales[k]!;
      let alphaMaxAbs = 0, freqMin = Infinity, freqMax = -Infinity, lead = 0;
      for (let e = 0; e < al.length; e++) {
        const i = e % G;
        if (i === 0) lead += al[e]!;
        if (i < from) continue;
        alphaMaxAbs = Math.max(alphaMaxAbs, Math.abs(al[e]!));
        const f = mix.kind === 'rowdy' ? n * (i + 1) * fr[e]! : fr[e]!;
        freqMin = Math.min(freqMin, f);
        freqMax = Math.max(freqMax, f);
      }
      if (freqMin > freqMax) freqMin = freqMax = NaN; // Kronecker with a single function: no added terms
      const ampMaxAbs = mix.kind === 'rowdy' ? n * alphaMaxAbs : alphaMaxAbs;
      return { layer: k + 1, alphaMaxAbs, ampMaxAbs, freqMin, freqMax, ...(mix.kind === 'kronecker' ? { lead: lead / (al.length / G) } : {}) };
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...this.weights, ...this.biases, ...this.slopes, ...this.alphas, ...this.freqs];
  }

  /** total: every trainable number; adaptive: the slopes a plus the Rowdy/Kronecker α, F/ω. */
  parameterCount(): { total: number; adaptive: number } {
    const size = (vs: tf.Variable[]) => vs.reduce((p, v) => p + v.size, 0);
    const adaptive = size(this.slopes) + size(this.alphas) + size(this.freqs);
    return { total: size(this.weights) + size(this.biases) + adaptive, adaptive };
  }

  /** Plain-JS snapshot: weights[k][i][j] ([fan_in][fan_out]), biases[k][j], slopes per variable (flattened). */
  toJSON(): MlpParams {
    const flat = (vs: tf.Variable[]) => vs.map((a) => Array.from(a.dataSync()));
    return {
      weights: this.weights.map((w) => w.arraySync() as number[][]),
      biases: this.biases.map((b) => Array.from(b.dataSync())),
      slopes: flat(this.slopes),
      ...(this.mixture ? { alphas: flat(this.alphas), freqs: flat(this.freqs) } : {}),
    };
  }

  /** Restore a snapshot from `toJSON` (shapes must match). */
  load(p: MlpParams): void {
    const check = (ok: boolean, what: string) => {
      if (!ok) throw new Error(`Mlp.load: ${what} does not match the network`);
    };
    check(p.weights.length === this.weights.length && p.biases.length === this.biases.length, 'layer count');
    check(p.slopes.length === this.slopes.length, 'slope count');
    check((p.alphas?.length ?? 0) === this.alphas.length && (p.freqs?.length ?? 0) === this.freqs.length, 'rowdy/kronecker variable count');
    tf.tidy(() => {
      this.weights.forEach((w, k) => {
        const [r, c] = w.shape as [number, number];
        const pw = p.weights[k]!;
        check(pw.length === r && pw.every((row) => row.length === c), `weights[${k}] shape`);
        w.assign(tf.tensor2d(pw, [r, c]));
      });
      this.biases.forEach((b, k) => {
        check(p.biases[k]!.length === b.size, `biases[${k}] size`);
        b.assign(tf.tensor1d(p.biases[k]!));
      });
      this.slopes.forEach((a, k) => {
        check(p.slopes[k]!.length === a.size, `slopes[${k}] size`);
        a.assign(tf.tensor(p.slopes[k]!, a.shape));
      });
      for (const [vs, ps, what] of [[this.alphas, p.alphas, 'alphas'], [this.freqs, p.freqs, 'freqs']] as const) {
        vs.forEach((v, k) => {
          check(ps![k]!.length === v.size, `${what}[${k}] size`);
          v.assign(tf.tensor(ps![k]!, v.shape));
        });
      }
    });
  }

  dispose(): void {
    for (const v of this.trainableVariables()) v.dispose();
    this.weights = [];
    this.biases = [];
    this.slopes = [];
    this.alphas = [];
    this.freqs = [];
  }
}

function makeVar(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/**
 * float64 reference forward pass of the same network at one point (plain JS).
 * `trace`, if given, sees each hidden layer's activation arguments s·z.
 */
export function mlpForwardNumber(
  cfg: MlpConfig,
  params: MlpParams,
  scales: number[],
  x: number[],
  trace?: (layer: number, u: number[]) => void,
): number[] {
  const map = inputMap(cfg);
  let h = map ? x.map((v, i) => map.g[i]! * v + map.c[i]!) : [...x];
  const L = cfg.hidden.length;
  const mode = cfg.adaptive.mode;
  const mix = mixturePlan(cfg.rowdy, cfg.kronecker);
  const nR = resolveRowdyScales(cfg.rowdy, scales);
  if (mix && (params.alphas?.length !== L || params.freqs?.length !== L)) throw new Error('mlpForwardNumber: params lack alphas/freqs');
  for (let k = 0; k <= L; k++) {
    const W = params.weights[k]!;
    const b = params.biases[k]!;
    const z = b.map((bj, j) => {
      let acc = bj;
      for (let i = 0; i < h.length; i++) acc += h[i]! * W[i]![j]!;
      return acc;
    });
    if (k === L) return z;
    const slope = (j: number) => {
      if (mode === 'global') return scales[k]! * params.slopes[0]![0]!;
      if (mode === 'layer') return scales[k]! * params.slopes[k]![0]!;
      if (mode === 'neuron') return scales[k]! * params.slopes[k]![j]!;
      return 1;
    };
    const u = z.map((zj, j) => slope(j) * zj);
    trace?.(k, u);
    h = mix
      ? z.map((zj, j) => mixtureNumber(mix, cfg.activation, zj, slope(j), params.alphas![k]!, params.freqs![k]!, nR[k]!, j))
      : u.map((uj) => towerNumber(cfg.activation, uj, 0)[0]!);
  }
  throw new Error('unreachable');
}
