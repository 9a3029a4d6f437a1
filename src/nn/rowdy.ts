/**
 * Rowdy and Kronecker activations (ARCHITECTURE.md, "Numerics"; Jagtap, Shin, Kawaguchi, Karniadakis,
 * Neurocomputing 468 (2022) 165–180).
 *
 * Hidden layer k computes z = h W + b and, with the adaptive slope s = n·a folded into
 * W and b as everywhere in mlp.ts, u = s·z (u = z in adaptive mode none). Then:
 *
 *  - Rowdy, as in the authors' code:
 *      σ_R(z) = φ(n·a·z) + Σ_{k=1}^{K−1} n_R·α_k·ψ(n_R·k·F_k·z),   ψ = sin or cos,
 *    φ the base activation, α_k = 0 and F_k = 1/n_R at init (so σ_R = φ(n·a·z) exactly),
 *    n_R the Rowdy scale (default: the adaptive n of the layer). In terms of u the
 *    sinusoids read n_R α_k ψ(ω_k u) with ω_k = n_R k F_k / s: that is how they are
 *    evaluated, so the base term keeps exactly the plain network's operations (a Rowdy
 *    net at init equals the plain net bit for bit) and the jets of u serve both parts.
 *  - Kronecker (general sum):
 *      σ_K(u) = Σ_{k=1}^{K} α_k φ_k(ω_k u),   φ_k from the base activations,
 *    acting on u = n·a·z, so it combines with every adaptive mode. Init α = (1, 0, …, 0)
 *    and ω = (1, 2, …, K): the net starts as the plain net with activation φ_1 (bit for
 *    bit), and the distinct frequencies keep repeated functions (e.g. [tanh, sin, sin])
 *    from staying identical forever under gradient descent. Both are overridable.
 *
 * α and F (Rowdy) / α and ω (Kronecker) are trainable, one set per hidden layer
 * (`mode: layer`, variables of shape [K'] ) or one per neuron (`mode: neuron`,
 * shape [width, K']), K' = K − 1 (Rowdy) or K (Kronecker).
 *
 * Derivative tower (what the jets need): a term c·f(ω u) contributes
 * c·ω^m·f^{(m)}(ω u) to the m-th derivative in u, so the layer's tower is the sum of
 * the terms' towers; Faà di Bruno then composes it with the jets of u as for any
 * activation. Terms with the same function and adjacent positions are evaluated
 * together (see `mixtureTower`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BASE_ACTIVATIONS, tower, towerNumber, type BaseActivation } from './activations.js';
import { matMulT } from './matmul.js';

export type RowdyFamily = 'sin' | 'cos';
export const ROWDY_FAMILIES: readonly RowdyFamily[] = ['sin', 'cos'];
export type MixtureMode = 'layer' | 'neuron';

export interface RowdyConfig {
  /** K ≥ 2: the base activation plus K − 1 sinusoids. */
  K: number;
  /** ψ: sin (default in the spec) or cos. */
  family: RowdyFamily;
  /** n_R: one for the net or one per hidden layer; default the adaptive n. */
  n?: number | number[];
  /** α_k, F_k per layer (default) or per neuron. */
  mode?: MixtureMode;
}

export interface KroneckerConfig {
  /** φ_1 … φ_K; the net starts as φ_1. */
  functions: BaseActivation[];
  /** α_k, ω_k per layer (default) or per neuron. */
  mode?: MixtureMode;
  /** initial α_k (default 1, 0, …, 0) */
  alpha?: number[];
  /** initial ω_k (default 1, 2, …, K) */
  omega?: number[];
}

export type ActivationKind = 'plain' | 'rowdy' | 'kronecker';

/** Per hidden layer: the amplitudes and frequencies of the added terms (Rowdy: all K − 1; Kronecker: k ≥ 2). */
export interface RowdyStat {
  /** 1-based hidden layer */
  layer: number;
  /** max |α_k| (over the added terms, and neurons in neuron mode) */
  alphaMaxAbs: number;
  /** max |amplitude|: n_R·|α_k| (Rowdy), |α_k| (Kronecker) */
  ampMaxAbs: number;
  /** range of the frequencies: n_R·k·F_k, in units of z (Rowdy); ω_k, in units of u = n·a·z (Kronecker) */
  freqMin: number;
  freqMax: number;
  /** Kronecker only: α_1 (mean over neurons), the weight of the starting function */
  lead?: number;
}

/** The shape of one layer's activation: the (fixed) base, and runs of terms sharing a function. */
export interface MixturePlan {
  kind: 'rowdy' | 'kronecker';
  /** K' = number of trainable terms per layer (K − 1 for Rowdy, K for Kronecker) */
  terms: number;
  mode: MixtureMode;
  /** runs of equal functions over term positions [start, start + count) */
  groups: { fn: BaseActivation; start: number; count: number }[];
  /** initial values of the two variables per term */
  alpha0: number[];
  freq0: (nLayer: number) => number[];
}

function posNumber(v: number, what: string): void {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${what} must be a positive number, got ${v}`);
}

/** Validate and describe the mixture of a config, or null for a plain activation. */
export function mixturePlan(rowdy: RowdyConfig | undefined, kron: KroneckerConfig | undefined): MixturePlan | null {
  if (rowdy && kron) throw new Error('rowdy and kronecker are alternatives: give one of them');
  if (rowdy) {
    if (!(Number.isInteger(rowdy.K) && rowdy.K >= 2)) throw new Error(`rowdy.K must be an integer ≥ 2, got ${rowdy.K}`);
    if (!ROWDY_FAMILIES.includes(rowdy.family)) throw new Error(`rowdy.family must be sin or cos, got ${String(rowdy.family)}`);
    const G = rowdy.K - 1;
    return {
      kind: 'rowdy',
      terms: G,
      mode: rowdy.mode ?? 'layer',
      groups: [{ fn: rowdy.family, start: 0, count: G }],
      alpha0: new Array<number>(G).fill(0),
      freq0: (n) => new Array<number>(G).fill(1 / n),
    };
  }
  if (kron) {
    const fs = kron.functions;
    if (!Array.isArray(fs) || fs.length === 0) throw new Error('kronecker.functions needs at least one function');
    for (const f of fs) if (!BASE_ACTIVATIONS.includes(f)) throw new Error(`kronecker.functions: unknown activation ${String(f)}`);
    const K = fs.length;
    const alpha0 = kron.alpha ?? fs.map((_, k) => (k === 0 ? 1 : 0));
    const omega0 = kron.omega ?? fs.map((_, k) => k + 1);
    if (alpha0.length !== K) throw new Error(`kronecker.alpha has ${alpha0.length} entries for ${K} functions`);
    if (omega0.length !== K) throw new Error(`kronecker.omega has ${omega0.length} entries for ${K} functions`);
    for (const v of [...alpha0, ...omega0]) if (!Number.isFinite(v)) throw new Error(`kronecker.alpha/omega must be finite, got ${v}`);
    const groups: MixturePlan['groups'] = [];
    fs.forEach((fn, k) => {
      const last = groups[groups.length - 1];
      if (last && last.fn === fn) last.count++;
      else groups.push({ fn, start: k, count: 1 });
    });
    return { kind: 'kronecker', terms: K, mode: kron.mode ?? 'layer', groups, alpha0, freq0: () => [...omega0] };
  }
  return null;
}

/** n_R per hidden layer (Rowdy), validated; the adaptive scales when rowdy.n is not given. */
export function resolveRowdyScales(rowdy: RowdyConfig | undefined, adaptiveScales: number[]): number[] {
  const L = adaptiveScales.length;
  if (!rowdy || rowdy.n === undefined) return [...adaptiveScales];
  const n = rowdy.n;
  const scales = Array.isArray(n) ? [...n] : new Array<number>(L).fill(n);
  if (scales.length !== L) throw new Error(`rowdy.n has ${scales.length} entries for ${L} hidden layers`);
  for (const s of scales) posNumber(s, 'rowdy.n');
  return scales;
}

/**
 * Amplitudes c and frequencies ω (in units of u) of one layer's trainable terms,
 * shaped [K'] (layer mode, with a scalar slope) or [width, K'] (neuron mode, or a
 * neuron-wise slope). `s` is the adaptive slope scale n·a of the layer (scalar or
 * [width]), null in adaptive mode none.
 */
export function mixtureCoefficients(
  plan: MixturePlan,
  alpha: tf.Tensor,
  freq: tf.Tensor,
  nR: number,
  s: tf.Tensor | null,
): { c: tf.Tensor; w: tf.Tensor } {
  if (plan.kind === 'kronecker') return { c: alpha, w: freq };
  const G = plan.terms;
  const ks = tf.tensor1d(Array.from({ length: G }, (_, i) => nR * (i + 1)));
  const c = tf.mul(alpha, nR);
  let w: tf.Tensor = tf.mul(freq, ks); // [G] or [width, G]: n_R·k·F_k
  if (s !== null) w = tf.div(w, s.rank === 0 ? s : tf.reshape(s, [s.size, 1]));
  return { c, w };
}

/**
 * Derivative tower (orders 0..order, in u) of a layer's activation at u ([N, width]):
 * the base tower (Rowdy) plus Σ_groups Σ_k c_k ω_k^m f^{(m)}(ω_k u).
 *
 * The products ω_k·u and the sums over k are matrix products, not broadcasts (tfjs's
 * cpu and wasm backends broadcast a [N, width, 1] × [K] product element by element,
 * which measured ~5× the cost of the sines themselves): with coefficients shared by
 * the neurons of the layer, the arguments are the outer product [N·width, 1]·[1, K] and
 * the weighted sum is [N·width, K]·[K, 1]; with per-neuron coefficients, the same as
 * batched products over the neurons on the transposed [width, N] layout.
 */
export function mixtureTower(
  plan: MixturePlan,
  base: BaseActivation,
  u: tf.Tensor,
  coef: { c: tf.Tensor; w: tf.Tensor },
  order: number,
): tf.Tensor[] {
  let out: tf.Tensor[] | null = plan.kind === 'rowdy' ? tower(base, u, order) : null;
  const [N, W] = u.shape as [number, number];
  const shared = coef.w.rank === 1;
  const col = shared ? tf.reshape(u, [N * W, 1]) : tf.reshape(tf.transpose(u), [W, N, 1]);
  const single = plan.groups.length === 1;
  for (const g of plan.groups) {
    const G = g.count;
    const take = (t: tf.Tensor) => {
      if (single) return t;
      return t.rank === 1 ? tf.slice(t, [g.start], [G]) : tf.slice(t, [0, g.start], [-1, G]);
    };
    const c = take(coef.c);
    const w = take(coef.w);
    const arg = shared ? matMulT(col, tf.reshape(w, [1, G])) : tf.matMul(col, tf.reshape(w, [W, 1, G]));
    const T = tower(g.fn, arg, order); // [N·W, G] or [W, N, G]
    let wm: tf.Tensor | null = null;
    const parts = T.map((t, m) => {
      if (m > 0) wm = wm === null ? w : tf.mul(wm, w);
      const cm = m === 0 ? c : tf.mul(c, wm!); // [G] or [W, G]
      if (shared) return tf.reshape(matMulT(t, tf.reshape(cm, [G, 1])), [N, W]);
      const cw = cm.rank === 1 ? tf.broadcastTo(cm, [W, G]) : cm;
      return tf.transpose(tf.reshape(tf.matMul(t, tf.reshape(cw, [W, G, 1])), [W, N]));
    });
    out = out === null ? parts : out.map((o, m) => tf.add(o, parts[m]!));
  }
  return out!;
}

/**
 * float64 reference of one neuron's mixture activation value: z the raw pre-activation,
 * s the adaptive slope scale (1 in mode none), alpha/freq the layer's flattened
 * variables, j the neuron (for neuron mode), width the layer width.
 */
export function mixtureNumber(
  plan: MixturePlan,
  base: BaseActivation,
  z: number,
  s: number,
  alpha: number[],
  freq: number[],
  nR: number,
  j: number,
): number {
  const G = plan.terms;
  const at = (arr: number[], i: number) => (plan.mode === 'neuron' ? arr[j * G + i]! : arr[i]!);
  if (plan.kind === 'rowdy') {
    // The definition, in the raw z: φ(s z) + Σ n_R α_k ψ(n_R k F_k z)
    let v = towerNumber(base, s * z, 0)[0]!;
    for (let i = 0; i < G; i++) v += nR * at(alpha, i) * towerNumber(plan.groups[0]!.fn, nR * (i + 1) * at(freq, i) * z, 0)[0]!;
    return v;
  }
  let v = 0;
  for (const g of plan.groups) {
    for (let i = g.start; i < g.start + g.count; i++) v += at(alpha, i) * towerNumber(g.fn, at(freq, i) * s * z, 0)[0]!;
  }
  return v;
}
