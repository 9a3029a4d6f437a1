/**
 * The sweep's tables, built from the run directories alone (so runs made one by one
 * on a cluster collect the same as runs made by the local pool):
 *   sweep.csv    one row per planned run: its overrides, seed, status, final loss
 *                terms and errors, parameter errors, wall time, steps to thresholds,
 *                and for a failed run its error
 *   summary.csv  one row per variant: mean, std (n−1), min and max over the seeds
 *                whose run completed; diverged and failed runs are counted, not averaged
 */
import { join } from 'node:path';
import { csvText, writeFileAtomic } from '../io/files.js';
import { column, readTable } from '../plot/read.js';
import { columnRises, RUN_FILES, type SummaryFile } from '../io/run-dir.js';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { runDirOf, runState, type RunRecord, type RunState } from './execute.js';
import type { Plan, PlannedRun } from './plan.js';

export interface RunRow {
  run: PlannedRun;
  state: RunState;
  /** metric name → value */
  metrics: Map<string, number>;
  error: string;
}

export interface Tables {
  rows: RunRow[];
  sweepHeader: string[];
  sweepCells: (string | number)[][];
  summaryHeader: string[];
  summaryCells: (string | number)[][];
  /** numeric columns of sweep.csv that summary.csv gives statistics for, in order */
  metrics: string[];
}

export function thresholdColumn(col: string, v: number): string {
  return `steps_to_${col}${columnRises(col) ? '>=' : '<='}${v}`;
}

/** First logged step at which history column `col` is at or below `v` (at or above for a column that rises: io/run-dir.ts). */
function stepsTo(history: ReturnType<typeof readTable>, col: string, v: number): number | undefined {
  if (!history) return undefined;
  const c = column(history, col);
  const steps = column(history, 'step');
  if (!c || !steps) return undefined;
  const rises = columnRises(col);
  const i = c.findIndex((x) => (rises ? x >= v : x <= v));
  return i < 0 ? undefined : steps[i];
}

function metricsOf(summary: SummaryFile | undefined): Map<string, number> {
  const m = new Map<string, number>();
  const f = summary?.final;
  if (!summary || !f) return m;
  const put = (k: string, v: unknown) => {
    if (typeof v === 'number') m.set(k, v);
  };
  put('steps', summary.steps);
  put('wall_time_s', summary.wall_time_s);
  put('loss', f.loss);
  for (const [k, v] of Object.entries(f.terms ?? {})) put(k, v);
  put('slope_recovery', f.slope_recovery);
  put('rel_l2', f.rel_l2);
  const per = Object.entries(f.rel_l2_per_output ?? {});
  if (per.length > 1) for (const [k, v] of per) put(`rel_l2_${k}`, v);
  for (const [k, v] of Object.entries(f.max_abs_error ?? {})) put(`max_abs_err_${k}`, v);
  for (const [k, p] of Object.entries(f.parameters ?? {})) {
    put(`param_${k}`, p.value);
    put(`param_${k}_rel_error`, p.rel_error);
  }
  return m;
}

function errorOf(sweepDir: string, state: RunState, summary: SummaryFile | undefined, record: RunRecord | undefined, slurmLog: string | undefined): string {
  if (state === 'completed' || state === 'pending') return '';
  if (state === 'not started') {
    const last = slurmLog ? readTail(slurmLog) : '';
    return `never started: see ${slurmLog ? relative(sweepDir, slurmLog) : 'the Slurm log'}${last ? `: ${last}` : ''}`.slice(0, 600);
  }
  // stderr repeats the summary's message (laaf: training diverged: MESSAGE — hint): keep it once.
  const message = summary?.message;
  const tail = (record?.stderr_tail ?? '').split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('set LAAF_DEBUG=1') && !(message && l.includes(message))).slice(-3).join(' | ');
  const exit = state === 'failed' && record ? (record.signal ? `killed by ${record.signal}` : `exit ${record.exit_code}`) : '';
  return [exit, summary?.message, tail].filter((s) => s && s.length > 0).join(': ').slice(0, 600);
}

export function buildTables(plan: Plan, sweepDir: string): Tables {
  const rows: RunRow[] = plan.runs.map((run) => {
    const { state, summary, record, slurmLog } = runState(sweepDir, run);
    // An interrupted run's summary holds its numbers at the step where it stopped: shown, not averaged.
    const metrics = metricsOf(state === 'completed' || state === 'diverged' || state === 'interrupted' ? summary : undefined);
    if (state === 'completed' || state === 'diverged') {
      const hist = Object.keys(plan.thresholds).length ? readTable(join(runDirOf(sweepDir, run), RUN_FILES.history)) : undefined;
      for (const [col, list] of Object.entries(plan.thresholds)) {
        for (const v of list) {
          const s = stepsTo(hist, col, v);
          if (s !== undefined) metrics.set(thresholdColumn(col, v), s);
        }
      }
    }
    return { run, state, metrics, error: errorOf(sweepDir, state, summary, record, slurmLog) };
  });

  // Metric columns: a fixed order first, then whatever else the runs report, in order of appearance.
  const fixed = ['steps', 'wall_time_s', 'loss'];
  const seen: string[] = [];
  for (const r of rows) for (const k of r.metrics.keys()) if (!fixed.includes(k) && !seen.includes(k) && !k.startsWith('steps_to_')) seen.push(k);
  const thresholdCols = Object.entries(plan.thresholds).flatMap(([c, l]) => l.map((v) => thresholdColumn(c, v)));
  const metrics = [...fixed, ...seen, ...thresholdCols];

  const sweepHeader = ['index', 'run', 'variant', ...plan.paths, 'seed', 'status', ...metrics, 'error'];
  const cell = (v: number | undefined) => (v === undefined ? '' : v);
  const sweepCells = rows.map((r) => {
    const v = plan.variants[r.run.variant]!;
    return [r.run.index, r.run.id, v.label, ...plan.paths.map((p) => v.values[p] ?? ''), r.run.seed, r.state,
      ...metrics.map((m) => cell(r.metrics.get(m))), r.error];
  });

  const statMetrics = metrics.filter((m) => m !== 'steps');
  const summaryHeader = ['variant', ...plan.paths, 'runs', 'completed', 'diverged', 'failed', 'unfinished'];
  for (const m of statMetrics) {
    if (m.startsWith('steps_to_')) summaryHeader.push(`${m}_reached`);
    summaryHeader.push(`${m}_mean`, `${m}_std`, `${m}_min`, `${m}_max`);
  }
  const summaryCells = plan.variants.map((v) => {
    const mine = rows.filter((r) => r.run.variant === v.index);
    const done = mine.filter((r) => r.state === 'completed');
    const count = (s: RunState[]) => mine.filter((r) => s.includes(r.state)).length;
    const out: (string | number)[] = [v.label, ...plan.paths.map((p) => v.values[p] ?? ''), mine.length, done.length,
      count(['diverged']), count(['failed']), count(['pending', 'not started', 'running', 'interrupted'])];
    for (const m of statMetrics) {
      const vals = done.map((r) => r.metrics.get(m)).filter((x): x is number => x !== undefined && Number.isFinite(x));
      if (m.startsWith('steps_to_')) out.push(vals.length);
      const s = stats(vals);
      out.push(cell(s?.mean), cell(s?.std), cell(s?.min), cell(s?.max));
    }
    return out;
  });
  return { rows, sweepHeader, sweepCells, summaryHeader, summaryCells, metrics };
}

/** Mean, sample standard deviation (n − 1; undefined for one value), min and max. */
export function stats(v: number[]): { n: number; mean: number; std: number | undefined; min: number; max: number } | undefined {
  if (v.length === 0) return undefined;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : undefined;
  return { n: v.length, mean, std, min: Math.min(...v), max: Math.max(...v) };
}

/** The last non-empty line of a (small) log file. */
function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').at(-1)?.trim() ?? '';
  } catch {
    return '';
  }
}

export function writeTables(sweepDir: string, t: Tables): void {
  writeFileAtomic(join(sweepDir, 'sweep.csv'), csvText(t.sweepHeader, t.sweepCells));
  writeFileAtomic(join(sweepDir, 'summary.csv'), csvText(t.summaryHeader, t.summaryCells));
}
