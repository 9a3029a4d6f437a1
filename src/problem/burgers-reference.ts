/**
 * Exact solution of the viscous Burgers benchmark (the GAAF paper's Table 1 setup):
 *
 *   u_t + u u_x = ν u_xx,  x ∈ [−1, 1],  u(x, 0) = −sin(πx),  u(±1, t) = 0,
 *
 * by the Cole–Hopf integral
 *
 *   u(x,t) = −∫ sin(π(x−η)) f(x−η) G(η) dη / ∫ f(x−η) G(η) dη,
 *   f(y) = exp(−cos(πy) / (2πν)),   G(η) = exp(−η² / (4νt)).
 *
 * How it is evaluated. Substitute η = c·s with c = √(4νt), so G = exp(−s²):
 *
 *   u = −Σ sin(π(x − c s_j)) e^{a_j} / Σ e^{a_j},   a_j = −s_j² − k cos(π(x − c s_j)),  k = 1/(2πν),
 *
 * over equally spaced nodes s_j = j·h (the trapezoid rule, the dc·h factors
 * cancel). The integrand is entire and decays like exp(−s²), so the trapezoid
 * rule converges geometrically (error ~ exp(−2πa/h) for any strip half-width a
 * where the integrand stays bounded); the default h = 0.1/√(1 + πt) leaves
 * errors far below 1e-12 for t ≤ 1. The exponents reach ±k ≈ ±50 for
 * ν = 0.01/π (and grow as ν shrinks), so the sums are taken in log space:
 * subtract max a_j before exponentiating (log-sum-exp), which cancels in the ratio.
 *
 * Truncation: a_j ≤ −s² + k while max a_j ≥ a(0) = −k cos(πx), so nodes with
 * s² > k(1 + cos πx) + TAIL contribute less than e^{−TAIL} relative and are
 * dropped. cos(π(x − cs)) is expanded as cos πx cos πcs + sin πx sin πcs so the
 * node tables depend on t only (shared by a whole grid row), and the odd
 * symmetry u(−x) = −u(x) holds to rounding.
 *
 * t = 0 returns −sin(πx) exactly. Accuracy for ν = 0.01/π on [−1,1]×[0,1],
 * including the shock at x = 0: better than 1e-12 (see test/burgers-reference.test.ts).
 */

export interface ColeHopfOptions {
  /** Node spacing h0 in s; the step used is h0/√(1+πt). Default 0.1. */
  step?: number;
  /** Dropped tail mass, as −log of its relative size. Default 45. */
  tail?: number;
}

const DEFAULT_STEP = 0.1;
const DEFAULT_TAIL = 45;

/** Trapezoid nodes s_j = j·h, j = 0..K, with their trig tables for one (t, ν). */
interface Nodes {
  k: number;
  tail: number;
  h: number;
  sq: Float64Array; // s_j²
  cos: Float64Array; // cos(π c s_j)
  sin: Float64Array; // sin(π c s_j)
  w: Float64Array; // scratch for the exponents, both signs of j
}

function makeNodes(t: number, nu: number, opts: ColeHopfOptions): Nodes {
  const k = 1 / (2 * Math.PI * nu);
  const tail = opts.tail ?? DEFAULT_TAIL;
  const h = (opts.step ?? DEFAULT_STEP) / Math.sqrt(1 + Math.PI * t);
  const c = Math.sqrt(4 * nu * t);
  const K = Math.ceil(Math.sqrt(2 * k + tail) / h);
  const sq = new Float64Array(K + 1);
  const cos = new Float64Array(K + 1);
  const sin = new Float64Array(K + 1);
  for (let j = 0; j <= K; j++) {
    const s = j * h;
    sq[j] = s * s;
    cos[j] = Math.cos(Math.PI * c * s);
    sin[j] = Math.sin(Math.PI * c * s);
  }
  return { k, tail, h, sq, cos, sin, w: new Float64Array(2 * K + 1) };
}

function evalAt(x: number, n: Nodes): number {
  const cx = Math.cos(Math.PI * x);
  const sx = Math.sin(Math.PI * x);
  const { k, sq, cos, sin, w } = n;
  const K = Math.min(sq.length - 1, Math.ceil(Math.sqrt(Math.max(0, k * (1 + cx)) + n.tail) / n.h));
  // exponents a_j for j = −K..K, stored at w[j + K]; cos(π(x − cs)) = cx·cos + sx·sin
  let max = -Infinity;
  for (let j = 0; j <= K; j++) {
    const ap = -sq[j]! - k * (cx * cos[j]! + sx * sin[j]!); // s = +j h
    const am = -sq[j]! - k * (cx * cos[j]! - sx * sin[j]!); // s = −j h
    w[K + j] = ap;
    w[K - j] = am;
    if (ap > max) max = ap;
    if (am > max) max = am;
  }
  // sin(π(x − cs)) = sx·cos − cx·sin
  let num = 0;
  let den = 0;
  for (let j = -K; j <= K; j++) {
    const e = Math.exp(w[K + j]! - max);
    const a = j < 0 ? -j : j;
    const sgn = j < 0 ? -1 : 1;
    num += (sx * cos[a]! - cx * sgn * sin[a]!) * e;
    den += e;
  }
  return -num / den;
}

function checkArgs(t: number, nu: number): void {
  if (!(nu > 0) || !Number.isFinite(nu)) throw new Error(`Burgers reference needs a viscosity nu > 0, got ${nu}`);
  if (!(t >= 0) || !Number.isFinite(t)) throw new Error(`Burgers reference needs t >= 0, got ${t}`);
}

/** u(x, t) of the viscous Burgers benchmark with viscosity ν (the papers use ν = 0.01/π). */
export function burgersColeHopf(x: number, t: number, nu: number, opts: ColeHopfOptions = {}): number {
  checkArgs(t, nu);
  if (t === 0) return -Math.sin(Math.PI * x);
  return evalAt(x, makeNodes(t, nu, opts));
}

/** u at many points, given as row-major [x, t] pairs; node tables are reused across equal t. */
export function burgersColeHopfMany(points: Float64Array, nu: number, opts: ColeHopfOptions = {}): Float64Array {
  if (points.length % 2 !== 0) throw new Error('burgersColeHopfMany expects [x, t] pairs');
  const n = points.length / 2;
  const out = new Float64Array(n);
  const cache = new Map<number, Nodes>();
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const t = points[2 * i + 1]!;
    checkArgs(t, nu);
    if (t === 0) {
      out[i] = -Math.sin(Math.PI * x);
      continue;
    }
    let nodes = cache.get(t);
    if (!nodes) {
      if (cache.size >= 4096) cache.clear();
      nodes = makeNodes(t, nu, opts);
      cache.set(t, nodes);
    }
    out[i] = evalAt(x, nodes);
  }
  return out;
}
