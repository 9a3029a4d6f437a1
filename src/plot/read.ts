/**
 * Reading a run directory's files back (plots and sweeps work from the files a run
 * wrote, never from the training process): history.csv, solution.csv,
 * parameters.csv, summary.json, spec.resolved.yaml.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import YAML from 'yaml';
import { readHistoryColumns, readSummary, RUN_FILES, type HistoryColumn, type SummaryFile } from '../io/run-dir.js';

export interface Table {
  header: string[];
  rows: number[][];
  /** columns whose cells are words (history.csv's `phase`), as text, row by row */
  text?: Record<string, string[]>;
}

export interface RunFiles {
  dir: string;
  history?: Table;
  solution?: Table;
  parameters?: Table;
  summary?: RunSummaryFile;
  /** from spec.resolved.yaml */
  inputs: { name: string; lo: number; hi: number }[];
  outputs: string[];
  spec?: Record<string, unknown>;
}

/** What laaf reads of summary.json: the run-directory contract's SummaryFile (io/run-dir.ts). */
export type RunSummaryFile = SummaryFile;

/** A numeric CSV with a header row; cells that are not numbers read as NaN. */
export function readTable(file: string): Table | undefined {
  if (!existsSync(file)) return undefined;
  const records = parseCsv(readFileSync(file, 'utf8'), { relax_column_count: true, skip_empty_lines: true }) as string[][];
  if (records.length === 0) return undefined;
  const [header, ...body] = records;
  const kept = body.filter((r) => r.length === header!.length);
  const rows = kept.map((r) => r.map((c) => (c === '' ? NaN : Number(c))));
  const text: Record<string, string[]> = {};
  header!.forEach((name, k) => {
    if (kept.some((r) => r[k] !== '' && Number.isNaN(Number(r[k])))) text[name] = kept.map((r) => r[k]!);
  });
  return { header: header!, rows, ...(Object.keys(text).length ? { text } : {}) };
}

/** The kinds of a history table's columns (the run-directory contract, io/run-dir.ts). */
export function historyKinds(t: Table): HistoryColumn[] {
  return readHistoryColumns(t.header);
}

export function column(t: Table, name: string): number[] | undefined {
  const k = t.header.indexOf(name);
  return k < 0 ? undefined : t.rows.map((r) => r[k]!);
}

export { readSummary };

export function readRun(dir: string): RunFiles {
  let spec: Record<string, unknown> | undefined;
  const specFile = join(dir, RUN_FILES.spec);
  if (existsSync(specFile)) spec = YAML.parse(readFileSync(specFile, 'utf8')) as Record<string, unknown>;
  const solution = readTable(join(dir, RUN_FILES.solution));
  let inputs: RunFiles['inputs'] = [];
  let outputs: string[] = [];
  if (spec && typeof spec['inputs'] === 'object' && Array.isArray(spec['outputs'])) {
    outputs = (spec['outputs'] as unknown[]).map(String);
    inputs = Object.entries(spec['inputs'] as Record<string, unknown[]>).map(([name, b]) => ({ name, lo: Number(b[0]), hi: Number(b[1]) }));
  } else if (solution) {
    // Without the spec: inputs are the columns before the first output; outputs have `<o>_ref` partners or are the rest.
    const h = solution.header;
    const refs = h.filter((c) => c.endsWith('_ref')).map((c) => c.slice(0, -4));
    outputs = refs.length ? refs : [h.at(-1)!];
    const first = Math.min(...outputs.map((o) => h.indexOf(o)));
    inputs = h.slice(0, first).map((name) => ({ name, lo: NaN, hi: NaN }));
  }
  // Expression bounds (`2*pi`) stay unevaluated in the resolved spec; the grid tells the range.
  if (solution) {
    for (const inp of inputs) {
      if (Number.isFinite(inp.lo) && Number.isFinite(inp.hi)) continue;
      const c = column(solution, inp.name);
      if (c) {
        inp.lo = c.reduce((a, b) => Math.min(a, b), Infinity);
        inp.hi = c.reduce((a, b) => Math.max(a, b), -Infinity);
      }
    }
  }
  return {
    dir,
    history: readTable(join(dir, RUN_FILES.history)),
    solution,
    parameters: readTable(join(dir, RUN_FILES.parameters)),
    summary: readSummary(dir),
    inputs,
    outputs,
    ...(spec ? { spec } : {}),
  };
}
