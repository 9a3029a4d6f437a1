/**
 * Loading a spec: YAML with source positions, `--set` overrides, schema validation.
 * Every mistake becomes a message located at FILE:LINE:COL (ARCHITECTURE.md, "Conventions").
 */
import { readFileSync } from 'node:fs';
import YAML, { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { specSchema, type Spec } from './schema.js';
import { SpecError, UserError, didYouMean, type SpecPath } from './errors.js';

export interface Position { file: string; line: number; col: number }

export interface LoadedSpec {
  file: string;
  spec: Spec;
  /** file position of a spec path (and of a character inside a string value there) */
  locate(path: SpecPath, offset?: number, atKey?: boolean): Position;
  /** text to put before the message when the value came from `--set` (else undefined) */
  overrideFor(path: SpecPath): string | undefined;
}

export interface LoadOptions { set?: string[] }

/** Read, parse and validate a spec file. Throws UserError (with position) on any mistake. */
export function loadSpec(file: string, opts: LoadOptions = {}): LoadedSpec {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read spec ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'check the path');
  }
  return parseSpec(source, file, opts);
}

export function parseSpec(source: string, file: string, opts: LoadOptions = {}): LoadedSpec {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const posOf = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const p = posOf(e.pos[0]);
    throw new UserError(`YAML syntax: ${firstLine(e.message)}`, 'check indentation, colons and quotes', p);
  }
  if (!isMap(doc.contents)) {
    throw new UserError('a spec is a YAML mapping (name:, inputs:, outputs:, equations:, ...)', undefined, posOf(0));
  }

  const overrides = applyOverrides(doc, opts.set ?? []);
  const overrideFor = (path: SpecPath): string | undefined => {
    for (const o of overrides) if (o.path.every((k, i) => String(path[i]) === String(k))) return `--set ${o.text}`;
    return undefined;
  };

  const locate = (path: SpecPath, offset?: number, atKey = false): Position => {
    const { node, keyNode } = findNode(doc, path);
    if (atKey && keyNode?.range) return posOf(keyNode.range[0]);
    if (!node?.range) return keyNode?.range ? posOf(keyNode.range[0]) : posOf(0);
    if (offset !== undefined && isScalar(node) && typeof node.value === 'string') {
      return posOf(offsetInScalar(source, node, offset));
    }
    return posOf(node.range[0]);
  };

  const result = specSchema.safeParse(doc.toJS());
  if (!result.success) {
    const err = issueToError(result.error.issues, doc);
    throw toUserError(err, { locate, overrideFor });
  }
  return { file, spec: result.data, locate, overrideFor };
}

/** Turn a SpecError into a positioned UserError using a loaded spec's source map. */
export function toUserError(e: SpecError, loaded: Pick<LoadedSpec, 'locate' | 'overrideFor'>): UserError {
  const via = loaded.overrideFor(e.path);
  if (via) return new UserError(`${via}: ${e.message}`, e.hint);
  return new UserError(e.message, e.hint, loaded.locate(e.path, e.offset, e.atKey));
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
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
    let value: unknown;
    try {
      value = YAML.parse(text.slice(eq + 1));
    } catch {
      value = text.slice(eq + 1);
    }
    if (value === null) value = text.slice(eq + 1); // `--set x=` keeps an empty string
    doc.setIn(path, doc.createNode(value));
    out.push({ path, text });
  }
  return out;
}

// ---------------------------------------------------------------------------- positions

function findNode(doc: Document, path: SpecPath): { node?: YamlNode; keyNode?: YamlNode } {
  let node: unknown = doc.contents;
  let keyNode: YamlNode | undefined;
  for (const k of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(k));
      if (!pair) return { node: node as YamlNode, keyNode };
      keyNode = pair.key as YamlNode;
      node = pair.value ?? undefined;
      if (node === undefined) return { node: keyNode, keyNode };
    } else if (isSeq(node) && typeof k === 'number' && node.items[k] !== undefined) {
      keyNode = undefined;
      node = node.items[k];
    } else {
      return { node: node as YamlNode, keyNode };
    }
  }
  return { node: node as YamlNode, keyNode };
}

/** Source offset of character `offset` of a string scalar's value. */
function offsetInScalar(source: string, node: YamlNode & { type?: string; value?: unknown }, offset: number): number {
  const [start, end] = node.range!;
  const type = (node as { type?: string }).type;
  if (type === 'PLAIN') return start + offset;
  if (type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE') return start + 1 + offset;
  // Block scalars: find the value's line inside the node's source and the column within it.
  const value = String(node.value);
  const before = value.slice(0, offset);
  const lineIdx = before.split('\n').length - 1;
  const colInLine = offset - (before.lastIndexOf('\n') + 1);
  const lineText = value.split('\n')[lineIdx] ?? '';
  const raw = source.slice(start, end);
  const at = lineText.length > 0 ? raw.indexOf(lineText) : -1;
  return at >= 0 ? start + at + colInLine : start;
}

// ---------------------------------------------------------------------------- schema issues

const KNOWN_KEYS: Record<string, string[]> = {
  '': Object.keys(specSchema.shape),
};

function issueToError(issues: z.core.$ZodIssue[], doc: Document): SpecError {
  // Prefer the deepest issue: it is the most specific.
  const issue = [...issues].sort((a, b) => b.path.length - a.path.length)[0]!;
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
  const where = path.length ? path.join('.') : 'spec';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const siblings = knownKeysAt(path, doc);
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
        const inner = issueToError(nested.map((i) => ({ ...i, path: [...path, ...i.path] })) as z.core.$ZodIssue[], doc);
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

function knownKeysAt(path: (string | number)[], doc: Document): string[] {
  if (path.length === 0) return KNOWN_KEYS['']!;
  // Walk the zod schema along the path to list the keys it accepts.
  let s: unknown = specSchema;
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
