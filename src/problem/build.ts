/**
 * From a validated spec to a Problem: the box, constant values, compiled residuals
 * of every equation and condition (each a named loss term on its own point set),
 * the derivative channels the network must supply, and the reference solution.
 * Mistakes in expressions become SpecErrors pointing inside the offending string.
 */
import { isAbsolute, join } from 'node:path';
import type { Spec, ConditionSpec, DataSpec } from '../spec/schema.js';
import { SpecError, SpecErrorCollector, type SpecPath } from '../spec/errors.js';
import { channelCount, checkResources, defaultGridCount } from '../spec/limits.js';
import {
  ExprError, compileConstant, compileEquation, compileExpr, constantOf, numberOps, splitEquation,
  type Compiled, type DerivRef, type SymbolTable,
} from '../expr/index.js';
import { allFaces, faceValue, type Box, type Face } from '../domain/box.js';
import { grid as makeGrid, sampleBox, sampleFaces } from '../domain/sampling.js';
import { Rng } from '../domain/rng.js';
import { readPointTable } from './csv-data.js';
import { finiteReference, makeReference, type Reference } from './reference.js';
import { atKey } from './csv-data.js';
import { located } from './located.js';


interface TermBase {
  /** the loss column name */
  name: string;
  weight: number;
}

/** An equation on the interior points. */
export interface EquationTerm extends TermBase { kind: 'equation'; residual: Compiled; points: number }
/** A condition on faces of the box. */
export interface FaceTerm extends TermBase { kind: 'condition'; residual: Compiled; faces: Face[]; points: number }
/** A condition at given points. */
export interface PointTerm extends TermBase { kind: 'point'; residual: Compiled; X: Float64Array }
/** Opposite faces of input `dim` agree in every `match` expression. Its point block is
 *  [lo-face points; the same points moved to the hi face]. */
export interface PeriodicTerm extends TermBase { kind: 'periodic'; dim: number; match: Compiled[]; points: number }
/** Outputs fitted to fixed targets. */
export interface DataTerm extends TermBase { kind: 'data'; X: Float64Array; outputs: number[]; targets: Float64Array[] }

export type Term = EquationTerm | FaceTerm | PointTerm | PeriodicTerm | DataTerm;

export interface Parameter {
  name: string;
  init: number;
  bounds?: [number, number];
  trueValue?: number;
}

export interface Problem {
  name: string;
  inputs: string[];
  outputs: string[];
  box: Box;
  constants: Record<string, number>;
  /** trainable unknowns (inverse problems), in spec order */
  parameters: Parameter[];
  terms: Term[];
  /** every output derivative any term uses (the network's jet channels derive from these) */
  derivs: DerivRef[];
  reference?: Reference;
  /**
   * Hard constraints: per output, an expression in the inputs, constants and the raw
   * network outputs (named by `rawOutputNames`) that replaces the network's output; null = identity.
   */
  transforms: (Compiled | null)[];
  /** evaluation grid counts per input (solution.csv) */
  gridCounts: number[];
  samplingMethod: Spec['sampling']['method'];
}

/** Names of the raw network outputs inside transforms: N<output>, and N alone for a single output. */
export function rawOutputNames(outputs: string[]): string[] {
  return outputs.length === 1 ? [`N${outputs[0]}`, 'N'] : outputs.map((o) => `N${o}`);
}

export interface BuildOptions {
  /** folder that relative file paths in the spec are resolved against (the spec's folder) */
  baseDir?: string;
}

/** Compile a spec. Throws SpecError (or UserError for data files) on any semantic mistake. */
export function buildProblem(spec: Spec, opts: BuildOptions = {}): Problem {
  const baseDir = opts.baseDir ?? '.';
  const inputs = Object.keys(spec.inputs);
  const outputs = [...spec.outputs];
  if (inputs.length === 0) throw new SpecError('at least one input is needed', ['inputs'], 'for example inputs: { x: [-1, 1] }');
  checkNames(spec, inputs, outputs);

  // Independent mistakes are collected and reported together; a step that needs an
  // earlier one's result is skipped when that failed.
  const errors = new SpecErrorCollector();
  errors.attempt(() => checkNames(spec, inputs, outputs));
  const constants = resolveConstants(spec.constants, inputs, outputs, errors);
  const parameters = errors.attempt(() => resolveParameters(spec)) ?? [];
  const box = errors.attempt(() => resolveBox(spec, inputs, constants));
  const table: SymbolTable = { inputs, outputs, constants: new Set(Object.keys(spec.constants)), parameters: Object.keys(spec.parameters) };
  const involves = (c: Compiled, what: string, path: SpecPath) => {
    if (c.derivs.length === 0) throw new SpecError(`${what} does not involve any output (${outputs.join(', ')})`, path);
    return c;
  };

  const terms: Term[] = [];
  for (const [name, eq] of Object.entries(spec.equations)) {
    errors.attempt(() => {
      const text = typeof eq === 'string' ? eq : eq.require;
      const path: SpecPath = typeof eq === 'string' ? ['equations', name] : ['equations', name, 'require'];
      const residual = involves(located(path, () => compileEquation(text, table)), `equation '${name}'`, path);
      terms.push({ name, kind: 'equation', weight: typeof eq === 'string' ? 1 : eq.weight, residual, points: spec.sampling.interior });
    });
  }
  const transforms = errors.attempt(() => resolveTransforms(spec, inputs, outputs, table.constants));
  if (!box) errors.throwIfAny(); // faces, points and references need the box
  for (const [name, cond] of Object.entries(spec.conditions)) {
    errors.attempt(() => terms.push(conditionTerm(name, cond, spec, box!, table, constants, involves)));
  }
  const reference = spec.reference ? errors.attempt(() => makeReference(spec.reference!, { inputs, outputs, constants, box: box!, baseDir })) : undefined;
  errors.attempt(() => checkGridKeys(spec, inputs));
  // Sizes are checked before anything in proportion to them is allocated (generated data below).
  const channels = channelCount(terms.flatMap((t) => compiledOf(t).flatMap((c) => c.derivs.map((r) => r.channel))));
  const tooBig = checkResources(spec, { inputs: inputs.length, outputs: outputs.length, channels });
  errors.errors.push(...tooBig);
  if (tooBig.length === 0) {
    for (const [name, d] of Object.entries(spec.data)) {
      errors.attempt(() => terms.push(dataTerm(name, d, spec, { inputs, outputs, constants, box: box!, baseDir, reference })));
    }
  }
  errors.throwIfAny();
  if (terms.length === 0) throw new SpecError('nothing to train: give equations:, conditions: or data:', [], undefined);
  const names = new Set<string>();
  for (const t of terms) {
    const section = t.kind === 'equation' ? 'equations' : t.kind === 'data' ? 'data' : 'conditions';
    if (names.has(t.name)) throw new SpecError(`'${t.name}' names two loss terms; loss columns need distinct names`, [section, t.name], undefined, undefined, true);
    names.add(t.name);
  }
  for (const p of parameters) {
    if (!terms.some((t) => t.kind !== 'data' && compiledOf(t).some((c) => c.symbolsUsed.includes(p.name)))) {
      throw new SpecError(`parameter '${p.name}' is not used by any equation or condition`, ['parameters', p.name], undefined, undefined, true);
    }
  }

  const derivs = uniqueDerivs([
    ...terms.flatMap((t) => compiledOf(t).flatMap((c) => c.derivs)),
    ...terms.flatMap((t) => (t.kind === 'data' ? t.outputs.map((o) => ({ output: o, channel: [] })) : [])),
  ]);
  const gridCounts = inputs.map((i) => spec.output.grid?.[i] ?? defaultGridCount(inputs.length));
  return { name: spec.name, inputs, outputs, box: box!, constants, parameters, terms, derivs, reference, transforms: transforms!, gridCounts, samplingMethod: spec.sampling.method };
}

/** The compiled expressions of a term (none for data terms). */
export function compiledOf(t: Term): Compiled[] {
  switch (t.kind) {
    case 'periodic': return t.match;
    case 'data': return [];
    default: return [t.residual];
  }
}

/**
 * Points of every term, row-major [n, d]. Equations share one interior set; a periodic
 * term's block is its lo-face points followed by the same points on the hi face; point
 * and data terms keep their fixed points.
 */
export function samplePoints(problem: Problem, rng: Rng): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const d = problem.inputs.length;
  let interior: Float64Array | undefined;
  for (const t of problem.terms) {
    switch (t.kind) {
      case 'equation': {
        interior ??= sampleBox(problem.box, t.points, problem.samplingMethod, rng.derive('interior'));
        out.set(t.name, interior);
        break;
      }
      case 'condition':
        out.set(t.name, sampleFaces(problem.box, t.faces, t.points, problem.samplingMethod, rng.derive(`condition:${t.name}`)));
        break;
      case 'periodic': {
        const lo = sampleFaces(problem.box, [{ dim: t.dim, side: 'lo' }], t.points, problem.samplingMethod, rng.derive(`condition:${t.name}`));
        const both = new Float64Array(2 * lo.length);
        both.set(lo, 0);
        both.set(lo, lo.length);
        for (let i = 0; i < lo.length / d; i++) both[lo.length + i * d + t.dim] = problem.box.hi[t.dim]!;
        out.set(t.name, both);
        break;
      }
      case 'point':
      case 'data':
        out.set(t.name, t.X);
        break;
    }
  }
  return out;
}

export function evaluationGrid(problem: Problem): Float64Array {
  return makeGrid(problem.box, problem.gridCounts);
}

// ---------------------------------------------------------------------------- helpers

type Involves = (c: Compiled, what: string, path: SpecPath) => Compiled;

function conditionTerm(name: string, cond: ConditionSpec, spec: Spec, box: Box, table: SymbolTable,
  constants: Record<string, number>, involves: Involves): Term {
  const path: SpecPath = ['conditions', name];
  const kinds = (['on', 'periodic', 'at'] as const).filter((k) => cond[k] !== undefined);
  if (kinds.length !== 1) {
    throw new SpecError(kinds.length === 0 ? `condition '${name}' needs one of on:, periodic:, at:` : `condition '${name}' has both ${kinds.join(' and ')}:`,
      kinds.length === 0 ? path : [...path, kinds[1]!], "on: faces (t = 0, boundary), periodic: an input, at: points", undefined, kinds.length > 1);
  }
  const inputs = table.inputs;
  // In 1D a face is one point: by default one point per face, not sampling.boundary copies of it.
  const pointsOn = (faces: number) => cond.points ?? (inputs.length === 1 ? faces : spec.sampling.boundary);
  if (cond.periodic !== undefined) {
    const dim = inputs.indexOf(cond.periodic.trim());
    if (dim < 0) throw new SpecError(`'${cond.periodic}' is not an input`, [...path, 'periodic'], `inputs are ${inputs.join(', ')}`);
    if (cond.require !== undefined) throw new SpecError('a periodic condition takes match:, not require:', [...path, 'require'], 'match: [u, u_x]', undefined, true);
    const texts = cond.match ?? table.outputs;
    const match = texts.map((text, k) => {
      const p: SpecPath = cond.match ? [...path, 'match', k] : [...path, 'periodic'];
      return involves(located(p, () => compileExpr(text, table)), `match '${text}'`, p);
    });
    return { name, kind: 'periodic', weight: cond.weight, dim, match, points: pointsOn(1) };
  }
  if (cond.match !== undefined) throw new SpecError('match: belongs to periodic conditions', [...path, 'match'], undefined, undefined, true);
  if (cond.require === undefined) throw new SpecError(`condition '${name}' needs require:`, path, "for example require: u = 0");
  const residual = involves(located([...path, 'require'], () => compileEquation(cond.require!, table)), `condition '${name}'`, [...path, 'require']);
  if (cond.at !== undefined) {
    const list = (typeof cond.at[0] === 'number' ? [cond.at] : cond.at) as number[][];
    const X = new Float64Array(list.length * inputs.length);
    list.forEach((pt, i) => {
      const p: SpecPath = typeof cond.at![0] === 'number' ? [...path, 'at'] : [...path, 'at', i];
      if (pt.length !== inputs.length) throw new SpecError(`a point needs ${inputs.length} coordinates (${inputs.join(', ')}), got ${pt.length}`, p);
      pt.forEach((v, j) => {
        if (v < box.lo[j]! || v > box.hi[j]!) throw new SpecError(`${inputs[j]} = ${v} is outside [${box.lo[j]}, ${box.hi[j]}]`, p);
        X[i * inputs.length + j] = v;
      });
    });
    return { name, kind: 'point', weight: cond.weight, residual, X };
  }
  const faces = resolveFaces(cond.on!, [...path, 'on'], box, inputs, constants);
  return { name, kind: 'condition', weight: cond.weight, residual, faces, points: pointsOn(faces.length) };
}

interface DataContext {
  inputs: string[];
  outputs: string[];
  constants: Record<string, number>;
  box: Box;
  baseDir: string;
  reference?: Reference;
}

function dataTerm(name: string, d: DataSpec, spec: Spec, ctx: DataContext): DataTerm {
  const path: SpecPath = ['data', name];
  const sources = (['file', 'target', 'from_reference'] as const).filter((k) => d[k] !== undefined && d[k] !== false);
  if (sources.length !== 1) {
    throw new SpecError(sources.length === 0 ? `data '${name}' needs one of file:, target:, from_reference: true` : `data '${name}' has both ${sources.join(' and ')}`,
      path, undefined, undefined, true);
  }
  const observed = (d.outputs ?? (d.target && typeof d.target !== 'string' ? Object.keys(d.target) : ctx.outputs));
  const outputs = observed.map((o, k) => {
    const i = ctx.outputs.indexOf(o);
    if (i < 0) throw new SpecError(`'${o}' is not an output`, d.outputs ? [...path, 'outputs', k] : [...path, 'target', o], `outputs are ${ctx.outputs.join(', ')}`, undefined, !d.outputs);
    return i;
  });
  const rng = new Rng(spec.training.seed).derive(`data:${name}`);
  let X: Float64Array;
  let targets: Float64Array[];
  if (d.file !== undefined) {
    if (d.points !== undefined || d.sampling !== undefined) throw new SpecError('points: and sampling: are for generated data, not a file', [...path, d.points !== undefined ? 'points' : 'sampling'], undefined, undefined, true);
    const table = atKey([...path, 'file'], () => readPointTable(resolvePath(ctx.baseDir, d.file!), d.file!, ctx.inputs, observed.map((o) => o), d.columns ?? {}));
    X = table.X;
    targets = table.values;
  } else {
    if (d.columns !== undefined) throw new SpecError('columns: is for data files', [...path, 'columns'], undefined, undefined, true);
    if (d.points === undefined) throw new SpecError(`data '${name}' needs points: (how many samples to generate)`, path, undefined, undefined, true);
    X = sampleBox(ctx.box, d.points, d.sampling ?? spec.sampling.method, rng.derive('points'));
    if (d.from_reference) {
      if (!ctx.reference) throw new SpecError('from_reference needs a reference: in the spec', [...path, 'from_reference']);
      const all = finiteReference(ctx.reference, X, ctx.inputs);
      targets = outputs.map((o) => all[o]!);
    } else {
      targets = targetValues(d.target!, observed, X, [...path, 'target'], ctx);
    }
  }
  if (d.noise > 0) targets = targets.map((t) => addNoise(t, d.noise, rng.derive('noise')));
  return { name, kind: 'data', weight: d.weight, X, outputs, targets };
}

function targetValues(target: string | Record<string, string>, observed: string[], X: Float64Array, path: SpecPath, ctx: DataContext): Float64Array[] {
  const table: SymbolTable = { inputs: ctx.inputs, outputs: ctx.outputs, constants: Object.keys(ctx.constants), allowOutputs: false };
  const dim = ctx.inputs.length;
  return observed.map((o) => {
    const text = typeof target === 'string' ? target : target[o];
    const p: SpecPath = typeof target === 'string' ? path : [...path, o];
    if (text === undefined) throw new SpecError(`no target for output '${o}'`, path);
    if (typeof target === 'string' && observed.length > 1) throw new SpecError('with several observed outputs, give one target per output', path, `target: { ${observed.map((q) => `${q}: ...`).join(', ')} }`);
    const c = located(p, () => compileExpr(text, table));
    const out = new Float64Array(X.length / dim);
    for (let i = 0; i < out.length; i++) {
      out[i] = c.evaluate(numberOps, { input: (j) => X[i * dim + j]!, deriv: () => NaN, symbol: (s) => ctx.constants[s]! });
      if (!Number.isFinite(out[i]!)) throw new SpecError(`target is ${out[i]} at ${ctx.inputs.map((n, j) => `${n} = ${X[i * dim + j]}`).join(', ')}`, p);
    }
    return out;
  });
}

/** target + level · std(target) · N(0, 1), as in the papers' noisy-data experiments. */
function addNoise(values: Float64Array, level: number, rng: Rng): Float64Array {
  const n = values.length;
  const mean = values.reduce((p, v) => p + v, 0) / n;
  const std = Math.sqrt(values.reduce((p, v) => p + (v - mean) ** 2, 0) / n);
  return values.map((v) => v + level * std * rng.normal());
}

function resolveTransforms(spec: Spec, inputs: string[], outputs: string[], constants: SymbolTable['constants']): (Compiled | null)[] {
  const raw = rawOutputNames(outputs);
  for (const k of Object.keys(spec.transform)) {
    if (!outputs.includes(k)) throw new SpecError(`'${k}' is not an output`, ['transform', k], `outputs are ${outputs.join(', ')}`, undefined, true);
  }
  const table: SymbolTable = { inputs, outputs: raw, constants };
  return outputs.map((o) => {
    const text = spec.transform[o];
    if (text === undefined) return null;
    const c = located(['transform', o], () => compileExpr(text, table));
    const d = c.derivs.find((r) => r.channel.length > 0);
    if (d) throw new SpecError('a transform uses the raw network output, not its derivatives', ['transform', o], `write it in ${raw[0]} and the inputs; laaf differentiates it`);
    if (c.derivs.length === 0) throw new SpecError(`the transform of '${o}' does not use the network output ${raw.join(' or ')}`, ['transform', o]);
    return c;
  });
}

function resolveParameters(spec: Spec): Parameter[] {
  return Object.entries(spec.parameters).map(([name, p]) => {
    if (typeof p === 'number') return { name, init: p };
    const out: Parameter = { name, init: p.init };
    if (p.bounds) {
      const [lo, hi] = p.bounds;
      if (!(hi > lo)) throw new SpecError(`bounds [${lo}, ${hi}] are empty`, ['parameters', name, 'bounds'], 'write [lo, hi] with lo < hi');
      if (!(p.init > lo && p.init < hi)) throw new SpecError(`init ${p.init} must lie strictly inside the bounds [${lo}, ${hi}]`, ['parameters', name, 'init']);
      out.bounds = [lo, hi];
    }
    if (p.true_value !== undefined) out.trueValue = p.true_value;
    return out;
  });
}

function resolvePath(baseDir: string, file: string): string {
  return isAbsolute(file) ? file : join(baseDir, file);
}

function checkNames(spec: Spec, inputs: string[], outputs: string[]): void {
  const seen = new Map<string, string>();
  const claim = (name: string, what: string, path: SpecPath) => {
    const before = seen.get(name);
    if (before) throw new SpecError(`'${name}' is both ${before} and ${what}`, path, 'every name must be unique', undefined, true);
    seen.set(name, what);
  };
  for (const i of inputs) claim(i, 'an input', ['inputs', i]);
  outputs.forEach((o, k) => claim(o, 'an output', ['outputs', k]));
  for (const c of Object.keys(spec.constants)) {
    claim(c, 'a constant', ['constants', c]);
    if (c === 'pi' || c === 'e') throw new SpecError(`'${c}' is built in and cannot be redefined`, ['constants', c], undefined, undefined, true);
    for (const o of outputs) {
      if (c.startsWith(`${o}_`)) {
        throw new SpecError(`constant '${c}' looks like a derivative of output '${o}'`, ['constants', c], 'rename it (derivatives are written u_x, u_xx, ...)', undefined, true);
      }
    }
  }
}

/**
 * Constant values in dependency order (Kahn's algorithm: linear in the number of constants
 * and references); whatever cannot be ordered is a cycle. A constant with a mistake is
 * reported to `errors` and left out (with those that need it).
 */
function resolveConstants(defs: Spec['constants'], inputs: string[], outputs: string[], errors: SpecErrorCollector): Record<string, number> {
  const names = new Set(Object.keys(defs));
  const values = new Map<string, number>();
  const compiled = new Map<string, Compiled>();
  const failed = new Set<string>();
  for (const [name, v] of Object.entries(defs)) {
    if (typeof v === 'number') {
      values.set(name, v);
      continue;
    }
    errors.attempt(() => {
      // Compiled with the inputs known, to say "cannot depend on the inputs" rather than "unknown symbol".
      const c = located(['constants', name], () => compileExpr(v, { inputs, outputs, constants: names, allowOutputs: false }));
      if (c.inputsUsed.length > 0) throw new SpecError(`constant '${name}' cannot depend on the inputs`, ['constants', name]);
      compiled.set(name, c);
      return true;
    }) ?? failed.add(name);
  }
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const ready: string[] = [];
  for (const [name, c] of compiled) {
    const deps = c.symbolsUsed.filter((s) => !values.has(s));
    waiting.set(name, deps.length);
    for (const s of deps) {
      const list = dependents.get(s);
      if (list) list.push(name);
      else dependents.set(s, [name]);
    }
    if (deps.length === 0) ready.push(name);
  }
  for (let name = ready.pop(); name !== undefined; name = ready.pop()) {
    const v = constantOf(compiled.get(name)!, Object.fromEntries(compiled.get(name)!.symbolsUsed.map((s) => [s, values.get(s)!])));
    if (!Number.isFinite(v)) {
      errors.errors.push(new SpecError(`constant '${name}' evaluates to ${v}`, ['constants', name]));
      failed.add(name);
      continue;
    }
    values.set(name, v);
    for (const d of dependents.get(name) ?? []) {
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  // Left over: cycles, and constants that need a failed one (already reported).
  for (const queue = [...failed]; queue.length > 0;) {
    for (const d of dependents.get(queue.pop()!) ?? []) {
      if (!failed.has(d)) {
        failed.add(d);
        queue.push(d);
      }
    }
  }
  const cycle = [...compiled.keys()].filter((n) => !values.has(n) && !failed.has(n));
  if (cycle.length > 0) {
    const shown = cycle.length > 8 ? `${cycle.slice(0, 8).join(', ')}, ...` : cycle.join(', ');
    errors.errors.push(new SpecError(`constants ${shown} are defined in terms of each other`, ['constants', cycle[0]!], 'break the cycle'));
  }
  return Object.fromEntries(Object.keys(defs).filter((n) => values.has(n)).map((n) => [n, values.get(n)!]));
}

/** A number, or the value of a constant expression (`2*pi`, `L/2`) in the spec's constants. */
function constantValue(text: string | number, path: SpecPath, constants: Record<string, number>): number {
  if (typeof text === 'number') return text;
  const v = located(path, () => constantOf(compileConstant(text, Object.keys(constants)), constants));
  if (!Number.isFinite(v)) throw new SpecError(`'${text}' evaluates to ${v}`, path);
  return v;
}

function resolveBox(spec: Spec, inputs: string[], constants: Record<string, number>): Box {
  const lo: number[] = [];
  const hi: number[] = [];
  for (const name of inputs) {
    const [a, b] = spec.inputs[name]!;
    const l = constantValue(a, ['inputs', name, 0], constants);
    const h = constantValue(b, ['inputs', name, 1], constants);
    if (!(h > l)) throw new SpecError(`input '${name}': the range [${l}, ${h}] is empty`, ['inputs', name], 'write [lo, hi] with lo < hi');
    lo.push(l);
    hi.push(h);
  }
  return { names: inputs, lo, hi };
}

function resolveFaces(on: string | string[], path: SpecPath, box: Box, inputs: string[], constants: Record<string, number>): Face[] {
  const list = Array.isArray(on) ? on : [on];
  const faces: Face[] = [];
  list.forEach((text, k) => {
    const p: SpecPath = Array.isArray(on) ? [...path, k] : path;
    if (text.trim() === 'boundary') {
      faces.push(...allFaces(box));
      return;
    }
    const split = splitEquation(text);
    if (!split) throw new SpecError(`'${text}' does not name a face`, p, "write 'x = 0' (an input equal to one end of its range) or 'boundary'");
    const name = split.lhs.trim();
    const dim = inputs.indexOf(name);
    if (dim < 0) {
      const at = text.indexOf(name);
      throw new SpecError(`'${name}' is not an input`, p, `faces are written '<input> = <value>' with inputs ${inputs.join(', ')}`, Math.max(0, at));
    }
    const value = located(p, () => {
      try {
        return constantValue(split.rhs, [], constants);
      } catch (e) {
        if (e instanceof SpecError) throw new ExprError(e.message, split.rhsOffset + (e.offset ?? 0), e.hint);
        throw e;
      }
    });
    const tol = 1e-12 * Math.max(1, Math.abs(box.lo[dim]!), Math.abs(box.hi[dim]!));
    const face: Face | undefined = Math.abs(value - box.lo[dim]!) <= tol ? { dim, side: 'lo' }
      : Math.abs(value - box.hi[dim]!) <= tol ? { dim, side: 'hi' } : undefined;
    if (!face) {
      throw new SpecError(`${name} = ${value} is not a face of the box (${name} runs from ${box.lo[dim]} to ${box.hi[dim]})`, p,
        `use ${name} = ${box.lo[dim]} or ${name} = ${box.hi[dim]}`, split.rhsOffset + (split.rhs.length - split.rhs.trimStart().length));
    }
    if (faces.some((f) => f.dim === face.dim && f.side === face.side)) {
      throw new SpecError(`face ${name} = ${faceValue(box, face)} is listed twice`, p);
    }
    faces.push(face);
  });
  return faces;
}

function uniqueDerivs(all: DerivRef[]): DerivRef[] {
  const seen = new Set<string>();
  const out: DerivRef[] = [];
  for (const d of all) {
    const k = `${d.output}|${d.channel.join(',')}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(d);
    }
  }
  return out;
}

function checkGridKeys(spec: Spec, inputs: string[]): void {
  for (const k of Object.keys(spec.output.grid ?? {})) {
    if (!inputs.includes(k)) throw new SpecError(`output.grid: '${k}' is not an input`, ['output', 'grid', k], `inputs are ${inputs.join(', ')}`, undefined, true);
  }
}
