/**
 * Reference solutions for error columns: an exact expression per output, or a built-in
 * generator (the Burgers Cole–Hopf solution, computed by laaf itself).
 */
import type { Spec } from '../spec/schema.js';
import { SpecError, type SpecPath } from '../spec/errors.js';
import { compileConstant, compileExpr, constantOf, numberOps, type Compiled } from '../expr/index.js';
import type { Box } from '../domain/box.js';
import { burgersColeHopfMany } from './burgers-reference.js';
import { located } from './located.js';
import { isAbsolute, join } from 'node:path';
import { atKey, readPointTable } from './csv-data.js';

export interface Reference {
  /** one line for the console and summary.json */
  describe: string;
  /** reference values at points (row-major [n, d]): one array of length n per output */
  evaluate(points: Float64Array): Float64Array[];
  /** the spec key that defines output k's reference (for messages) */
  keyOf(output: number): SpecPath;
}

/**
 * Reference values at points, checked: a SpecError at the reference's key names the first
 * point where an output's value is not finite (`exact: log(-1)`, `1e999`, `0/0`).
 */
export function finiteReference(ref: Reference, points: Float64Array, inputs: string[]): Float64Array[] {
  const values = ref.evaluate(points);
  const d = inputs.length;
  values.forEach((v, k) => {
    let bad = 0;
    let first = -1;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) {
        bad++;
        if (first < 0) first = i;
      }
    }
    if (bad > 0) {
      const at = inputs.map((n, j) => `${n} = ${points[first * d + j]}`).join(', ');
      throw new SpecError(`the reference is ${v[first]} at ${at} (not finite at ${bad} of ${v.length} points)`, ref.keyOf(k),
        'a reference must be finite wherever the solution is evaluated');
    }
  });
  return values;
}

interface Context { inputs: string[]; outputs: string[]; constants: Record<string, number>; box: Box; baseDir: string }

export function makeReference(ref: NonNullable<Spec['reference']>, ctx: Context): Reference {
  if ('builtin' in ref) return burgersReference(ref, ctx);
  if ('file' in ref) return fileReference(ref.file, ref.columns ?? {}, ctx);
  return exactReference(ref.exact, ctx);
}

function burgersReference(ref: { builtin: string; nu?: number | string }, ctx: Context): Reference {
  const ix = ctx.inputs.indexOf('x');
  const it = ctx.inputs.indexOf('t');
  if (ix < 0 || it < 0 || ctx.inputs.length !== 2 || ctx.outputs.length !== 1) {
    throw new SpecError('burgers-cole-hopf needs inputs x and t and one output', ['reference', 'builtin']);
  }
  if (ctx.box.lo[it]! < 0) throw new SpecError('burgers-cole-hopf is defined for t >= 0', ['inputs', 't']);
  let nu: number;
  if (ref.nu === undefined) {
    if (!('nu' in ctx.constants)) throw new SpecError('burgers-cole-hopf needs the viscosity', ['reference'], "add nu: to reference: or a constant named nu");
    nu = ctx.constants['nu']!;
  } else if (typeof ref.nu === 'number') nu = ref.nu;
  else {
    const text = ref.nu;
    nu = located(['reference', 'nu'], () => constantOf(compileConstant(text, Object.keys(ctx.constants)), ctx.constants));
  }
  if (!(nu > 0)) throw new SpecError(`burgers-cole-hopf needs nu > 0, got ${nu}`, ['reference']);
  return {
    describe: `Burgers Cole-Hopf, u(x,0) = -sin(pi x), nu = ${nu}`,
    keyOf: () => ['reference'],
    evaluate(points) {
      const n = points.length / 2;
      const xt = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        xt[2 * i] = points[2 * i + ix]!;
        xt[2 * i + 1] = points[2 * i + it]!;
      }
      return [burgersColeHopfMany(xt, nu)];
    },
  };
}

function exactReference(exact: string | Record<string, string>, ctx: Context): Reference {
  const table = { inputs: ctx.inputs, outputs: ctx.outputs, constants: Object.keys(ctx.constants), allowOutputs: false };
  const byOutput: Compiled[] = [];
  if (typeof exact === 'string') {
    if (ctx.outputs.length !== 1) {
      throw new SpecError('with several outputs, give one exact expression per output', ['reference', 'exact'], `exact: { ${ctx.outputs.map((o) => `${o}: ...`).join(', ')} }`);
    }
    byOutput.push(located(['reference', 'exact'], () => compileExpr(exact, table)));
  } else {
    for (const k of Object.keys(exact)) {
      if (!ctx.outputs.includes(k)) throw new SpecError(`'${k}' is not an output`, ['reference', 'exact', k], `outputs are ${ctx.outputs.join(', ')}`, undefined, true);
    }
    for (const o of ctx.outputs) {
      if (!(o in exact)) throw new SpecError(`no exact expression for output '${o}'`, ['reference', 'exact']);
      byOutput.push(located(['reference', 'exact', o], () => compileExpr(exact[o]!, table)));
    }
  }
  const d = ctx.inputs.length;
  return {
    describe: `exact: ${byOutput.map((c, k) => `${ctx.outputs[k]} = ${c.source}`).join('; ')}`,
    keyOf: (k) => (typeof exact === 'string' ? ['reference', 'exact'] : ['reference', 'exact', ctx.outputs[k]!]),
    evaluate(points) {
      const n = points.length / d;
      return byOutput.map((c) => {
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          out[i] = c.evaluate(numberOps, { input: (j) => points[i * d + j]!, deriv: () => NaN, symbol: (s) => ctx.constants[s]! });
        }
        return out;
      });
    },
  };
}

/**
 * Reference values from a CSV table whose points form a tensor grid (a solver's output
 * grid, in any row order), evaluated anywhere by multilinear interpolation.
 */
function fileReference(file: string, columns: Record<string, string>, ctx: Context): Reference {
  const path = isAbsolute(file) ? file : join(ctx.baseDir, file);
  const table = atKey(['reference', 'file'], () => readPointTable(path, file, ctx.inputs, ctx.outputs, columns));
  const grid = asTensorGrid(table.X, ctx.inputs.length);
  if (!grid) throw new SpecError(`${file}: reference points must form a full tensor grid (every combination of the distinct input values, once)`, ['reference', 'file']);
  return {
    describe: `file ${file} (${table.rows} points, multilinear interpolation)`,
    keyOf: () => ['reference', 'file'],
    evaluate(points) {
      return table.values.map((v) => interpolate(grid, v, points));
    },
  };
}

interface TensorGrid { axes: number[][]; strides: number[]; order: Int32Array }

/** The distinct values per input and, for each grid node in row-major order, its table row. */
function asTensorGrid(X: Float64Array, d: number): TensorGrid | undefined {
  const n = X.length / d;
  const axes = Array.from({ length: d }, (_, j) => [...new Set(Array.from({ length: n }, (_, i) => X[i * d + j]!))].sort((a, b) => a - b));
  const size = axes.reduce((p, a) => p * a.length, 1);
  if (size !== n) return undefined;
  const strides = axes.map((_, j) => axes.slice(j + 1).reduce((p, a) => p * a.length, 1));
  const order = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let j = 0; j < d; j++) k += axes[j]!.indexOf(X[i * d + j]!) * strides[j]!;
    if (order[k] !== -1) return undefined;
    order[k] = i;
  }
  return { axes, strides, order };
}

function interpolate(g: TensorGrid, values: Float64Array, points: Float64Array): Float64Array {
  const d = g.axes.length;
  const n = points.length / d;
  const out = new Float64Array(n);
  const lo = new Array<number>(d);
  const w = new Array<number>(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const a = g.axes[j]!;
      const x = points[i * d + j]!;
      let k = 0;
      while (k + 2 < a.length && a[k + 1]! <= x) k++;
      lo[j] = k;
      w[j] = a.length === 1 ? 0 : Math.min(1, Math.max(0, (x - a[k]!) / (a[k + 1]! - a[k]!)));
    }
    let acc = 0;
    for (let corner = 0; corner < 1 << d; corner++) {
      let weight = 1;
      let k = 0;
      for (let j = 0; j < d; j++) {
        const up = (corner >> j) & 1;
        if (up && g.axes[j]!.length === 1) { weight = 0; break; }
        weight *= up ? w[j]! : 1 - w[j]!;
        k += (lo[j]! + up) * g.strides[j]!;
      }
      if (weight !== 0) acc += weight * values[g.order[k]!]!;
    }
    out[i] = acc;
  }
  return out;
}
