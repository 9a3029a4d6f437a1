/**
 * The pictures of one run, drawn from its files (decoupled from training):
 *   plots/loss.svg        loss terms and relative L2 error vs step, log scale
 *   plots/slopes.svg      n·a per hidden layer vs step (neuron mode: mean with min–max band)
 *   plots/amplitudes.svg  Rowdy/Kronecker: the largest added-term amplitude per hidden layer
 *                         (and Kronecker's lead coefficient) vs step
 *   plots/solution.svg    PINN solution, reference and pointwise error: lines over one input,
 *                         heatmaps over two (a mid slice of the rest for three or more)
 *   plots/slices.svg      1D + time: the solution and the reference at five times
 *   plots/parameters.svg  inverse problems: each unknown vs step, with its true value
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { readRun, column, historyKinds, type RunFiles, type Table } from './read.js';
import { categoryScheme, renderSvg, type VlSpec } from './render.js';
import { fieldImage } from './png.js';
import { epochPlot } from './train-plots.js';

export const TIME_NAMES = ['t', 'time'];

/** Write every picture the run's files allow into RUN_DIR/plots/; returns the files written. */
export async function writeRunPlots(runDir: string): Promise<string[]> {
  const run = readRun(runDir);
  const plots = runPlotSpecs(run);
  if (plots.length === 0) return [];
  const out = join(runDir, 'plots');
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const p of plots) {
    const file = join(out, p.file);
    writeFileAtomic(file, await renderSvg(p.spec));
    written.push(file);
  }
  return written;
}

export interface NamedPlot { file: string; spec: VlSpec }

/** The Vega-Lite specs of a run's pictures (exported for tests). */
export function runPlotSpecs(run: RunFiles): NamedPlot[] {
  const name = run.summary?.name ?? String(run.spec?.['name'] ?? 'run');
  const out: NamedPlot[] = [];
  if (run.history && run.history.rows.length > 0) {
    out.push({ file: 'loss.svg', spec: lossPlot(run.history, name) });
    const slopes = slopePlot(run.history, name);
    if (slopes) out.push({ file: 'slopes.svg', spec: slopes });
    const amplitudes = amplitudePlot(run.history, name);
    if (amplitudes) out.push({ file: 'amplitudes.svg', spec: amplitudes });
    const epochs = run.history.header.includes('epoch') ? epochPlot(run.history, name) : undefined; // laaf train runs
    if (epochs) out.push({ file: 'epochs.svg', spec: epochs });
  }
  if (run.solution && run.solution.rows.length > 0 && run.inputs.length > 0 && run.outputs.length > 0) {
    out.push({ file: 'solution.svg', spec: solutionPlot(run, name) });
    const slices = timeSlicePlot(run, name);
    if (slices) out.push({ file: 'slices.svg', spec: slices });
  }
  if (run.parameters && run.parameters.rows.length > 0 && run.parameters.header.length > 1) {
    out.push({ file: 'parameters.svg', spec: parameterPlot(run.parameters, run, name) });
  }
  return out;
}

// ---------------------------------------------------------------------------- history

/** At most `max` rows, evenly spread, first and last kept. */
export function thin<T>(rows: T[], max = 400): T[] {
  if (rows.length <= max) return rows;
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(rows[Math.round((k * (rows.length - 1)) / (max - 1))]!);
  return out;
}

/** Columns holding loss values: the total, each term, and S(a) when it is on. */
export function lossColumns(h: Table): string[] {
  const kinds = historyKinds(h);
  if (!kinds.some((c) => c.kind === 'loss')) return [];
  const cols = kinds.filter((c) => c.kind === 'loss' || c.kind === 'term').map((c) => c.name);
  if (kinds.some((c) => c.kind === 'slope_recovery') && (column(h, 'slope_recovery') ?? []).some((v) => v > 0)) cols.push('slope_recovery');
  return cols;
}

function longSeries(h: Table, cols: string[], label: (c: string) => string, positiveOnly: boolean): { step: number; value: number; series: string }[] {
  const steps = column(h, 'step')!;
  const rowsIdx = thin(steps.map((_, i) => i));
  const out: { step: number; value: number; series: string }[] = [];
  for (const c of cols) {
    const v = column(h, c)!;
    for (const i of rowsIdx) {
      const value = v[i]!;
      if (!Number.isFinite(value) || (positiveOnly && value <= 0)) continue;
      out.push({ step: steps[i]!, value, series: label(c) });
    }
  }
  return out;
}

/**
 * Scale and axis for a log-scale quantity: the data's range with a little margin
 * (whole decades when it spans several), labels at powers of ten — or at 1, 2, 5 × 10^k
 * when it spans less than two decades.
 */
export function logScale(values: number[]): { scale: Record<string, unknown>; axis: Record<string, unknown> } {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return { scale: { type: 'log' }, axis: { format: '.0e' } };
  let lo = pos.reduce((a, b) => Math.min(a, b), Infinity);
  let hi = pos.reduce((a, b) => Math.max(a, b), -Infinity);
  const decades = Math.log10(hi / lo);
  if (decades >= 2) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
  } else {
    const pad = 10 ** Math.max(0.04, 0.08 * decades);
    lo /= pad;
    hi *= pad;
  }
  const ticks: number[] = [];
  const mult = decades >= 2 ? [1] : decades >= 0.7 ? [1, 2, 5] : [1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of mult) {
      const t = Number(`${m}e${k}`);
      if (t >= lo * 0.9999 && t <= hi * 1.0001) ticks.push(t);
    }
  }
  const plain = ticks.every((t) => t >= 1e-3 && t < 1e4);
  return { scale: { type: 'log', domain: [lo, hi], nice: false }, axis: { values: ticks, format: plain ? '~g' : '.0e' } };
}

const stepAxis = { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1 } };

function linePanel(title: string, values: { value: number }[], yTitle: string, log: boolean, seriesTitle: string, order: string[]): VlSpec {
  return {
    title,
    width: 360,
    height: 240,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6, clip: true },
    encoding: {
      x: stepAxis,
      y: { field: 'value', type: 'quantitative', title: yTitle, ...(log ? logScale(values.map((v) => v.value)) : { scale: { zero: false } }) },
      color: { field: 'series', type: 'nominal', title: seriesTitle, sort: order, scale: { scheme: categoryScheme(order.length) } },
    },
  };
}

export function lossPlot(h: Table, name: string): VlSpec {
  const cols = lossColumns(h);
  const label = (c: string) => (c === 'loss' ? 'loss (total J)' : c === 'slope_recovery' ? 'S(a) slope recovery' : c);
  const panels: VlSpec[] = [linePanel('Loss terms', longSeries(h, cols, label, true), 'mean squared residual (log)', true, 'term', cols.map(label))];
  const errCols = historyKinds(h).filter((c) => c.kind === 'error').map((c) => c.name);
  if (errCols.length > 0) {
    const el = (c: string) => (c === 'rel_l2' ? 'rel-L2 (all outputs)' : `rel-L2 ${c.slice('rel_l2_'.length)}`);
    panels.push(linePanel('Relative L2 error vs reference', longSeries(h, errCols, el, true), '‖u − u_ref‖₂ / ‖u_ref‖₂ (log)', true, 'error', errCols.map(el)));
  }
  return {
    title: { text: `${name}: training history`, subtitle: 'loss terms unweighted; the total J includes weights and W_a·S(a)' },
    hconcat: panels,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  };
}

export function slopePlot(h: Table, name: string): VlSpec | undefined {
  const cols = historyKinds(h).filter((c) => c.kind === 'slope');
  if (cols.length === 0) return undefined;
  const steps = column(h, 'step')!;
  const idx = thin(steps.map((_, i) => i));
  const neuron = cols.some((c) => c.stat === 'mean');
  const values: object[] = [];
  const layers: string[] = [];
  if (neuron) {
    for (const c of cols.filter((c) => c.stat === 'mean')) {
      const k = c.layer!;
      const layer = `layer ${k}`;
      layers.push(layer);
      const mean = column(h, c.name)!;
      const of = (stat: string) => cols.find((x) => x.layer === k && x.stat === stat);
      const lo = column(h, of('min')?.name ?? c.name) ?? mean;
      const hi = column(h, of('max')?.name ?? c.name) ?? mean;
      for (const i of idx) values.push({ step: steps[i], mean: mean[i], lo: lo[i], hi: hi[i], layer });
    }
  } else {
    for (const c of cols) {
      const layer = c.layer === undefined ? 'whole net (GAAF)' : `layer ${c.layer}`;
      layers.push(layer);
      const v = column(h, c.name)!;
      for (const i of idx) values.push({ step: steps[i], mean: v[i], lo: v[i], hi: v[i], layer });
    }
  }
  const color = {
    field: 'layer', type: 'nominal', title: 'hidden layer', sort: layers, scale: { scheme: categoryScheme(layers.length) },
    legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1 },
  };
  const layer: VlSpec[] = [{
    mark: { type: 'line', strokeWidth: 1.8 },
    encoding: { x: stepAxis, y: { field: 'mean', type: 'quantitative', title: neuron ? 'n·a (mean over the layer)' : 'n·a', scale: { zero: false } }, color },
  }];
  if (neuron) {
    layer.push({
      mark: { type: 'area', opacity: 0.15 },
      encoding: { x: stepAxis, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
    });
  }
  return {
    title: {
      text: `${name}: adaptive slopes n·a`,
      subtitle: `n·a = 1 at the start (a = 1/n)${neuron ? '; lines: mean over the layer\'s neurons, bands: min to max' : ''}`,
    },
    width: 420,
    height: 260,
    data: { values },
    layer,
  };
}

/** Rowdy/Kronecker: max |amplitude| of each layer's added terms (and the lead coefficient) vs step. */
export function amplitudePlot(h: Table, name: string): VlSpec | undefined {
  const cols = historyKinds(h).filter((c) => c.kind === 'amplitude' || c.kind === 'lead');
  if (cols.length === 0) return undefined;
  const label = (c: (typeof cols)[number]) => `layer ${c.layer}${c.kind === 'lead' ? ' lead α₁' : ''}`;
  const byName = new Map(cols.map((c) => [c.name, label(c)]));
  const series = cols.map(label);
  return {
    ...linePanel('', longSeries(h, cols.map((c) => c.name), (c) => byName.get(c)!, false), 'max |amplitude| of the added terms', false, 'hidden layer', series),
    title: { text: `${name}: Rowdy/Kronecker amplitudes`, subtitle: 'added terms start at 0; Kronecker: lead α₁ of the first function' },
  };
}

function parameterPlot(p: Table, run: RunFiles, name: string): VlSpec {
  const steps = column(p, 'step')!;
  const idx = thin(steps.map((_, i) => i));
  const truth = run.summary?.final?.parameters ?? {};
  const panels = p.header.slice(1).map((pn) => {
    const v = column(p, pn)!;
    const layer: VlSpec[] = [{
      data: { values: idx.map((i) => ({ step: steps[i], value: v[i] })) },
      mark: { type: 'line', strokeWidth: 1.6 },
      encoding: { x: stepAxis, y: { field: 'value', type: 'quantitative', title: pn, scale: { zero: false } } },
    }];
    const tv = truth[pn]?.true_value;
    if (tv !== undefined) {
      layer.push({
        data: { values: [{ value: tv }] },
        mark: { type: 'rule', strokeDash: [5, 4], color: '#c0392b' },
        encoding: { y: { field: 'value', type: 'quantitative' } },
      });
    }
    return { title: tv !== undefined ? `${pn} (dashed: true value ${fmtNum(tv)})` : pn, width: 260, height: 180, layer };
  });
  return { title: `${name}: unknown parameters`, concat: panels, columns: 3 };
}

// ---------------------------------------------------------------------------- solution

interface Field { xs: number[]; ys: number[]; at: (i: number, j: number) => number; lo: number; hi: number }

function minMax(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

function uniqueSorted(v: number[]): number[] {
  return [...new Set(v)].sort((a, b) => a - b);
}

/** Rows of the solution table where every input not in `keep` sits at its grid value nearest the middle. */
function midSlice(run: RunFiles, keep: string[]): { rows: number[][]; note: string } {
  const t = run.solution!;
  let rows = t.rows;
  const notes: string[] = [];
  for (const inp of run.inputs) {
    if (keep.includes(inp.name)) continue;
    const k = t.header.indexOf(inp.name);
    const vals = uniqueSorted(rows.map((r) => r[k]!));
    const mid = (vals[0]! + vals.at(-1)!) / 2;
    const at = vals.reduce((best, v) => (Math.abs(v - mid) < Math.abs(best - mid) ? v : best), vals[0]!);
    rows = rows.filter((r) => r[k] === at);
    notes.push(`${inp.name} = ${fmtNum(at)}`);
  }
  return { rows, note: notes.length ? `slice at ${notes.join(', ')}` : '' };
}

export function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
}

function fieldOf(header: string[], rows: number[][], xName: string, yName: string, col: string): Field {
  const kx = header.indexOf(xName);
  const ky = header.indexOf(yName);
  const kv = header.indexOf(col);
  const xs = uniqueSorted(rows.map((r) => r[kx]!));
  const ys = uniqueSorted(rows.map((r) => r[ky]!));
  const xi = new Map(xs.map((v, i) => [v, i]));
  const yi = new Map(ys.map((v, j) => [v, j]));
  const grid = new Float64Array(xs.length * ys.length).fill(NaN);
  for (const r of rows) grid[xi.get(r[kx]!)! * ys.length + yi.get(r[ky]!)!] = r[kv]!;
  const [lo, hi] = minMax(grid);
  return { xs, ys, at: (i, j) => grid[i * ys.length + j]!, lo, hi };
}

const HEAT_W = 250;
const HEAT_H = 190;

function heatPanel(title: string, f: Field, xName: string, yName: string, lo: number, hi: number, scheme: string, legendTitle: string): VlSpec {
  const url = fieldImage(f.xs, f.ys, f.at, HEAT_W, HEAT_H, lo, hi, scheme);
  const scale = (d: number[]) => ({ domain: [d[0], d.at(-1)], nice: false, zero: false });
  return {
    title,
    width: HEAT_W,
    height: HEAT_H,
    layer: [
      {
        data: { values: [{ x: f.xs[0], y: f.ys.at(-1), url }] },
        mark: { type: 'image', width: HEAT_W, height: HEAT_H, align: 'left', baseline: 'top', aspect: false, aria: false },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xName, scale: scale(f.xs) },
          y: { field: 'y', type: 'quantitative', title: yName, scale: scale(f.ys) },
          url: { field: 'url', type: 'nominal' },
        },
      },
      {
        data: { values: [{ c: lo }, { c: hi }] },
        mark: { type: 'point', opacity: 0, aria: false },
        encoding: { color: { field: 'c', type: 'quantitative', title: legendTitle, scale: { scheme, domain: [lo, hi] }, legend: { gradientLength: HEAT_H - 20, format: '.2~g' } } },
      },
    ],
  };
}

function spaceTime(run: RunFiles): { space: string; time: string } | undefined {
  if (run.inputs.length !== 2) return undefined;
  const time = run.inputs.find((i) => TIME_NAMES.includes(i.name));
  if (!time) return undefined;
  return { space: run.inputs.find((i) => i !== time)!.name, time: time.name };
}

export function solutionPlot(run: RunFiles, name: string): VlSpec {
  const t = run.solution!;
  const hasRef = (o: string) => t.header.includes(`${o}_ref`);
  if (run.inputs.length === 1) return solutionLines(run, name);
  // Two inputs (or a slice of more): heatmaps. With time, time runs along the horizontal axis.
  const st = spaceTime(run);
  const [xName, yName] = st ? [st.time, st.space] : [run.inputs[0]!.name, run.inputs[1]!.name];
  const { rows, note } = midSlice(run, [xName, yName]);
  const rowsOfPanels = run.outputs.map((o) => {
    const u = fieldOf(t.header, rows, xName, yName, o);
    const panels: VlSpec[] = [];
    if (hasRef(o)) {
      const r = fieldOf(t.header, rows, xName, yName, `${o}_ref`);
      const e = fieldOf(t.header, rows, xName, yName, `${o}_abs_err`);
      const lo = Math.min(u.lo, r.lo);
      const hi = Math.max(u.hi, r.hi);
      panels.push(heatPanel(`${o}: PINN`, u, xName, yName, lo, hi, 'viridis', o));
      panels.push(heatPanel(`${o}: reference`, r, xName, yName, lo, hi, 'viridis', `${o}_ref`));
      panels.push(heatPanel(`|${o} − ${o}_ref|: pointwise error`, e, xName, yName, 0, e.hi, 'inferno', 'abs. error'));
    } else {
      panels.push(heatPanel(`${o}: PINN`, u, xName, yName, u.lo, u.hi, 'viridis', o));
    }
    return { hconcat: panels, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } };
  });
  const sub = [run.summary?.reference ? `reference: ${run.summary.reference}` : 'no reference', note].filter(Boolean).join('; ');
  return {
    title: { text: `${name}: solution`, subtitle: sub },
    vconcat: rowsOfPanels,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  };
}

function solutionLines(run: RunFiles, name: string): VlSpec {
  const t = run.solution!;
  const x = run.inputs[0]!.name;
  const xs = column(t, x)!;
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const columns = run.outputs.map((o) => {
    const u = column(t, o)!;
    const ref = column(t, `${o}_ref`);
    const err = column(t, `${o}_abs_err`);
    const values: object[] = [];
    for (const i of order) {
      values.push({ x: xs[i], value: u[i], series: 'PINN' });
      if (ref) values.push({ x: xs[i], value: ref[i], series: 'reference' });
    }
    const series = ref ? ['reference', 'PINN'] : ['PINN'];
    const panels: VlSpec[] = [{
      title: ref ? `${o}: PINN and reference` : `${o}: PINN`,
      width: 420,
      height: 220,
      data: { values },
      mark: { type: 'line', strokeWidth: 1.6 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: x, scale: { nice: false, zero: false } },
        y: { field: 'value', type: 'quantitative', title: o, scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: 'curve', sort: series, scale: { domain: series, range: ['#222222', '#1f77b4'] } },
        strokeDash: { field: 'series', type: 'nominal', title: 'curve', sort: series, scale: { domain: series, range: [[5, 3], [1, 0]] } },
      },
    }];
    if (err) {
      const ev = order.filter((i) => err[i]! > 0 && Number.isFinite(err[i]!)).map((i) => ({ x: xs[i]!, value: err[i]! }));
      panels.push({
        title: `|${o} − ${o}_ref|: pointwise error`,
        width: 420,
        height: 150,
        data: { values: ev },
        mark: { type: 'line', strokeWidth: 1.2, color: '#c0392b' },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: x, scale: { domain: minMax(xs), nice: false, zero: false } },
          y: { field: 'value', type: 'quantitative', title: 'abs. error (log)', ...logScale(ev.map((e) => e.value)) },
        },
      });
    }
    return { vconcat: panels };
  });
  const sub = run.summary?.reference ? `reference: ${run.summary.reference}` : 'no reference';
  return { title: { text: `${name}: solution`, subtitle: sub }, hconcat: columns };
}

/** 1D + time: the solution (and reference) against the space input at five times. */
export function timeSlicePlot(run: RunFiles, name: string): VlSpec | undefined {
  const st = spaceTime(run);
  if (!st) return undefined;
  const t = run.solution!;
  const kt = t.header.indexOf(st.time);
  const kx = t.header.indexOf(st.space);
  const times = uniqueSorted(t.rows.map((r) => r[kt]!));
  const wanted = [0, 0.25, 0.5, 0.75, 1].map((q) => times[0]! + q * (times.at(-1)! - times[0]!));
  const chosen = [...new Set(wanted.map((w) => times.reduce((b, v) => (Math.abs(v - w) < Math.abs(b - w) ? v : b), times[0]!)))];
  const sliceLabel = (v: number) => `${st.time} = ${fmtNum(v)}`;
  const rows = run.outputs.map((o) => {
    const ko = t.header.indexOf(o);
    const kr = t.header.indexOf(`${o}_ref`);
    const values: object[] = [];
    for (const r of t.rows) {
      if (!chosen.includes(r[kt]!)) continue;
      values.push({ x: r[kx], value: r[ko], series: 'PINN', slice: sliceLabel(r[kt]!) });
      if (kr >= 0) values.push({ x: r[kx], value: r[kr], series: 'reference', slice: sliceLabel(r[kt]!) });
    }
    values.sort((a, b) => (a as { x: number }).x - (b as { x: number }).x);
    const series = kr >= 0 ? ['reference', 'PINN'] : ['PINN'];
    return {
      data: { values },
      facet: { column: { field: 'slice', type: 'ordinal', title: null, sort: chosen.map(sliceLabel) } },
      spec: {
        width: 165,
        height: 160,
        mark: { type: 'line', strokeWidth: 1.6 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: st.space, scale: { nice: false, zero: false } },
          y: { field: 'value', type: 'quantitative', title: o, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: 'curve', sort: series, scale: { domain: series, range: ['#222222', '#1f77b4'] } },
          strokeDash: { field: 'series', type: 'nominal', title: 'curve', sort: series, scale: { domain: series, range: [[5, 3], [1, 0]] } },
        },
      },
    };
  });
  return {
    title: { text: `${name}: time slices`, subtitle: `${run.outputs.join(', ')} against ${st.space} at fixed ${st.time}; dashed: reference` },
    vconcat: rows,
  };
}
