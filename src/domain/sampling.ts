/**
 * Point sets in boxes and on their faces, for residual, boundary and initial
 * points, plus the evaluation grid.
 *
 * All point sets are row-major Float64Arrays: point i is
 * `pts[i*d] … pts[i*d + d - 1]`, its coordinates in the box's input order.
 *
 * Methods (all driven by the seeded `Rng`, so same seed ⇒ same points):
 * - 'uniform' — independent uniform points.
 * - 'lhs'     — Latin hypercube: in each input, one point in each of n equal
 *               strata (a random permutation of strata, uniform jitter inside).
 * - 'sobol'   — Sobol' sequence (Joe–Kuo 2008 direction numbers, up to 21
 *               inputs) from index 0, with a random digital shift (XOR of a
 *               random 32-bit word per input). Powers of two keep its net property.
 * - 'halton'  — Halton sequence (bases 2, 3, 5, …) with a random
 *               Cranley–Patterson rotation (add a uniform shift, mod 1).
 * - 'grid'    — a tensor grid including the end points, with about n points:
 *               per-input counts proportional to the side lengths; the actual
 *               count is the array length / d.
 *
 * Unit-cube generators (`sobolUnit`, `haltonUnit`, …) are exported for tests
 * and for anyone who needs raw low-discrepancy sequences.
 */
import type { Rng } from './rng.js';
import { type Box, type Face, checkBox, faceBox, faceMeasure, faceValue } from './box.js';

export type SamplingMethod = 'uniform' | 'lhs' | 'sobol' | 'halton' | 'grid';

export const SAMPLING_METHODS: readonly SamplingMethod[] = ['uniform', 'lhs', 'sobol', 'halton', 'grid'];

/* ── unit-cube generators ─────────────────────────────────────────────── */

/** n independent uniform points in [0,1)^d. */
export function uniformUnit(n: number, d: number, rng: Rng): Float64Array {
  const out = new Float64Array(n * d);
  for (let k = 0; k < out.length; k++) out[k] = rng.uniform();
  return out;
}

/** n Latin-hypercube points in [0,1)^d: in every input, exactly one point per stratum [k/n, (k+1)/n). */
export function lhsUnit(n: number, d: number, rng: Rng): Float64Array {
  const out = new Float64Array(n * d);
  const strata = new Array<number>(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) strata[i] = i;
    rng.shuffle(strata);
    for (let i = 0; i < n; i++) out[i * d + j] = (strata[i]! + rng.uniform()) / n;
  }
  return out;
}

/**
 * Joe & Kuo (2008), new-joe-kuo-6.21201, dimensions 2..21: `s a m_1 … m_s`
 * (s = degree of the primitive polynomial, a = its inner coefficients).
 * Dimension 1 is van der Corput (all m_i = 1).
 */
const JOE_KUO: readonly string[] = [
  '1 0 1',
  '2 1 1 3',
  '3 1 1 3 1',
  '3 2 1 1 1',
  '4 1 1 1 3 3',
  '4 4 1 3 5 13',
  '5 2 1 1 5 5 17',
  '5 4 1 1 5 5 5',
  '5 7 1 1 7 11 19',
  '5 11 1 1 5 1 1',
  '5 13 1 1 1 3 11',
  '5 14 1 3 5 5 31',
  '6 1 1 3 3 9 7 49',
  '6 13 1 1 1 15 21 21',
  '6 16 1 3 1 13 27 49',
  '6 19 1 1 1 15 7 5',
  '6 22 1 3 1 15 13 25',
  '6 25 1 1 5 5 19 61',
  '7 1 1 3 7 11 23 15 103',
  '7 4 1 3 7 13 13 15 69',
];

/** Largest dimension `sobolUnit` supports. */
export const SOBOL_MAX_DIM = JOE_KUO.length + 1;

const BITS = 32;
let directionCache: Uint32Array[] | null = null;

/** Direction numbers V[j][k-1] = v_k · 2^32 for input j, bit k = 1..32. */
function sobolDirections(): Uint32Array[] {
  if (directionCache) return directionCache;
  const dirs: Uint32Array[] = [];
  const first = new Uint32Array(BITS);
  for (let k = 1; k <= BITS; k++) first[k - 1] = (1 << (BITS - k)) >>> 0;
  dirs.push(first);
  for (const row of JOE_KUO) {
    const [s, a, ...m] = row.split(' ').map(Number) as [number, number, ...number[]];
    const v = new Uint32Array(BITS);
    for (let k = 1; k <= BITS; k++) {
      if (k <= s) {
        v[k - 1] = (m[k - 1]! << (BITS - k)) >>> 0;
      } else {
        let x = v[k - s - 1]! ^ (v[k - s - 1]! >>> s);
        for (let q = 1; q < s; q++) {
          if ((a >>> (s - 1 - q)) & 1) x ^= v[k - q - 1]!;
        }
        v[k - 1] = x >>> 0;
      }
    }
    dirs.push(v);
  }
  directionCache = dirs;
  return dirs;
}

/**
 * Points 0..n-1 of the Sobol' sequence in [0,1)^d (Gray-code order, 32-bit).
 * With `shift` (one 32-bit word per input) each point is XOR-ed with it — a
 * random digital shift that keeps the net structure.
 */
export function sobolUnit(n: number, d: number, shift?: ArrayLike<number>): Float64Array {
  if (d > SOBOL_MAX_DIM) {
    throw new Error(`sobol sampling supports at most ${SOBOL_MAX_DIM} inputs, got ${d} — use 'halton' or 'lhs'`);
  }
  if (n > 2 ** BITS) throw new Error(`sobol sampling supports at most 2^${BITS} points`);
  const dirs = sobolDirections();
  const out = new Float64Array(n * d);
  const x = new Uint32Array(d);
  const sh = new Uint32Array(d);
  if (shift) for (let j = 0; j < d; j++) sh[j] = shift[j]! >>> 0;
  const scale = 2 ** -BITS;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      // c = 1-based position of the rightmost zero bit of (i - 1)
      let c = 1;
      let v = i - 1;
      while (v % 2 === 1) {
        v = (v - 1) / 2;
        c++;
      }
      for (let j = 0; j < d; j++) x[j] = x[j]! ^ dirs[j]![c - 1]!;
    }
    for (let j = 0; j < d; j++) out[i * d + j] = ((x[j]! ^ sh[j]!) >>> 0) * scale;
  }
  return out;
}

/** The first d primes. */
export function firstPrimes(d: number): number[] {
  const primes: number[] = [];
  for (let c = 2; primes.length < d; c++) {
    if (primes.every((p) => c % p !== 0)) primes.push(c);
  }
  return primes;
}

/** Van der Corput radical inverse of i in base b. */
export function radicalInverse(i: number, b: number): number {
  let r = 0;
  let f = 1 / b;
  while (i > 0) {
    const digit = i % b;
    r += digit * f;
    i = (i - digit) / b;
    f /= b;
  }
  return r;
}

/**
 * Points 0..n-1 of the Halton sequence in [0,1)^d (bases = first d primes).
 * With `rotation` (one value in [0,1) per input) each coordinate is shifted by
 * it modulo 1 — a Cranley–Patterson rotation.
 */
export function haltonUnit(n: number, d: number, rotation?: ArrayLike<number>): Float64Array {
  const bases = firstPrimes(d);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let v = radicalInverse(i, bases[j]!) + (rotation ? rotation[j]! : 0);
      if (v >= 1) v -= 1;
      out[i * d + j] = v;
    }
  }
  return out;
}

/* ── boxes ─────────────────────────────────────────────────────────────── */

/** Per-input grid counts with product about n, proportional to the side lengths (zero-length sides get 1). */
export function gridCounts(box: Box, n: number): number[] {
  const d = box.lo.length;
  const len = box.lo.map((lo, i) => box.hi[i]! - lo);
  const free = len.filter((l) => l > 0);
  if (n <= 0) return new Array<number>(d).fill(0);
  if (free.length === 0) return new Array<number>(d).fill(1);
  const volume = free.reduce((p, l) => p * l, 1);
  const perUnit = Math.pow(n / volume, 1 / free.length);
  return len.map((l) => (l > 0 ? Math.max(1, Math.round(l * perUnit)) : 1));
}

/**
 * Evaluation grid: counts[i] equally spaced values from lo[i] to hi[i]
 * inclusive (a count of 1 gives the midpoint), all combinations, row-major
 * with the LAST input varying fastest.
 */
export function grid(box: Box, counts: number[]): Float64Array {
  return gridBlock(box, counts, 0, counts.reduce((p, c) => p * c, 1));
}

/**
 * Points `start` .. `start + count - 1` of `grid(box, counts)`, computed without the rest of
 * the grid (for grids evaluated block by block).
 */
export function gridBlock(box: Box, counts: number[], start: number, count: number): Float64Array {
  checkBox(box);
  const d = box.lo.length;
  if (counts.length !== d) throw new Error(`grid needs ${d} counts, got ${counts.length}`);
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) throw new Error(`grid counts must be non-negative integers, got ${c}`);
  }
  const axes = counts.map((c, i) => {
    const lo = box.lo[i]!;
    const hi = box.hi[i]!;
    const vals = new Float64Array(c);
    if (c === 1) vals[0] = (lo + hi) / 2;
    for (let k = 0; k < c && c > 1; k++) vals[k] = k === c - 1 ? hi : lo + ((hi - lo) * k) / (c - 1);
    return vals;
  });
  const total = counts.reduce((p, c) => p * c, 1);
  const n = Math.max(0, Math.min(count, total - start));
  const out = new Float64Array(n * d);
  // the multi-index of point `start` (last input fastest)
  const idx = new Array<number>(d).fill(0);
  for (let j = d - 1, r = start; j >= 0; j--) {
    idx[j] = r % counts[j]!;
    r = Math.floor(r / counts[j]!);
  }
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < d; j++) out[p * d + j] = axes[j]![idx[j]!]!;
    for (let j = d - 1; j >= 0; j--) {
      idx[j] = idx[j]! + 1;
      if (idx[j]! < counts[j]!) break;
      idx[j] = 0;
    }
  }
  return out;
}

/**
 * n points inside the box (closed), row-major, length n*d — except 'grid',
 * which returns about n points (see `gridCounts`).
 */
export function sampleBox(box: Box, n: number, method: SamplingMethod, rng: Rng): Float64Array {
  checkBox(box);
  checkCount(n);
  const d = box.lo.length;
  let unit: Float64Array;
  switch (method) {
    case 'uniform':
      unit = uniformUnit(n, d, rng);
      break;
    case 'lhs':
      unit = lhsUnit(n, d, rng);
      break;
    case 'sobol': {
      const shift = Array.from({ length: d }, () => rng.int(2 ** BITS));
      unit = sobolUnit(n, d, shift);
      break;
    }
    case 'halton': {
      const rotation = Array.from({ length: d }, () => rng.uniform());
      unit = haltonUnit(n, d, rotation);
      break;
    }
    case 'grid':
      return grid(box, gridCounts(box, n));
    default:
      throw new Error(`unknown sampling method '${String(method)}' — use one of ${SAMPLING_METHODS.join(', ')}`);
  }
  const out = unit;
  for (let i = 0; i < out.length; i++) {
    const j = i % d;
    out[i] = box.lo[j]! + (box.hi[j]! - box.lo[j]!) * out[i]!;
  }
  return out;
}

/**
 * Split n points across faces in proportion to their measures, by largest
 * remainder (ties to the earlier face). When n >= faces.length every face gets
 * at least one point (taken from the face with the most). If all measures are
 * zero, the faces count equally.
 */
export function splitByMeasure(measures: number[], n: number): number[] {
  const k = measures.length;
  if (k === 0) return [];
  let w = measures.map((m) => Math.max(0, m));
  let total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0)) {
    w = w.map(() => 1);
    total = k;
  }
  const quota = w.map((m) => (n * m) / total);
  const counts = quota.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = quota
    .map((q, i) => ({ i, frac: q - Math.floor(q) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let r = 0; left > 0; r++, left--) {
    const at = order[r % k]!.i;
    counts[at] = counts[at]! + 1;
  }
  if (n >= k) {
    for (let i = 0; i < k; i++) {
      if (counts[i]! > 0) continue;
      let donor = 0;
      for (let q = 1; q < k; q++) if (counts[q]! > counts[donor]!) donor = q;
      counts[donor] = counts[donor]! - 1;
      counts[i] = 1;
    }
  }
  return counts;
}

/**
 * n points on the union of the faces, split in proportion to face measure
 * (`splitByMeasure`), each face sampled in its own (d-1)-dimensional box with
 * `method`; the fixed coordinate is exactly the face value. For d = 1 a face is
 * a point and is repeated. Points are grouped face by face, in the given order.
 * With 'grid' each face gets about its share.
 */
export function sampleFaces(box: Box, faces: Face[], n: number, method: SamplingMethod, rng: Rng): Float64Array {
  checkBox(box);
  checkCount(n);
  if (faces.length === 0) {
    if (n > 0) throw new Error('cannot sample boundary points: no faces given');
    return new Float64Array(0);
  }
  const d = box.lo.length;
  const counts = splitByMeasure(
    faces.map((f) => faceMeasure(box, f)),
    n,
  );
  const parts: Float64Array[] = [];
  faces.forEach((f, fi) => {
    const k = counts[fi]!;
    const value = faceValue(box, f);
    const sub = d > 1 ? sampleBox(faceBox(box, f), k, method, rng) : new Float64Array(0);
    const m = d > 1 ? sub.length / (d - 1) : k;
    const pts = new Float64Array(m * d);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) pts[i * d + j] = j === f.dim ? value : sub[i * (d - 1) + s++]!;
    }
    parts.push(pts);
  });
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`number of points must be a non-negative integer, got ${n}`);
}
