/**
 * The pictures of a sweep, drawn from its runs' files:
 *   plots/convergence.svg  loss and rel-L2 vs step per variant: the mean over seeds
 *                          with a ±1 or ±2 sample-std band (`band`; log scale; where
 *                          mean − k·std ≤ 0 the band stops at the smallest seed's
 *                          value). A seed whose history ends before the variant's
 *                          longest one holds its last value from there on, so every
 *                          point of the mean is over the same seeds.
 *   plots/final.svg        final rel-L2 (and loss) per variant: every seed as a dot,
 *                          the mean as a bar tick with the same ±k std whiskers
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { column, readSummary, readTable, type Table } from './read.js';
import { categoryScheme, renderSvg, type VlSpec } from './render.js';
import { thin } from './run-plots.js';
import { logScale } from './scales.js';

import { bandStds, type BandWidth } from './band.js';

export { BAND_WIDTHS, type BandWidth } from './band.js';

export interface SweepPlotInput {
  name: string;
  /** variants in plan order, with the directories of their runs (one per seed) */
  variants: { label: string; runDirs: string[] }[];
  /** band and whisker width (default 1std) */
  band?: BandWidth;
}

interface VariantData { label: string; histories: Table[]; finals: { seed: number; loss?: number; rel_l2?: number }[] }

function gather(input: SweepPlotInput): VariantData[] {
  return input.variants.map((v) => {
    const histories: Table[] = [];
    const finals: VariantData['finals'] = [];
    for (const d of v.runDirs) {
      const s = readSummary(d);
      if (s?.status !== 'completed') continue;
      const h = readTable(join(d, 'history.csv'));
      if (h) histories.push(h);
      finals.push({
        seed: s.seed ?? NaN,
        ...(typeof s.final?.loss === 'number' ? { loss: s.final.loss } : {}),
        ...(typeof s.final?.rel_l2 === 'number' ? { rel_l2: s.final.rel_l2 } : {}),
      });
    }
    return { label: v.label, histories, finals };
  });
}

export async function writeSweepPlots(input: SweepPlotInput, outDir: string): Promise<string[]> {
  const specs = sweepPlotSpecs(input);
  if (specs.length === 0) return [];
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const p of specs) {
    const f = join(outDir, p.file);
    writeFileAtomic(f, await renderSvg(p.spec));
    files.push(f);
  }
  return files;
}

export function sweepPlotSpecs(input: SweepPlotInput): { file: string; spec: VlSpec }[] {
  const data = gather(input);
  if (data.every((d) => d.finals.length === 0)) return [];
  const hasErr = data.some((d) => d.finals.some((f) => f.rel_l2 !== undefined));
  const metrics: { col: 'loss' | 'rel_l2'; title: string }[] = [{ col: 'loss', title: 'loss J (total)' }];
  if (hasErr) metrics.push({ col: 'rel_l2', title: 'relative L2 error' });
  const labels = data.map((d) => d.label);
  const counts = data.map((d) => d.finals.length);
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  const k = bandStds(input.band);
  const pm = k === 1 ? '±1 sample std' : '±2 sample std';
  const seedsNote = `lines: mean over the completed seeds (${lo === hi ? lo : `${lo} to ${hi}`} per variant)`;
  const panels = metrics.map((m) => convergencePanel(data, m.col, m.title, labels, k));
  const carried = panels.some((p) => p.carried);
  return [
    {
      file: 'convergence.svg',
      spec: {
        title: {
          text: `${input.name}: convergence by variant`,
          subtitle: [`${seedsNote}; bands: ${pm} (n − 1), clipped at the smallest seed where mean − ${k === 1 ? '' : '2·'}std ≤ 0`,
            carried ? 'a seed whose history ends early holds its last value up to the variant\'s last step (same seeds at every step)' : 'every seed has data at every step drawn'],
        },
        hconcat: panels.map((p) => p.spec),
        resolve: { scale: { color: 'shared' } },
      },
    },
    {
      file: 'final.svg',
      spec: {
        title: { text: `${input.name}: final values by variant`, subtitle: `dots: seeds; bar: mean; whiskers: ${pm} (clipped at the smallest seed where mean − ${k === 1 ? '' : '2·'}std ≤ 0)` },
        hconcat: metrics.slice().reverse().map((m) => finalPanel(data, m.col, `final ${m.title}`, labels, k)),
      },
    },
  ];
}

function meanStd(v: number[]): { mean: number; std: number; min: number; max: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, min: Math.min(...v), max: Math.max(...v) };
}

/** mean ± k·std; on a log axis a bottom at or below 0 becomes the smallest seed's value. */
export function band(s: { mean: number; std: number; min: number }, k = 1): [number, number] {
  return [s.mean - k * s.std > 0 ? s.mean - k * s.std : s.min, s.mean + k * s.std];
}

export interface ConvergencePoint { step: number; mean: number; lo: number; hi: number; n: number; carried: number; variant: string }

/**
 * Mean and band of one variant's seeds at every step any of them logged. A seed is
 * counted at each step from its first logged step on; after its last logged step it
 * holds its last value ("carried"), so the mean is over the same seeds wherever a
 * seed that stopped early (an L-BFGS phase that converged, a shorter run) has ended,
 * instead of jumping where one seed's last step falls. Values that are not finite or
 * not positive (log scale) are left out of a seed's history.
 */
export function convergenceSeries(histories: { step: number[]; value: number[] }[], k: number, label: string): ConvergencePoint[] {
  const seeds = histories.map((h) => {
    const pts = h.step.map((s, i) => [s, h.value[i]!] as const).filter(([s, v]) => Number.isFinite(s) && Number.isFinite(v) && v > 0).sort((a, b) => a[0] - b[0]);
    return pts;
  }).filter((p) => p.length > 0);
  const steps = [...new Set(seeds.flatMap((p) => p.map(([s]) => s)))].sort((a, b) => a - b);
  const at = seeds.map(() => -1);
  const out: ConvergencePoint[] = [];
  for (const s of steps) {
    const vals: number[] = [];
    let carried = 0;
    seeds.forEach((p, j) => {
      while (at[j]! + 1 < p.length && p[at[j]! + 1]![0] <= s) at[j]!++;
      if (at[j]! < 0) return; // not started yet
      vals.push(p[at[j]!]![1]);
      if (at[j] === p.length - 1 && p[at[j]!]![0] < s) carried++;
    });
    if (vals.length === 0) continue;
    const st = meanStd(vals);
    const [lo, hi] = band(st, k);
    out.push({ step: s, mean: st.mean, lo, hi, n: vals.length, carried, variant: label });
  }
  return out;
}

function convergencePanel(data: VariantData[], col: string, title: string, labels: string[], k: number): { spec: VlSpec; carried: boolean } {
  const values: ConvergencePoint[] = [];
  for (const d of data) {
    const hs: { step: number[]; value: number[] }[] = [];
    for (const h of d.histories) {
      const step = column(h, 'step');
      const value = column(h, col);
      if (step && value) hs.push({ step, value });
    }
    values.push(...thin(convergenceSeries(hs, k, d.label), 300));
  }
  const carried = values.some((v) => v.carried > 0);
  const legendTitle = ['variant', `line: mean of seeds`, `band: ±${k} std`, ...(carried ? ['seeds that end early', 'hold their last value'] : [])];
  const color = { field: 'variant', type: 'nominal', title: legendTitle, sort: labels, scale: { domain: labels, scheme: categoryScheme(labels.length) },
    legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1, titleLimit: 240 } };
  const x = { field: 'step', type: 'quantitative', title: 'step' };
  const ls = logScale(values.flatMap((v) => [v.lo, v.hi]), 260);
  return {
    carried,
    spec: {
      title,
      width: 380,
      height: 260,
      data: { values },
      layer: [
        // Bands first, lines on top.
        { mark: { type: 'area', opacity: labels.length <= 4 ? 0.16 : labels.length <= 8 ? 0.1 : 0.06 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: `${title} (log scale)`, ...ls }, y2: { field: 'hi' }, color } },
        { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
      ],
    },
  };
}

function finalPanel(data: VariantData[], col: 'loss' | 'rel_l2', title: string, labels: string[], k: number): VlSpec {
  const points: { variant: string; value: number; seed: number }[] = [];
  const summary: { variant: string; mean: number; lo: number; hi: number }[] = [];
  for (const d of data) {
    const vals = d.finals.map((f) => ({ seed: f.seed, value: f[col] })).filter((f): f is { seed: number; value: number } => f.value !== undefined && f.value > 0 && Number.isFinite(f.value));
    for (const v of vals) points.push({ variant: d.label, value: v.value, seed: v.seed });
    if (vals.length > 0) {
      const st = meanStd(vals.map((v) => v.value));
      const [lo, hi] = band(st, k);
      summary.push({ variant: d.label, mean: st.mean, lo, hi });
    }
  }
  const y = { field: 'variant', type: 'nominal', title: null, sort: labels, scale: { domain: labels }, axis: { labelLimit: 260 } };
  const ls = logScale([...points.map((p) => p.value), ...summary.flatMap((s) => [s.lo, s.hi])], 320, 46);
  return {
    title,
    width: 320,
    height: Math.max(120, 26 * labels.length),
    layer: [
      {
        data: { values: summary },
        mark: { type: 'rule', strokeWidth: 1.5, color: '#444' },
        encoding: { y, x: { field: 'lo', type: 'quantitative', title: `${title} (log scale)`, ...ls }, x2: { field: 'hi' } },
      },
      {
        data: { values: summary },
        mark: { type: 'tick', thickness: 2.5, size: 18, color: '#000' },
        encoding: { y, x: { field: 'mean', type: 'quantitative' } },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 36, opacity: 0.7 },
        encoding: {
          y,
          x: { field: 'value', type: 'quantitative' },
          color: { field: 'variant', type: 'nominal', sort: labels, scale: { domain: labels, scheme: categoryScheme(labels.length) }, legend: null },
        },
      },
    ],
  };
}
