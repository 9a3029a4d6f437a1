/**
 * The pictures of a sweep, drawn from its runs' files:
 *   plots/convergence.svg  loss and rel-L2 vs step per variant: the mean over seeds
 *                          with a ±1 std band (log scale; where mean − std ≤ 0 the band
 *                          stops at the smallest seed's value)
 *   plots/final.svg        final rel-L2 (and loss) per variant: every seed as a dot,
 *                          the mean as a bar tick with ±1 std whiskers
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { column, readSummary, readTable, type Table } from './read.js';
import { categoryScheme, renderSvg, type VlSpec } from './render.js';
import { logScale, thin } from './run-plots.js';

export interface SweepPlotInput {
  name: string;
  /** variants in plan order, with the directories of their runs (one per seed) */
  variants: { label: string; runDirs: string[] }[];
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
  const seedsNote = `mean over the completed seeds (${lo === hi ? lo : `${lo} to ${hi}`} per variant)`;
  return [
    {
      file: 'convergence.svg',
      spec: {
        title: { text: `${input.name}: convergence by variant`, subtitle: `${seedsNote}; bands ±1 std` },
        hconcat: metrics.map((m) => convergencePanel(data, m.col, m.title, labels)),
        resolve: { scale: { color: 'shared' } },
      },
    },
    {
      file: 'final.svg',
      spec: {
        title: { text: `${input.name}: final values by variant`, subtitle: 'dots: seeds; bar: mean; whiskers: ±1 std (clipped at the smallest seed where mean − std ≤ 0)' },
        hconcat: metrics.slice().reverse().map((m) => finalPanel(data, m.col, `final ${m.title}`, labels)),
      },
    },
  ];
}

function meanStd(v: number[]): { mean: number; std: number; min: number; max: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, min: Math.min(...v), max: Math.max(...v) };
}

function band(s: { mean: number; std: number; min: number }): [number, number] {
  return [s.mean - s.std > 0 ? s.mean - s.std : s.min, s.mean + s.std];
}

function convergencePanel(data: VariantData[], col: string, title: string, labels: string[]): VlSpec {
  const values: { step: number; mean: number; lo: number; hi: number; n: number; variant: string }[] = [];
  for (const d of data) {
    const byStep = new Map<number, number[]>();
    for (const h of d.histories) {
      const steps = column(h, 'step');
      const v = column(h, col);
      if (!steps || !v) continue;
      steps.forEach((s, i) => {
        if (Number.isFinite(v[i]!) && v[i]! > 0) byStep.set(s, [...(byStep.get(s) ?? []), v[i]!]);
      });
    }
    const steps = thin([...byStep.keys()].sort((a, b) => a - b), 300);
    for (const s of steps) {
      const st = meanStd(byStep.get(s)!);
      const [lo, hi] = band(st);
      values.push({ step: s, mean: st.mean, lo, hi, n: byStep.get(s)!.length, variant: d.label });
    }
  }
  const color = { field: 'variant', type: 'nominal', title: 'variant', sort: labels, scale: { domain: labels, scheme: categoryScheme(labels.length) },
    legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1 } };
  const x = { field: 'step', type: 'quantitative', title: 'step' };
  const ls = logScale(values.flatMap((v) => [v.lo, v.hi]));
  return {
    title,
    width: 380,
    height: 260,
    data: { values },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: `${title} (log scale)`, ...ls }, color } },
      { mark: { type: 'area', opacity: labels.length <= 4 ? 0.16 : labels.length <= 8 ? 0.1 : 0.06 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
    ],
  };
}

function finalPanel(data: VariantData[], col: 'loss' | 'rel_l2', title: string, labels: string[]): VlSpec {
  const points: { variant: string; value: number; seed: number }[] = [];
  const summary: { variant: string; mean: number; lo: number; hi: number }[] = [];
  for (const d of data) {
    const vals = d.finals.map((f) => ({ seed: f.seed, value: f[col] })).filter((f): f is { seed: number; value: number } => f.value !== undefined && f.value > 0 && Number.isFinite(f.value));
    for (const v of vals) points.push({ variant: d.label, value: v.value, seed: v.seed });
    if (vals.length > 0) {
      const st = meanStd(vals.map((v) => v.value));
      const [lo, hi] = band(st);
      summary.push({ variant: d.label, mean: st.mean, lo, hi });
    }
  }
  const y = { field: 'variant', type: 'nominal', title: null, sort: labels, scale: { domain: labels }, axis: { labelLimit: 260 } };
  const ls = logScale([...points.map((p) => p.value), ...summary.flatMap((s) => [s.lo, s.hi])]);
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
