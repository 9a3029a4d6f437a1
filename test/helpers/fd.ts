/**
 * Finite differences in float64: the independent truth that jets, gradients and kernels are
 * checked against. Pure functions of plain numbers; no tfjs.
 */
import type { Channel } from '../../src/jet/plan.js';

/** (f(h) − f(−h)) / 2h: the central difference at 0 of f, which takes the offset. Error O(h²). */
export function centralDiff(f: (delta: number) => number, h: number): number {
  return (f(h) - f(-h)) / (2 * h);
}

/**
 * ∂loss/∂(one parameter entry) by a central difference: the loss of a copy of `params` with
 * `entry(copy)[i]` moved by ±h.
 */
export function paramCentralDiff<P>(params: P, entry: (q: P) => number[], i: number, h: number, loss: (q: P) => number): number {
  return centralDiff((delta) => {
    const q = structuredClone(params);
    entry(q)[i]! += delta;
    return loss(q);
  }, h);
}

/** Every derivative channel of order 1 … `order` over `n` inputs (nondecreasing input indices). */
export function allChannels(n: number, order: number): Channel[] {
  const out: Channel[] = [];
  const rec = (start: number, cur: number[]) => {
    if (cur.length > 0) out.push([...cur]);
    if (cur.length === order) return;
    for (let i = start; i < n; i++) rec(i, [...cur, i]);
  };
  rec(0, []);
  return out;
}

/** 1-D central stencils for derivative order k: [offsets (in h), weights]; O(h²). */
const STENCIL: Record<number, [number[], number[]]> = {
  1: [[-1, 1], [-0.5, 0.5]],
  2: [[-1, 0, 1], [1, -2, 1]],
  3: [[-2, -1, 1, 2], [-0.5, 1, -1, 0.5]],
  4: [[-2, -1, 0, 1, 2], [1, -4, 6, -4, 1]],
};

/**
 * ∂^ch f(x) by tensor-product central differences; the step in input i is
 * h·step[i] (e.g. step = half the input range, so h is a step in normalised coordinates).
 */
function stencilOnce(f: (x: number[]) => number[], x: number[], ch: Channel, h: number, step: number[]): number[] {
  const counts = new Map<number, number>();
  for (const i of ch) counts.set(i, (counts.get(i) ?? 0) + 1);
  let pts: { x: number[]; w: number }[] = [{ x: [...x], w: 1 }];
  let denom = 1;
  for (const [i, k] of counts) {
    const [off, wt] = STENCIL[k]!;
    const hi = h * step[i]!;
    denom *= hi ** k;
    pts = pts.flatMap((p) => off.map((o, j) => {
      const y = [...p.x];
      y[i] = y[i]! + o * hi;
      return { x: y, w: p.w * wt[j]! };
    }));
  }
  let acc: number[] | null = null;
  for (const p of pts) {
    const v = f(p.x);
    acc = acc === null ? v.map((q) => p.w * q) : acc.map((a, o) => a + p.w * v[o]!);
  }
  return acc!.map((a) => a / denom);
}

/** Richardson step for an O(h^q) scheme: a at h, b at h/2, p = 2^q. */
function richardson(a: number[], b: number[], p: number): number[] {
  return b.map((bv, o) => (p * bv - a[o]!) / (p - 1));
}

/**
 * ∂^ch f(x) for a vector-valued f (channel order ≤ 4), Richardson-extrapolated.
 * Order ≤ 2: h = 1e-3, one Richardson step (h, h/2), O(h⁴).
 * Order 3: h = 2e-2, order 4: h = 3e-2, two Richardson steps (h, h/2, h/4), O(h⁶).
 */
export function fdDerivative(f: (x: number[]) => number[], x: number[], ch: Channel, step: number[]): number[] {
  if (ch.length === 0) return f(x);
  if (ch.length <= 2) return richardson(stencilOnce(f, x, ch, 1e-3, step), stencilOnce(f, x, ch, 5e-4, step), 4);
  const h = ch.length === 3 ? 2e-2 : 3e-2;
  const d = [h, h / 2, h / 4].map((hh) => stencilOnce(f, x, ch, hh, step));
  return richardson(richardson(d[0]!, d[1]!, 4), richardson(d[1]!, d[2]!, 4), 16);
}

/**
 * The Burgers-like jet loss mean((u_xx + u·u_x)²) over every output of f at the points X
 * (inputs x, t), in float64: u_x and u_xx by central differences in x at h = 1e-3 and 5e-4
 * with one Richardson step. The float64 twin of the tfjs jet losses in adaptive.test.ts
 * and rowdy.test.ts.
 */
export function burgersJetLossNumber(f: (x: number[]) => number[], X: number[][]): number {
  const d = (x: number[], h: number) => {
    const fp = f([x[0]! + h, x[1]!]), fm = f([x[0]! - h, x[1]!]), f0 = f(x);
    return f0.map((v, o) => ({ u: v, ux: (fp[o]! - fm[o]!) / (2 * h), uxx: (fp[o]! - 2 * v + fm[o]!) / (h * h) }));
  };
  let s = 0;
  let outputs = 0;
  for (const x of X) {
    const a = d(x, 1e-3), b = d(x, 5e-4);
    outputs = a.length;
    a.forEach((ao, o) => {
      const ux = (4 * b[o]!.ux - ao.ux) / 3;
      const uxx = (4 * b[o]!.uxx - ao.uxx) / 3;
      s += (uxx + ao.u * ux) ** 2;
    });
  }
  return s / (X.length * outputs);
}
