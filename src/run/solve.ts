/**
 * One solve, end to end: spec → problem → model → Adam → run directory.
 * The CLI's `solve` and (later) sweeps call this; it prints nothing itself and
 * reports through `Reporter`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadSpec, toUserError, type LoadedSpec } from '../spec/load.js';
import { SpecError, UserError } from '../spec/errors.js';
import type { Spec } from '../spec/schema.js';
import { buildProblem, evaluationGrid, samplePoints, type Problem } from '../problem/build.js';
import { errorSummary } from '../problem/metrics.js';
import { Rng } from '../domain/rng.js';
import { Mlp, type MlpConfig } from '../nn/mlp.js';
import { PinnLoss } from '../train/loss.js';
import { trainAdam, type HistoryRow, type TrainStatus } from '../train/adam.js';
import { predict } from '../train/evaluate.js';
import { RunWriter } from '../io/run-writer.js';
import { RunDirExistsError, assertRunDirFree } from '../io/files.js';
import { selectBackend, type BackendChoice, type BackendInfo } from '../backend/select.js';
import { versions } from './versions.js';

export interface SolveOptions {
  specFile: string;
  set?: string[];
  out?: string;
  backend: BackendChoice;
  /** cap on optimizer steps (smoke runs) */
  maxSteps?: number;
  reporter?: Reporter;
  /** polled once per step; true stops training after a final evaluation (status 'interrupted') */
  shouldStop?: () => boolean;
}

export interface RunStart {
  dir: string;
  problem: Problem;
  spec: Spec;
  backend: BackendInfo;
  steps: number;
  parameters: { total: number; adaptive: number };
  points: number;
  historyHeader: string[];
}

export interface Reporter {
  start?(info: RunStart): void;
  step?(step: number, loss: number): void;
  log?(row: HistoryRow, cells: (string | number)[]): void;
  end?(summary: RunSummary): void;
}

export interface RunSummary {
  status: TrainStatus;
  message?: string;
  name: string;
  spec_file: string;
  run_dir: string;
  steps: number;
  wall_time_s: number;
  seed: number;
  backend: string;
  versions: Record<string, string>;
  parameters: { total: number; adaptive: number };
  points: Record<string, number>;
  reference?: string;
  final: {
    loss: number;
    terms: Record<string, number>;
    slope_recovery: number;
    na: { mean: number; min: number; max: number }[];
    rel_l2?: number;
    rel_l2_per_output?: Record<string, number>;
    max_abs_error?: Record<string, number>;
    /** inverse problems: final value, and with a known true value its relative error */
    parameters?: Record<string, { value: number; true_value?: number; rel_error?: number }>;
  };
}

/** Load and check a spec (and its expressions) without training. Throws UserError. */
export function checkSpec(specFile: string, set: string[] = []): { loaded: LoadedSpec; problem: Problem } {
  const loaded = loadSpec(specFile, { set });
  try {
    return { loaded, problem: buildProblem(loaded.spec, { baseDir: dirname(specFile) }) };
  } catch (e) {
    if (e instanceof SpecError) throw toUserError(e, loaded);
    throw e;
  }
}

export async function solve(opts: SolveOptions): Promise<RunSummary> {
  const { loaded, problem } = checkSpec(opts.specFile, opts.set);
  const spec = loaded.spec;
  const dir = opts.out ?? defaultRunDir(spec.name);
  // Checked again when the directory is created; this reports it before any work starts.
  runDirError(() => assertRunDirFree(dir));
  const backend = await selectBackend(opts.backend);
  const steps = Math.min(spec.training.adam.steps, opts.maxSteps ?? Infinity);

  const rng = new Rng(spec.training.seed);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  const points = samplePoints(problem, rng.derive('points'));
  const slope = typeof spec.model.slope_recovery === 'number'
    ? { weight: spec.model.slope_recovery, form: 'paper' as const }
    : spec.model.slope_recovery;
  const loss = new PinnLoss(problem, model, points, spec.model.adaptive.mode === 'none' ? { ...slope, weight: 0 } : slope);

  const grid = evaluationGrid(problem);
  const d = problem.inputs.length;
  const reference = problem.reference?.evaluate(grid);
  const evaluateErrors = (): number[] => {
    if (!reference) return [];
    const e = errorSummary(predict(model, grid, d, problem), reference);
    return problem.outputs.length > 1 ? [e.relL2, ...e.perOutput] : [e.relL2];
  };

  const header = historyHeader(problem, model, reference !== undefined);
  const writer = runDirError(() => new RunWriter(dir));
  const vers = versions(backend);
  writer.writeResolvedSpec(spec, `resolved from ${opts.specFile}${opts.set?.length ? ` with --set ${opts.set.join(' --set ')}` : ''}; laaf ${vers['laaf']}`);
  const history = writer.history(header);
  const paramNames = problem.parameters.map((p) => p.name);
  const paramLog = paramNames.length ? writer.csvLog('parameters.csv', ['step', ...paramNames]) : undefined;
  const pointCounts: Record<string, number> = {};
  for (const t of problem.terms) pointCounts[t.kind === 'equation' ? 'interior' : t.name] = points.get(t.name)!.length / d;
  const parameters = model.parameterCount();

  const base = {
    name: spec.name,
    spec_file: opts.specFile,
    run_dir: dir,
    seed: spec.training.seed,
    backend: backend.name,
    versions: vers,
    parameters,
    points: pointCounts,
    reference: problem.reference?.describe,
  };
  writer.writeSummary({ status: 'running', ...base });
  opts.reporter?.start?.({ dir, problem, spec, backend, steps, parameters, points: loss.pointCount, historyHeader: header });

  const t0 = performance.now();
  const result = await trainAdam(loss, {
    steps,
    lr: spec.training.adam.lr,
    logEvery: spec.training.log_every,
    evaluateErrors,
    shouldStop: opts.shouldStop,
    onStep: (s, l) => opts.reporter?.step?.(s, l),
    onLog: (row) => {
      const cells = historyCells(row, model);
      history.append(cells);
      paramLog?.append([row.step, ...row.parameters]);
      opts.reporter?.log?.(row, cells);
    },
  });
  const wall = (performance.now() - t0) / 1000;

  // The solution on the evaluation grid, with the reference and pointwise error when known.
  const pred = predict(model, grid, d, problem);
  const solHeader = [...problem.inputs, ...problem.outputs];
  if (reference) for (const o of problem.outputs) solHeader.push(`${o}_ref`, `${o}_abs_err`);
  const rows: number[][] = [];
  for (let i = 0; i < grid.length / d; i++) {
    const r = Array.from(grid.subarray(i * d, (i + 1) * d));
    for (let k = 0; k < problem.outputs.length; k++) r.push(pred[k]![i]!);
    if (reference) for (let k = 0; k < problem.outputs.length; k++) r.push(reference[k]![i]!, Math.abs(pred[k]![i]! - reference[k]![i]!));
    rows.push(r);
  }
  writer.writeSolution(solHeader, rows);

  const last = result.last;
  const errs = reference ? errorSummary(pred, reference) : undefined;
  const summary: RunSummary = {
    status: result.status,
    ...(result.message ? { message: result.message } : {}),
    ...base,
    steps: result.steps,
    wall_time_s: wall,
    final: {
      loss: last.loss,
      terms: Object.fromEntries(problem.terms.map((t, k) => [t.name, last.terms[k]!])),
      slope_recovery: last.slopeRecovery,
      na: last.slopes,
      ...(errs ? {
        rel_l2: errs.relL2,
        rel_l2_per_output: Object.fromEntries(problem.outputs.map((o, k) => [o, errs.perOutput[k]!])),
        max_abs_error: Object.fromEntries(problem.outputs.map((o, k) => [o, errs.maxAbs[k]!])),
      } : {}),
      ...(paramNames.length ? { parameters: parameterSummary(problem, loss.parameters.values()) } : {}),
    },
  };
  writer.writeSummary(summary);
  loss.dispose();
  model.dispose();
  opts.reporter?.end?.(summary);
  return summary;
}

function runDirError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RunDirExistsError) throw new UserError(e.message, 'choose another --out, or remove that directory');
    throw e;
  }
}

function parameterSummary(problem: Problem, values: number[]): NonNullable<RunSummary['final']['parameters']> {
  return Object.fromEntries(problem.parameters.map((p, k) => {
    const value = values[k]!;
    if (p.trueValue === undefined) return [p.name, { value }];
    return [p.name, { value, true_value: p.trueValue, rel_error: Math.abs(value - p.trueValue) / Math.abs(p.trueValue) }];
  }));
}

export function mlpConfig(spec: Spec, problem: Problem): MlpConfig {
  const m = spec.model;
  return {
    inputs: problem.inputs.length,
    hidden: m.hidden,
    outputs: problem.outputs.length,
    activation: m.activation,
    adaptive: { mode: m.adaptive.mode, n: m.adaptive.n, ...(m.adaptive.init !== undefined ? { init: m.adaptive.init } : {}) },
    init: m.init,
    ...(m.normalize_inputs ? { inputLo: problem.box.lo, inputHi: problem.box.hi } : {}),
  };
}

function slopeColumns(model: Mlp): string[] {
  const mode = model.cfg.adaptive.mode;
  const L = model.cfg.hidden.length;
  if (mode === 'none') return [];
  if (mode === 'global') return ['na'];
  if (mode === 'layer') return Array.from({ length: L }, (_, k) => `na_${k + 1}`);
  return Array.from({ length: L }, (_, k) => [`na_${k + 1}_mean`, `na_${k + 1}_min`, `na_${k + 1}_max`]).flat();
}

export function historyHeader(problem: Problem, model: Mlp, hasReference: boolean): string[] {
  const h = ['step', 'elapsed_s', 'lr', 'loss', ...problem.terms.map((t) => t.name), 'slope_recovery', ...slopeColumns(model)];
  if (hasReference) {
    h.push('rel_l2');
    if (problem.outputs.length > 1) h.push(...problem.outputs.map((o) => `rel_l2_${o}`));
  }
  return h;
}

function historyCells(row: HistoryRow, model: Mlp): (string | number)[] {
  const mode = model.cfg.adaptive.mode;
  const slopes = mode === 'none' ? [] : mode === 'global' ? [row.slopes[0]!.mean]
    : mode === 'layer' ? row.slopes.map((s) => s.mean) : row.slopes.flatMap((s) => [s.mean, s.min, s.max]);
  return [row.step, row.elapsed, row.lr, row.loss, ...row.terms, row.slopeRecovery, ...slopes, ...row.errors];
}

function defaultRunDir(name: string): string {
  const ts = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let dir = join('runs', `${name}-${ts}`);
  for (let k = 2; existsSync(dir); k++) dir = join('runs', `${name}-${ts}-${k}`);
  return dir;
}
