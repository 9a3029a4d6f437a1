/**
 * From a validated spec to a Problem: the box, constant values, compiled residuals
 * of every equation and condition (each a named loss term on its own point set),
 * the derivative channels the network must supply, and the reference solution.
 * Mistakes in expressions become SpecErrors pointing inside the offending string.
 */
import type { Spec, ConditionSpec } from '../spec/schema.js';
import { SpecError, type SpecPath } from '../spec/errors.js';
import {
  ExprError, compileEquation, compileExpr, numberOps, splitEquation,
  type Compiled, type DerivRef, type SymbolTable,
} from '../expr/index.js';
import { allFaces, faceValue, type Box, type Face } from '../domain/box.js';
import { grid as makeGrid, sampleBox, sampleFaces } from '../domain/sampling.js';
import type { Rng } from '../domain/rng.js';
import { makeReference, type Reference } from './reference.js';
import { located } from './located.js';


export interface Term {
  /** the loss column name: the equation's or condition's name */
  name: string;
  kind: 'equation' | 'condition';
  weight: number;
  residual: Compiled;
  /** for conditions: the faces the points lie on; equations use the interior */
  faces?: Face[];
  points: number;
}

export interface Problem {
  name: string;
  inputs: string[];
  outputs: string[];
  box: Box;
  constants: Record<string, number>;
  terms: Term[];
  /** every output derivative any term uses (the network's jet channels derive from these) */
  derivs: DerivRef[];
  reference?: Reference;
  /** evaluation grid counts per input (solution.csv) */
  gridCounts: number[];
  samplingMethod: Spec['sampling']['method'];
}

/** Compile a spec. Throws SpecError on any semantic mistake. */
export function buildProblem(spec: Spec): Problem {
  const inputs = Object.keys(spec.inputs);
  const outputs = [...spec.outputs];
  if (inputs.length === 0) throw new SpecError('at least one input is needed', ['inputs'], 'for example inputs: { x: [-1, 1] }');
  checkNames(spec, inputs, outputs);

  const constants = resolveConstants(spec.constants, inputs, outputs);
  const box = resolveBox(spec, inputs, constants);
  const table: SymbolTable = { inputs, outputs, constants: Object.keys(constants) };

  const terms: Term[] = [];
  for (const [name, eq] of Object.entries(spec.equations)) {
    const text = typeof eq === 'string' ? eq : eq.require;
    const path: SpecPath = typeof eq === 'string' ? ['equations', name] : ['equations', name, 'require'];
    const residual = located(path, () => compileEquation(text, table));
    if (residual.derivs.length === 0) throw new SpecError(`equation '${name}' does not involve any output (${outputs.join(', ')})`, path);
    terms.push({ name, kind: 'equation', weight: typeof eq === 'string' ? 1 : eq.weight, residual, points: spec.sampling.interior });
  }
  for (const [name, cond] of Object.entries(spec.conditions)) {
    const faces = resolveFaces(cond, ['conditions', name, 'on'], box, inputs, constants);
    const residual = located(['conditions', name, 'require'], () => compileEquation(cond.require, table));
    if (residual.derivs.length === 0) {
      throw new SpecError(`condition '${name}' does not involve any output (${outputs.join(', ')})`, ['conditions', name, 'require']);
    }
    terms.push({ name, kind: 'condition', weight: cond.weight, residual, faces, points: cond.points ?? spec.sampling.boundary });
  }
  if (terms.length === 0) throw new SpecError('nothing to train: give equations: or conditions:', [], undefined);
  const names = new Set<string>();
  for (const t of terms) {
    if (names.has(t.name)) throw new SpecError(`'${t.name}' names both an equation and a condition; loss columns need distinct names`, ['conditions', t.name], undefined, undefined, true);
    names.add(t.name);
  }

  const derivs = uniqueDerivs(terms.flatMap((t) => t.residual.derivs));
  const reference = spec.reference ? makeReference(spec.reference, { inputs, outputs, constants, box }) : undefined;
  const gridCounts = resolveGrid(spec, inputs);
  return { name: spec.name, inputs, outputs, box, constants, terms, derivs, reference, gridCounts, samplingMethod: spec.sampling.method };
}

/** Points of every term, row-major [n, d]; equations share one interior set. */
export function samplePoints(problem: Problem, rng: Rng): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  let interior: Float64Array | undefined;
  for (const t of problem.terms) {
    const r = rng.derive(t.kind === 'equation' ? 'interior' : `condition:${t.name}`);
    if (t.kind === 'equation') {
      const pts = interior ?? sampleBox(problem.box, t.points, problem.samplingMethod, r);
      interior = pts;
      out.set(t.name, pts);
    } else {
      out.set(t.name, sampleFaces(problem.box, t.faces!, t.points, problem.samplingMethod, r));
    }
  }
  return out;
}

export function evaluationGrid(problem: Problem): Float64Array {
  return makeGrid(problem.box, problem.gridCounts);
}

// ---------------------------------------------------------------------------- helpers

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

function resolveConstants(defs: Spec['constants'], inputs: string[], outputs: string[]): Record<string, number> {
  const names = Object.keys(defs);
  const compiled = new Map<string, Compiled>();
  const values: Record<string, number> = {};
  for (const name of names) {
    const v = defs[name]!;
    if (typeof v === 'number') values[name] = v;
    else {
      const c = located(['constants', name], () =>
        compileExpr(v, { inputs, outputs, constants: names.filter((n) => n !== name), allowOutputs: false }));
      if (c.inputsUsed.length > 0) throw new SpecError(`constant '${name}' cannot depend on the inputs`, ['constants', name]);
      compiled.set(name, c);
    }
  }
  // Evaluate in dependency order; whatever is left after no progress is a cycle.
  let pending = [...compiled.keys()];
  while (pending.length > 0) {
    const ready = pending.filter((n) => compiled.get(n)!.symbolsUsed.every((s) => s in values));
    if (ready.length === 0) {
      throw new SpecError(`constants ${pending.join(', ')} are defined in terms of each other`, ['constants', pending[0]!], 'break the cycle');
    }
    for (const n of ready) {
      const v = compiled.get(n)!.evaluate(numberOps, {
        input: () => NaN, deriv: () => NaN, symbol: (s) => values[s]!,
      });
      if (!Number.isFinite(v)) throw new SpecError(`constant '${n}' evaluates to ${v}`, ['constants', n]);
      values[n] = v;
    }
    pending = pending.filter((n) => !ready.includes(n));
  }
  return values;
}

function constantValue(text: string | number, path: SpecPath, constants: Record<string, number>): number {
  if (typeof text === 'number') return text;
  const c = located(path, () => compileExpr(text, { inputs: [], outputs: [], constants: Object.keys(constants), allowOutputs: false }));
  const v = c.evaluate(numberOps, { input: () => NaN, deriv: () => NaN, symbol: (s) => constants[s]! });
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

function resolveFaces(cond: ConditionSpec, path: SpecPath, box: Box, inputs: string[], constants: Record<string, number>): Face[] {
  const list = Array.isArray(cond.on) ? cond.on : [cond.on];
  const faces: Face[] = [];
  list.forEach((text, k) => {
    const p: SpecPath = Array.isArray(cond.on) ? [...path, k] : path;
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

function resolveGrid(spec: Spec, inputs: string[]): number[] {
  const g = spec.output.grid ?? {};
  for (const k of Object.keys(g)) {
    if (!inputs.includes(k)) throw new SpecError(`output.grid: '${k}' is not an input`, ['output', 'grid', k], `inputs are ${inputs.join(', ')}`, undefined, true);
  }
  const fallback = inputs.length === 1 ? 201 : inputs.length === 2 ? 101 : inputs.length === 3 ? 21 : 7;
  return inputs.map((i) => g[i] ?? fallback);
}
