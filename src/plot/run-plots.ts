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
import { fmtNum, gridValueText, linearColours, logColours, logScale, roundNumbersIn, subtitleLines, type ColourMap } from './scales.js';

export { fmtNum, logScale };
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
  const handover = handoverStep(run);
  if (run.history && run.history.rows.length > 0) {
    out.push({ file: 'loss.svg', spec: lossPlot(run.history, name, handover, run.outputs) });
    const slopes = slopePlot(run.history, name, handover);
    if (slopes) out.push({ file: 'slopes.svg', spec: slopes });
    const amplitudes = amplitudePlot(run.history, name, handover);
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
    out.push({ file: 'parameters.svg', spec: parameterPlot(run.parameters, run, name, handover) });
  }
  return out;
}

/**
 * The step at which L-BFGS took over from Adam, if it did: summary.json's phases, or
 * for a run still going, the last Adam row of history.csv's phase column before the
 * first L-BFGS row (a phase's end is always logged).
 */
export function handoverStep(run: RunFiles): number | undefined {
  const phases = run.summary?.['phases'];
  if (Array.isArray(phases)) {
    const lbfgs = (phases as { phase?: unknown; first_step?: unknown }[]).find((p) => p.phase === 'lbfgs');
    return typeof lbfgs?.first_step === 'number' && lbfgs.first_step > 0 ? lbfgs.first_step : undefined;
  }
  const phase = run.history?.text?.['phase'];
  const steps = run.history && column(run.history, 'step');
  if (!phase || !steps) return undefined;
  const first = phase.indexOf('lbfgs');
  if (first <= 0) return undefined;
  const lastAdam = phase.lastIndexOf('adam', first);
  return lastAdam >= 0 ? steps[lastAdam] : undefined;
}

/** Layers marking the Adam → L-BFGS handover on a panel whose x axis is `step`: a dashed rule and a label at its top. */
export function handoverLayers(step: number | undefined): VlSpec[] {
  if (step === undefined) return [];
  const data = { values: [{ step, label: 'L-BFGS →' }] };
  const x = { field: 'step', type: 'quantitative' };
  return [
    { data, mark: { type: 'rule', strokeDash: [4, 3], color: '#555', strokeWidth: 1.2 }, encoding: { x } },
    { data, mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 2, fontSize: 10, color: '#333' }, encoding: { x, y: { value: 0 }, text: { field: 'label' } } },
  ];
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

const stepAxis = { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1 } };

function linePanel(title: string, values: { value: number }[], yTitle: string, seriesTitle: string, order: string[], handover: number | undefined, size = { width: 360, height: 240 }, log = true): VlSpec {
  return {
    title,
    ...size,
    layer: [
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 1.6, clip: true },
        encoding: {
          x: stepAxis,
          y: { field: 'value', type: 'quantitative', title: yTitle, ...(log ? logScale(values.map((v) => v.value), size.height) : { scale: { zero: false } }) },
          color: { field: 'series', type: 'nominal', title: seriesTitle, sort: order, scale: { scheme: categoryScheme(order.length) } },
        },
      },
      ...handoverLayers(handover),
    ],
  };
}

export function lossPlot(h: Table, name: string, handover?: number, outputs: string[] = []): VlSpec {
  const cols = lossColumns(h);
  const label = (c: string) => (c === 'loss' ? 'loss (total J)' : c === 'slope_recovery' ? 'S(a) slope recovery' : c);
  const top: VlSpec[] = [linePanel('Loss terms', longSeries(h, cols, label, true), 'mean squared residual (log)', 'term', cols.map(label), handover)];
  const rows: VlSpec[] = [];
  const errors = historyKinds(h).filter((c) => c.kind === 'error');
  const errCols = errors.map((c) => c.name);
  const perOutput = errors.filter((c) => c.output !== undefined).map((c) => c.output!);
  if (errCols.includes('rel_l2')) {
    // One y title per quantity: the error over all outputs together here, each output's below.
    const outs = perOutput.length > 0 ? perOutput : undefined;
    const o = outputs.length === 1 ? outputs[0]! : undefined;
    // The formula goes in the panel title; the (vertical) axis title stays short enough for the panel's height.
    const formula = outs ? `‖(${outs.join(', ')}) − ref‖₂ / ‖ref‖₂` : o ? `‖${o} − ${o}_ref‖₂ / ‖${o}_ref‖₂` : '‖u − u_ref‖₂ / ‖u_ref‖₂';
    const yTitle = outs ? 'rel-L2, all outputs (log)' : o ? `rel-L2 of ${o} (log)` : 'rel-L2 (log)';
    top.push(linePanel(`Relative L2 error${outs ? ', all outputs' : ''}: ${formula}`, longSeries(h, ['rel_l2'], () => (outs ? 'all outputs' : 'rel-L2'), true),
      yTitle, 'error', [outs ? 'all outputs' : 'rel-L2'], handover));
  }
  if (perOutput.length > 0) {
    rows.push({
      hconcat: perOutput.map((o) => linePanel(`Error of ${o}: ‖${o} − ${o}_ref‖₂ / ‖${o}_ref‖₂`, longSeries(h, [`rel_l2_${o}`], () => o, true),
        `rel-L2 of ${o} (log)`, 'output', [o], handover, { width: 260, height: 180 })),
      resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    });
  }
  const sub = subtitleLines(['loss terms unweighted; the total J includes weights and W_a·S(a)', handover !== undefined ? `dashed rule: L-BFGS takes over from Adam at step ${handover}` : '']);
  const head = { hconcat: top, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } };
  return {
    title: { text: `${name}: training history`, subtitle: sub },
    ...(rows.length ? { vconcat: [head, ...rows] } : head),
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  };
}

export function slopePlot(h: Table, name: string, handover?: number): VlSpec | undefined {
  const cols = historyKinds(h).filter((c) => c.kind === 'slope');
  if (cols.length === 0) return undefined;
  const steps = column(h, 'step')!;
  const idx = thin(steps.map((_, i) => i));
  const neuron = cols.some((c) => c.stat === 'mean');
  const title = (...sub: string[]) => ({
    text: `${name}: adaptive slopes n·a`,
    subtitle: subtitleLines([...sub, handover !== undefined ? `dashed rule: L-BFGS takes over at step ${handover}` : ''], 100),
  });
  if (!neuron) {
    // One value per layer (or one for the net): a line each, in one panel.
    const values: object[] = [];
    const layers: string[] = [];
    for (const c of cols) {
      const layer = c.layer === undefined ? 'whole net (GAAF)' : `layer ${c.layer}`;
      layers.push(layer);
      const v = column(h, c.name)!;
      for (const i of idx) values.push({ step: steps[i], value: v[i], layer });
    }
    return {
      title: title('n·a = 1 at the start (a = 1/n)'),
      width: 420,
      height: 260,
      layer: [
        {
          data: { values },
          mark: { type: 'line', strokeWidth: 1.8 },
          encoding: {
            x: stepAxis,
            y: { field: 'value', type: 'quantitative', title: 'n·a', scale: { zero: false } },
            color: { field: 'layer', type: 'nominal', title: 'hidden layer', sort: layers, scale: { scheme: categoryScheme(layers.length) },
              legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1 } },
          },
        },
        ...handoverLayers(handover),
      ],
    };
  }
  // Neuron mode: one small panel per layer, the layer's mean as a line over a light min–max band, on one shared y scale.
  const panels: VlSpec[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  const layerCols = cols.filter((c) => c.stat === 'mean');
  const data = layerCols.map((c) => {
    const k = c.layer!;
    const of = (stat: string) => cols.find((x) => x.layer === k && x.stat === stat);
    const mean = column(h, c.name)!;
    const mn = column(h, of('min')?.name ?? c.name) ?? mean;
    const mx = column(h, of('max')?.name ?? c.name) ?? mean;
    const values = idx.map((i) => ({ step: steps[i], mean: mean[i], lo: mn[i], hi: mx[i] }));
    for (const v of values) {
      for (const x of [v.mean, v.lo, v.hi]) if (Number.isFinite(x)) { lo = Math.min(lo, x!); hi = Math.max(hi, x!); }
    }
    return { k, values };
  });
  const pad = hi > lo ? 0.04 * (hi - lo) : 0.1;
  const y = { type: 'quantitative', scale: { domain: [lo - pad, hi + pad], nice: false, zero: false } };
  for (const { k, values } of data) {
    panels.push({
      title: `layer ${k}`,
      width: 220,
      height: 150,
      layer: [
        { data: { values }, mark: { type: 'area', color: '#4c78a8', opacity: 0.2 }, encoding: { x: stepAxis, y: { field: 'lo', ...y, title: 'n·a' }, y2: { field: 'hi' } } },
        { data: { values }, mark: { type: 'line', color: '#1f4e79', strokeWidth: 1.8 }, encoding: { x: stepAxis, y: { field: 'mean', ...y } } },
        ...handoverLayers(handover),
      ],
    });
  }
  return {
    title: title('n·a = 1 at the start (a = 1/n)', 'line: mean over the layer\'s neurons', 'band: min to max over them', 'one panel per hidden layer, same y scale'),
    concat: panels,
    columns: Math.min(3, panels.length),
  };
}

/** Rowdy/Kronecker: max |amplitude| of each layer's added terms (and the lead coefficient) vs step. */
export function amplitudePlot(h: Table, name: string, handover?: number): VlSpec | undefined {
  const cols = historyKinds(h).filter((c) => c.kind === 'amplitude' || c.kind === 'lead');
  if (cols.length === 0) return undefined;
  const label = (c: (typeof cols)[number]) => `layer ${c.layer}${c.kind === 'lead' ? ' lead α₁' : ''}`;
  const byName = new Map(cols.map((c) => [c.name, label(c)]));
  const series = cols.map(label);
  return {
    ...linePanel('', longSeries(h, cols.map((c) => c.name), (c) => byName.get(c)!, false), 'max |amplitude| of the added terms', 'hidden layer', series, handover, undefined, false),
    title: { text: `${name}: Rowdy/Kronecker amplitudes`, subtitle: 'added terms start at 0; Kronecker: lead α₁ of the first function' },
  };
}

function parameterPlot(p: Table, run: RunFiles, name: string, handover?: number): VlSpec {
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
    layer.push(...handoverLayers(handover));
    return { title: tv !== undefined ? `${pn} (dashed red: true value ${fmtNum(tv)})` : pn, width: 260, height: 180, layer };
  });
  return {
    title: { text: `${name}: unknown parameters`, ...(handover !== undefined ? { subtitle: `dashed grey rule: L-BFGS takes over at step ${handover}` } : {}) },
    concat: panels,
    columns: 3,
  };
}

// ---------------------------------------------------------------------------- solution

interface Field { xs: number[]; ys: number[]; at: (i: number, j: number) => number; lo: number; hi: number; values: Float64Array }

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

/** The smallest gap between neighbouring values of a sorted grid (0 for one value). */
function spacing(sorted: number[]): number {
  let d = Infinity;
  for (let i = 1; i < sorted.length; i++) d = Math.min(d, sorted[i]! - sorted[i - 1]!);
  return Number.isFinite(d) ? d : 0;
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
    notes.push(`${inp.name} = ${gridValueText(at, spacing(vals))}`);
  }
  return { rows, note: notes.length ? `slice at ${notes.join(', ')}` : '' };
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
  return { xs, ys, at: (i, j) => grid[i * ys.length + j]!, lo, hi, values: grid };
}

/** Heatmap size in pixels: about HEAT_AREA pixels; with `aspectTrue` the width : height ratio is the domain's (x range : y range). */
export function heatSize(xs: number[], ys: number[], aspectTrue: boolean): { width: number; height: number } {
  if (!aspectTrue) return { width: 250, height: 190 };
  const r = (xs.at(-1)! - xs[0]!) / (ys.at(-1)! - ys[0]!);
  if (!(r > 0) || !Number.isFinite(r)) return { width: 250, height: 190 };
  // Keep the ratio exact; bound the longer side.
  let width = Math.sqrt(HEAT_AREA * r);
  let height = Math.sqrt(HEAT_AREA / r);
  const cap = Math.max(width / HEAT_MAX, height / HEAT_MAX, 1);
  width /= cap;
  height /= cap;
  return { width: Math.max(1, Math.round(width)), height: Math.max(1, Math.round(height)) };
}

const HEAT_AREA = 220 * 220;
const HEAT_MAX = 420;

function heatPanel(title: string, f: Field, xName: string, yName: string, colours: ColourMap, legendTitle: string, size: { width: number; height: number }): VlSpec {
  const { width, height } = size;
  const url = fieldImage(f.xs, f.ys, f.at, width, height, colours.unit, colours.scheme);
  const scale = (d: number[]) => ({ domain: [d[0], d.at(-1)], nice: false, zero: false });
  const [c0, c1] = (colours.scale['domain'] as number[]);
  return {
    title,
    width,
    height,
    layer: [
      {
        data: { values: [{ x: f.xs[0], y: f.ys.at(-1), url }] },
        mark: { type: 'image', width, height, align: 'left', baseline: 'top', aspect: false, aria: false },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xName, scale: scale(f.xs) },
          y: { field: 'y', type: 'quantitative', title: yName, scale: scale(f.ys) },
          url: { field: 'url', type: 'nominal' },
        },
      },
      {
        data: { values: [{ c: c0 }, { c: c1 }] },
        mark: { type: 'point', opacity: 0, aria: false },
        encoding: {
          color: {
            field: 'c', type: 'quantitative', title: legendTitle, scale: colours.scale,
            legend: {
              values: colours.ticks, labelExpr: colours.labelExpr, gradientLength: Math.max(80, height - 24), labelOverlap: false,
            },
          },
        },
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

/** A subtitle from summary.json's reference text, numbers rounded to four significant digits. */
function referenceNote(run: RunFiles): string {
  return run.summary?.reference ? `reference: ${roundNumbersIn(run.summary.reference)}` : 'no reference';
}

export function solutionPlot(run: RunFiles, name: string): VlSpec {
  const t = run.solution!;
  const hasRef = (o: string) => t.header.includes(`${o}_ref`);
  if (run.inputs.length === 1) return solutionLines(run, name);
  // Two inputs (or a slice of more): heatmaps. With time, time runs along the horizontal axis.
  const st = spaceTime(run);
  const [xName, yName] = st ? [st.time, st.space] : [run.inputs[0]!.name, run.inputs[1]!.name];
  const aspectTrue = !run.inputs.some((i) => TIME_NAMES.includes(i.name) && (i.name === xName || i.name === yName));
  const { rows, note } = midSlice(run, [xName, yName]);
  let signed = false;
  const rowsOfPanels = run.outputs.map((o) => {
    const u = fieldOf(t.header, rows, xName, yName, o);
    const size = heatSize(u.xs, u.ys, aspectTrue);
    const panels: VlSpec[] = [];
    if (hasRef(o)) {
      const r = fieldOf(t.header, rows, xName, yName, `${o}_ref`);
      const e = fieldOf(t.header, rows, xName, yName, `${o}_abs_err`);
      const shared = linearColours(Math.min(u.lo, r.lo), Math.max(u.hi, r.hi), 'viridis');
      signed ||= shared.scheme !== 'viridis';
      panels.push(heatPanel(`${o}: PINN`, u, xName, yName, shared, o, size));
      panels.push(heatPanel(`${o}: reference`, r, xName, yName, shared, `${o}_ref`, size));
      panels.push(heatPanel(`|${o} − ${o}_ref|: pointwise error (log colours)`, e, xName, yName, logColours(e.values, 'inferno', 5, Math.max(80, size.height - 24)), 'abs. error', size));
    } else {
      const own = linearColours(u.lo, u.hi, 'viridis');
      signed ||= own.scheme !== 'viridis';
      panels.push(heatPanel(`${o}: PINN`, u, xName, yName, own, o, size));
    }
    return { hconcat: panels, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } };
  });
  const sub = subtitleLines([referenceNote(run), note, aspectTrue ? 'axes to scale' : `${st?.time ?? 'time'} and ${st?.space ?? 'space'} axes not to the same scale`,
    signed ? 'signed values: blue < 0 < orange, white at 0' : '']);
  return {
    title: { text: `${name}: solution`, subtitle: sub },
    vconcat: rowsOfPanels,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  };
}

/** The two curves of a PINN-vs-reference panel: the reference thick and dashed underneath, the PINN thin and solid on top (both visible where they agree). */
const CURVES = { domain: ['reference', 'PINN'], colour: ['#9a9a9a', '#1f5fa8'], dash: [[6, 3], [1, 0]], width: { reference: 3.2, PINN: 1.5 } };

function curveLayers(xField: { field: string; type: string; title: string; scale: Record<string, unknown> }, yTitle: string, hasRef: boolean): VlSpec[] {
  const series = hasRef ? CURVES.domain : ['PINN'];
  const colour = { field: 'series', type: 'nominal', title: 'curve', sort: series, scale: { domain: series, range: hasRef ? CURVES.colour : [CURVES.colour[1]] } };
  const dash = { field: 'series', type: 'nominal', title: 'curve', sort: series, scale: { domain: series, range: hasRef ? CURVES.dash : [CURVES.dash[1]] } };
  // Order matters: later layers are drawn on top.
  return series.map((name) => ({
    transform: [{ filter: { field: 'series', equal: name } }],
    mark: { type: 'line', strokeWidth: CURVES.width[name as 'reference' | 'PINN'] },
    encoding: {
      x: xField,
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: colour,
      strokeDash: dash,
    },
  }));
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
      if (ref) values.push({ x: xs[i], value: ref[i], series: 'reference' });
      values.push({ x: xs[i], value: u[i], series: 'PINN' });
    }
    const panels: VlSpec[] = [{
      title: ref ? `${o}: PINN and reference` : `${o}: PINN`,
      width: 420,
      height: 220,
      data: { values },
      layer: curveLayers({ field: 'x', type: 'quantitative', title: x, scale: { nice: false, zero: false } }, o, ref !== undefined),
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
          y: { field: 'value', type: 'quantitative', title: 'abs. error (log)', ...logScale(ev.map((e) => e.value), 150) },
        },
      });
    }
    return { vconcat: panels };
  });
  return { title: { text: `${name}: solution`, subtitle: subtitleLines([referenceNote(run)]) }, hconcat: columns };
}

const kRefAny = (run: RunFiles) => run.outputs.some((o) => run.solution!.header.includes(`${o}_ref`));

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
  const dt = spacing(times);
  const sliceLabel = (v: number) => `${st.time} = ${gridValueText(v, dt)}`;
  const rows = run.outputs.map((o) => {
    const ko = t.header.indexOf(o);
    const kr = t.header.indexOf(`${o}_ref`);
    const values: object[] = [];
    for (const r of t.rows) {
      if (!chosen.includes(r[kt]!)) continue;
      if (kr >= 0) values.push({ x: r[kx], value: r[kr], series: 'reference', slice: sliceLabel(r[kt]!) });
      values.push({ x: r[kx], value: r[ko], series: 'PINN', slice: sliceLabel(r[kt]!) });
    }
    values.sort((a, b) => (a as { x: number }).x - (b as { x: number }).x);
    return {
      data: { values },
      facet: { column: { field: 'slice', type: 'ordinal', title: null, sort: chosen.map(sliceLabel) } },
      spec: {
        width: 165,
        height: 160,
        layer: curveLayers({ field: 'x', type: 'quantitative', title: st.space, scale: { nice: false, zero: false } }, o, kr >= 0),
      },
    };
  });
  return {
    title: { text: `${name}: time slices`, subtitle: subtitleLines([`${run.outputs.join(', ')} against ${st.space} at fixed ${st.time} (grid values, rounded to the grid's spacing)`, kRefAny(run) ? 'grey dashed: reference, blue: PINN' : '']) },
    vconcat: rows,
  };
}
