/**
 * Base activations and their derivative towers σ, σ', …, σ^(order) (ARCHITECTURE.md, "Numerics").
 *
 * Jets need, for each hidden layer, the derivatives of the activation at the
 * pre-activation; adaptive scaling σ(s·z) is folded in by the caller (mlp.ts),
 * so a tower here is always of the plain base function. Exact closed forms:
 *
 *  - tanh:      σ^(k) = P_k(t), t = tanh u, P_0 = t, P_{k+1} = P_k'(t)·(1 − t²)
 *  - sigmoid:   σ^(k) = Q_k(s), s = sigmoid u, Q_0 = s, Q_{k+1} = Q_k'(s)·(s − s²)
 *               (tfjs evaluates orders ≤ 4 of tanh and sigmoid in factored forms that are
 *               stable in float32; float64 `towerNumber` uses the recursions, so tests cross-check)
 *  - sin, cos:  the four-cycle sin → cos → −sin → −cos
 *  - softplus:  log(1 + e^u); softplus^(k) = sigmoid^(k−1) for k ≥ 1
 *  - silu:      u·sigmoid(u); silu^(k) = u·s^(k) + k·s^(k−1) (Leibniz)
 *  - gelu:      the exact **erf** form u·Φ(u), Φ the standard normal CDF:
 *               gelu' = Φ + u φ, gelu^(k) = (−1)^k φ(u) (He_{k−2}(u) − He_k(u)) for k ≥ 2,
 *               φ the normal density, He the probabilists' Hermite polynomials.
 *               (tfjs's `erf` kernel is a float32 approximation, |error| ≤ 1.5e-7, used for
 *               the value only; all derivatives are exact expressions in φ.)
 *  - elu (α=1): u for u > 0, e^u − 1 otherwise; derivatives 1, 0, 0, … / e^u, e^u, …
 *  - relu:      max(0, u); derivative step(u) (0 at u = 0), higher derivatives 0
 *  - leaky_relu (slope 0.01 for u ≤ 0, as PyTorch's default): derivative 1 or 0.01, higher 0
 *
 * Any order is supported (the polynomial families are generated on demand);
 * orders 0..4 are what the tests verify. `towerNumber` is the same in float64 plain JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ACTIVATIONS, type BaseActivation } from '../base/activations.js';

export type { BaseActivation } from '../base/activations.js';

/** The base activations, in the one vocabulary order (base/activations.ts). */
export const BASE_ACTIVATIONS: readonly BaseActivation[] = ACTIVATIONS;

/** Negative-side slope of leaky_relu. */
export const LEAKY_RELU_SLOPE = 0.01;

// ---------------------------------------------------------------------------
// Polynomial families (coefficients c[j] of x^j), cached per order.

type Poly = number[];

function polyDeriv(p: Poly): Poly {
  const d: Poly = [];
  for (let j = 1; j < p.length; j++) d.push(j * p[j]!);
  return d.length ? d : [0];
}

function polyMul(a: Poly, b: Poly): Poly {
  const r: Poly = new Array(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) r[i + j] = r[i + j]! + (a[i]! * b[j]!);
  return r;
}

function polyAdd(a: Poly, b: Poly): Poly {
  const r: Poly = new Array(Math.max(a.length, b.length)).fill(0);
  a.forEach((v, i) => (r[i] = r[i]! + (v)));
  b.forEach((v, i) => (r[i] = r[i]! + (v)));
  return r;
}

function trim(p: Poly): Poly {
  const r = [...p];
  while (r.length > 1 && r[r.length - 1] === 0) r.pop();
  return r;
}

/** Family P_0 = x, P_{k+1} = P_k'·g, for g = 1 − x² (tanh) or x − x² (sigmoid). */
function makeFamily(g: Poly): (k: number) => Poly {
  const cache: Poly[] = [[0, 1]];
  return (k: number) => {
    while (cache.length <= k) cache.push(trim(polyMul(polyDeriv(cache[cache.length - 1]!), g)));
    return cache[k]!;
  };
}

const tanhPoly = makeFamily([1, 0, -1]);
const sigmoidPoly = makeFamily([0, 1, -1]);

/** Probabilists' Hermite He_k: He_0 = 1, He_1 = x, He_{k+1} = x He_k − k He_{k−1}. */
const hermiteCache: Poly[] = [[1], [0, 1]];
function hermite(k: number): Poly {
  while (hermiteCache.length <= k) {
    const m = hermiteCache.length - 1;
    hermiteCache.push(trim(polyAdd(polyMul([0, 1], hermiteCache[m]!), hermiteCache[m - 1]!.map((c) => -m * c))));
  }
  return hermiteCache[k]!;
}

/** gelu^(k) = (−1)^k φ · (He_{k−2} − He_k), as a polynomial multiplying φ (k ≥ 2). */
function geluPoly(k: number): Poly {
  const sign = k % 2 === 0 ? 1 : -1;
  return trim(polyAdd(hermite(k - 2), hermite(k).map((c) => -c)).map((c) => sign * c));
}

function polyNumber(p: Poly, x: number): number {
  let acc = 0;
  for (let j = p.length - 1; j >= 0; j--) acc = acc * x + p[j]!;
  return acc;
}

/** Horner in tfjs. Uses parity (P(x) = Q(x²) or x·Q(x²)) when the polynomial has one. */
function polyTensor(p: Poly, x: tf.Tensor, x2: () => tf.Tensor): tf.Tensor {
  p = trim(p);
  if (p.length === 1) return tf.mul(tf.onesLike(x), p[0]!);
  const even = p.every((c, j) => j % 2 === 0 || c === 0);
  const odd = p.every((c, j) => j % 2 === 1 || c === 0);
  if (even || odd) {
    const q = p.filter((_, j) => j % 2 === (odd ? 1 : 0));
    const inner = q.length === 1 ? null : horner(q, x2());
    if (odd) return inner === null ? tf.mul(x, q[0]!) : tf.mul(x, inner);
    return inner!; // even with q.length ≥ 2 (constant case handled above)
  }
  return horner(p, x);
}

/** Σ c_j x^j for a polynomial of degree ≥ 1. */
function horner(c: Poly, x: tf.Tensor): tf.Tensor {
  const d = c.length - 1;
  let acc: tf.Tensor = tf.mul(x, c[d]!);
  for (let j = d - 1; j >= 0; j--) {
    if (c[j] !== 0) acc = tf.add(acc, c[j]!);
    if (j > 0) acc = tf.mul(acc, x);
  }
  return acc;
}

// ---------------------------------------------------------------------------
// Towers in tfjs

function checkOrder(order: number): void {
  if (!Number.isInteger(order) || order < 0) throw new Error(`activation tower: order must be a nonnegative integer, got ${order}`);
}

/**
 * Sigmoid tower in factored form, well conditioned in float32 (the expanded
 * polynomials in s cancel badly where s ≈ 1): with s = σ(u), c = σ(−u) = 1 − s, q = s·c,
 *   σ' = q,  σ'' = q (c − s),  σ''' = q (1 − 6q),  σ'''' = q (c − s)(1 − 12q).
 * Orders above 4 fall back to the polynomial family.
 */
function sigmoidTowerTf(u: tf.Tensor, order: number): tf.Tensor[] {
  const s = tf.sigmoid(u);
  const out: tf.Tensor[] = [s];
  if (order === 0) return out;
  const c = tf.sigmoid(tf.neg(u));
  const q = tf.mul(s, c);
  out.push(q);
  if (order >= 2) {
    const q2 = tf.mul(q, tf.sub(c, s));
    out.push(q2);
    if (order >= 3) out.push(tf.mul(q, tf.sub(1, tf.mul(q, 6))));
    if (order >= 4) out.push(tf.mul(q2, tf.sub(1, tf.mul(q, 12))));
  }
  let s2: tf.Tensor | null = null;
  const sq = () => (s2 ??= tf.square(s));
  for (let k = 5; k <= order; k++) out.push(polyTensor(sigmoidPoly(k), s, sq));
  return out;
}

/**
 * tanh tower in factored form: with t = tanh u, p = 1 − t²,
 *   tanh' = p,  tanh'' = −2 t p,  tanh''' = p (6t² − 2),  tanh'''' = t p (16 − 24t²).
 * Orders above 4 fall back to the polynomial family.
 */
function tanhTowerTf(u: tf.Tensor, order: number): tf.Tensor[] {
  const t = tf.tanh(u);
  const out: tf.Tensor[] = [t];
  if (order === 0) return out;
  const t2 = tf.square(t);
  const p = tf.sub(1, t2);
  out.push(p);
  if (order >= 2) {
    const tp = tf.mul(t, p);
    out.push(tf.mul(tp, -2));
    if (order >= 3) out.push(tf.mul(p, tf.sub(tf.mul(t2, 6), 2)));
    if (order >= 4) out.push(tf.mul(tp, tf.sub(16, tf.mul(t2, 24))));
  }
  for (let k = 5; k <= order; k++) out.push(polyTensor(tanhPoly(k), t, () => t2));
  return out;
}

/** [σ(u), σ'(u), …, σ^(order)(u)] as tfjs tensors of u's shape. */
export function tower(name: BaseActivation, u: tf.Tensor, order: number): tf.Tensor[] {
  checkOrder(order);
  switch (name) {
    case 'tanh':
      return tanhTowerTf(u, order);
    case 'sin':
    case 'cos': {
      const s = tf.sin(u);
      const c = order >= 1 || name === 'cos' ? tf.cos(u) : null;
      let ns: tf.Tensor | null = null;
      let nc: tf.Tensor | null = null;
      const cycle = (j: number): tf.Tensor => {
        switch (j % 4) {
          case 0: return s;
          case 1: return c!;
          case 2: return (ns ??= tf.neg(s));
          default: return (nc ??= tf.neg(c!));
        }
      };
      const shift = name === 'sin' ? 0 : 1;
      const out: tf.Tensor[] = [];
      for (let k = 0; k <= order; k++) out.push(cycle(k + shift));
      return out;
    }
    case 'sigmoid':
      return sigmoidTowerTf(u, order);
    case 'softplus': {
      const out: tf.Tensor[] = [tf.softplus(u)];
      if (order >= 1) out.push(...sigmoidTowerTf(u, order - 1));
      return out;
    }
    case 'silu': {
      const s = sigmoidTowerTf(u, order);
      const out: tf.Tensor[] = [tf.mul(u, s[0]!)];
      for (let k = 1; k <= order; k++) out.push(tf.add(tf.mul(u, s[k]!), k === 1 ? s[0]! : tf.mul(s[k - 1]!, k)));
      return out;
    }
    case 'gelu': {
      const Phi = tf.mul(tf.add(tf.erf(tf.mul(u, Math.SQRT1_2)), 1), 0.5);
      const out: tf.Tensor[] = [tf.mul(u, Phi)];
      if (order >= 1) {
        let u2: tf.Tensor | null = null;
        const sq = () => (u2 ??= tf.square(u));
        const phi = tf.mul(tf.exp(tf.mul(sq(), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        out.push(tf.add(Phi, tf.mul(u, phi)));
        for (let k = 2; k <= order; k++) out.push(tf.mul(phi, polyTensor(geluPoly(k), u, sq)));
      }
      return out;
    }
    case 'elu': {
      const out: tf.Tensor[] = [tf.elu(u)];
      if (order >= 1) {
        const pos = tf.greater(u, 0);
        const e = tf.exp(tf.minimum(u, 0));
        out.push(tf.where(pos, tf.onesLike(u), e));
        if (order >= 2) {
          const d2 = tf.where(pos, tf.zerosLike(u), e);
          for (let k = 2; k <= order; k++) out.push(d2);
        }
      }
      return out;
    }
    case 'relu':
    case 'leaky_relu': {
      const leaky = name === 'leaky_relu';
      const out: tf.Tensor[] = [leaky ? tf.leakyRelu(u, LEAKY_RELU_SLOPE) : tf.relu(u)];
      if (order >= 1) out.push(tf.step(u, leaky ? LEAKY_RELU_SLOPE : 0));
      if (order >= 2) {
        const z = tf.zerosLike(u);
        for (let k = 2; k <= order; k++) out.push(z);
      }
      return out;
    }
    default: {
      const never: never = name;
      throw new Error(`unknown activation ${String(never)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Towers in float64

function sigmoidNumber(u: number): number {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

function softplusNumber(u: number): number {
  return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
}

/**
 * erf in float64: erf(x) = (2/√π) e^{−x²} Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1)) — all terms
 * positive, so no cancellation; |x| ≥ 6 gives ±1 to double precision.
 */
export function erfNumber(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  const x2 = ax * ax;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

function sigmoidTowerNumber(s: number, order: number): number[] {
  const out = [s];
  for (let k = 1; k <= order; k++) out.push(polyNumber(sigmoidPoly(k), s));
  return out;
}

/** The same tower as `tower`, in float64 plain JS. */
export function towerNumber(name: BaseActivation, u: number, order: number): number[] {
  checkOrder(order);
  switch (name) {
    case 'tanh': {
      const t = Math.tanh(u);
      const out = [t];
      for (let k = 1; k <= order; k++) out.push(polyNumber(tanhPoly(k), t));
      return out;
    }
    case 'sin':
    case 'cos': {
      const cyc = [Math.sin(u), Math.cos(u), -Math.sin(u), -Math.cos(u)];
      const shift = name === 'sin' ? 0 : 1;
      const out: number[] = [];
      for (let k = 0; k <= order; k++) out.push(cyc[(k + shift) % 4]!);
      return out;
    }
    case 'sigmoid':
      return sigmoidTowerNumber(sigmoidNumber(u), order);
    case 'softplus': {
      const out = [softplusNumber(u)];
      if (order >= 1) out.push(...sigmoidTowerNumber(sigmoidNumber(u), order - 1));
      return out;
    }
    case 'silu': {
      const s = sigmoidTowerNumber(sigmoidNumber(u), order);
      const out = [u * s[0]!];
      for (let k = 1; k <= order; k++) out.push(u * s[k]! + k * s[k - 1]!);
      return out;
    }
    case 'gelu': {
      const Phi = 0.5 * (1 + erfNumber(u * Math.SQRT1_2));
      const phi = Math.exp(-0.5 * u * u) / Math.sqrt(2 * Math.PI);
      const out = [u * Phi];
      if (order >= 1) out.push(Phi + u * phi);
      for (let k = 2; k <= order; k++) out.push(phi * polyNumber(geluPoly(k), u));
      return out;
    }
    case 'elu': {
      const out = [u > 0 ? u : Math.expm1(u)];
      for (let k = 1; k <= order; k++) out.push(u > 0 ? (k === 1 ? 1 : 0) : Math.exp(u));
      return out;
    }
    case 'relu':
    case 'leaky_relu': {
      const a = name === 'leaky_relu' ? LEAKY_RELU_SLOPE : 0;
      const out = [u > 0 ? u : a * u];
      if (order >= 1) out.push(u > 0 ? 1 : a);
      for (let k = 2; k <= order; k++) out.push(0);
      return out;
    }
    default: {
      const never: never = name;
      throw new Error(`unknown activation ${String(never)}`);
    }
  }
}
