/** Error metrics against a reference: relative L2 ‖u−û‖₂/‖u‖₂ and max absolute error. */
export function relL2(pred: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = pred[i]! - ref[i]!;
    num += e * e;
    den += ref[i]! * ref[i]!;
  }
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

export function maxAbsError(pred: ArrayLike<number>, ref: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(pred[i]! - ref[i]!));
  return m;
}

/** rel-L2 over all outputs together, then per output when there are several. */
export function errorSummary(pred: Float64Array[], ref: Float64Array[]): { relL2: number; perOutput: number[]; maxAbs: number[] } {
  const n = ref.reduce((s, r) => s + r.length, 0);
  const p = new Float64Array(n);
  const r = new Float64Array(n);
  let off = 0;
  ref.forEach((rk, k) => {
    p.set(pred[k]!, off);
    r.set(rk, off);
    off += rk.length;
  });
  return {
    relL2: relL2(p, r),
    perOutput: ref.map((rk, k) => relL2(pred[k]!, rk)),
    maxAbs: ref.map((rk, k) => maxAbsError(pred[k]!, rk)),
  };
}
