/**
 * A sweep: a base spec, overrides for every run, variants from grids (Cartesian
 * products) and zipped lists (walked together), and seeds. Read from a sweep file
 * (YAML, every mistake located FILE:LINE:COL) or from command-line flags.
 *
 *   name: burgers-activations          # optional (default: the file name)
 *   spec: ../../problems/burgers.yaml  # the base spec, relative to this file
 *   set: { training.adam.steps: 2000 } # overrides for every run
 *   grid:                              # one block, or a list of blocks (their union)
 *     - model.adaptive.mode: [none]
 *     - model.adaptive.n: [1, 5, 10]   # KEY: [values] — Cartesian product within a block
 *       zip:                           # lists walked together, one axis of the block
 *         label: [GAAF, L-LAAF, N-LAAF]
 *         model.adaptive.mode: [global, layer, neuron]
 *         model.slope_recovery: [0, 1, 1]
 *   zip: { ... }                       # a zip group crossed with every block
 *   seeds: 5                           # or a list of seeds: [1, 2, 3]
 *   thresholds: { rel_l2: [0.5, 0.1] } # steps to reach these values (any history column)
 */
import { basename, dirname, extname, isAbsolute, join, relative } from 'node:path';
import YAML, { isMap, isScalar } from 'yaml';
import { UserError, didYouMean } from '../spec/errors.js';
import { FileReadError, LIMITS, readTextFile } from '../spec/limits.js';
import { YamlSource, type Position } from '../spec/source.js';
import { BAND_WIDTHS, type BandWidth } from '../plot/band.js';

export type Where = Position | { flag: string };

/** One override: a dotted spec path and a YAML value, with where it was written. */
export interface Override { path: string; value: unknown; where: Where; keyWhere?: Where }

/** An axis of a block: a list of entries, each a set of overrides and a label part. */
export interface Axis { entries: { overrides: Override[]; label?: string }[] }

export interface SweepDef {
  name: string;
  about?: string;
  /** the sweep file, when there is one */
  file?: string;
  /** the base spec, as a path usable from the current directory */
  specFile: string;
  /** overrides for every run */
  set: Override[];
  /** variants: the union over blocks of the product of each block's axes */
  blocks: Axis[][];
  seeds: { count: number } | { list: number[] };
  thresholds: Record<string, number[]>;
  /** where each threshold was written */
  thresholdWhere?: Record<string, Where>;
  /** how the sweep's plots are drawn */
  plots?: { band: BandWidth };
}

export interface FlagInput {
  grid?: string[];
  zip?: string[];
  set?: string[];
  seeds?: string;
  threshold?: string[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const TOP_KEYS = ['name', 'about', 'spec', 'set', 'grid', 'zip', 'seeds', 'thresholds', 'plots'];

/** Does this YAML file look like a sweep file (a mapping with `spec:`) rather than a problem spec? */
export function isSweepFile(file: string): boolean {
  const doc = YAML.parseDocument(readYaml(file, 'the file'), { prettyErrors: false });
  return isMap(doc.contents) && doc.contents.items.some((p) => isScalar(p.key) && p.key.value === 'spec');
}

/** A sweep or spec file's text: a regular file of at most LIMITS.specFileBytes. */
function readYaml(file: string, what: string): string {
  try {
    return readTextFile(file, LIMITS.specFileBytes, what);
  } catch (e) {
    if (e instanceof FileReadError) throw new UserError(e.message, e.hint ?? 'check the path', { file });
    throw e;
  }
}

// ---------------------------------------------------------------------------- sweep files

/** The sweep file with source positions (spec/source.ts) and a way to fail at a path. */
class Located extends YamlSource {
  fail(path: (string | number)[], message: string, hint?: string, atKey = false): never {
    throw new UserError(message, hint, this.at(path, { atKey }));
  }
}

export function loadSweepFile(file: string): SweepDef {
  const L: Located = new Located(file, readYaml(file, 'the sweep file'));
  const syntax = L.syntaxError();
  if (syntax) throw syntax;
  const top = L.toJS() as Record<string, unknown>;
  if (top === null || typeof top !== 'object' || Array.isArray(top)) L.fail([], 'a sweep file is a YAML mapping (spec:, grid:, seeds:, ...)');
  for (const k of Object.keys(top)) {
    if (!TOP_KEYS.includes(k)) L.fail([k], `unknown key '${k}' in the sweep file`, didYouMean(k, TOP_KEYS) ?? `known keys: ${TOP_KEYS.join(', ')}`, true);
  }
  const name = top['name'] ?? basename(file, extname(file));
  if (typeof name !== 'string' || !NAME_RE.test(name)) L.fail(['name'], 'name: use letters, digits, - _ .');
  const about = top['about'];
  if (about !== undefined && typeof about !== 'string') L.fail(['about'], 'about: expected text');
  const spec = top['spec'];
  if (typeof spec !== 'string' || spec.length === 0) L.fail(['spec'], 'spec: expected the path of the base problem spec', 'for example spec: ../../problems/burgers.yaml');
  const specFile = isAbsolute(spec) ? spec : relativeOrSame(join(dirname(file), spec));

  const set = overridesOf(L, top['set'], ['set'], false);
  const blocks: Axis[][] = [];
  const grid = top['grid'];
  if (grid !== undefined) {
    if (Array.isArray(grid)) {
      if (grid.length === 0) L.fail(['grid'], 'grid: an empty list', 'give one block (KEY: [values]) or a list of blocks');
      grid.forEach((b, i) => blocks.push(blockOf(L, b, ['grid', i])));
    } else {
      blocks.push(blockOf(L, grid, ['grid']));
    }
  }
  const crossed: Axis[] = [];
  const zip = top['zip'];
  if (zip !== undefined) {
    if (Array.isArray(zip)) zip.forEach((z, i) => crossed.push(zipOf(L, z, ['zip', i])));
    else crossed.push(zipOf(L, zip, ['zip']));
  }
  return {
    name,
    ...(about !== undefined ? { about } : {}),
    file,
    specFile,
    set,
    blocks: crossBlocks(blocks, crossed),
    seeds: seedsOf(top['seeds'], (msg, hint) => L.fail(['seeds'], msg, hint)),
    thresholds: thresholdsOf(L, top['thresholds']),
    thresholdWhere: Object.fromEntries(Object.keys(thresholdsOf(L, top['thresholds'])).map((k) => [k, L.at(['thresholds', k], { atKey: true })])),
    ...(top['plots'] !== undefined ? { plots: plotsOf(L, top['plots']) } : {}),
  };
}

/** `plots: { band: 1std | 2std }`: the width of the convergence bands and final-value whiskers. */
function plotsOf(L: Located, v: unknown): { band: BandWidth } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) L.fail(['plots'], 'plots: expected a mapping', 'for example plots: { band: 2std }');
  for (const k of Object.keys(v as object)) {
    if (k !== 'band') L.fail(['plots', k], `unknown key '${k}' in plots`, 'known keys: band', true);
  }
  const band = (v as Record<string, unknown>)['band'] ?? '1std';
  if (!BAND_WIDTHS.includes(band as BandWidth)) L.fail(['plots', 'band'], `plots.band: expected ${BAND_WIDTHS.join(' or ')}`, '1std: mean ± 1 sample std (the default); 2std: mean ± 2 sample std, as the papers draw it');
  return { band: band as BandWidth };
}

function relativeOrSame(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith('..') || r === '' ? p : r;
}

function crossBlocks(blocks: Axis[][], crossed: Axis[]): Axis[][] {
  const base = blocks.length > 0 ? blocks : [[]];
  return base.map((b) => [...b, ...crossed]);
}

function checkPath(L: Located, key: string, path: (string | number)[]): void {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.([A-Za-z0-9_-]+))*$/.test(key)) {
    L.fail(path, `'${key}' is not a spec path`, 'write dotted spec paths, e.g. model.adaptive.mode', true);
  }
  if (key === 'training.seed') L.fail(path, 'training.seed is set by the sweep', "use 'seeds: N' (derived seeds) or 'seeds: [1, 2, 3]'", true);
}

function overridesOf(L: Located, v: unknown, path: (string | number)[], _lists: boolean): Override[] {
  if (v === undefined) return [];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) L.fail(path, `${path.join('.')}: expected a mapping of spec paths to values`, 'for example set: { training.adam.steps: 500 }');
  return Object.entries(v as Record<string, unknown>).map(([k, value]) => {
    checkPath(L, k, [...path, k]);
    return { path: k, value, where: L.at([...path, k]), keyWhere: L.at([...path, k], { atKey: true }) };
  });
}

function listAt(L: Located, v: unknown, path: (string | number)[]): unknown[] {
  if (!Array.isArray(v) || v.length === 0) {
    L.fail(path, `${String(path.at(-1))}: expected a non-empty list of values`, `for example ${String(path.at(-1))}: [1, 5, 10]`);
  }
  return v;
}

function blockOf(L: Located, b: unknown, path: (string | number)[]): Axis[] {
  if (b === null || typeof b !== 'object' || Array.isArray(b)) L.fail(path, 'a grid block is a mapping of spec paths to lists of values', 'for example model.adaptive.n: [1, 5, 10]');
  const axes: Axis[] = [];
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) {
    if (k === 'zip') {
      if (Array.isArray(v)) v.forEach((z, i) => axes.push(zipOf(L, z, [...path, 'zip', i])));
      else axes.push(zipOf(L, v, [...path, 'zip']));
      continue;
    }
    if (k === 'label') L.fail([...path, k], 'label belongs in a zip group', 'zip: { label: [a, b], KEY: [v1, v2] }', true);
    checkPath(L, k, [...path, k]);
    const values = listAt(L, v, [...path, k]);
    const keyWhere = L.at([...path, k], { atKey: true });
    axes.push({ entries: values.map((value, i) => ({ overrides: [{ path: k, value, where: L.at([...path, k, i]), keyWhere }] })) });
  }
  if (axes.length === 0) L.fail(path, 'an empty grid block', 'give at least one KEY: [values]');
  return axes;
}

function zipOf(L: Located, z: unknown, path: (string | number)[]): Axis {
  if (z === null || typeof z !== 'object' || Array.isArray(z)) L.fail(path, 'a zip group is a mapping of spec paths to lists of equal length');
  const entries = Object.entries(z as Record<string, unknown>);
  if (entries.length === 0) L.fail(path, 'an empty zip group');
  let n = -1;
  let firstKey = '';
  const lists: [string, unknown[]][] = [];
  for (const [k, v] of entries) {
    if (k !== 'label') checkPath(L, k, [...path, k]);
    const list = listAt(L, v, [...path, k]);
    if (n < 0) {
      n = list.length;
      firstKey = k;
    } else if (list.length !== n) {
      L.fail([...path, k], `zip: ${k} has ${list.length} values but ${firstKey} has ${n}`, 'zipped lists are walked together and must have equal lengths');
    }
    lists.push([k, list]);
  }
  const labels = lists.find(([k]) => k === 'label')?.[1];
  if (labels && labels.some((l) => typeof l !== 'string' && typeof l !== 'number')) L.fail([...path, 'label'], 'label: expected a list of names');
  return {
    entries: Array.from({ length: n }, (_, i) => ({
      overrides: lists.filter(([k]) => k !== 'label').map(([k, list]) => ({ path: k, value: list[i], where: L.at([...path, k, i]), keyWhere: L.at([...path, k], { atKey: true }) })),
      ...(labels ? { label: String(labels[i]) } : {}),
    })),
  };
}

function seedsOf(v: unknown, fail: (msg: string, hint?: string) => never): SweepDef['seeds'] {
  if (v === undefined) return { count: 1 };
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1) fail('seeds: expected a whole number >= 1 (how many seeds) or a list of seeds');
    return { count: v };
  }
  if (Array.isArray(v) && v.length > 0 && v.every((s) => Number.isInteger(s))) {
    if (new Set(v).size !== v.length) fail('seeds: a seed is listed twice');
    return { list: v as number[] };
  }
  return fail('seeds: expected a whole number >= 1 (how many seeds) or a list of whole numbers', 'for example seeds: 5, or seeds: [1, 2, 3]');
}

function thresholdsOf(L: Located, v: unknown): Record<string, number[]> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) L.fail(['thresholds'], 'thresholds: expected a mapping of history columns to values', 'for example thresholds: { rel_l2: [0.5, 0.1], loss: [1e-3] }');
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(v as Record<string, unknown>)) {
    const list = Array.isArray(t) ? t : [t];
    if (list.length === 0 || list.some((x) => typeof x !== 'number' || !Number.isFinite(x))) L.fail(['thresholds', k], `thresholds.${k}: expected a number or a list of numbers`);
    out[k] = list as number[];
  }
  return out;
}

// ---------------------------------------------------------------------------- flags

/** Parse `KEY=V1,V2,...` (the values read as one YAML flow list, so `[20,20],[50,50]` works). */
function flagList(flag: string, text: string): { key: string; values: unknown[] } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`${flag} ${text}: expected KEY=V1,V2,...`, `for example ${flag} model.adaptive.n=1,5,10`);
  const key = text.slice(0, eq).trim();
  let values: unknown;
  try {
    values = YAML.parse(`[${text.slice(eq + 1)}]`);
  } catch {
    throw new UserError(`${flag} ${text}: cannot read the values as a list`, 'separate values by commas; quote values that contain commas');
  }
  if (!Array.isArray(values) || values.length === 0) throw new UserError(`${flag} ${text}: no values`, `for example ${flag} ${key}=1,5,10`);
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.([A-Za-z0-9_-]+))*$/.test(key)) throw new UserError(`${flag} ${text}: '${key}' is not a spec path`, 'write dotted spec paths, e.g. model.adaptive.mode');
  if (key === 'training.seed') throw new UserError(`${flag} ${text}: training.seed is set by the sweep`, 'use --seeds N or --seeds 1,2,3');
  return { key, values };
}

/** Axes, overrides, seeds and thresholds from flags (added to a sweep file's, or the whole sweep for a plain spec). */
export function applyFlags(def: SweepDef, f: FlagInput): SweepDef {
  const axes: Axis[] = [];
  for (const g of f.grid ?? []) {
    const { key, values } = flagList('--grid', g);
    axes.push({ entries: values.map((value) => ({ overrides: [{ path: key, value, where: { flag: `--grid ${g}` } }] })) });
  }
  if (f.zip?.length) {
    const lists = f.zip.map((z) => ({ z, ...flagList('--zip', z) }));
    const n = lists[0]!.values.length;
    for (const l of lists) {
      if (l.values.length !== n) throw new UserError(`--zip ${l.z}: ${l.values.length} values, but --zip ${lists[0]!.z} has ${n}`, 'zipped lists are walked together and must have equal lengths');
    }
    axes.push({ entries: Array.from({ length: n }, (_, i) => ({ overrides: lists.map((l) => ({ path: l.key, value: l.values[i], where: { flag: `--zip ${l.z}` } })) })) });
  }
  const set = [...def.set];
  for (const s of f.set ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${s}: expected KEY=VALUE`, 'for example --set training.adam.steps=100');
    const key = s.slice(0, eq).trim();
    if (key === 'training.seed') throw new UserError(`--set ${s}: training.seed is set by the sweep`, 'use --seeds N or --seeds 1,2,3');
    let value: unknown;
    try {
      value = YAML.parse(s.slice(eq + 1));
    } catch {
      value = s.slice(eq + 1);
    }
    set.push({ path: key, value: value ?? s.slice(eq + 1), where: { flag: `--set ${s}` } });
  }
  let seeds = def.seeds;
  if (f.seeds !== undefined) {
    const text = f.seeds.trim();
    const fail = (msg: string): never => { throw new UserError(`--seeds ${f.seeds}: ${msg}`, 'for example --seeds 5 (derived seeds) or --seeds 1,2,3'); };
    if (/^\d+$/.test(text)) seeds = seedsOf(Number(text), fail);
    else seeds = seedsOf(text.split(',').map((x) => (/^-?\d+$/.test(x.trim()) ? Number(x.trim()) : NaN)), fail);
  }
  const thresholds = { ...def.thresholds };
  const thresholdWhere = { ...def.thresholdWhere };
  for (const t of f.threshold ?? []) {
    const { key, values } = flagList('--threshold', t);
    if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new UserError(`--threshold ${t}: expected numbers`, 'for example --threshold rel_l2=0.5,0.1');
    thresholds[key] = values as number[];
    thresholdWhere[key] = { flag: `--threshold ${t}` };
  }
  return { ...def, set, blocks: axes.length ? def.blocks.map((b) => [...b, ...axes]) : def.blocks, seeds, thresholds, thresholdWhere };
}

/** The sweep of a plain problem spec: everything from flags. */
export function sweepOfSpec(specFile: string, specName: string): SweepDef {
  return { name: `${specName}-sweep`, specFile, set: [], blocks: [[]], seeds: { count: 1 }, thresholds: {} };
}
