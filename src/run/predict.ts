/**
 * `laaf predict`: a trained model (from a run's checkpoint.json) evaluated at points
 * from a CSV file or on a grid, with derivatives of the outputs through the jets.
 * Every input is checked before anything is written; the CSV is written atomically.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../spec/errors.js';
import { ExprError, MAX_DERIVATIVE_ORDER, derivName, parseDerivativeName, type DerivRef } from '../expr/index.js';
import { gridBlock } from '../domain/sampling.js';
import { FileReadError } from '../spec/limits.js';
import { Rng } from '../domain/rng.js';
import { Mlp } from '../nn/mlp.js';
import { readPointTable } from '../problem/csv-data.js';
import { predictDerivatives } from '../train/evaluate.js';
import { writeVariables } from '../train/flat.js';
import { AtomicFileWriter, formatNumber } from '../io/files.js';
import { closeBackend, selectBackend, type BackendChoice } from '../backend/select.js';
import { mlpConfig, openRun, stepOptions } from './solve.js';

/** Points evaluated and written per block: memory stays bounded for any grid size. */
const BLOCK = 65536;
/** Points of a `--grid` at most (written block by block; about 60 bytes of CSV each). */
export const MAX_PREDICT_POINTS = 50_000_000;

export interface PredictOptions {
  runDir: string;
  /** CSV with a header naming (at least) every input */
  points?: string;
  /** `x=N,t=M`: N×M equally spaced points over the box */
  grid?: string;
  /** derivative names, e.g. ['u_x', 'u_xx'] */
  derivatives?: string[];
  out: string;
  /** default: the backend the run trained on */
  backend?: BackendChoice;
}

export interface PredictResult { out: string; rows: number; columns: string[]; step: number }

export async function predictRun(opts: PredictOptions): Promise<PredictResult> {
  if ((opts.points === undefined) === (opts.grid === undefined)) throw new UserError('give either --points FILE.csv or --grid SPEC', 'for example --grid x=101,t=51');
  const { loaded, problem, record, checkpoint } = openRun(opts.runDir, 'predict from');
  const inputs = problem.inputs;
  const outputs = problem.outputs;
  const d = inputs.length;

  const derivs: DerivRef[] = (opts.derivatives ?? []).map((name) => {
    let ref: DerivRef | null;
    try {
      ref = parseDerivativeName(name.trim(), inputs, outputs);
    } catch (e) {
      if (e instanceof ExprError) throw new UserError(`--derivatives: '${name}': ${e.message}`, e.hint);
      throw e;
    }
    if (!ref) throw new UserError(`--derivatives: '${name}' is not an output or a derivative of one`, `outputs: ${outputs.join(', ')}; inputs: ${inputs.join(', ')} (e.g. ${outputs[0]}_${inputs[0]})`);
    if (ref.channel.length > MAX_DERIVATIVE_ORDER) throw new UserError(`--derivatives: '${name}' is of order ${ref.channel.length}; at most ${MAX_DERIVATIVE_ORDER} is supported`);
    return ref;
  });

  // The points, as blocks: a file's points are in memory already (its size is bounded);
  // grid points are generated block by block.
  let total: number;
  let block: (start: number, count: number) => Float64Array;
  if (opts.points !== undefined) {
    let X: Float64Array;
    try {
      X = readPointTable(opts.points, opts.points, inputs, []).X;
    } catch (e) {
      if (e instanceof FileReadError) throw new UserError(`--points: ${e.message}`, e.hint);
      throw e;
    }
    total = X.length / d;
    block = (start, count) => X.subarray(start * d, (start + count) * d);
  } else {
    const counts = parseGrid(opts.grid!, inputs);
    total = counts.reduce((p, c) => p * c, 1);
    block = (start, count) => gridBlock(problem.box, counts, start, count);
  }

  const outDir = dirname(resolve(opts.out));
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new UserError(`--out ${opts.out}: folder ${outDir} does not exist`, 'create it first');
  if (existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new UserError(`--out ${opts.out} is a directory`, 'give a file name, e.g. pred.csv');

  await selectBackend(opts.backend ?? (record.backend as BackendChoice));
  const model = new Mlp(mlpConfig(loaded.spec, problem), new Rng(loaded.spec.training.seed).derive('model'));
  let file: AtomicFileWriter | undefined;
  try {
    const vars = model.trainableVariables();
    const saved = checkpoint.variables.slice(0, vars.length);
    const misfit = vars.findIndex((v, k) => saved[k]?.length !== v.size);
    if (misfit >= 0) {
      throw new UserError(`cannot predict from ${opts.runDir}: spec.resolved.yaml no longer matches checkpoint.json (variable ${misfit} has ${saved[misfit]?.length ?? 0} values in the checkpoint, ${vars[misfit]!.size} in the model)`,
        'spec.resolved.yaml was edited after training; restore it, or train again');
    }
    writeVariables(vars, saved);
    const header = [...inputs, ...outputs, ...derivs.map((r) => derivName(r, inputs, outputs))];
    file = new AtomicFileWriter(opts.out);
    file.write(`${header.join(',')}\n`);
    for (let start = 0; start < total; start += BLOCK) {
      const X = block(start, Math.min(BLOCK, total - start));
      const cols = predictDerivatives(model, X, d, problem, derivs, undefined, stepOptions(loaded.spec));
      const lines: string[] = [];
      for (let i = 0; i < X.length / d; i++) {
        const cells: string[] = [];
        for (let j = 0; j < d; j++) cells.push(formatNumber(X[i * d + j]!));
        for (const c of cols) cells.push(formatNumber(c[i]!));
        lines.push(cells.join(','));
      }
      file.write(`${lines.join('\n')}\n`);
    }
    file.commit();
    file = undefined;
    return { out: opts.out, rows: total, columns: header, step: checkpoint.step };
  } finally {
    file?.abort();
    model.dispose();
    await closeBackend();
  }
}

/** `x=101,t=51` → counts in input order; every input once, counts whole numbers >= 1. */
export function parseGrid(text: string, inputs: string[]): number[] {
  const counts = new Map<string, number>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(\S+)$/.exec(part);
    if (!m) throw new UserError(`--grid: '${part}' is not NAME=COUNT`, `for example --grid ${inputs.map((x) => `${x}=51`).join(',')}`);
    const [, name, value] = m as unknown as [string, string, string];
    if (!inputs.includes(name)) throw new UserError(`--grid: '${name}' is not an input`, `inputs are ${inputs.join(', ')}`);
    if (counts.has(name)) throw new UserError(`--grid: '${name}' is given twice`);
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--grid: ${name}=${value}: the count must be a whole number >= 1`);
    counts.set(name, n);
  }
  const missing = inputs.filter((x) => !counts.has(x));
  if (missing.length) throw new UserError(`--grid: no count for ${missing.join(', ')}`, `give every input: ${inputs.map((x) => `${x}=51`).join(',')}`);
  const total = inputs.reduce((p, x) => p * counts.get(x)!, 1);
  if (total > MAX_PREDICT_POINTS) throw new UserError(`--grid: ${total} points is too many; at most ${MAX_PREDICT_POINTS}`, 'use fewer points per input');
  return inputs.map((x) => counts.get(x)!);
}
