/**
 * A data set for `laaf train`: the training and test samples as float32 arrays, read
 * from IDX files or CSV, split, limited and scaled as the spec's `dataset:` says.
 * Mistakes are SpecErrors at the spec key that names the file (the CLI turns them into
 * FILE:LINE:COL), with the file and, for IDX, the byte offset in the message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { SpecError } from '../spec/errors.js';
import type { DataSource, TrainSpec } from '../spec/train-schema.js';
import { readPointTable } from '../problem/csv-data.js';
import { Rng } from '../domain/rng.js';
import { IdxError, readIdx, type IdxArray } from './idx.js';

/** The Debian package that installs the Fashion-MNIST IDX files (and the folder it puts them in). */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

export interface Samples {
  /** row-major [n, ...sampleShape] */
  x: Float32Array;
  /** classification: class index per sample; regression: [n, targets] */
  y: Float32Array;
  n: number;
}

export interface DataSet {
  task: 'classification' | 'regression';
  /** shape of one sample: [h, w, c] for images, [features] for tables */
  sampleShape: number[];
  /** classes (classification) or targets per sample (regression) */
  outputs: number;
  train: Samples;
  test?: Samples;
  /** how the inputs were scaled: x ← (x − shift) / scale, fitted on the training samples */
  scaling: { kind: string; shift: number[]; scale: number[] };
  /** where each part came from (summary.json) */
  sources: Record<string, string>;
}

interface Raw { x: Float64Array | Uint8Array; shape: number[]; y: Float64Array | Uint8Array; targets: number; n: number; uint8: boolean; from: string }

function resolvePath(file: string, baseDir: string): string {
  return isAbsolute(file) ? file : join(baseDir, file);
}

function missing(path: string, key: (string | number)[]): SpecError {
  const debian = path.startsWith(`${FASHION_MNIST_DIR}/`);
  return new SpecError(`data file ${path} does not exist`, key,
    debian ? `it comes with the Debian package ${FASHION_MNIST_PACKAGE}: sudo apt-get install ${FASHION_MNIST_PACKAGE}` : 'paths are relative to the spec file');
}

function idx(path: string, key: (string | number)[]): IdxArray {
  if (!existsSync(path)) throw missing(path, key);
  try {
    return readIdx(path);
  } catch (e) {
    if (e instanceof IdxError) throw new SpecError(e.message, key, 'is it an IDX file (MNIST format), complete and uncorrupted?');
    throw new SpecError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, key);
  }
}

function readSource(src: DataSource, path: (string | number)[], baseDir: string, task: DataSet['task']): Raw {
  const has = (k: keyof DataSource) => src[k] !== undefined;
  if (has('csv') === (has('images') || has('labels'))) {
    throw new SpecError(`${path.join('.')}: give either images: and labels: (IDX files) or csv: (a table)`, path);
  }
  if (has('csv')) return readCsv(src, path, baseDir);
  if (!has('images') || !has('labels')) throw new SpecError(`${path.join('.')}: IDX data needs both images: and labels:`, path);
  const imgPath = resolvePath(src.images!, baseDir);
  const labPath = resolvePath(src.labels!, baseDir);
  const img = idx(imgPath, [...path, 'images']);
  const lab = idx(labPath, [...path, 'labels']);
  const n = img.shape[0]!;
  if (lab.shape[0] !== n) {
    throw new SpecError(`${labPath} has ${lab.shape[0]} entries but ${imgPath} has ${n} samples`, [...path, 'labels'], 'the two files must describe the same samples');
  }
  if (task === 'classification' && lab.shape.length !== 1) throw new SpecError(`${labPath}: class labels are one number per sample, got dimensions ${lab.shape.join('×')}`, [...path, 'labels']);
  const shape = img.shape.length === 1 ? [1] : img.shape.length === 3 ? [...img.shape.slice(1), 1] : img.shape.slice(1);
  return { x: img.data, shape, y: lab.data, targets: lab.shape.slice(1).reduce((a, b) => a * b, 1), n, uint8: img.type === 'uint8', from: `${imgPath}, ${labPath}` };
}

function readCsv(src: DataSource, path: (string | number)[], baseDir: string): Raw {
  const file = resolvePath(src.csv!, baseDir);
  if (!existsSync(file)) throw missing(file, [...path, 'csv']);
  if (src.target === undefined) throw new SpecError(`${path.join('.')}: a CSV data set needs target: (the label or target column)`, path);
  const targets = typeof src.target === 'string' ? [src.target] : src.target;
  const header = (parse(readFileSync(file, 'utf8'), { to_line: 1, trim: true }) as string[][])[0] ?? [];
  // Columns the spec names but the header lacks: an error at the spec key that names them.
  for (const [key, names] of [['target', targets], ['features', src.features ?? []]] as const) {
    const absent = names.filter((c) => !header.includes(c));
    if (absent.length > 0) {
      throw new SpecError(`${file} has no column ${absent.map((c) => `'${c}'`).join(', ')}`, [...path, key], `its header has ${header.join(', ')}`);
    }
  }
  let features = src.features;
  if (!features) {
    features = header.filter((c) => !targets.includes(c));
    if (features.length === 0) throw new SpecError(`${file}: no input columns besides ${targets.join(', ')}`, [...path, 'csv']);
  }
  const t = readPointTable(file, file, features, targets);
  const y = new Float64Array(t.rows * targets.length);
  for (let r = 0; r < t.rows; r++) for (let k = 0; k < targets.length; k++) y[r * targets.length + k] = t.values[k]![r]!;
  return { x: t.X, shape: [features.length], y, targets: targets.length, n: t.rows, uint8: false, from: file };
}

function take(raw: Raw, rows: number[]): { x: Float32Array; y: Float64Array } {
  const d = raw.shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(rows.length * d);
  const y = new Float64Array(rows.length * raw.targets);
  rows.forEach((r, i) => {
    x.set(raw.x.subarray(r * d, (r + 1) * d), i * d);
    y.set(raw.y.subarray(r * raw.targets, (r + 1) * raw.targets), i * raw.targets);
  });
  return { x, y };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Read, split, check and scale the data set of a spec. `seed` drives a `split:` hold-out. Throws SpecError / UserError. */
export function loadDataSet(spec: TrainSpec, baseDir: string): DataSet {
  const ds = spec.dataset;
  const task = ds.task;
  const train = readSource(ds.train, ['dataset', 'train'], baseDir, task);
  let trainRows = range(ds.train.limit !== undefined ? Math.min(ds.train.limit, train.n) : train.n);
  let test: Raw | undefined;
  let testRows: number[] = [];
  if (ds.test && 'split' in ds.test) {
    const perm = new Rng(spec.training.seed).derive('split').shuffle([...trainRows]);
    const k = Math.round(ds.test.split * perm.length);
    if (k === 0 || k === perm.length) throw new SpecError(`dataset.test.split: ${ds.test.split} of ${perm.length} samples leaves an empty part`, ['dataset', 'test', 'split']);
    testRows = perm.slice(0, k).sort((a, b) => a - b);
    trainRows = perm.slice(k).sort((a, b) => a - b);
    test = train;
  } else if (ds.test) {
    test = readSource(ds.test, ['dataset', 'test'], baseDir, task);
    testRows = range(ds.test.limit !== undefined ? Math.min(ds.test.limit, test.n) : test.n);
    if (test.shape.join('×') !== train.shape.join('×')) {
      throw new SpecError(`test samples have shape ${test.shape.join('×')}, training samples ${train.shape.join('×')}`, ['dataset', 'test'], 'both parts must come from the same kind of file');
    }
  }
  const tr = take(train, trainRows);
  const te = test ? take(test, testRows) : undefined;

  let outputs: number;
  if (task === 'classification') {
    const check = (y: Float64Array, part: 'train' | 'test', limit: number | undefined): number => {
      let max = -1;
      for (let i = 0; i < y.length; i++) {
        const v = y[i]!;
        if (!Number.isInteger(v) || v < 0) throw new SpecError(`label ${v} of sample ${i} in ${part === 'test' && test === train ? 'the held-out part' : part} is not a class index (0, 1, 2, ...)`, ['dataset', part === 'test' && test === train ? 'train' : part, ds.train.csv ? 'csv' : 'labels']);
        if (limit !== undefined && v >= limit) {
          throw new SpecError(`label ${v} of sample ${i} in ${part} is outside the ${limit} classes (0..${limit - 1})`, ['dataset', part === 'test' && test === train ? 'train' : part, ds.train.csv ? 'csv' : 'labels'], 'raise dataset.classes, or check the labels file');
        }
        max = Math.max(max, v);
      }
      return max;
    };
    const maxTrain = check(tr.y, 'train', ds.classes);
    outputs = ds.classes ?? maxTrain + 1;
    if (te) check(te.y, 'test', outputs);
    if (outputs < 2) throw new SpecError(`classification needs at least 2 classes, the training labels have ${outputs}`, ['dataset', 'classes']);
  } else {
    outputs = train.targets;
  }

  // Scaling fitted on the training samples: one (shift, scale) for images, one per column for tables.
  const d = train.shape.reduce((a, b) => a * b, 1);
  const perFeature = train.shape.length === 1;
  const groups = perFeature ? d : 1;
  const shift = new Array<number>(groups).fill(0);
  const scale = new Array<number>(groups).fill(1);
  const nTr = trainRows.length;
  if (nTr === 0) throw new SpecError('the training set is empty', ['dataset', 'train']);
  const group = (j: number) => (perFeature ? j : 0);
  if (ds.scaling === 'unit') {
    if (train.uint8) scale.fill(255);
    else {
      const lo = new Array<number>(groups).fill(Infinity);
      const hi = new Array<number>(groups).fill(-Infinity);
      for (let i = 0; i < tr.x.length; i++) {
        const g = group(i % d);
        lo[g] = Math.min(lo[g]!, tr.x[i]!);
        hi[g] = Math.max(hi[g]!, tr.x[i]!);
      }
      for (let g = 0; g < groups; g++) {
        shift[g] = lo[g]!;
        scale[g] = hi[g]! > lo[g]! ? hi[g]! - lo[g]! : 1;
      }
    }
  } else if (ds.scaling === 'standard') {
    const sum = new Array<number>(groups).fill(0);
    const sq = new Array<number>(groups).fill(0);
    for (let i = 0; i < tr.x.length; i++) sum[group(i % d)]! += tr.x[i]!;
    const per = perFeature ? nTr : nTr * d;
    for (let g = 0; g < groups; g++) shift[g] = sum[g]! / per;
    for (let i = 0; i < tr.x.length; i++) {
      const g = group(i % d);
      sq[g]! += (tr.x[i]! - shift[g]!) ** 2;
    }
    for (let g = 0; g < groups; g++) scale[g] = Math.sqrt(sq[g]! / per) || 1;
  }
  const apply = (x: Float32Array): Float32Array => {
    for (let i = 0; i < x.length; i++) {
      const g = group(i % d);
      x[i] = (x[i]! - shift[g]!) / scale[g]!;
    }
    return x;
  };
  const sources: Record<string, string> = { train: train.from };
  if (test) sources['test'] = test === train ? `${(ds.test as { split: number }).split} of train, held out` : test.from;
  return {
    task, sampleShape: train.shape, outputs,
    train: { x: apply(tr.x), y: Float32Array.from(tr.y), n: nTr },
    ...(te ? { test: { x: apply(te.x), y: Float32Array.from(te.y), n: testRows.length } } : {}),
    scaling: { kind: ds.scaling, shift, scale },
    sources,
  };
}

