/**
 * `laaf predict`: a trained model (from a run's checkpoint.json) evaluated at points
 * from a CSV file or on a grid, with derivatives of the outputs through the jets.
 * Every input is checked before anything is written; the CSV is written atomically.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../spec/errors.js';
import { ExprError, derivName, parseDerivativeName, type DerivRef } from '../expr/index.js';
import { grid as makeGrid } from '../domain/sampling.js';
import { Rng } from '../domain/rng.js';
import { Mlp } from '../nn/mlp.js';
import { readPointTable } from '../problem/csv-data.js';
import { predictDerivatives } from '../train/evaluate.js';
import { writeVariables } from '../train/flat.js';
import { csvText, writeFileAtomic } from '../io/files.js';
import { selectBackend, type BackendChoice } from '../backend/select.js';
import { mlpConfig, openRun, stepOptions } from './solve.js';

/** Highest derivative order the activations' towers provide. */
const MAX_ORDER = 4;

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
    if (ref.channel.length > MAX_ORDER) throw new UserError(`--derivatives: '${name}' is of order ${ref.channel.length}; at most ${MAX_ORDER} is supported`);
    return ref;
  });

  let X: Float64Array;
  if (opts.points !== undefined) {
    X = readPointTable(opts.points, opts.points, inputs, []).X;
  } else {
    X = makeGrid(problem.box, parseGrid(opts.grid!, inputs));
  }

  const outDir = dirname(resolve(opts.out));
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new UserError(`--out ${opts.out}: folder ${outDir} does not exist`, 'create it first');
  if (existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new UserError(`--out ${opts.out} is a directory`, 'give a file name, e.g. pred.csv');

  await selectBackend(opts.backend ?? (record.backend as BackendChoice));
  const model = new Mlp(mlpConfig(loaded.spec, problem), new Rng(loaded.spec.training.seed).derive('model'));
  try {
    const vars = model.trainableVariables();
    writeVariables(vars, checkpoint.variables.slice(0, vars.length));
    const cols = predictDerivatives(model, X, d, problem, derivs, undefined, stepOptions(loaded.spec));
    const header = [...inputs, ...outputs, ...derivs.map((r) => derivName(r, inputs, outputs))];
    const n = X.length / d;
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) rows.push([...X.subarray(i * d, (i + 1) * d), ...cols.map((c) => c[i]!)]);
    writeFileAtomic(opts.out, csvText(header, rows));
    return { out: opts.out, rows: n, columns: header, step: checkpoint.step };
  } finally {
    model.dispose();
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
  if (total > 50_000_000) throw new UserError(`--grid: ${total} points is too many`, 'use fewer points per input');
  return inputs.map((x) => counts.get(x)!);
}
