/**
 * Loading a spec: YAML with source positions, `--set` overrides, schema validation.
 * Every mistake becomes a message located at FILE:LINE:COL (ARCHITECTURE.md, "Conventions").
 */
import { readFileSync } from 'node:fs';
import YAML, { isMap, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { specSchema, type Spec } from './schema.js';
import { SpecError, SpecErrors, UserError, UserErrors, didYouMean, type SpecPath } from './errors.js';
import { FileReadError, LIMITS, defaultGridCount, readTextFile } from './limits.js';
import { YamlSource, type Position } from './source.js';

export type { Position } from './source.js';

export interface LoadedSpec<S = Spec> {
  file: string;
  spec: S;
  /** file position of a spec path (and of a character inside a string value there) */
  locate(path: SpecPath, offset?: number, atKey?: boolean): Position;
  /** text to put before the message when the value came from `--set` (else undefined) */
  overrideFor(path: SpecPath): string | undefined;
}

export interface LoadOptions { set?: string[] }

/** Read, parse and validate a spec file (a regular file of at most LIMITS.specFileBytes). Throws UserError (with position) on any mistake. */
export function loadSpec(file: string, opts: LoadOptions = {}): LoadedSpec {
  const loaded = loadSpecWith(file, specSchema, opts) as LoadedSpec;
  return { ...loaded, spec: withDefaults(loaded.spec) };
}

/** A spec schema: a zod object (PDE specs: specSchema; `laaf train` specs: spec/train-schema.ts). */
type SpecSchema = z.ZodObject;

/** `loadSpec` against another schema (the spec of `laaf train`), without the PDE defaults. */
export function loadSpecWith<T extends SpecSchema>(file: string, schema: T, opts: LoadOptions = {}): LoadedSpec<z.infer<T>> {
  let source: string;
  try {
    source = readTextFile(file, LIMITS.specFileBytes, 'the spec file');
  } catch (e) {
    if (e instanceof FileReadError) throw new UserError(e.message, e.hint ?? 'check the path', { file });
    throw e;
  }
  return parseSpecWith(source, file, schema, opts);
}

export function parseSpec(source: string, file: string, opts: LoadOptions = {}): LoadedSpec {
  const loaded = parseSpecWith(source, file, specSchema, opts) as LoadedSpec;
  return { ...loaded, spec: withDefaults(loaded.spec) };
}

export function parseSpecWith<T extends SpecSchema>(source: string, file: string, schema: T, opts: LoadOptions = {}): LoadedSpec<z.infer<T>> {
  const yaml = new YamlSource(file, source);
  const doc = yaml.doc;
  const syntax = yaml.syntaxError();
  if (syntax) throw syntax;
  if (!isMap(doc.contents)) {
    throw new UserError('a spec is a YAML mapping (name:, inputs:, outputs:, equations:, ...)', undefined, yaml.pos(0));
  }

  const overrides = applyOverrides(doc, opts.set ?? []);
  const overrideFor = (path: SpecPath): string | undefined => {
    // The last --set of a key is the one that holds.
    for (const o of [...overrides].reverse()) if (o.path.every((k, i) => String(path[i]) === String(k))) return `--set ${o.text}`;
    return undefined;
  };
  const locate = (path: SpecPath, offset?: number, atKey = false): Position =>
    yaml.at(path, { atKey, ...(offset !== undefined ? { offset } : {}) });

  const result = schema.safeParse(yaml.toJS());
  if (!result.success) {
    const errors = issuesToErrors(result.error.issues, doc, schema);
    throw toUserError(errors.length === 1 ? errors[0]! : new SpecErrors(errors), { locate, overrideFor });
  }
  return { file, spec: result.data, locate, overrideFor };
}

/** Defaults that depend on other keys: output.grid gets a count for every input (README "Spec"). */
function withDefaults(spec: Spec): Spec {
  const inputs = Object.keys(spec.inputs);
  const given = spec.output.grid ?? {};
  const grid = Object.fromEntries(inputs.map((i) => [i, given[i] ?? defaultGridCount(inputs.length)]));
  for (const [k, v] of Object.entries(given)) if (!(k in grid)) grid[k] = v; // an unknown input: reported by the problem
  return { ...spec, output: { ...spec.output, grid } };
}

/** Turn a SpecError (or several) into a positioned UserError using a loaded spec's source map; several come out in file order. */
export function toUserError(e: SpecError, loaded: Pick<LoadedSpec, 'locate' | 'overrideFor'>): UserError {
  const one = (s: SpecError): UserError => {
    const via = loaded.overrideFor(s.path);
    if (via) return new UserError(`${via}: ${s.message}`, s.hint);
    return new UserError(s.message, s.hint, loaded.locate(s.path, s.offset, s.atKey));
  };
  if (!(e instanceof SpecErrors)) return one(e);
  const all = e.errors.map(one);
  const key = (u: UserError) => [u.where ? 1 : 0, u.where?.line ?? 0, u.where?.col ?? 0];
  all.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
  const seen = new Set<string>();
  const unique = all.filter((u) => {
    const k = `${u.where?.line}:${u.where?.col}:${u.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return unique.length === 1 ? unique[0]! : new UserErrors(unique);
}

// ---------------------------------------------------------------------------- overrides

interface Override { path: (string | number)[]; text: string }

function applyOverrides(doc: Document, sets: string[]): Override[] {
  const out: Override[] = [];
  for (const text of sets) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UserError(`--set ${text}: expected KEY=VALUE`, 'for example --set training.adam.steps=100');
    const key = text.slice(0, eq).trim();
    const path: (string | number)[] = key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    if (path.some((k) => k === '')) throw new UserError(`--set ${text}: '${key}' is not a dotted key`, 'for example --set model.hidden=[20,20]');
    // Every step of the path must be a mapping or a list (or missing, to be created).
    for (let i = 1; i < path.length; i++) {
      const above = doc.getIn(path.slice(0, i), true);
      if (above !== undefined && above !== null && !YAML.isCollection(above)) {
        const v = isScalar(above) ? above.value : above;
        throw new UserError(`--set ${text}: ${path.slice(0, i).join('.')} is ${JSON.stringify(v)}, not a mapping, so it has no key '${String(path[i])}'`,
          `set ${path.slice(0, i).join('.')} itself, e.g. --set ${path.slice(0, i).join('.')}=...`);
      }
    }
    let value: unknown;
    try {
      value = YAML.parse(text.slice(eq + 1));
    } catch {
      value = text.slice(eq + 1);
    }
    if (value === null) value = text.slice(eq + 1); // `--set x=` keeps an empty string
    try {
      doc.setIn(path, doc.createNode(value));
    } catch (e) {
      throw new UserError(`--set ${text}: ${(e as Error).message}`, 'check the dotted key');
    }
    out.push({ path, text });
  }
  return out;
}

// ---------------------------------------------------------------------------- schema issues

/**
 * One SpecError per independent schema issue (unknown keys one each). Where one value has
 * several issues (a union's alternatives), the deepest is the most specific and is kept.
 */
function issuesToErrors(issues: z.core.$ZodIssue[], doc: Document, schema: SpecSchema): SpecError[] {
  const byValue = new Map<string, z.core.$ZodIssue>();
  for (const issue of issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => ({ ...issue, keys: [k] })) : [issue];
    for (const i of keys) {
      const k = `${i.path.map(String).join('.')}|${i.code === 'unrecognized_keys' ? i.keys[0] : ''}`;
      if (!byValue.has(k)) byValue.set(k, i);
    }
  }
  return [...byValue.values()].map((i) => issueToError([i], doc, schema));
}

function issueToError(issues: z.core.$ZodIssue[], doc: Document, schema: SpecSchema): SpecError {
  // Prefer the deepest issue: it is the most specific.
  const issue = [...issues].sort((a, b) => b.path.length - a.path.length)[0]!;
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
  const where = path.length ? path.join('.') : 'spec';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const siblings = knownKeysAt(path, doc, schema);
      return new SpecError(`unknown key '${key}' in ${where}`, [...path, key],
        didYouMean(key, siblings) ?? (siblings.length ? `known keys: ${siblings.join(', ')}` : undefined), undefined, true);
    }
    case 'invalid_type': {
      const got = describe(doc.getIn(path));
      if (got === 'missing') return new SpecError(`${where} is required`, path.slice(0, -1), `add '${String(path.at(-1))}:'`);
      if (issue.expected === 'int') return new SpecError(`${where}: must be a whole number, got ${got}`, path);
      return new SpecError(`${where}: expected ${issue.expected}, got ${got}`, path);
    }
    case 'invalid_value':
      return new SpecError(`${where}: ${issue.message.replace(/^Invalid option: /, '')}`, path,
        typeof doc.getIn(path) === 'string' ? didYouMean(String(doc.getIn(path)), issue.values.map(String)) : undefined);
    case 'invalid_union': {
      const nested = issue.errors.flat();
      if (nested.length > 0) {
        const inner = issueToError(nested.map((i) => ({ ...i, path: [...path, ...i.path] })) as z.core.$ZodIssue[], doc, schema);
        return inner;
      }
      return new SpecError(`${where}: ${issue.message}`, path);
    }
    case 'invalid_key': {
      const inner = (issue as { issues?: { message: string }[] }).issues?.[0]?.message ?? issue.message;
      return new SpecError(`${where}: '${String(path.at(-1))}' is not a valid name: ${inner}`, path, undefined, undefined, true);
    }
    case 'too_small':
    case 'too_big':
      if (path[0] === 'inputs' && path.length === 2) return new SpecError(`${where}: expected a range [lo, hi]`, path, `for example ${String(path[1])}: [-1, 1]`);
      return new SpecError(`${where}: ${issue.message.replace(/^Too (small|big): /, '')}`, path);
    default:
      return new SpecError(`${where}: ${issue.message.replace(/^Invalid input: /, '')}`, path);
  }
}

function knownKeysAt(path: (string | number)[], doc: Document, schema: SpecSchema): string[] {
  if (path.length === 0) return Object.keys(schema.shape);
  // Walk the zod schema along the path to list the keys it accepts.
  let s: unknown = schema;
  for (const k of path) {
    s = unwrap(s);
    const shape = (s as { shape?: Record<string, unknown> }).shape;
    if (shape && typeof k === 'string' && k in shape) s = shape[k];
    else if ((s as { _zod?: { def?: { valueType?: unknown } } })._zod?.def?.valueType) s = (s as { _zod: { def: { valueType: unknown } } })._zod.def.valueType;
    else return [];
  }
  s = unwrap(s);
  const shape = (s as { shape?: Record<string, unknown> }).shape;
  void doc;
  return shape ? Object.keys(shape) : [];
}

function unwrap(s: unknown): unknown {
  for (let i = 0; i < 8; i++) {
    const def = (s as { _zod?: { def?: { type?: string; innerType?: unknown; options?: unknown[] } } })._zod?.def;
    if (!def) return s;
    if (def.type === 'default' || def.type === 'optional' || def.type === 'prefault') s = def.innerType;
    else if (def.type === 'union') s = def.options?.find((o) => (o as { shape?: unknown }).shape) ?? s;
    else return s;
    if (def.type === 'union') return s;
  }
  return s;
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (YAML.isMap(v) || (typeof v === 'object')) return 'a mapping';
  if (typeof v === 'string') return `text '${v}'`;
  return `${typeof v} ${String(v)}`;
}
