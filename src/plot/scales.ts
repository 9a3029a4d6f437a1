/**
 * Axis and colour-bar arithmetic shared by the run and sweep pictures: where the
 * ticks go (so that a labelled tick sits at or beyond each end of the data), how
 * numbers are printed in titles, and the colour mappings of heatmaps.
 */

/** A number with at most `digits` significant digits, without trailing zeros (0.003183, 1.5e-7, 20). */
export function fmtNum(v: number, digits = 4): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(digits))) : Number(v.toPrecision(digits)).toExponential().replace('e+', 'e');
}

/** Every decimal number in a text written with at most `digits` significant digits (`nu = 0.0031830988618379067` → `nu = 0.003183`). */
export function roundNumbersIn(text: string, digits = 4): string {
  return text.replace(/(?<![\w.])\d+\.\d+(?:[eE][-+]?\d+)?(?![\w.])/g, (m) => {
    const v = Number(m);
    return Number.isFinite(v) && m.replace(/^[0.]+|\.|e.*$/gi, '').length > digits ? fmtNum(v, digits) : m;
  });
}

/**
 * A grid value printed to the precision the grid resolves: as many decimals as its
 * spacing needs (a t grid of 100 points on [0, 1] has spacing 0.0101, so 0.2525 is
 * printed `0.25`; the printed value is within half a spacing of the real one).
 */
export function gridValueText(v: number, spacing: number): string {
  if (!(spacing > 0) || !Number.isFinite(spacing)) return fmtNum(v);
  const decimals = Math.max(0, Math.ceil(-Math.log10(spacing) - 1e-9));
  if (decimals > 6 || Math.abs(v) >= 1e5) return fmtNum(v);
  return String(Number(v.toFixed(decimals)));
}

const clean = (v: number) => Number(v.toPrecision(12));

/** Nice linear ticks (steps of 1, 2, 2.5 or 5 × 10^k) covering [lo, hi]: the first at or below lo, the last at or above hi. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const e = Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * 10 ** e).find((s) => s >= raw * 0.999) ?? 10 ** (e + 1);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(clean(k * step));
  return out;
}

/** Candidate tick families for a log axis, each a function giving its ticks over [lo, hi] (extended to the enclosing ticks). */
function logFamilies(lo: number, hi: number): number[][] {
  const families: number[][] = [];
  const k0 = Math.floor(Math.log10(lo) + 1e-9);
  const k1 = Math.ceil(Math.log10(hi) - 1e-9);
  const decades = Math.max(1, k1 - k0);
  // Powers of ten, every `every` decades.
  for (let every = 1; every <= Math.max(1, Math.ceil(decades / 3)); every++) {
    const a = Math.floor(k0 / every) * every;
    const out: number[] = [];
    for (let k = a; ; k += every) {
      out.push(clean(10 ** k));
      if (k >= k1) break;
    }
    families.push(out);
  }
  // 1-2-5 and 1…9 within each decade.
  for (const mult of [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const all: number[] = [];
    for (let k = k0 - 1; k <= k1; k++) for (const m of mult) all.push(clean(m * 10 ** k));
    families.push(enclose(all, lo, hi));
  }
  // Narrow ranges: linear steps.
  for (const count of [3, 4, 5, 6, 8]) {
    const t = linearTicks(lo, hi, count);
    if (t[0]! > 0) families.push(t);
  }
  return families.filter((f) => f.length >= 2);
}

/** The ticks of a sorted list from the last one at or below lo to the first one at or above hi. */
function enclose(sorted: number[], lo: number, hi: number): number[] {
  let a = 0;
  while (a + 1 < sorted.length && sorted[a + 1]! <= lo * (1 + 1e-9)) a++;
  let b = sorted.length - 1;
  while (b - 1 >= 0 && sorted[b - 1]! >= hi * (1 - 1e-9)) b--;
  return sorted.slice(a, b + 1);
}

export interface LogAxis {
  /** the scale's domain: the data's range widened to the first and the last tick */
  domain: [number, number];
  ticks: number[];
  /** Vega expression of a tick's label (see tickLabels) */
  labelExpr: string;
}

/**
 * A Vega label expression for these ticks: plain numbers (0.25, 1500) when every
 * tick is between 1e-3 and 1e5 in size, else powers of ten as 1e-6 (and 1 as 1).
 * Written out in full (no precision chosen by Vega from the tick spacing, which
 * prints 0.25 as 0.3).
 */
export function tickLabels(ticks: number[]): string {
  const plain = ticks.every((t) => t === 0 || (Math.abs(t) >= 1e-3 && Math.abs(t) < 1e5));
  return plain ? "format(datum.value, '.6~g')" : "datum.value == 1 ? '1' : replace(format(datum.value, '.3~e'), 'e+', 'e')";
}

/**
 * Ticks for a log axis of `length` pixels over the positive values given: the domain
 * runs from a tick at or below the smallest value to one at or above the largest
 * (or within 3% of the axis inside it), so every stretch of the data lies between
 * labelled ticks; ticks are never closer
 * than `gap` pixels (labels do not collide), and there are at least three where the
 * families allow. Among the families that fit, the one wasting the least of the
 * axis beyond the data wins, with a preference for 4 to 9 ticks.
 */
export function logTicks(values: number[], length = 240, gap = 16): LogAxis | undefined {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return undefined;
  let lo = pos.reduce((a, b) => Math.min(a, b), Infinity);
  let hi = pos.reduce((a, b) => Math.max(a, b), -Infinity);
  if (hi / lo < 1.001) {
    const mid = Math.sqrt(lo * hi);
    lo = mid / 1.01;
    hi = mid * 1.01;
  }
  const span = Math.log10(hi / lo);
  // A tick within 3% of the span inside an end of the data counts as that end's tick.
  const tol = 10 ** (0.03 * span);
  let best: { ticks: number[]; domain: [number, number]; cost: number } | undefined;
  for (const ticks of logFamilies(lo * tol, hi / tol)) {
    const domain: [number, number] = [Math.min(lo, ticks[0]!), Math.max(hi, ticks.at(-1)!)];
    const total = Math.log10(domain[1] / domain[0]);
    let minGap = Infinity;
    for (let i = 1; i < ticks.length; i++) minGap = Math.min(minGap, Math.log10(ticks[i]! / ticks[i - 1]!));
    if ((minGap / total) * length < gap) continue;
    const n = ticks.length;
    const cost = total / span + (n < 3 ? 3 : n < 4 ? 0.6 : 0) + (n > 9 ? 0.3 * (n - 9) : 0);
    if (!best || cost < best.cost - 1e-12) best = { ticks, domain, cost };
  }
  if (!best) {
    const ticks = [clean(10 ** Math.floor(Math.log10(lo))), clean(10 ** Math.ceil(Math.log10(hi)))];
    best = { ticks, domain: [ticks[0]!, ticks[1]!], cost: 0 };
  }
  return { domain: best.domain, ticks: best.ticks, labelExpr: tickLabels(best.ticks) };
}

/** Vega-Lite scale and axis properties of a log-scale position channel (see logTicks). */
export function logScale(values: number[], length = 240, gap = 16): { scale: Record<string, unknown>; axis: Record<string, unknown> } {
  const t = logTicks(values, length, gap);
  if (!t) return { scale: { type: 'log' }, axis: {} };
  return { scale: { type: 'log', domain: t.domain, nice: false }, axis: { values: t.ticks, labelExpr: t.labelExpr, labelOverlap: false } };
}

// ---------------------------------------------------------------------------- colour bars

/**
 * How a heatmap's values become colours, and the matching Vega-Lite colour scale
 * and legend: `unit(v)` in [0, 1] indexes the colour scheme, the legend's labels are
 * `ticks`.
 */
export interface ColourMap {
  scheme: string;
  unit: (v: number) => number;
  scale: Record<string, unknown>;
  ticks: number[];
  /** labels below this value stand for "this or less" (values clipped at the bottom) */
  clippedBelow?: number;
  /** Vega expression of a legend label */
  labelExpr: string;
}

/**
 * Linear colours over [lo, hi]. Signed data (lo < 0 < hi) gets a diverging scheme
 * centred at 0 over [−m, m], m = max(|lo|, |hi|), so 0 is the neutral colour and a
 * labelled tick; other data the sequential `scheme`.
 */
export function linearColours(lo: number, hi: number, scheme: string): ColourMap {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.01;
    lo -= pad;
    hi += pad;
  }
  if (lo < 0 && hi > 0) {
    const ticksHalf = linearTicks(0, Math.max(-lo, hi), 3);
    const m = ticksHalf.at(-1)!;
    const ticks = [...ticksHalf.slice(1).reverse().map((t) => -t), ...ticksHalf];
    return {
      scheme: 'blueorange',
      unit: (v) => (v + m) / (2 * m),
      scale: { scheme: 'blueorange', domain: [-m, m], domainMid: 0, nice: false, zero: false },
      ticks,
      labelExpr: tickLabels(ticks),
    };
  }
  const ticks = linearTicks(lo, hi, 4);
  const a = ticks[0]!;
  const b = ticks.at(-1)!;
  return {
    scheme,
    unit: (v) => (v - a) / (b - a),
    scale: { scheme, domain: [a, b], nice: false, zero: false },
    ticks,
    labelExpr: tickLabels(ticks),
  };
}

/**
 * Log colours for non-negative data such as pointwise errors: from the largest value
 * down at most `decades` decades (smaller values, and zeros, take the lowest colour
 * and the bottom label reads "≤ …").
 */
export function logColours(values: Iterable<number>, scheme: string, decades = 5, length = 170): ColourMap {
  let lo = Infinity;
  let hi = -Infinity;
  let zeros = false;
  for (const v of values) {
    if (v === 0) zeros = true;
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > 0)) return linearColours(0, 1, scheme);
  const floor = hi / 10 ** decades;
  const t = logTicks([Math.max(lo, floor), hi], length, 14)!;
  // The bar starts at its first labelled tick; anything below takes the bottom colour.
  const a = t.ticks[0]!;
  const b = t.domain[1];
  const clipped = lo < a || zeros;
  const la = Math.log10(a);
  const lb = Math.log10(b);
  return {
    scheme,
    unit: (v) => (v > 0 ? (Math.log10(v) - la) / (lb - la) : 0),
    scale: { type: 'log', scheme, domain: [a, b], nice: false },
    ticks: t.ticks,
    ...(clipped ? { clippedBelow: a, labelExpr: `datum.value <= ${a} ? '≤ ' + (${t.labelExpr}) : (${t.labelExpr})` } : { labelExpr: t.labelExpr }),
  };
}

/** Subtitle parts joined with "; " into lines of at most `width` characters (a Vega-Lite subtitle may be a list of lines). */
export function subtitleLines(parts: string[], width = 110): string[] {
  const lines: string[] = [];
  let line = '';
  for (const p of parts.filter(Boolean)) {
    if (line && line.length + 2 + p.length > width) {
      lines.push(`${line};`);
      line = p;
    } else line = line ? `${line}; ${p}` : p;
  }
  if (line) lines.push(line);
  return lines;
}
