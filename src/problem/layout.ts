/**
 * The point sets of a problem's terms laid out as one array of rows: sets shared by several
 * terms (the interior) are stored once, and each term gets its block of rows. Used by the
 * tfjs loss (train/loss.ts) and the whole-step kernel (step/whole.ts), so that both see
 * the same rows in the same order.
 */
import type { Problem } from './build.js';

/** A term's rows in the laid-out array. */
export interface PointBlock { start: number; n: number }

export function layoutPoints(problem: Problem, points: Map<string, Float64Array>): { X: Float64Array; N: number; blocks: PointBlock[] } {
  const d = problem.inputs.length;
  const unique: Float64Array[] = [];
  const blockOf = new Map<Float64Array, PointBlock>();
  let total = 0;
  for (const t of problem.terms) {
    const p = points.get(t.name);
    if (!p) throw new Error(`internal: no points for term ${t.name}`);
    if (!blockOf.has(p)) {
      blockOf.set(p, { start: total, n: p.length / d });
      total += p.length / d;
      unique.push(p);
    }
  }
  const X = new Float64Array(total * d);
  let off = 0;
  for (const p of unique) {
    X.set(p, off);
    off += p.length;
  }
  return { X, N: total, blocks: problem.terms.map((t) => blockOf.get(points.get(t.name)!)!) };
}
