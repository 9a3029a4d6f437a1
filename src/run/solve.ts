/**
 * One solve, end to end: spec → problem → model → training phases → run directory,
 * or the continuation of a run from its checkpoint (`resume`).
 * The CLI's `solve` and sweeps call this; it prints nothing itself and reports
 * through `Reporter`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { LoadedSpec } from '../spec/load.js';
import { SpecError, UserError } from '../spec/errors.js';
import type { Spec } from '../spec/schema.js';
import { evaluationGrid, samplePoints, type Problem } from '../problem/build.js';
import { errorSummary } from '../problem/metrics.js';
import { finiteReference } from '../problem/reference.js';
import { Rng } from '../domain/rng.js';
import { Mlp, type MlpConfig } from '../nn/mlp.js';
import { PinnLoss } from '../train/loss.js';
import { train, type HistoryRow, type TrainCheckpoint, type TrainConfig } from '../train/trainer.js';
import { PointSets } from '../train/points.js';
import type { Schedule } from '../train/schedule.js';
import { predict } from '../train/evaluate.js';
import { historyCells, historyColumns, readSummary, RUN_FILES, type HistoryShape, type RunSummary } from '../io/run-dir.js';
import { CsvLogError, DiskFullError } from '../io/files.js';
import { RunDirectory } from './lifecycle.js';
import { CheckpointError, readCheckpoint } from '../io/checkpoint.js';
import { backendCounters, closeBackend, selectBackend, type BackendChoice, type BackendInfo } from '../backend/select.js';
import { versions } from './versions.js';
import { KERNELS_OFF_BY_SPEC, stepFor, type StepOptions } from '../step/paths.js';
import type { StepChoice } from '../step/registry.js';
import { checkSpec as checkSpecOnly, specErrorsOf } from '../problem/check.js';
import { checkPrecision, type StepPathRecord } from '../step/whole-path.js';

export interface SolveOptions {
  /** the spec of a new run (give this or `resume`) */
  specFile?: string;
  /** continue the run in this directory from its checkpoint.json */
  resume?: string;
  set?: string[];
  out?: string;
  /** default: the spec's training.backend, else wasm, for a new run; the run's own backend when resuming */
  backend?: BackendChoice;
  /** cap on optimizer steps over all phases (smoke runs); a resumed run keeps its cap unless given again */
  maxSteps?: number;
  /** run the network on tfjs ops only (a new run records this as model.fused: false; a resumed run just obeys it) */
  noFused?: boolean;
  reporter?: Reporter;
  /** polled once per step; true stops training after the current step (status 'interrupted') */
  shouldStop?: () => boolean;
}

export type { RunSummary } from '../io/run-dir.js';

export interface RunStart {
  dir: string;
  problem: Problem;
  spec: Spec;
  backend: BackendInfo;
  /** planned steps over all phases (Adam steps + L-BFGS iterations at most) */
  steps: number;
  /** the step a resumed run continues from (0 for a new run) */
  startStep: number;
  /** planned Adam steps (steps 1..adamSteps are Adam's, later ones L-BFGS iterations) */
  adamSteps: number;
  parameters: { total: number; adaptive: number };
  points: number;
  historyHeader: string[];
}

export interface Reporter {
  start?(info: RunStart): void;
  step?(step: number, loss: number): void;
  log?(row: HistoryRow, cells: (string | number)[]): void;
  end?(summary: RunSummary): void;
  /** something the user should know that is not an error (a stale lock taken over, leftovers removed) */
  notice?(message: string): void;
  /** the run ends with an error after start() (the error is thrown after this) */
  abort?(): void;
}

/** What a checkpoint records about its run, beside the training state. */
export interface RunRecord {
  spec_file: string;
  /** folder that relative paths in the spec are resolved against */
  base_dir: string;
  backend: string;
  max_steps?: number;
  resumed_from: number[];
}

/**
 * `checkSpec` of problem/check.ts, plus what only a run can check: float64 runs only on the
 * whole-step path (step/whole-path.ts), so asking for it where that path cannot run is a
 * spec error at training.precision (`laaf validate` checks it too, see cli/main.ts).
 */
export function checkSpec(specFile: string, set: string[] = [], baseDir?: string): { loaded: LoadedSpec; problem: Problem } {
  const checked = checkSpecOnly(specFile, set, baseDir);
  specErrorsOf(checked.loaded, () => checkPrecision(checked.loaded.spec, checked.problem));
  return checked;
}

/** The training phases of a spec, with an optional cap on the steps of all phases together. */
export function trainConfig(spec: Spec, maxSteps?: number): TrainConfig {
  const t = spec.training;
  const cap = maxSteps ?? Infinity;
  const adamSteps = Math.min(t.adam.steps, cap);
  const schedule: Schedule = typeof t.adam.schedule === 'string'
    ? (t.adam.schedule === 'cosine' ? { kind: 'cosine', min_lr: 0 } : { kind: 'constant' })
    : t.adam.schedule;
  const cfg: TrainConfig = {
    adam: { steps: adamSteps, lr: t.adam.lr, schedule },
    logEvery: t.log_every,
    checkpointEvery: t.checkpoint_every,
    ...(t.resample ? { resample: t.resample } : {}),
    ...(t.refine ? { refine: t.refine } : {}),
  };
  if (t.lbfgs) {
    const iters = Math.max(0, Math.min(t.lbfgs.max_iterations, cap - adamSteps));
    cfg.lbfgs = {
      maxIterations: iters,
      maxEvaluations: t.lbfgs.max_evaluations ?? Math.ceil(1.25 * iters),
      history: t.lbfgs.history,
      lr: t.lbfgs.lr,
      toleranceGrad: t.lbfgs.tolerance_grad,
      toleranceChange: t.lbfgs.tolerance_change,
      lineSearch: t.lbfgs.line_search,
      maxRestarts: t.lbfgs.restarts,
      ...(t.lbfgs.slope_recovery !== undefined ? { slopeRecovery: t.lbfgs.slope_recovery } : {}),
    };
  }
  return cfg;
}

interface Prepared {
  loaded: LoadedSpec;
  problem: Problem;
  dir: string;
  backendChoice: BackendChoice;
  record: RunRecord;
  checkpoint?: TrainCheckpoint;
  /** a new run's directory, checked (a resumed run's is locked once prepared) */
  runDir?: RunDirectory;
}

/** A new run: check the spec and that the run directory is free (nothing is written yet). */
function prepareNew(opts: SolveOptions): Prepared {
  const { loaded, problem } = checkSpec(opts.specFile!, opts.set);
  const dir = opts.out ?? defaultRunDir(loaded.spec.name);
  // Checked again when the directory is created; this reports it before any work starts.
  const runDir = RunDirectory.forNew(dir, 'solve', (m) => opts.reporter?.notice?.(m));
  const backendChoice = opts.backend ?? loaded.spec.training.backend ?? 'wasm';
  return {
    loaded, problem, dir, backendChoice, runDir,
    record: { spec_file: opts.specFile!, base_dir: resolve(dirname(opts.specFile!)), backend: backendChoice, ...(opts.maxSteps !== undefined ? { max_steps: opts.maxSteps } : {}), resumed_from: [] },
  };
}

export interface SavedRun {
  loaded: LoadedSpec;
  problem: Problem;
  record: RunRecord;
  checkpoint: TrainCheckpoint;
}

/** An earlier run's resolved spec (compiled) and its checkpoint. `doing` words the errors ("resume", "predict from"). */
export function openRun(dir: string, doing: string): SavedRun {
  const specFile = join(dir, RUN_FILES.spec);
  if (!existsSync(dir)) throw new UserError(`run directory ${dir} does not exist`, 'give the directory of an earlier `laaf solve`');
  if (!existsSync(specFile)) throw new UserError(`${dir} is not a laaf run directory (no spec.resolved.yaml)`, 'give the directory of an earlier `laaf solve`');
  let raw: Record<string, unknown>;
  try {
    raw = readCheckpoint(dir);
  } catch (e) {
    if (e instanceof CheckpointError) {
      throw new UserError(`cannot ${doing} ${dir}: ${e.message}`, 'the run stopped before its first checkpoint (training.checkpoint_every)');
    }
    throw e;
  }
  const record = raw['run'] as RunRecord | undefined;
  const checkpoint = raw['train'] as TrainCheckpoint | undefined;
  if (!record || !checkpoint || !Array.isArray(checkpoint.variables)) throw new UserError(`cannot ${doing} ${dir}: checkpoint.json is incomplete`);
  const { loaded, problem } = checkSpec(specFile, [], record.base_dir);
  return { loaded, problem, record, checkpoint };
}

/** A run to continue: its resolved spec, its checkpoint and how it was started. */
function prepareResume(opts: SolveOptions): Prepared {
  const dir = opts.resume!;
  const { loaded, problem, record, checkpoint } = openRun(dir, 'resume');
  const summary = readSummary(dir);
  if (checkpoint.done && summary?.status === 'completed') {
    throw new UserError(`run ${dir} has completed; there is nothing to resume`, 'start a new run, e.g. with more steps');
  }
  if (opts.backend && opts.backend !== record.backend && !(opts.backend === 'auto')) {
    throw new UserError(`run ${dir} was trained on the ${record.backend} backend`, `resume it there (leave out --backend): same seed and backend is what makes a resumed run match an uninterrupted one`);
  }
  const backendChoice = record.backend as BackendChoice;
  const max = opts.maxSteps ?? record.max_steps;
  if (max !== undefined && max < checkpoint.step) {
    throw new UserError(`run ${dir} is at step ${checkpoint.step}, past --max-steps ${max}`, 'give a larger --max-steps, or leave it out');
  }
  return {
    loaded, problem, dir, backendChoice, checkpoint,
    record: { ...record, ...(max !== undefined ? { max_steps: max } : {}), resumed_from: [...(record.resumed_from ?? []), checkpoint.step] },
  };
}

export async function solve(opts: SolveOptions): Promise<RunSummary> {
  try {
    return await solveOnBackend(opts);
  } finally {
    await closeBackend();
  }
}

async function solveOnBackend(opts: SolveOptions): Promise<RunSummary> {
  if ((opts.specFile === undefined) === (opts.resume === undefined)) throw new UserError('give a spec to solve, or --resume RUN_DIR (not both)');
  const prep = opts.resume !== undefined ? prepareResume(opts) : prepareNew(opts);
  const { loaded, dir, record, checkpoint } = prep;
  // One writer per run directory (run/lifecycle.ts): a resumed run takes the lock before anything else, a new one once its directory exists.
  const run = prep.runDir ?? RunDirectory.forResume(dir, 'solve', checkpoint!.step, (m) => opts.reporter?.notice?.(m));
  try {
    return await solveLocked(opts, prep, run);
  } catch (e) {
    opts.reporter?.abort?.();
    throw run.failure(e, { name: loaded.spec.name, spec_file: record.spec_file });
  } finally {
    run.release();
  }
}

async function solveLocked(opts: SolveOptions, prep: Prepared, run: RunDirectory): Promise<RunSummary> {
  const { loaded, problem, dir, record, checkpoint } = prep;
  const spec = loaded.spec;
  const backend = await selectBackend(prep.backendChoice);
  record.backend = backend.name;
  const cfg = trainConfig(spec, record.max_steps);

  const rng = new Rng(spec.training.seed);
  const model = new Mlp(mlpConfig(spec, problem), rng.derive('model'));
  let pointSets: PointSets;
  try {
    pointSets = checkpoint?.points
      ? PointSets.fromState(problem, checkpoint.points)
      : PointSets.initial(problem, samplePoints(problem, rng.derive('points')), rng.derive('training'));
  } catch (e) {
    throw new UserError(`cannot resume ${dir}: ${(e as Error).message}`);
  }
  const slope = typeof spec.model.slope_recovery === 'number'
    ? { weight: spec.model.slope_recovery, form: 'paper' as const }
    : spec.model.slope_recovery;
  const step = stepOptions(spec, opts.noFused === true);
  const lossSlope = spec.model.adaptive.mode === 'none' ? { ...slope, weight: 0 } : slope;
  const loss = new PinnLoss(problem, model, pointSets.map(), lossSlope, step);
  // the training step's path (src/step/paths.ts): whole-step when it supports the run, else
  // the loss's own path for the network's jets with the loss and optimizers in tfjs
  const trainStep = stepFor(model, loss.plan.maxOrder, { ...step, run: { spec, problem, points: pointSets.map(), slope: lossSlope } });
  const whole = trainStep.impl.whole;
  if (spec.training.precision === 'float64' && !whole) {
    // validate cannot know the backend; here a float64 run that would train in float32 stops before writing anything
    const why = trainStep.declined.find((x) => x.path === 'whole-step')?.reason ?? `the ${trainStep.path.name} path ran`;
    specErrorsOf(loaded, () => {
      throw new SpecError(`float64 runs only on the whole-step path, which cannot run here: ${why}`, ['training', 'precision'], 'use precision: float32, or a CPU backend (wasm, cpu)', undefined, true);
    });
  }

  const grid = evaluationGrid(problem);
  const d = problem.inputs.length;
  const reference = problem.reference ? specErrorsOf(loaded, () => finiteReference(problem.reference!, grid, problem.inputs)) : undefined;
  const evaluateErrors = (): number[] => {
    if (!reference) return [];
    const e = errorSummary(predict(model, grid, d, problem, undefined, step), reference);
    return problem.outputs.length > 1 ? [e.relL2, ...e.perOutput] : [e.relL2];
  };

  const columns = historyColumns(historyShape(spec, problem));
  const header = columns.map((c) => c.name);
  const writer = run.open();
  const vers = versions(backend);
  if (!checkpoint) {
    writer.writeResolvedSpec(spec, `resolved from ${opts.specFile}${opts.set?.length ? ` with --set ${opts.set.join(' --set ')}` : ''}; laaf ${vers['laaf']}`);
  }
  const paramNames = problem.parameters.map((p) => p.name);
  let history, paramLog;
  try {
    history = writer.history(header);
    paramLog = paramNames.length ? writer.csvLog(RUN_FILES.parameters, ['step', ...paramNames]) : undefined;
  } catch (e) {
    if (e instanceof CsvLogError) throw new UserError(`cannot resume ${dir}: ${e.message}`);
    throw e;
  }
  const pointCounts: Record<string, number> = {};
  for (const [name, p] of pointSets.map()) {
    const t = problem.terms.find((x) => x.name === name)!;
    pointCounts[t.kind === 'equation' ? 'interior' : name] = p.length / d;
  }
  const parameters = model.parameterCount();

  const base = {
    name: spec.name,
    spec_file: record.spec_file,
    run_dir: dir,
    seed: spec.training.seed,
    backend: backend.name,
    ...(backend.adapter ? { adapter: backend.adapter } : {}),
    versions: vers,
    parameters,
    points: pointCounts,
    reference: problem.reference?.describe,
  };
  const resumed = record.resumed_from.length ? { resumed_from: record.resumed_from } : {};
  writer.writeSummary({ status: 'running', ...base, ...resumed });
  const planned = cfg.adam.steps + (cfg.lbfgs?.maxIterations ?? 0);
  opts.reporter?.start?.({ dir, problem, spec, backend, steps: planned, startStep: checkpoint?.step ?? 0, adamSteps: cfg.adam.steps, parameters, points: loss.pointCount, historyHeader: header });

  const gpuBefore = await backendCounters();
  let result;
  try {
    result = await train(loss, cfg, {
      evaluateErrors,
      points: pointSets,
      ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
      onStep: (s, l) => opts.reporter?.step?.(s, l),
      onLog: (row) => {
        const cells = historyCells(columns, row);
        history.append(cells);
        paramLog?.append([row.step, ...row.parameters]);
        opts.reporter?.log?.(row, cells);
      },
      onCheckpoint: (c) => {
        writer.writeCheckpoint({ run: record, train: c });
        run.checkpointed(c.step);
      },
    }, checkpoint, whole);
  } catch (e) {
    // A checkpoint that does not fit this spec (edited spec.resolved.yaml, another laaf).
    if (checkpoint && e instanceof Error && !(e instanceof DiskFullError) && /checkpoint|Adam state/.test(e.message)) throw new UserError(`cannot resume ${dir}: ${e.message}`);
    if (e instanceof Error && e.name === 'DeviceLostError') {
      throw new UserError(`${e.message} while training ${dir}`, run.checkpointStep !== undefined
        ? `checkpoint.json keeps step ${run.checkpointStep}; continue with laaf solve --resume ${dir}`
        : 'no checkpoint was written yet (training.checkpoint_every); start the run again');
    }
    throw e;
  }

  const network = networkReport(loss.path);
  const stepPath: StepPathRecord = {
    ran: trainStep.path.name,
    precision: whole ? spec.training.precision : 'float32',
    why_not: Object.fromEntries(trainStep.declined.map((d) => [d.path, d.reason])),
  };
  const gpuAfter = await backendCounters();
  const sessionSteps = result.steps - (checkpoint?.step ?? 0);
  const gpu: RunSummary['gpu'] = gpuBefore && gpuAfter && sessionSteps > 0 ? {
    steps: sessionSteps,
    kernel_calls_per_step: (gpuAfter.kernels - gpuBefore.kernels) / sessionSteps,
    dispatches_per_step: (gpuAfter.dispatches - gpuBefore.dispatches) / sessionSteps,
    reads_per_step: (gpuAfter.reads - gpuBefore.reads) / sessionSteps,
    bytes_read_per_step: (gpuAfter.bytesRead - gpuBefore.bytesRead) / sessionSteps,
  } : undefined;

  // The solution on the evaluation grid, with the reference and pointwise error when known.
  const pred = predict(model, grid, d, problem, undefined, step);
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
    network,
    step_path: stepPath,
    ...(gpu ? { gpu } : {}),
    steps: result.steps,
    wall_time_s: result.elapsed,
    phases: result.phases,
    ...(run.checkpointStep !== undefined ? { checkpoint_step: run.checkpointStep } : {}),
    ...resumed,
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

function parameterSummary(problem: Problem, values: number[]): NonNullable<RunSummary['final']['parameters']> {
  return Object.fromEntries(problem.parameters.map((p, k) => {
    const value = values[k]!;
    if (p.trueValue === undefined) return [p.name, { value }];
    return [p.name, { value, true_value: p.trueValue, rel_error: Math.abs(value - p.trueValue) / Math.abs(p.trueValue) }];
  }));
}

/** How a run asks for its step path: the spec's model.fused (or --no-fused on resume) may turn the kernels off. */
export function stepOptions(spec: Spec, noFused = false): StepOptions {
  return spec.model.fused && !noFused ? {} : { kernelsOff: KERNELS_OFF_BY_SPEC };
}

/** summary.json's `network`: the step path that computed the jets in training, and why each preferred one did not. */
function networkReport(choice: StepChoice): NonNullable<RunSummary['network']> {
  const fused = choice.path.kernel;
  const whyNot = choice.declined[0]?.reason;
  return {
    path: choice.path.name,
    fused,
    ...(choice.impl.details?.() ?? {}),
    ...(!fused && whyNot !== undefined ? { why_not: whyNot } : {}),
    declined: choice.declined,
  };
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
    ...(m.rowdy ? { rowdy: m.rowdy } : {}),
    ...(m.kronecker ? { kronecker: m.kronecker } : {}),
  };
}

/** What decides the run's history.csv columns (io/run-dir.ts); a sweep's plan asks the same. */
export function historyShape(spec: Spec, problem: Problem): HistoryShape {
  const m = spec.model;
  return {
    terms: problem.terms.map((t) => t.name),
    adaptive: m.adaptive.mode,
    layers: m.hidden.length,
    activation: m.rowdy ? 'rowdy' : m.kronecker ? 'kronecker' : 'plain',
    ...(problem.reference ? { errorOutputs: problem.outputs } : {}),
  };
}

function defaultRunDir(name: string): string {
  const ts = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let dir = join('runs', `${name}-${ts}`);
  for (let k = 2; existsSync(dir); k++) dir = join('runs', `${name}-${ts}-${k}`);
  return dir;
}
