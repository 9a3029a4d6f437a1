/**
 * Jet plans: which derivative channels a model carries, and the precomputed
 * combinatorics (Faà di Bruno and Leibniz) for jet arithmetic on them.
 *
 * A *channel* is a multiset of input indices written as a nondecreasing array:
 * `[]` is the value, `[0]` is ∂/∂x0, `[0,1]` is ∂²/∂x0∂x1, `[0,0,0,0]` is ∂⁴/∂x0⁴.
 * A plan's channel set is closed under taking sub-multisets (every lower
 * derivative that the chain rule needs is present), sorted by order, then
 * lexicographically, so `channels[0]` is always the value channel `[]`.
 *
 * For a channel α = (i_1, …, i_m) (positions 1..m):
 *  - Faà di Bruno: (f∘z)_α = Σ_{π ∈ partitions of positions} f^{(|π|)}(z_0) Π_{B∈π} z_{α|B}
 *    where α|B is the sub-multiset of α at the positions in B. Identical terms
 *    (same derivative order, same multiset of factor channels) are merged with
 *    an integer coefficient, e.g. (f∘z)_xxxx has 15 partitions but 5 distinct terms.
 *  - Leibniz: (uv)_α = Σ_{S ⊆ positions} u_{α|S} v_{α|S^c}, merged likewise.
 * See ARCHITECTURE.md, "Numerics".
 */

export type Channel = readonly number[];

/** Stable string key of a channel: "" for the value, "0,1" for ∂²/∂x0∂x1. */
export function channelKey(c: Channel): string {
  return c.join(',');
}

/** `coef · f^(order)(z_0) · Π z[factors[i]]`, factors being channel indices in the plan. */
export interface FaaTerm {
  coef: number;
  order: number;
  factors: number[];
}

export interface LeibnizTerm {
  coef: number;
  a: number;
  b: number;
}

export interface JetPlan {
  nInputs: number;
  /** Closed under sub-multisets; channels[0] = []; sorted by order, then lexicographically. */
  channels: Channel[];
  maxOrder: number;
  /** Index of a channel in `channels`; throws if absent. Accepts unsorted input. */
  index(c: Channel): number;
  has(c: Channel): boolean;
  /** Per channel: merged Faà di Bruno terms (index 0, the value channel, is empty). */
  faa: FaaTerm[][];
  /** Per channel: merged Leibniz terms (uv)_α = Σ coef u_a v_b. */
  leibniz: LeibnizTerm[][];
}

/**
 * All set partitions of {0, …, n−1}, each a list of blocks (ascending, blocks ordered
 * by their smallest element). Counts are the Bell numbers 1, 1, 2, 5, 15, 52, …
 */
export function setPartitions(n: number): number[][][] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`setPartitions: n must be a nonnegative integer, got ${n}`);
  let parts: number[][][] = [[]];
  for (let e = 0; e < n; e++) {
    const next: number[][][] = [];
    for (const p of parts) {
      // Put e into each existing block, or into a new block of its own.
      for (let b = 0; b < p.length; b++) {
        next.push(p.map((blk, j) => (j === b ? [...blk, e] : blk)));
      }
      next.push([...p, [e]]);
    }
    parts = next;
  }
  return parts;
}

function compareChannels(a: Channel, b: Channel): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function normalise(c: Channel, nInputs: number): number[] {
  for (const i of c) {
    if (!Number.isInteger(i) || i < 0 || i >= nInputs) {
      throw new Error(`channel [${c.join(',')}]: input index ${i} out of range 0..${nInputs - 1}`);
    }
  }
  return [...c].sort((x, y) => x - y);
}

/** Every sub-multiset of a sorted multiset (including [] and itself), deduplicated. */
function subMultisets(c: number[]): number[][] {
  const out = new Map<string, number[]>();
  const m = c.length;
  for (let mask = 0; mask < 1 << m; mask++) {
    const s: number[] = [];
    for (let p = 0; p < m; p++) if (mask & (1 << p)) s.push(c[p]!);
    out.set(channelKey(s), s);
  }
  return [...out.values()];
}

/**
 * Build a plan over `nInputs` inputs carrying the closure of `requested ∪ {[]}`.
 * Any order works (the combinatorics grows as the Bell numbers; orders ≤ 4 are the
 * tested range).
 */
export function makePlan(nInputs: number, requested: Channel[]): JetPlan {
  if (!Number.isInteger(nInputs) || nInputs < 1) throw new Error(`makePlan: nInputs must be ≥ 1, got ${nInputs}`);
  const set = new Map<string, number[]>([['', []]]);
  for (const r of requested) {
    for (const s of subMultisets(normalise(r, nInputs))) set.set(channelKey(s), s);
  }
  const channels: Channel[] = [...set.values()].sort(compareChannels);
  const idx = new Map<string, number>(channels.map((c, i) => [channelKey(c), i]));
  const maxOrder = channels.reduce((m, c) => Math.max(m, c.length), 0);

  const lookup = (c: number[]): number => {
    const k = idx.get(channelKey(c));
    if (k === undefined) throw new Error(`internal: channel [${c.join(',')}] missing from closure`);
    return k;
  };

  const partitionsByOrder: number[][][][] = [];
  for (let m = 0; m <= maxOrder; m++) partitionsByOrder.push(setPartitions(m));

  const faa: FaaTerm[][] = channels.map((alpha, ci) => {
    if (ci === 0) return [];
    const merged = new Map<string, FaaTerm>();
    for (const part of partitionsByOrder[alpha.length]!) {
      const factors = part
        .map((blk) => lookup(blk.map((p) => alpha[p]!)))
        .sort((x, y) => x - y);
      const key = `${part.length}|${factors.join(',')}`;
      const t = merged.get(key);
      if (t) t.coef += 1;
      else merged.set(key, { coef: 1, order: part.length, factors });
    }
    return [...merged.values()].sort((x, y) => x.order - y.order || compareChannels(x.factors, y.factors));
  });

  const leibniz: LeibnizTerm[][] = channels.map((alpha) => {
    const merged = new Map<string, LeibnizTerm>();
    const m = alpha.length;
    for (let mask = 0; mask < 1 << m; mask++) {
      const sa: number[] = [];
      const sb: number[] = [];
      for (let p = 0; p < m; p++) (mask & (1 << p) ? sa : sb).push(alpha[p]!);
      const a = lookup(sa);
      const b = lookup(sb);
      const key = `${a}|${b}`;
      const t = merged.get(key);
      if (t) t.coef += 1;
      else merged.set(key, { coef: 1, a, b });
    }
    return [...merged.values()].sort((x, y) => x.a - y.a || x.b - y.b);
  });

  return {
    nInputs,
    channels,
    maxOrder,
    index(c: Channel): number {
      const k = idx.get(channelKey([...c].sort((x, y) => x - y)));
      if (k === undefined) throw new Error(`channel [${c.join(',')}] is not in this jet plan`);
      return k;
    },
    has(c: Channel): boolean {
      return idx.has(channelKey([...c].sort((x, y) => x - y)));
    },
    faa,
    leibniz,
  };
}
