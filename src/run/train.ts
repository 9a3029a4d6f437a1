/**
 * One `laaf train` run, end to end: spec (with `dataset:`) → data set → network →
 * epochs of mini-batches → run directory (spec.resolved.yaml, history.csv,
 * summary.json, checkpoint.json), or the continuation of such a run (`resume`).
 * Prints nothing; reports through TrainReporter.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { loadSpecWith, toUserError, type LoadedSpec } from '../spec/load.js';
import { SpecError, UserError } from '../spec/errors.js';
import { trainSpecSchema, type TrainSpec } from '../spec/train-schema.js';
import { loadDataSet, type DataSet } from '../data/dataset.js';
import { Network, planNetwork } from '../deep/network.js';
import { trainDeep, type DeepCheckpoint, type DeepRow, type DeepStatus, type DeepTrainConfig } from '../deep/trainer.js';
import { Rng } from '../domain/rng.js';
import { CsvLogError, DiskFullError } from '../io/files.js';
import { RunDirectory } from './lifecycle.js';
import { CheckpointError, readCheckpoint } from '../io/checkpoint.js';
import { selectBackend, type BackendChoice, type BackendInfo } from '../backend/select.js';
import { versions } from './versions.js';
import { isTrainSpecFile } from '../spec/train-file.js';
import { readSummary, trainHistoryColumns, type HistoryColumn, type TrainSummary } from '../io/run-dir.js';

/** A spec for `laaf train` (rather than `laaf solve`): its top level has a `dataset:` key. */
export { isTrainSpecFile };

export interface TrainOptions {
  specFile?: string;
  resume?: string;
  set?: string[];
  out?: string;
  backend?: BackendChoice;
  maxSteps?: number;
  reporter?: TrainReporter;
  shouldStop?: () => boolean;
}

export interface TrainStart {
  dir: string;
  spec: TrainSpec;
  data: DataSet;
  backend: BackendInfo;
  parameters: { total: number; adaptive: number };
  stepsPerEpoch: number;
  steps: number;
  startStep: number;
}

export interface TrainReporter {
  start?(info: TrainStart): void;
  step?(step: number, loss: number): void;
  row?(row: DeepRow): void;
  end?(summary: TrainSummary): void;
  /** something the user should know that is not an error (a stale lock taken over, leftovers removed) */
  notice?(message: string): void;
}

export type { TrainSummary };

interface RunRecord { spec_file: string; base_dir: string; backend: string; max_steps?: number; resumed_from: number[] }

/** Load a train spec and read its data set (the checks of `laaf validate`). Throws UserError. */
export function checkTrainSpec(specFile: string, set: string[] = [], baseDir?: string): { loaded: LoadedSpec<TrainSpec>; data: DataSet; acts: number } {
  const loaded = loadSpecWith(specFile, trainSpecSchema, { set });
  try {
    const data = loadDataSet(loaded.spec, baseDir ?? dirname(specFile));
    // Shape mistakes in the layers are spec errors.
    const { acts } = planNetwork({ sampleShape: data.sampleShape, outputs: data.outputs, spec: loaded.spec.model });
    return { loaded, data, acts };
  } catch (e) {
    if (e instanceof SpecError) throw toUserError(e, loaded);
    throw e;
  }
}

export function deepConfig(spec: TrainSpec, maxSteps?: number): DeepTrainConfig {
  const t = spec.training;
  const opt = t.optimizer === 'sgd' ? t.sgd : t.adam;
  const cap = Math.min(t.max_steps ?? Infinity, maxSteps ?? Infinity);
  return {
    epochs: t.epochs,
    ...(Number.isFinite(cap) ? { maxSteps: cap } : {}),
    batch: t.batch,
    testBatch: t.test_batch,
    optimizer: t.optimizer,
    lr: opt.lr,
    momentum: t.optimizer === 'sgd' ? t.sgd.momentum : 0,
    weightDecay: t.optimizer === 'sgd' ? t.sgd.weight_decay : 0,
    milestones: opt.milestones,
    gamma: opt.gamma,
    slopeRecovery: spec.model.adaptive.mode === 'none' ? 0 : spec.model.slope_recovery,
    logEvery: t.log_every,
    checkpointEvery: t.checkpoint_every,
  };
}

/** history.csv's columns for this network and data set (the contract: io/run-dir.ts trainHistoryColumns). */
export function trainHistory(net: Network, data: DataSet): HistoryColumn[] {
  return trainHistoryColumns({ adaptive: net.mode as 'none' | 'global' | 'layer' | 'neuron', acts: net.slopes.length, test: data.test !== undefined, accuracy: data.task === 'classification' });
}

function rowCells(columns: HistoryColumn[], row: DeepRow): (string | number)[] {
  return columns.map((c): string | number => {
    switch (c.kind) {
      case 'step': return row.step;
      case 'epoch': return row.epoch;
      case 'elapsed': return row.elapsed_s;
      case 'lr': return row.lr;
      case 'loss': return row.loss;
      case 'slope_recovery': return row.slopeRecovery;
      case 'objective': return row.objective;
      case 'slope': return row.slopes[c.layer === undefined ? 0 : c.layer - 1]![c.stat ?? 'mean'];
      case 'test_loss': return row.test?.loss ?? '';
      case 'accuracy': return row.test?.accuracy ?? '';
      default: throw new Error(`internal: laaf train writes no column ${c.name}`);
    }
  });
}

function defaultRunDir(name: string): string {
  const ts = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let dir = join('runs', `${name}-${ts}`);
  for (let k = 2; existsSync(dir); k++) dir = join('runs', `${name}-${ts}-${k}`);
  return dir;
}

export async function trainRun(opts: TrainOptions): Promise<TrainSummary> {
  if ((opts.specFile === undefined) === (opts.resume === undefined)) throw new UserError('give a spec to train, or --resume RUN_DIR (not both)');
  let loaded: LoadedSpec<TrainSpec>;
  let data: DataSet;
  let dir: string;
  let record: RunRecord;
  let checkpoint: DeepCheckpoint | undefined;
  let run: RunDirectory | undefined;
  const notice = (m: string) => opts.reporter?.notice?.(m);
  if (opts.resume !== undefined) {
    dir = opts.resume;
    const specFile = join(dir, 'spec.resolved.yaml');
    if (!existsSync(specFile)) throw new UserError(`${dir} is not a laaf run directory (no spec.resolved.yaml)`, 'give the directory of an earlier `laaf train`');
    let raw: Record<string, unknown>;
    try {
      raw = readCheckpoint(dir);
    } catch (e) {
      if (e instanceof CheckpointError) throw new UserError(`cannot resume ${dir}: ${e.message}`, 'the run stopped before its first checkpoint (training.checkpoint_every)');
      throw e;
    }
    record = raw['run'] as RunRecord;
    checkpoint = raw['train'] as DeepCheckpoint;
    if (!record || !checkpoint || !Array.isArray(checkpoint.weights)) throw new UserError(`cannot resume ${dir}: checkpoint.json is not a laaf train checkpoint`);
    if (opts.backend && opts.backend !== record.backend && opts.backend !== 'auto') {
      throw new UserError(`run ${dir} was trained on the ${record.backend} backend`, 'resume it there (leave out --backend)');
    }
    await selectBackend(record.backend as BackendChoice);
    ({ loaded, data } = checkTrainSpec(specFile, [], record.base_dir));
    const summary = readSummary(dir);
    if (checkpoint.done && summary?.status === 'completed') throw new UserError(`run ${dir} has completed; there is nothing to resume`, 'start a new run, e.g. with more epochs');
    const max = opts.maxSteps ?? record.max_steps;
    record = { ...record, ...(max !== undefined ? { max_steps: max } : {}), resumed_from: [...(record.resumed_from ?? []), checkpoint.step] };
  } else {
    const backendChoice = opts.backend ?? 'wasm';
    await selectBackend(backendChoice);
    ({ loaded, data } = checkTrainSpec(opts.specFile!, opts.set ?? []));
    dir = opts.out ?? defaultRunDir(loaded.spec.name);
    // Checked again when the directory is created; this reports it before the network is built.
    run = RunDirectory.forNew(dir, 'train', notice);
    record = { spec_file: opts.specFile!, base_dir: resolve(dirname(opts.specFile!)), backend: backendChoice, ...(opts.maxSteps !== undefined ? { max_steps: opts.maxSteps } : {}), resumed_from: [] };
  }
  // One writer per run directory (run/lifecycle.ts): a resumed run takes the lock now, a new one once its directory exists.
  run ??= RunDirectory.forResume(dir, 'train', checkpoint!.step, notice);
  try {
    return await trainLocked(opts, { loaded, data, dir, record, checkpoint }, run);
  } catch (e) {
    throw run.failure(e, { kind: 'train', name: loaded.spec.name, spec_file: record.spec_file });
  } finally {
    run.release();
  }
}

interface PreparedTrain {
  loaded: LoadedSpec<TrainSpec>;
  data: DataSet;
  dir: string;
  record: RunRecord;
  checkpoint?: DeepCheckpoint;
}

async function trainLocked(opts: TrainOptions, prep: PreparedTrain, run: RunDirectory): Promise<TrainSummary> {
  const { loaded, data, dir, record, checkpoint } = prep;
  const backend = await selectBackend(record.backend as BackendChoice);
  record.backend = backend.name;
  const spec = loaded.spec;
  const cfg = deepConfig(spec, record.max_steps);
  const rng = new Rng(spec.training.seed);
  const net = new Network({ sampleShape: data.sampleShape, outputs: data.outputs, spec: spec.model }, rng.derive('model'));

  const columns = trainHistory(net, data);
  const writer = run.open();
  const vers = versions(backend);
  if (!checkpoint) writer.writeResolvedSpec(spec, `resolved from ${opts.specFile}${opts.set?.length ? ` with --set ${opts.set.join(' --set ')}` : ''}; laaf ${vers['laaf']}`);
  let history;
  try {
    history = writer.history(columns.map((c) => c.name));
  } catch (e) {
    if (e instanceof CsvLogError) throw new UserError(`cannot resume ${dir}: ${e.message}`);
    throw e;
  }
  const parameters = net.parameterCount();
  const base = {
    kind: 'train' as const,
    name: spec.name,
    spec_file: record.spec_file,
    run_dir: dir,
    seed: spec.training.seed,
    backend: backend.name,
    versions: vers,
    parameters,
    data: {
      task: data.task, train: data.train.n, test: data.test?.n ?? 0, sample_shape: data.sampleShape, outputs: data.outputs,
      scaling: data.scaling.kind, sources: data.sources,
    },
  };
  const resumed = record.resumed_from.length ? { resumed_from: record.resumed_from } : {};
  writer.writeSummary({ status: 'running', ...base, ...resumed });
  const stepsPerEpoch = Math.ceil(data.train.n / cfg.batch);
  opts.reporter?.start?.({ dir, spec, data, backend, parameters, stepsPerEpoch, steps: Math.min(cfg.maxSteps ?? Infinity, stepsPerEpoch * cfg.epochs), startStep: checkpoint?.step ?? 0 });

  let result;
  try {
    result = await trainDeep(net, data, cfg, rng, {
      onRow: (row) => {
        history.append(rowCells(columns, row));
        opts.reporter?.row?.(row);
      },
      onCheckpoint: (c) => {
        writer.writeCheckpoint({ run: record, train: c });
        run.checkpointed(c.step);
      },
      onStep: (s, l) => opts.reporter?.step?.(s, l),
      ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
    }, checkpoint);
  } catch (e) {
    if (checkpoint && e instanceof Error && !(e instanceof DiskFullError) && /checkpoint|Adam state/.test(e.message)) throw new UserError(`cannot resume ${dir}: ${e.message}`);
    throw e;
  }
  const last = result.lastRow;
  const summary: TrainSummary = {
    status: result.status,
    ...(result.message ? { message: result.message } : {}),
    ...base,
    steps: result.step,
    epochs: result.epochs,
    wall_time_s: last?.elapsed_s ?? checkpoint?.elapsed_s ?? 0,
    ...(result.checkpointStep !== undefined ? { checkpoint_step: result.checkpointStep } : checkpoint ? { checkpoint_step: checkpoint.step } : {}),
    ...resumed,
    ...(last ? {
      final: {
        loss: last.loss,
        terms: {
          objective: last.objective,
          ...(last.test ? { test_loss: last.test.loss, ...(last.test.accuracy !== undefined ? { test_accuracy: last.test.accuracy } : {}) } : {}),
        },
        slope_recovery: last.slopeRecovery,
        na: last.slopes,
      },
    } : {}),
  };
  writer.writeSummary(summary);
  net.dispose();
  opts.reporter?.end?.(summary);
  return summary;
}
