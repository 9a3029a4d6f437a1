/**
 * L-BFGS with a strong-Wolfe line search, on a flat float64 parameter vector.
 *
 * Plain JavaScript: the objective is any `(x) => { f, g }`; the trainer wraps the PINN
 * loss (tf variables in float32, gradients from tfjs's reverse mode) behind it. The
 * algorithm follows Nocedal & Wright (Alg. 7.4 two-loop recursion, Alg. 3.5/3.6 line
 * search with cubic interpolation) in the form PyTorch's `torch.optim.LBFGS` uses, so
 * its options mean the same things there and here.
 *
 * One `iterate()` is one L-BFGS iteration (a direction and a line search). Everything
 * the next iteration needs is in `LbfgsState`, which is plain data: a checkpoint taken
 * between iterations and restored with `fromState` continues bit for bit.
 */

export interface Objective {
  /** loss and gradient at x (x must not be kept: the caller may reuse it) */
  (x: Float64Array): { f: number; g: Float64Array };
}

export interface LbfgsOptions {
  /** curvature pairs kept (m) */
  history: number;
  /** step length tried first (1 = the quasi-Newton step) */
  lr: number;
  /** stop when max |g_i| <= this */
  toleranceGrad: number;
  /** stop when the loss or the step (max |Δx_i|) changes less than this */
  toleranceChange: number;
  /** 'strong_wolfe' or 'none' (a fixed step of length lr) */
  lineSearch: 'strong_wolfe' | 'none';
  /** line-search evaluations per iteration at most */
  maxLineSearch?: number;
  /** times a failed line search may drop the curvature memory and retry by steepest descent (default 0) */
  maxRestarts?: number;
}

export type LbfgsStop = 'tolerance_grad' | 'tolerance_change' | 'line_search_failed' | 'non_finite';

export interface LbfgsState {
  /** iterations done */
  k: number;
  /** objective evaluations done (including the initial one) */
  evals: number;
  x: Float64Array;
  f: number;
  g: Float64Array;
  /** curvature pairs, oldest first */
  s: Float64Array[];
  y: Float64Array[];
  /** step length of the last iteration (0 before the first) */
  t: number;
  /** times the memory was dropped after a failed line search (absent: 0) */
  restarts?: number;
}

export interface IterationResult {
  /** set when the method has stopped (x, f, g are then the last accepted point) */
  stop?: LbfgsStop;
  /** evaluations this iteration */
  evals: number;
}

export class Lbfgs {
  private constructor(readonly opts: LbfgsOptions, private st: LbfgsState, private readonly fg: Objective) {}

  /** Start at x0 (one evaluation). */
  static start(fg: Objective, x0: Float64Array, opts: LbfgsOptions): Lbfgs {
    const x = Float64Array.from(x0);
    const { f, g } = fg(x);
    return new Lbfgs(opts, { k: 0, evals: 1, x, f, g: Float64Array.from(g), s: [], y: [], t: 0 }, fg);
  }

  /** Continue from a saved state (no evaluation). */
  static fromState(fg: Objective, state: LbfgsState, opts: LbfgsOptions): Lbfgs {
    const copy = (a: Float64Array) => Float64Array.from(a);
    return new Lbfgs(opts, { ...state, x: copy(state.x), g: copy(state.g), s: state.s.map(copy), y: state.y.map(copy) }, fg);
  }

  get state(): LbfgsState {
    return this.st;
  }

  /** Stop reason that holds before any iteration (a stationary or non-finite start), or undefined. */
  initialStop(): LbfgsStop | undefined {
    if (!Number.isFinite(this.st.f) || !allFinite(this.st.g)) return 'non_finite';
    if (maxAbs(this.st.g) <= this.opts.toleranceGrad) return 'tolerance_grad';
    return undefined;
  }

  /** One iteration: direction by the two-loop recursion, then a line search. */
  iterate(): IterationResult {
    const st = this.st;
    const n = st.x.length;
    const d = this.direction();
    let gtd = dot(st.g, d);
    if (!(gtd < 0)) {
      // Not a descent direction (rounding in the memory): restart from steepest descent.
      st.s = [];
      st.y = [];
      for (let i = 0; i < n; i++) d[i] = -st.g[i]!;
      gtd = dot(st.g, d);
    }
    if (gtd > -this.opts.toleranceChange) return { stop: 'tolerance_change', evals: 0 };

    // Without curvature pairs the direction is −g, of any length: scale the first try.
    let t = st.s.length === 0 ? Math.min(1, 1 / sumAbs(st.g)) * this.opts.lr : this.opts.lr;
    let fNew: number;
    let gNew: Float64Array;
    let evals: number;
    if (this.opts.lineSearch === 'strong_wolfe') {
      const ls = strongWolfe(this.fg, st.x, t, d, st.f, st.g, gtd, this.opts.toleranceChange, this.opts.maxLineSearch ?? 25);
      ({ t, f: fNew, g: gNew, evals } = ls);
    } else {
      const r = this.fg(axpy(st.x, t, d));
      fNew = r.f;
      gNew = Float64Array.from(r.g);
      evals = 1;
    }
    st.evals += evals;
    const finite = Number.isFinite(fNew) && allFinite(gNew);
    if (!finite && this.opts.lineSearch === 'none') return { stop: 'non_finite', evals };
    if (!finite || !(fNew < st.f) || t === 0) {
      // No step lowered the loss along the quasi-Newton direction. Stale curvature pairs
      // (float32 losses, a changed landscape) can cause that: when allowed, drop them and
      // try steepest descent next iteration; fail when that fails too.
      if (st.s.length === 0 || (st.restarts ?? 0) >= (this.opts.maxRestarts ?? 0)) return { stop: 'line_search_failed', evals };
      st.s = [];
      st.y = [];
      st.restarts = (st.restarts ?? 0) + 1;
      return { evals };
    }

    // Accept: update the memory with s = t·d, y = g_new − g.
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = t * d[i]!;
      y[i] = gNew[i]! - st.g[i]!;
    }
    const ys = dot(y, s);
    if (ys > 1e-10) {
      if (st.s.length >= this.opts.history) {
        st.s.shift();
        st.y.shift();
      }
      st.s.push(s);
      st.y.push(y);
    }
    const fOld = st.f;
    st.x = axpy(st.x, 1, s);
    st.f = fNew;
    st.g = gNew;
    st.t = t;
    st.k++;

    if (maxAbs(gNew) <= this.opts.toleranceGrad) return { stop: 'tolerance_grad', evals };
    if (maxAbs(s) <= this.opts.toleranceChange) return { stop: 'tolerance_change', evals };
    if (Math.abs(fNew - fOld) < this.opts.toleranceChange) return { stop: 'tolerance_change', evals };
    return { evals };
  }

  /** −H·g by the two-loop recursion, H0 = (s·y / y·y) I from the newest pair. */
  private direction(): Float64Array {
    const { g, s, y } = this.st;
    const m = s.length;
    const q = Float64Array.from(g, (v) => -v);
    if (m === 0) return q;
    const rho = s.map((si, i) => 1 / dot(y[i]!, si));
    const alpha = new Float64Array(m);
    for (let i = m - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(s[i]!, q);
      addScaled(q, -alpha[i]!, y[i]!);
    }
    const yl = y[m - 1]!;
    const gamma = dot(s[m - 1]!, yl) / dot(yl, yl);
    for (let i = 0; i < q.length; i++) q[i] = q[i]! * gamma;
    for (let i = 0; i < m; i++) {
      const beta = rho[i]! * dot(y[i]!, q);
      addScaled(q, alpha[i]! - beta, s[i]!);
    }
    return q;
  }
}

// ---------------------------------------------------------------------------- line search

/**
 * Minimiser of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to
 * `bounds` (default the interval between x1 and x2); the interval's midpoint when the
 * cubic has no minimiser there or the data are not finite.
 */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const at = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    if (Number.isFinite(at)) return Math.min(Math.max(at, lo), hi);
  }
  return (lo + hi) / 2;
}

export interface LineSearchResult { t: number; f: number; g: Float64Array; evals: number }

/**
 * A step t along d satisfying the strong Wolfe conditions
 *   f(x + t d) <= f + c1 t g·d   and   |g(x + t d)·d| <= c2 |g·d|
 * (c1 = 1e-4, c2 = 0.9): bracketing by cubic extrapolation, then zooming by cubic
 * interpolation with safeguards. A non-finite trial loss counts as "too large", so the
 * search backs off from overflow instead of failing. Returns the best point found
 * (t = 0 and the start point when nothing decreased the loss).
 */
export function strongWolfe(fg: Objective, x: Float64Array, t0: number, d: Float64Array, f: number, g: Float64Array, gtd: number,
  toleranceChange = 1e-9, maxLs = 25, c1 = 1e-4, c2 = 0.9): LineSearchResult {
  const dNorm = maxAbs(d);
  let t = t0;
  const evalAt = (step: number) => {
    const r = fg(axpy(x, step, d));
    const gg = Float64Array.from(r.g);
    return { f: r.f, g: gg, gtd: dot(gg, d) };
  };
  let cur = evalAt(t);
  let evals = 1;
  let tPrev = 0;
  let prev = { f, g, gtd };
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bf: number[] = [];
  let bg: Float64Array[] = [];
  let bgtd: number[] = [];
  const tooHigh = (fv: number, step: number) => !(fv <= f + c1 * step * gtd);

  while (lsIter < maxLs) {
    if (tooHigh(cur.f, t) || (lsIter > 1 && cur.f >= prev.f)) {
      bracket = [tPrev, t]; bf = [prev.f, cur.f]; bg = [prev.g, cur.g]; bgtd = [prev.gtd, cur.gtd];
      break;
    }
    if (Math.abs(cur.gtd) <= -c2 * gtd) {
      bracket = [t]; bf = [cur.f]; bg = [cur.g]; bgtd = [cur.gtd];
      done = true;
      break;
    }
    if (cur.gtd >= 0) {
      bracket = [tPrev, t]; bf = [prev.f, cur.f]; bg = [prev.g, cur.g]; bgtd = [prev.gtd, cur.gtd];
      break;
    }
    // Extrapolate: the next trial lies in [t + 0.01 (t − t_prev), 10 t].
    const next = cubicInterpolate(tPrev, prev.f, prev.gtd, t, cur.f, cur.gtd, [t + 0.01 * (t - tPrev), t * 10]);
    tPrev = t;
    prev = cur;
    t = next;
    cur = evalAt(t);
    evals++;
    lsIter++;
  }
  if (lsIter === maxLs) {
    bracket = [0, t]; bf = [f, cur.f]; bg = [g, cur.g]; bgtd = [gtd, cur.gtd];
  }

  // Zoom: shrink the bracket until the strong Wolfe conditions hold.
  let insufficientProgress = false;
  let [low, high] = lowHigh(bf);
  while (!done && lsIter < maxLs && bracket.length === 2) {
    if (Math.abs(bracket[1]! - bracket[0]!) * dNorm < toleranceChange) break;
    const bmin = Math.min(bracket[0]!, bracket[1]!);
    const bmax = Math.max(bracket[0]!, bracket[1]!);
    t = Number.isFinite(bf[0]!) && Number.isFinite(bf[1]!)
      ? cubicInterpolate(bracket[0]!, bf[0]!, bgtd[0]!, bracket[1]!, bf[1]!, bgtd[1]!)
      : (bmin + bmax) / 2;
    // Safeguard: keep t at least 10 % of the bracket away from its ends.
    const eps = 0.1 * (bmax - bmin);
    if (Math.min(bmax - t, t - bmin) < eps) {
      if (insufficientProgress || t >= bmax || t <= bmin) {
        t = Math.abs(t - bmax) < Math.abs(t - bmin) ? bmax - eps : bmin + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    cur = evalAt(t);
    evals++;
    lsIter++;
    if (tooHigh(cur.f, t) || cur.f >= bf[low]!) {
      bracket[high] = t; bf[high] = cur.f; bg[high] = cur.g; bgtd[high] = cur.gtd;
      [low, high] = lowHigh(bf);
    } else {
      if (Math.abs(cur.gtd) <= -c2 * gtd) done = true;
      else if (cur.gtd * (bracket[high]! - bracket[low]!) >= 0) {
        bracket[high] = bracket[low]!; bf[high] = bf[low]!; bg[high] = bg[low]!; bgtd[high] = bgtd[low]!;
      }
      bracket[low] = t; bf[low] = cur.f; bg[low] = cur.g; bgtd[low] = cur.gtd;
    }
  }
  const k = bracket.length === 1 ? 0 : low;
  return { t: bracket[k]!, f: bf[k]!, g: bg[k]!, evals };
}

/** Indices of the lower and higher loss in a two-point bracket (a non-finite loss is the higher; ties go to 0). */
function lowHigh(bf: number[]): [number, number] {
  if (bf.length < 2) return [0, 1];
  const a = bf[0]!;
  const b = bf[1]!;
  const secondLower = (b < a) || (!Number.isFinite(a) && Number.isFinite(b));
  return secondLower ? [1, 0] : [0, 1];
}

// ---------------------------------------------------------------------------- vectors

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function addScaled(a: Float64Array, c: number, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] = a[i]! + c * b[i]!;
}

/** x + t·d as a new array. */
function axpy(x: Float64Array, t: number, d: Float64Array): Float64Array {
  const r = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) r[i] = x[i]! + t * d[i]!;
  return r;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function sumAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += Math.abs(a[i]!);
  return m;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}
