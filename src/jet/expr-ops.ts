/**
 * Expressions evaluated on jets: `jetOps(plan, base)` lifts any scalar arithmetic
 * `Ops<T>` (float64 numbers or tfjs tensors) to `Ops<ExprJet<T>>`, so a compiled
 * expression such as an output transform `t*(1 - x^2)*N - sin(pi*x)` yields its value
 * and every derivative channel of the plan at once (ARCHITECTURE.md, "Numerics": sums channelwise,
 * products by Leibniz, functions by Faà di Bruno with their derivative towers).
 * A `null` channel is known to be zero and costs nothing.
 */
import type { Ops, CompareOp } from '../expr/ops.js';
import type { JetPlan } from './plan.js';

export type ExprJet<T> = (T | null)[];

export function jetOps<T>(plan: JetPlan, base: Ops<T>): Ops<ExprJet<T>> & {
  /** the jet of input i at value v: ∂x_i/∂x_i = 1 */
  input(i: number, v: T): ExprJet<T>;
  /** the jet of a quantity given channel by channel */
  lift(value: T): ExprJet<T>;
} {
  const C = plan.channels.length;
  const K = plan.maxOrder;
  const zeroRest = (v: T): ExprJet<T> => [v, ...new Array<T | null>(C - 1).fill(null)];
  const addT = (a: T | null, b: T | null): T | null => (a === null ? b : b === null ? a : base.add(a, b));
  const scale = (c: number, v: T): T => (c === 1 ? v : base.mul(base.constant(c), v));

  /** Faà di Bruno: f(a) with tower[m] = f^(m)(a_0). */
  const compose = (a: ExprJet<T>, tower: (T | null)[]): ExprJet<T> => {
    const out: ExprJet<T> = [tower[0]!];
    for (let c = 1; c < C; c++) {
      let acc: T | null = null;
      for (const term of plan.faa[c]!) {
        const f = tower[term.order];
        if (f === null || f === undefined) continue;
        let prod: T | null = f;
        for (const k of term.factors) {
          const z = a[k];
          if (z === null || z === undefined) {
            prod = null;
            break;
          }
          prod = base.mul(prod!, z);
        }
        if (prod !== null) acc = addT(acc, scale(term.coef, prod));
      }
      out.push(acc);
    }
    return out;
  };
  const isConst = (a: ExprJet<T>) => a.every((v, i) => i === 0 || v === null);
  /** function of a with the tower computed from the value only when a varies */
  const fn = (a: ExprJet<T>, towerOf: (x: T) => (T | null)[]): ExprJet<T> =>
    isConst(a) ? zeroRest(towerOf(a[0]!)[0]!) : compose(a, towerOf(a[0]!));

  const mul = (a: ExprJet<T>, b: ExprJet<T>): ExprJet<T> =>
    plan.leibniz.map((terms, c) => {
      if (c === 0) return base.mul(a[0]!, b[0]!);
      let acc: T | null = null;
      for (const t of terms) {
        const x = a[t.a];
        const y = b[t.b];
        if (x === null || x === undefined || y === null || y === undefined) continue;
        acc = addT(acc, scale(t.coef, base.mul(x, y)));
      }
      return acc;
    });
  const recip = (a: ExprJet<T>) =>
    fn(a, (x) => {
      const r = base.div(base.constant(1), x);
      const tw: T[] = [r];
      for (let m = 1; m <= K; m++) tw.push(base.mul(base.constant(-m), base.mul(tw[m - 1]!, r)));
      return tw;
    });
  const powInt = (a: ExprJet<T>, k: number): ExprJet<T> => {
    if (k < 0) return recip(powInt(a, -k));
    let result: ExprJet<T> = zeroRest(base.constant(1));
    let p = a;
    let first = true;
    for (let e = k; e > 0; e >>= 1) {
      if (e & 1) {
        result = first ? p : mul(result, p);
        first = false;
      }
      if (e > 1) p = mul(p, p);
    }
    return result;
  };
  const cycle = (x: T, s: T, c: T, startSin: boolean): T[] => {
    // derivatives of sin: sin, cos, -sin, -cos; of cos: cos, -sin, -cos, sin
    const seq = startSin ? [s, c, base.neg(s), base.neg(c)] : [c, base.neg(s), base.neg(c), s];
    void x;
    return Array.from({ length: K + 1 }, (_, m) => seq[m % 4]!);
  };
  const log = (a: ExprJet<T>) =>
    fn(a, (x) => {
      const r = base.div(base.constant(1), x);
      const tw: T[] = [base.log(x), r];
      for (let m = 2; m <= K; m++) tw.push(base.mul(base.constant(-(m - 1)), base.mul(tw[m - 1]!, r)));
      return tw;
    });
  const exp = (a: ExprJet<T>) => fn(a, (x) => new Array<T>(K + 1).fill(base.exp(x)));

  const ops: Ops<ExprJet<T>> = {
    constant: (v) => zeroRest(base.constant(v)),
    add: (a, b) => a.map((x, i) => (i === 0 ? base.add(x!, b[0]!) : addT(x, b[i]!))),
    sub: (a, b) => a.map((x, i) => (i === 0 ? base.sub(x!, b[0]!) : b[i] === null ? x : x === null ? base.neg(b[i]!) : base.sub(x, b[i]!))),
    neg: (a) => a.map((x) => (x === null ? null : base.neg(x))),
    mul,
    div: (a, b) => (isConst(b) ? a.map((x) => (x === null ? null : base.div(x, b[0]!))) : mul(a, recip(b))),
    powInt,
    pow: (a, b) => {
      if (isConst(b) && isConst(a)) return zeroRest(base.pow(a[0]!, b[0]!));
      if (isConst(b)) {
        // d^m/dx^m x^p = p (p-1) ... (p-m+1) x^(p-m)
        const p = b[0]!;
        return fn(a, (x) => {
          const tw: T[] = [base.pow(x, p)];
          let coef: T = p;
          for (let m = 1; m <= K; m++) {
            tw.push(base.mul(coef, base.pow(x, base.sub(p, base.constant(m)))));
            coef = base.mul(coef, base.sub(p, base.constant(m)));
          }
          return tw;
        });
      }
      return exp(mul(b, log(a)));
    },
    sin: (a) => fn(a, (x) => cycle(x, base.sin(x), base.cos(x), true)),
    cos: (a) => fn(a, (x) => cycle(x, base.sin(x), base.cos(x), false)),
    exp,
    log,
    sqrt: (a) =>
      fn(a, (x) => {
        // (x^(1/2))^(m) = c_m x^(1/2 - m), c_m = Π_{j<m} (1/2 - j)
        const s = base.sqrt(x);
        const r = base.div(base.constant(1), x);
        const tw: T[] = [s];
        for (let m = 1; m <= K; m++) tw.push(base.mul(base.constant(0.5 - (m - 1)), base.mul(tw[m - 1]!, r)));
        return tw;
      }),
    abs: (a) =>
      fn(a, (x) => {
        const sign = base.where(base.compare('<', x, base.constant(0)), base.constant(-1), base.constant(1));
        return [base.abs(x), sign, ...new Array<T | null>(K - 1 > 0 ? K - 1 : 0).fill(null)].slice(0, K + 1);
      }),
    tanh: (a) =>
      fn(a, (x) => {
        // polynomials in t = tanh x: t' = 1 - t^2, and d/dx p(t) = p'(t) (1 - t^2)
        const t = base.tanh(x);
        return polyTower(base, t, [0, 1], [1, 0, -1], K);
      }),
    tan: (a) =>
      fn(a, (x) => {
        const t = base.tan(x);
        return polyTower(base, t, [0, 1], [1, 0, 1], K);
      }),
    sinh: (a) => fn(a, (x) => Array.from({ length: K + 1 }, (_, m) => (m % 2 === 0 ? base.sinh(x) : base.cosh(x)))),
    cosh: (a) => fn(a, (x) => Array.from({ length: K + 1 }, (_, m) => (m % 2 === 0 ? base.cosh(x) : base.sinh(x)))),
    atan: (a) =>
      fn(a, (x) => {
        // atan' = 1/(1+x^2) = r; then d/dx r = -2x r^2, etc.: r-polynomials in x
        const r = base.div(base.constant(1), base.add(base.constant(1), base.mul(x, x)));
        const tw: T[] = [base.atan(x)];
        // derivatives of atan as polynomial(x) * r^m
        let poly = [1];
        for (let m = 1; m <= K; m++) {
          tw.push(base.mul(evalPoly(base, poly, x), powT(base, r, m)));
          // d/dx [p(x) r^m] = p'(x) r^m - 2 m x p(x) r^(m+1) = [p'(x)(1+x^2) - 2 m x p(x)] r^(m+1)
          const dp = poly.slice(1).map((c, i) => c * (i + 1));
          const next = new Array<number>(poly.length + 1).fill(0);
          dp.forEach((c, i) => {
            next[i]! += c;
            next[i + 2]! += c;
          });
          poly.forEach((c, i) => (next[i + 1]! -= 2 * m * c));
          poly = next;
        }
        return tw;
      }),
    compare: (op: CompareOp, a, b) => zeroRest(base.compare(op, a[0]!, b[0]!)),
    and: (a, b) => zeroRest(base.and(a[0]!, b[0]!)),
    or: (a, b) => zeroRest(base.or(a[0]!, b[0]!)),
    not: (a) => zeroRest(base.not(a[0]!)),
    where: (c, a, b) =>
      a.map((x, i) => {
        const y = b[i]!;
        if (x === null && y === null) return null;
        return base.where(c[0]!, x ?? base.constant(0), y ?? base.constant(0));
      }),
  };
  return {
    ...ops,
    input: (i, v) => {
      const j = zeroRest(v);
      const k = plan.channels.findIndex((ch) => ch.length === 1 && ch[0] === i);
      if (k > 0) j[k] = base.constant(1);
      return j;
    },
    lift: (v) => zeroRest(v),
  };
}

/** Tower of p(t) where t' = q(t): successive derivatives of polynomials in t. */
function polyTower<T>(base: Ops<T>, t: T, p0: number[], q: number[], K: number): T[] {
  const tw: T[] = [];
  let p = p0;
  for (let m = 0; m <= K; m++) {
    tw.push(evalPoly(base, p, t));
    const dp = p.slice(1).map((c, i) => c * (i + 1));
    const next = new Array<number>(dp.length + q.length - 1).fill(0);
    dp.forEach((a, i) => q.forEach((b, j) => (next[i + j]! += a * b)));
    p = next.length ? next : [0];
  }
  return tw;
}

function evalPoly<T>(base: Ops<T>, coeffs: number[], x: T): T {
  let acc = base.constant(coeffs[coeffs.length - 1] ?? 0);
  for (let i = coeffs.length - 2; i >= 0; i--) acc = base.add(base.mul(acc, x), base.constant(coeffs[i]!));
  return acc;
}

function powT<T>(base: Ops<T>, x: T, m: number): T {
  let acc = x;
  for (let i = 1; i < m; i++) acc = base.mul(acc, x);
  return acc;
}
